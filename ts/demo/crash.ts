// The page killed between persisting and sending (ts/test/browser.ts drives it). Phase "die":
// open a channel, pay, and at the Kth step let IndexedDB's write hang — the test then kills the
// page, so that step's bytes never leave. Phase "resume" (a new page, same origin): rebuild the
// session from IndexedDB and pay on; the node and the page must agree.
import {
  address,
  createKeyPairSignerFromPrivateKeyBytes,
  createSolanaRpc,
  generateKeyPairSigner,
  lamports,
  type Address,
} from "@solana/kit";
import {
  ChannelSession,
  IndexedDbSessionStore,
  fetchChannel,
  findChannelPda,
  getOpenInstruction,
  loadPaychanWasm,
  verifyStateSignature,
  type SessionStore,
} from "../src/index.js";
import { confirmed, send } from "./chain.js";

const SOL = 1_000_000_000n;
const AMOUNT = 100_000n;
const params = new URLSearchParams(location.search);
const ledgerUrl = params.get("ledger")!;
const nodeUrl = params.get("node")!;
const nodeWallet = address(params.get("wallet")!);
const rpc = createSolanaRpc(ledgerUrl);
const report = (value: unknown) => ((window as unknown as { paychanCrash: unknown }).paychanCrash = value);

/// IndexedDB whose Kth append never completes: the page is killed while it waits.
class DyingStore implements SessionStore {
  constructor(private readonly inner: SessionStore, private left: number) {}
  load(channel: Address) {
    return this.inner.load(channel);
  }
  append(channel: Address, records: Uint8Array[]): Promise<void> {
    if (this.left-- <= 0) {
      report({ dying: true });
      return new Promise<void>(() => {});
    }
    return this.inner.append(channel, records);
  }
}

type Saved = { channel: Address; openedSlot: string; seed: number[]; signerA: Address };

function session(saved: Saved, store: SessionStore): Promise<ChannelSession> {
  return ChannelSession.openWhenServed({
    rpc, url: nodeUrl, channel: saved.channel, openedSlot: BigInt(saved.openedSlot), signerA: saved.signerA,
    signerB: nodeWallet, me: "a", sessionKeySeed: new Uint8Array(saved.seed), store,
  });
}

async function die(): Promise<void> {
  await loadPaychanWasm(new URL("./paychan_bg.wasm", location.href));
  const wallet = await generateKeyPairSigner();
  await confirmed(rpc, await rpc.requestAirdrop(wallet.address, lamports(2n * SOL)).send());
  const seed = crypto.getRandomValues(new Uint8Array(32));
  const signer = await createKeyPairSignerFromPrivateKeyBytes(seed);
  const nonce = BigInt(Math.floor(Math.random() * 2 ** 48));
  const pda = await findChannelPda({ partyA: wallet.address, partyB: nodeWallet, nonce });
  await send(rpc, wallet, [
    getOpenInstruction({
      partyA: wallet, partyB: nodeWallet, channel: pda, nonce, deposit: SOL, challengePeriodSecs: 86_400n,
      signerA: signer.address, signerB: nodeWallet, bump: pda[1],
    }),
  ]);
  const opened = await fetchChannel(rpc, pda[0]);
  const saved: Saved = { channel: pda[0], openedSlot: opened.data.openedSlot.toString(), seed: [...seed], signerA: signer.address };
  localStorage.setItem("paychan-crash", JSON.stringify(saved));
  // The first round persists its proposal and its co-signed state; the second round's
  // proposal hangs on its way to disk, so its bytes never leave.
  const open = await session(saved, new DyingStore(new IndexedDbSessionStore("paychan-crash"), 2));
  for (let i = 0; i < 50; i++) void open.pay(AMOUNT, 1).catch(() => {});
}

async function resume(): Promise<void> {
  await loadPaychanWasm(new URL("./paychan_bg.wasm", location.href));
  const saved = JSON.parse(localStorage.getItem("paychan-crash")!) as Saved;
  const store = new IndexedDbSessionStore("paychan-crash");
  const kept = (await store.load(saved.channel)).length;
  const open = await session(saved, store);
  const before = open.newest();
  await open.pay(AMOUNT, 20);
  const after = open.newest();
  const receipt = open.newestCoSigned()!;
  report({
    kept,
    before: before.balanceB.toString(),
    balanceA: after.balanceA.toString(),
    balanceB: after.balanceB.toString(),
    nodeSigned: await verifyStateSignature(receipt.b, receipt.message),
  });
  open.close();
}

(params.get("phase") === "resume" ? resume() : die()).catch((error) => report({ error: String(error) }));
