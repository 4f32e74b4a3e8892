#!/usr/bin/env bash
# Installs what the SBF build needs, idempotently, into a cache that survives clones:
#   - the rust-src component (for -Zbuild-std)
#   - sbpf-linker, patched to the LLVM major of this rustc
#   - the vendored solana-instruction-view with its one-line fence patch
# Prints nothing but progress; safe to run on every build.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${PAYCHAN_CACHE:-$HOME/.cache/paychan}
TOOLS="$CACHE/tools"
SBPF_LINKER_VERSION=0.2.6
IX_VIEW_VERSION=3.0.0
VENDOR="$ROOT/programs/paychan/vendor/solana-instruction-view"

mkdir -p "$TOOLS"

# Cargo's own copy of a registry crate, downloaded without needing a workspace.
crate_archive() {
    local name=$1 version=$2 archive
    archive=$(ls "$HOME"/.cargo/registry/cache/*/"$name-$version.crate" 2>/dev/null | head -n1 || true)
    if [ -z "$archive" ]; then
        (cd /tmp && cargo info "$name@$version" >/dev/null 2>&1)
        archive=$(ls "$HOME"/.cargo/registry/cache/*/"$name-$version.crate" | head -n1)
    fi
    echo "$archive"
}

if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
    echo "setup-sbf: installing rust-src"
    rustup component add rust-src
fi

llvm_major=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
linker_stamp="$TOOLS/sbpf-linker-$SBPF_LINKER_VERSION-llvm$llvm_major"
if [ ! -x "$TOOLS/bin/sbpf-linker" ] || [ ! -f "$linker_stamp" ]; then
    echo "setup-sbf: building sbpf-linker $SBPF_LINKER_VERSION for LLVM $llvm_major (a few minutes, once)"
    work=$(mktemp -d)
    tar xzf "$(crate_archive sbpf-linker "$SBPF_LINKER_VERSION")" -C "$work"
    src="$work/sbpf-linker-$SBPF_LINKER_VERSION"
    # The crate pins LLVM 23; it must load the LLVM of the rustc that emits the bitcode.
    sed -i "s/llvm-2[0-9]/llvm-$llvm_major/" "$src/Cargo.toml"
    rm -f "$src/rust-toolchain.toml"
    cargo install --quiet --locked --force --path "$src" --root "$TOOLS"
    rm -rf "$work"
    rm -f "$TOOLS"/sbpf-linker-*-llvm*
    touch "$linker_stamp"
fi

if [ ! -f "$VENDOR/.paychan-patched" ]; then
    echo "setup-sbf: vendoring solana-instruction-view $IX_VIEW_VERSION"
    rm -rf "$VENDOR" && mkdir -p "$(dirname "$VENDOR")"
    tar xzf "$(crate_archive solana-instruction-view "$IX_VIEW_VERSION")" -C "$(dirname "$VENDOR")"
    mv "$(dirname "$VENDOR")/solana-instruction-view-$IX_VIEW_VERSION" "$VENDOR"
    # The BPF backend cannot select an atomic fence; the fence guards nothing single-threaded.
    fence='compiler_fence(core::sync::atomic::Ordering::SeqCst);'
    grep -q "$fence" "$VENDOR/src/cpi.rs"
    sed -i "/$fence/d" "$VENDOR/src/cpi.rs"
    touch "$VENDOR/.paychan-patched"
fi
