// The Node.js payer an agent would copy: the engine in WebAssembly pays a real
// `paychan node --listen-ws` over a WebSocket, 1,000 payments co-signed and persisted; a
// session rebuilt from its store (a restart, or a crash between persisting and sending) goes
// on where it stopped; the agent closes with the newest co-signed state and is paid out.
// Usage: node dist/test/node-payer.js LEDGER_URL NODE_WS_URL NODE_WALLET
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { address, createKeyPairSignerFromPrivateKeyBytes, type Address } from "@solana/kit";
import { WebSocket } from "ws";
import { appendFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { FileSessionStore } from "../src/session-store-file.js";
import {
  ChannelSession,
  MemorySessionStore,
  checkChannel,
  fetchChannel,
  findChannelPda,
  getOpenInstruction,
  getStartCloseWithStateInstructions,
  loadPaychanWasm,
  verifyStateSignature,
  type ChannelSessionOptions,
  type SessionStore,
} from "../src/index.js";
import { assertEqual, run, within } from "./harness.js";
import { Ledger } from "./ledger.js";

const [ledgerUrl, nodeUrl, nodeWallet] = process.argv.slice(2);
if (!ledgerUrl || !nodeUrl || !nodeWallet) {
  console.error("usage: node dist/test/node-payer.js LEDGER_URL NODE_WS_URL NODE_WALLET");
  process.exit(2);
}
const ledger = new Ledger(ledgerUrl);
const node = address(nodeWallet);
const SOL = 1_000_000_000n;
const here = dirname(fileURLToPath(import.meta.url));
await loadPaychanWasm(readFileSync(join(here, "..", "wasm", "paychan_bg.wasm")));

/// A store that fails every append after the first `ok` ones, as a process killed between
/// persisting and sending: what it failed to persist was never sent.
class CrashingStore implements SessionStore {
  private ok = Infinity;
  constructor(private readonly inner: MemorySessionStore) {}
  /// From now on, `ok` more appends succeed, then every one fails.
  crashAfter(ok: number) {
    this.ok = ok;
  }
  load(channel: Address) {
    return this.inner.load(channel);
  }
  async append(channel: Address, records: Uint8Array[]) {
    if (this.ok-- <= 0) throw new Error("killed between persisting and sending");
    return this.inner.append(channel, records);
  }
}

/// An agent's channel to the node: its wallet opens it, a session key signs the payments.
async function openChannel() {
  const wallet = await ledger.funded(2n * SOL);
  const seed = crypto.getRandomValues(new Uint8Array(32));
  const sessionKey = await createKeyPairSignerFromPrivateKeyBytes(seed);
  const nonce = BigInt(Math.floor(Math.random() * 2 ** 48));
  const pda = await findChannelPda({ partyA: wallet.address, partyB: node, nonce });
  await ledger.send(wallet, [
    getOpenInstruction({
      partyA: wallet,
      partyB: node,
      channel: pda,
      nonce,
      deposit: SOL,
      challengePeriodSecs: 86_400n,
      signerA: sessionKey.address,
      signerB: node,
      bump: pda[1],
    }),
  ]);
  const account = await fetchChannel(ledger.rpc, pda[0]);
  return { wallet, seed, sessionKey, channel: pda[0], openedSlot: account.data.openedSlot };
}

type Opened = Awaited<ReturnType<typeof openChannel>>;

/// A session to the node, once the node runs the channel (it discovers it within a tick).
function session(opened: Opened, store: SessionStore): Promise<ChannelSession> {
  return ChannelSession.openWhenServed({
    rpc: ledger.rpc,
    url: nodeUrl!,
    channel: opened.channel,
    openedSlot: opened.openedSlot,
    signerA: opened.sessionKey.address,
    signerB: node,
    me: "a",
    sessionKeySeed: opened.seed,
    store,
    WebSocket: WebSocket as unknown as ChannelSessionOptions["WebSocket"],
  });
}

await run({
  async an_agent_pays_a_node_a_thousand_times_over_a_websocket_and_closes() {
    const opened = await openChannel();
    // The agent keeps its records in a file, synced before anything leaves.
    const dir = mkdtempSync(join(tmpdir(), "paychan-agent-"));
    const store = new FileSessionStore(dir);
    const agent = await session(opened, store);
    const started = performance.now();
    await within(agent.pay(1_000n, 1_000), "1,000 payments");
    const ms = performance.now() - started;
    console.log(`1,000 payments from Node.js over a WebSocket in ${ms.toFixed(0)} ms (${(1_000_000 / ms).toFixed(0)}/s)`);
    const newest = agent.newest();
    assertEqual(newest.balanceB, 1_000_000n, "the node's balance");
    const receipt = agent.newestCoSigned()!;
    assertEqual(await verifyStateSignature(receipt.b, receipt.message), true, "the node signed the receipt");
    const kept = await store.load(opened.channel);
    assertEqual(kept.length > 0, true, "every step was persisted");
    agent.close();

    // A restart: the session is rebuilt from its file and pays on. A crash had torn the last
    // append in half: that record was never acknowledged, and is dropped.
    appendFileSync(join(dir, `${opened.channel}.records`), new Uint8Array([0, 0, 1, 0, 7]));
    assertEqual((await store.load(opened.channel)).length, kept.length, "a torn last record is dropped");
    const again = await session(opened, store);
    assertEqual(again.newest().seq, newest.seq, "the rebuilt session holds the newest state");
    await within(again.pay(5_000n, 10), "10 more payments");
    assertEqual(again.newest().balanceB, 1_050_000n, "after the restart");
    const final = again.newestCoSigned()!;
    again.close();

    // The agent closes with its newest co-signed state; after the window anyone finalizes.
    await ledger.send(opened.wallet, getStartCloseWithStateInstructions({ registrant: opened.wallet, channel: opened.channel, state: final }));
    await ledger.warp(86_401);
    const keeper = await ledger.funded(SOL / 10n);
    const before = await ledger.balance(opened.wallet.address);
    // The node's own watcher may finalize first: a finalize that loses that race fails, and
    // the next look finds the channel closed.
    let closed = false;
    for (let look = 0; look < 50 && !closed; look++) {
      const decision = await checkChannel({
        rpc: ledger.rpc, channel: opened.channel, newest: final, submitter: keeper,
        send: (ixs) => ledger.send(keeper, ixs),
      }).catch(() => undefined);
      closed = decision?.kind === "closed";
    }
    assertEqual(closed, true, "the channel is paid out");
    const paidOut = (await ledger.balance(opened.wallet.address)) - before;
    assertEqual(paidOut > SOL - 1_050_000n, true, `the agent's balance and the rent come back (${paidOut})`);
  },

  async a_crash_between_persisting_and_sending_loses_nothing() {
    const opened = await openChannel();
    const records = new MemorySessionStore();
    // Two payment steps persist, the third's append fails: its bytes are never sent, the
    // session stops.
    const store = new CrashingStore(records);
    const crashing = await session(opened, store);
    store.crashAfter(2);
    await crashing.pay(1_000n, 50).then(
      () => {
        throw new Error("the crash should have stopped the payments");
      },
      () => {},
    );
    crashing.close();
    const kept = records.records.get(opened.channel)?.length ?? 0;
    const rebuilt = await session(opened, records);
    await within(rebuilt.pay(2_000n, 20), "payments after the crash");
    const newest = rebuilt.newest();
    assertEqual(newest.balanceA + newest.balanceB, SOL, "nothing was created or lost");
    assertEqual(newest.balanceB >= 40_000n, true, "the payments after the crash went through");
    assertEqual(kept > 0, true, "records before the crash were kept");
    rebuilt.close();
  },
});
