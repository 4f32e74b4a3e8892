#!/usr/bin/env bash
# The quick-start demo, with the real `paychan` CLI: installs the SBF toolchain (cached), builds
# the program and the CLI, then runs the embedded ledger (LiteSVM with paychan.so, over
# JSON-RPC), gives Alice and Bob their own keys and stores, runs a `paychan node` for each
# (Bob's accepts payers, Alice's dials it over the encrypted TCP link on 127.0.0.1), makes
# 10,000 payments (and 100 back) while Bob's backend follows each one on his node's HTTP event
# stream, then 10,000 payments in the ledger's test stablecoin (tUSD, an SPL Token mint) on a
# token channel beside it, closes both cooperatively, and prints the balances and the number of
# L1 transactions.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

"$ROOT/scripts/build-sbf.sh"
cd "$ROOT"
cargo build --locked --quiet --release -p paychan-cli
PAYCHAN="$ROOT/target/release/paychan"

WORK=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# Waits (at most 30 s) for a line starting with $2 in file $1 and prints the rest of it.
wait_for_line() {
    for _ in $(seq 300); do
        if line=$(grep -m1 "^$2" "$1" 2>/dev/null); then
            echo "${line#"$2"}"
            return
        fi
        sleep 0.1
    done
    echo "demo: no '$2' in $1" >&2
    exit 1
}

"$PAYCHAN" ledger --bind 127.0.0.1:0 >"$WORK/ledger.out" 2>/dev/null &
pids+=($!)
URL=$(wait_for_line "$WORK/ledger.out" "serving the embedded ledger on ")
echo "== the embedded ledger serves JSON-RPC on $URL"

alice() { HOME="$WORK/alice" "$PAYCHAN" -u "$URL" "$@"; }
bob() { HOME="$WORK/bob" "$PAYCHAN" -u "$URL" "$@"; }
ALICE=$(alice keygen)
BOB=$(bob keygen)
alice airdrop 20 >/dev/null
bob airdrop 20 >/dev/null
alice airdrop 100 --mint tUSD >/dev/null
echo "alice $ALICE and bob $BOB have 20 SOL each; alice has 100 tUSD (the ledger's test stablecoin)"

echo "== open: alice locks 10 SOL, bob 5 SOL"
CHANNEL=$(alice open --peer "$BOB" --deposit 10 --output json | grep -o '"channel":"[^"]*"' | cut -d'"' -f4)
echo "channel $CHANNEL"
bob deposit "$CHANNEL" --amount 5

echo "== open a stablecoin channel beside it: alice locks 25.5 tUSD in a vault the channel owns"
USD_CHANNEL=$(alice open --peer "$BOB" --deposit 25.5 --mint tUSD --output json | grep -o '"channel":"[^"]*"' | cut -d'"' -f4)
echo "channel $USD_CHANNEL"

echo "== two nodes: bob's accepts payers, alice's dials it (Noise over TCP on 127.0.0.1)"
bob node --listen 127.0.0.1:0 --api 127.0.0.1:0 --accept-mint tUSD >"$WORK/bob.out" 2>"$WORK/bob.log" &
pids+=($!)
BOB_AT=$(wait_for_line "$WORK/bob.out" "listening for peers on ")
BOB_API=$(wait_for_line "$WORK/bob.out" "api on " | cut -d' ' -f1)
alice node --peer "$BOB=$BOB_AT" --api 127.0.0.1:0 >"$WORK/alice.out" 2>"$WORK/alice.log" &
pids+=($!)
wait_for_line "$WORK/alice.out" "channel $CHANNEL running" >/dev/null
wait_for_line "$WORK/bob.out" "channel $CHANNEL running" >/dev/null
wait_for_line "$WORK/alice.out" "channel $USD_CHANNEL running" >/dev/null
wait_for_line "$WORK/bob.out" "channel $USD_CHANNEL running" >/dev/null
echo "bob's node serves its API on $BOB_API"

# Bob's backend: one event per payment, as it becomes final (a service grants access on it).
TOKEN=$(cat "$WORK/bob/.local/share/paychan/$BOB/paychan.api-token")
curl -sN -H "Authorization: Bearer $TOKEN" "$BOB_API/v1/events" >"$WORK/bob.events" &
pids+=($!)
wait_for_line "$WORK/bob.events" ": paychan events" >/dev/null

echo "== 10,000 payments from alice, 100 from bob (each final: co-signed and on disk)"
start=$(date +%s%N)
alice pay "$CHANNEL" --amount 0.0001 --count 10000
bob pay "$CHANNEL" --amount 0.001 --count 100
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "10,100 payments in $elapsed_ms ms"

# Bob learns a round is final a moment after Alice does: give the last one time to arrive.
for _ in $(seq 300); do
    received=$(grep -c '"type":"payment_received"' "$WORK/bob.events" || true)
    [ "$received" -ge 10000 ] && break
    sleep 0.1
done
echo "bob's backend saw $received payment_received events on $BOB_API/v1/events"

echo "== 10,000 payments of 0.001 tUSD on the stablecoin channel"
start=$(date +%s%N)
alice pay "$USD_CHANNEL" --amount 0.001 --count 10000
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "10,000 tUSD payments in $elapsed_ms ms"

echo "== cooperative close of both"
alice close "$CHANNEL"
alice close "$USD_CHANNEL"
for channel in "$CHANNEL" "$USD_CHANNEL"; do
    wait_for_line "$WORK/alice.out" "channel $channel ended" >/dev/null
    wait_for_line "$WORK/bob.out" "channel $channel ended" >/dev/null
done
echo "alice: $(alice balance) and $(alice balance --mint tUSD), bob: $(bob balance) and $(bob balance --mint tUSD)"
count=$(curl -s "$URL" -H 'Content-Type: application/json' \
    -d '{"jsonrpc":"2.0","id":1,"method":"getTransactionCount"}' | grep -o '"result":[0-9]*' | cut -d: -f2)
echo "L1 transactions: $count in all (3 airdrops, 2 opens, a deposit, 2 closes); the payments never touched the chain"
