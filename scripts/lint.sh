#!/usr/bin/env bash
# Formatting and clippy (warnings are errors) for both workspaces: the root one and the on-chain
# program's own; and the engine builds for WebAssembly (no tokio, no sockets, no disk).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

"$ROOT/scripts/setup-sbf.sh"   # the program workspace needs its vendored patch
cd "$ROOT"
cargo fmt --all -- --check
(cd programs/paychan && cargo fmt -- --check)
cargo clippy --workspace --all-targets --locked -- -D warnings
(cd programs/paychan && cargo clippy --all-targets --locked -- -D warnings)

if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
    echo "lint: installing the wasm32-unknown-unknown target (once)"
    rustup target add wasm32-unknown-unknown
fi
echo "lint: paychan-engine and paychan-link build for wasm32-unknown-unknown"
cargo build --locked --quiet -p paychan-engine -p paychan-link --target wasm32-unknown-unknown
