#!/usr/bin/env bash
# Builds the on-chain program for SBF and writes target/deploy/paychan.so.
# Installs its tools first (scripts/setup-sbf.sh, cached); an unchanged program rebuilds in ~1 s.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/setup-sbf.sh"

CACHE=${PAYCHAN_CACHE:-$HOME/.cache/paychan}
export PATH="$CACHE/tools/bin:$PATH"
# sbpf-linker loads rustc's own libLLVM; rustup sets this for cargo, a bare toolchain does not.
export LD_LIBRARY_PATH="$(rustc --print sysroot)/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# -Zbuild-std on the stable toolchain.
export RUSTC_BOOTSTRAP=1
# The config file holds the SBF rustflags; an env var would replace or duplicate them.
unset RUSTFLAGS CARGO_TARGET_BPFEL_UNKNOWN_NONE_RUSTFLAGS CARGO_ENCODED_RUSTFLAGS

cd "$ROOT/programs/paychan"
cargo build --release --locked --target bpfel-unknown-none \
    -Zbuild-std=core,alloc -Zbuild-std-features=compiler-builtins-mem

mkdir -p "$ROOT/target/deploy"
cp "$ROOT/programs/paychan/target/bpfel-unknown-none/release/libpaychan.so" "$ROOT/target/deploy/paychan.so"
size=$(stat -c %s "$ROOT/target/deploy/paychan.so")
echo "build-sbf: target/deploy/paychan.so ($size bytes)"
