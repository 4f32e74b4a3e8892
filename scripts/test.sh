#!/usr/bin/env bash
# The test command: installs the SBF toolchain (cached), builds target/deploy/paychan.so, then runs
# the on-chain crate's native unit tests and every workspace test against the built binary, and
# prints the compute-unit / transaction-size table.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

"$ROOT/scripts/build-sbf.sh"

echo "== native unit tests of the on-chain crate"
(cd "$ROOT/programs/paychan" && cargo test --locked --quiet)

echo "== workspace tests (LiteSVM and solana-program-test run target/deploy/paychan.so)"
cd "$ROOT"
cargo test --workspace --locked

echo "== compute units and transaction sizes"
cargo test --locked -p paychan-tests --test budget -- --nocapture 2>&1 | grep -E '^\|'
