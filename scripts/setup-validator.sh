#!/usr/bin/env bash
# Installs solana-test-validator from the agave-validator crate of our agave line (4.2.2) into
# the tool cache, once (about an hour on 2 cores: RocksDB's C++ build dominates), and prints
# its path. Needs Debian's build dependencies, which it installs when missing.
# With --check it only reports: prints the path and succeeds if the binary is there.
set -euo pipefail

CACHE=${PAYCHAN_CACHE:-$HOME/.cache/paychan}
AGAVE_VERSION=4.2.2
ROOT="$CACHE/agave-$AGAVE_VERSION"
BIN="$ROOT/bin/solana-test-validator"

if [ -x "$BIN" ]; then
    echo "$BIN"
    exit 0
fi
if [ "${1:-}" = "--check" ]; then
    exit 1
fi

missing=()
for pkg in protobuf-compiler clang libclang-dev libudev-dev pkg-config libssl-dev cmake; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup-validator: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq "${missing[@]}" >&2
fi

echo "setup-validator: building solana-test-validator $AGAVE_VERSION (about an hour, once)" >&2
start=$(date +%s)
# A kept target dir: an interrupted build resumes where it stopped.
CARGO_TARGET_DIR="$CACHE/agave-$AGAVE_VERSION-build" cargo install agave-validator --version "$AGAVE_VERSION" --locked \
    --bin solana-test-validator --root "$ROOT" >&2
echo "setup-validator: built in $(( $(date +%s) - start )) s" >&2
echo "$BIN"
