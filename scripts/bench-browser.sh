#!/usr/bin/env bash
# Payments per second from a browser tab and from a Node.js agent to a release `paychan node`
# over a WebSocket (the engine in WebAssembly), one payment per round and handed over at once.
# Prints a table, or JSON with `--output json`. Builds what it needs (cached after the first run).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUTPUT=table
[ "${1:-}" = "--output" ] && OUTPUT=${2:-table}

"$ROOT/scripts/build-sbf.sh" >&2
"$ROOT/scripts/build-wasm.sh" >&2
(cd "$ROOT" && cargo build --locked --quiet --release -p paychan-cli) >&2
(cd "$ROOT/ts" && { [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error; } && npm run --silent build) >&2
CHROMIUM=$("$ROOT/scripts/setup-browser.sh")
PAYCHAN="$ROOT/target/release/paychan"

WORK=$(mktemp -d)
pids=()
trap 'for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
wait_for() {
    for _ in $(seq 100); do
        if line=$(sed -n "s/^$2//p" "$1") && [ -n "$line" ]; then echo "$line"; return; fi
        sleep 0.1
    done
    echo "bench-browser: no '$2' in $1" >&2; exit 1
}
"$PAYCHAN" ledger --bind 127.0.0.1:0 >"$WORK/ledger.out" 2>/dev/null &
pids+=($!)
URL=$(wait_for "$WORK/ledger.out" "serving the embedded ledger on ")
service() { HOME="$WORK/service" "$PAYCHAN" -u "$URL" "$@"; }
SERVICE=$(service keygen)
service airdrop 10 >/dev/null
service node --listen-ws 127.0.0.1:0 --api 127.0.0.1:0 --discover-ms 100 --interval-ms 100 >"$WORK/node.out" 2>/dev/null &
pids+=($!)
WS=$(wait_for "$WORK/node.out" "listening for WebSocket peers on ")

echo "bench-browser: a Node.js agent, then a Chromium tab, pay the node" >&2
agent=$(node "$ROOT/ts/dist/test/node-payer.js" "$URL" "$WS" "$SERVICE" | sed -n 's/.* in [0-9]* ms (\([0-9]*\)\/s).*/\1/p')
tab=$(node "$ROOT/ts/dist/test/browser.js" "$URL" "$WS" "$SERVICE" "$CHROMIUM" "$WORK/shot.png" \
    | sed -n 's/.* \([0-9]*\) payments\/s one at a time, \([0-9]*\)\/s handed over at once.*/\1 \2/p')
read -r tab_single tab_batched <<<"$tab"
if [ "$OUTPUT" = json ]; then
    printf '{"chromium_one_at_a_time":%s,"chromium_at_once":%s,"nodejs_at_once":%s}\n' "$tab_single" "$tab_batched" "$agent"
else
    echo "| payer | one payment per round | handed over at once |"
    echo "|---|---:|---:|"
    echo "| Chromium tab (IndexedDB, strict durability) | $tab_single/s | $tab_batched/s |"
    echo "| Node.js agent (file store, synced) | – | $agent/s |"
fi
