#!/usr/bin/env bash
# Writes idl/paychan.json from the Rust interface (`paychan idl`) and renders the TypeScript
# client in ts/src/generated from it with Codama. Run after changing an instruction, the channel
# layout or an error, and commit both. The tests fail while either is stale: the Rust test
# `idl::tests::the_committed_idl_is_up_to_date`, and `node ts/scripts/generate.mjs --check`
# in scripts/test.sh.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

cargo run --locked --quiet -p paychan-cli -- idl >idl/paychan.json
(cd ts && npm ci --no-audit --no-fund --loglevel=error && node scripts/generate.mjs)
