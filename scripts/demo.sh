#!/usr/bin/env bash
# The quick-start demo: installs the SBF toolchain (cached), builds the program, then opens a
# channel on an embedded LiteSVM ledger, makes 10,000 payments and closes it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

"$ROOT/scripts/build-sbf.sh"
cd "$ROOT"
cargo run --locked --quiet -p paychan-client --example demo
