#!/usr/bin/env bash
# The test command: installs the SBF toolchain (cached), builds target/deploy/paychan.so, then runs
# the on-chain crate's native unit tests and every workspace test against the built binary,
# prints the compute-unit / transaction-size table, and ends with the total count.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT

"$ROOT/scripts/build-sbf.sh"

echo "== native unit tests of the on-chain crate"
(cd "$ROOT/programs/paychan" && cargo test --locked --quiet) 2>&1 | tee -a "$LOG"

echo "== workspace tests (LiteSVM and solana-program-test run target/deploy/paychan.so)"
cd "$ROOT"
cargo test --workspace --locked 2>&1 | tee -a "$LOG"

echo "== TypeScript: the IDL and generated client are current; the client's lifecycle suite, @solana/web3.js 1.x"
echo "   and @solana/kit against the embedded ledger (npm ci from the committed lockfile); the package as shipped"
"$ROOT/scripts/build-wasm.sh"   # the engine and link in WebAssembly, for ChannelSession
(cd "$ROOT/ts" && npm ci --no-audit --no-fund --loglevel=error && node scripts/generate.mjs --check && npm run --silent build)
LEDGER_OUT=$(mktemp)
"$ROOT/target/debug/paychan" ledger --bind 127.0.0.1:0 >"$LEDGER_OUT" 2>/dev/null &
LEDGER_PID=$!
trap 'rm -f "$LOG" "$LEDGER_OUT"; kill "$LEDGER_PID" 2>/dev/null || true' EXIT
URL=""
for _ in $(seq 100); do
    URL=$(sed -n 's/^serving the embedded ledger on //p' "$LEDGER_OUT")
    [ -n "$URL" ] && break
    sleep 0.1
done
[ -n "$URL" ] || { echo "the embedded ledger did not start"; exit 1; }
for suite in lifecycle.js kit-compat.js web3-compat.mjs package.js; do
    node "$ROOT/ts/dist/test/$suite" "$URL" 2>&1 | tee -a "$LOG"
done
node "$ROOT/ts/dist/examples/quickstart.js" "$URL"   # the README's TypeScript quick start
# A Node.js agent pays a real `paychan node` over a WebSocket (the engine in WebAssembly).
NODE_HOME=$(mktemp -d)
NODE_OUT="$NODE_HOME/node.out"
service() { HOME="$NODE_HOME" "$ROOT/target/debug/paychan" -u "$URL" "$@"; }
SERVICE=$(service keygen)
service airdrop 10 >/dev/null
service node --listen-ws 127.0.0.1:0 --api 127.0.0.1:0 --discover-ms 100 --interval-ms 100 >"$NODE_OUT" 2>/dev/null &
NODE_PID=$!
trap 'rm -f "$LOG" "$LEDGER_OUT"; kill "$LEDGER_PID" "$NODE_PID" 2>/dev/null || true; rm -rf "$NODE_HOME"' EXIT
WS=""
for _ in $(seq 100); do
    WS=$(sed -n 's/^listening for WebSocket peers on //p' "$NODE_OUT")
    [ -n "$WS" ] && break
    sleep 0.1
done
[ -n "$WS" ] || { echo "the paychan node did not start"; exit 1; }
node "$ROOT/ts/dist/test/node-payer.js" "$URL" "$WS" "$SERVICE" 2>&1 | tee -a "$LOG"
# The browser demo in headless Chromium (Debian's package, installed once by setup-browser.sh).
CHROMIUM=$("$ROOT/scripts/setup-browser.sh")
node "$ROOT/ts/dist/test/browser.js" "$URL" "$WS" "$SERVICE" "$CHROMIUM" "$ROOT/target/browser-demo.png" 2>&1 | tee -a "$LOG"
kill "$NODE_PID"
kill "$LEDGER_PID"

echo "== PostgreSQL: the store's conformance suite, group commit and leases; a standby node taking over the"
echo "   channels of a node killed under load; the server restarted under load (a real server, in a temp dir)"
PG_DIR=$(mktemp -d /tmp/paychan-pg.XXXXXX)
chmod 755 "$PG_DIR"   # as root, the server runs as the postgres user: it must reach its data
trap 'rm -f "$LOG" "$LEDGER_OUT"; "$ROOT/scripts/postgres.sh" stop "$PG_DIR" >/dev/null 2>&1 || true; rm -rf "$PG_DIR"' EXIT
PAYCHAN_TEST_POSTGRES=$("$ROOT/scripts/postgres.sh" start "$PG_DIR/db")
PAYCHAN_TEST_POSTGRES_DIR="$PG_DIR/db"
export PAYCHAN_TEST_POSTGRES PAYCHAN_TEST_POSTGRES_DIR
# --workspace: the test binaries built above (the same features), nothing is built again.
cargo test --workspace --locked --lib -- --ignored store::postgres:: 2>&1 | tee -a "$LOG"
# One at a time: one of them restarts the server.
cargo test --workspace --locked --test cli_node_postgres -- --ignored --test-threads=1 2>&1 | tee -a "$LOG"
"$ROOT/scripts/postgres.sh" stop "$PG_DIR/db" >/dev/null

echo "== end to end on a real solana-test-validator over JSON-RPC"
if "$ROOT/scripts/setup-validator.sh" --check >/dev/null; then
    # One validator at a time: each scenario starts its own. The CLI test drives
    # target/debug/paychan, built by the workspace tests above.
    cargo test --locked -p paychan-tests --test e2e_client --test e2e_tokens --test cli_validator -- --ignored --test-threads=1 2>&1 | tee -a "$LOG"
else
    echo "SKIPPED: solana-test-validator is not built on this machine, so the 12 JSON-RPC scenarios (9 client, 3 CLI)"
    echo "did not run. scripts/setup-validator.sh builds it once (about an hour) and caches it."
fi

echo "== compute units and transaction sizes"
cargo test --locked -p paychan-tests --test budget -- --nocapture 2>&1 | grep -E '^\|'

passed=$(grep -oE 'test result: ok\. [0-9]+ passed' "$LOG" | awk '{s += $4} END {print s + 0}')
failed=$(grep -oE '[0-9]+ failed' "$LOG" | awk '{s += $1} END {print s + 0}')
echo "tests: $passed passed, $failed failed"
