// The browser demo: a wallet made in the page opens a channel to a `paychan node` on the
// embedded ledger, a session key pays it 1,000 times over a WebSocket (the engine in
// WebAssembly, every step stored in IndexedDB before it is sent), then the page closes with
// the newest co-signed state, waits out the window (the embedded ledger's clock is warped) and
// shows both balances. Query: ?ledger=http://…&node=ws://…&wallet=NODE_WALLET[&auto=1]
import {
  address,
  createKeyPairSignerFromPrivateKeyBytes,
  createSolanaRpc,
  generateKeyPairSigner,
  lamports,
} from "@solana/kit";
import {
  ChannelSession,
  IndexedDbSessionStore,
  checkChannel,
  fetchChannel,
  findChannelPda,
  getOpenInstruction,
  getStartCloseWithStateInstructions,
  loadPaychanWasm,
} from "../src/index.js";
import { confirmed, send } from "./chain.js";

const SOL = 1_000_000_000n;
const PAYMENTS = 1_000;
const AMOUNT = 100_000n; // lamports per payment
const params = new URLSearchParams(location.search);
const ledgerUrl = params.get("ledger") ?? "http://127.0.0.1:8899";
const nodeUrl = params.get("node") ?? "ws://127.0.0.1:7401/";
const nodeWallet = address(params.get("wallet") ?? "11111111111111111111111111111111");
const rpc = createSolanaRpc(ledgerUrl);
const $ = (id: string) => document.getElementById(id)!;
const sol = (value: bigint) => `${(Number(value) / 1e9).toFixed(4)} SOL`;
const log = (line: string) => ($("log").textContent += `${line}\n`);

async function run(): Promise<void> {
  $("status").textContent = "opening";
  await loadPaychanWasm(new URL("./paychan_bg.wasm", location.href));
  const wallet = await generateKeyPairSigner();
  await confirmed(rpc, await rpc.requestAirdrop(wallet.address, lamports(2n * SOL)).send());
  const seed = crypto.getRandomValues(new Uint8Array(32));
  const sessionKey = await createKeyPairSignerFromPrivateKeyBytes(seed);
  const nonce = BigInt(Math.floor(Math.random() * 2 ** 48));
  const pda = await findChannelPda({ partyA: wallet.address, partyB: nodeWallet, nonce });
  const channel = pda[0];
  await send(rpc, wallet, [
    getOpenInstruction({
      partyA: wallet, partyB: nodeWallet, channel: pda, nonce, deposit: SOL,
      challengePeriodSecs: 86_400n, signerA: sessionKey.address, signerB: nodeWallet, bump: pda[1],
    }),
  ]);
  const opened = await fetchChannel(rpc, channel);
  log(`opened ${channel} with 1 SOL; the session key ${sessionKey.address} signs the payments`);

  // The node joins the channel within a tick of its discovery; until then it refuses the link.
  const session = await ChannelSession.openWhenServed({
    rpc, url: nodeUrl, channel, openedSlot: opened.data.openedSlot, signerA: sessionKey.address,
    signerB: nodeWallet, me: "a", sessionKeySeed: seed, store: new IndexedDbSessionStore("paychan-demo"),
  });

  $("status").textContent = "paying";
  const show = (paid: number) => {
    const newest = session.newest();
    ($("progress") as HTMLProgressElement).value = paid;
    $("mine").textContent = sol(newest.balanceA);
    $("theirs").textContent = sol(newest.balanceB);
  };
  // 100 payments one at a time (each a round: proposed, co-signed, stored on both sides)…
  const UNBATCHED = 100;
  let started = performance.now();
  for (let paid = 1; paid <= UNBATCHED; paid++) {
    await session.pay(AMOUNT, 1);
    show(paid);
  }
  const unbatched = (UNBATCHED * 1000) / (performance.now() - started);
  // …then the rest handed over at once: they ride a few rounds.
  started = performance.now();
  await session.pay(AMOUNT, PAYMENTS - UNBATCHED);
  const batched = ((PAYMENTS - UNBATCHED) * 1000) / (performance.now() - started);
  show(PAYMENTS);
  log(`${UNBATCHED} payments one at a time: ${unbatched.toFixed(0)}/s; ${PAYMENTS - UNBATCHED} at once: ${batched.toFixed(0)}/s`);
  const receipt = session.newestCoSigned()!;
  const newest = session.newest();
  session.close();

  $("status").textContent = "closing";
  await send(rpc, wallet, getStartCloseWithStateInstructions({ registrant: wallet, channel, state: receipt }));
  await fetch(ledgerUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "paychan_warpClock", params: [86_401] }),
  });
  for (let look = 0; look < 100; look++) {
    const decision = await checkChannel({
      rpc, channel, newest: receipt, submitter: wallet, send: (ixs) => send(rpc, wallet, ixs),
    }).catch(() => undefined);
    if (decision?.kind === "closed") break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const walletBalance = (await rpc.getBalance(wallet.address).send()).value;
  log(`closed: the node was paid ${sol(newest.balanceB)}; my wallet holds ${sol(walletBalance)}`);
  $("status").textContent = "done";
  (window as unknown as { paychanDemo: unknown }).paychanDemo = {
    wallet: wallet.address,
    channel,
    paidToNode: newest.balanceB.toString(),
    keptByMe: newest.balanceA.toString(),
    walletBalance: walletBalance.toString(),
    unbatchedPerSecond: Math.round(unbatched),
    batchedPerSecond: Math.round(batched),
  };
}

$("run").addEventListener("click", () => void run().catch(fail));
function fail(error: unknown) {
  $("status").textContent = `failed: ${String(error)}`;
  (window as unknown as { paychanDemo: unknown }).paychanDemo = { error: String(error) };
}
if (params.get("auto") === "1") void run().catch(fail);
