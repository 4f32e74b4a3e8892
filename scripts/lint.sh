#!/usr/bin/env bash
# Formatting and clippy (warnings are errors) for both workspaces: the root one and the on-chain
# program's own.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

"$ROOT/scripts/setup-sbf.sh"   # the program workspace needs its vendored patch
cd "$ROOT"
cargo fmt --all -- --check
(cd programs/paychan && cargo fmt -- --check)
cargo clippy --workspace --all-targets --locked -- -D warnings
(cd programs/paychan && cargo clippy --all-targets --locked -- -D warnings)
