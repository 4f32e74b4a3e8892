#!/usr/bin/env bash
# Builds the channel session for WebAssembly (crates/paychan-wasm: the engine and the peer
# link) and its JavaScript bindings into ts/wasm/ (wasm-bindgen --target web: a browser loads
# paychan_bg.wasm by URL, Node.js passes its bytes). Installs the wasm32 target and the
# wasm-bindgen CLI of the crate's exact version once (cached in ~/.cargo/bin).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WASM_BINDGEN_VERSION=0.2.130

if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
    echo "build-wasm: installing the wasm32-unknown-unknown target (once)"
    rustup target add wasm32-unknown-unknown
fi
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
    echo "build-wasm: building wasm-bindgen-cli $WASM_BINDGEN_VERSION (once, a few minutes)"
    cargo install --quiet --locked wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

cd "$ROOT"
echo "build-wasm: compiling crates/paychan-wasm for wasm32-unknown-unknown"
cargo build --locked --quiet -p paychan-wasm --target wasm32-unknown-unknown --profile wasm
wasm-bindgen --target web --out-dir ts/wasm --out-name paychan \
    target/wasm32-unknown-unknown/wasm/paychan_wasm.wasm
size=$(stat -c %s ts/wasm/paychan_bg.wasm)
gzipped=$(gzip -9 -c ts/wasm/paychan_bg.wasm | wc -c)
echo "build-wasm: ts/wasm/paychan_bg.wasm ($size bytes, $gzipped gzipped)"
