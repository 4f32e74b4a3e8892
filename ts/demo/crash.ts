// The page killed between persisting and sending (ts/test/browser.ts drives it). Phase "die":
// open a channel, pay, and at the Kth step let IndexedDB's write hang — the test then kills the
// page, so that step's bytes never leave. Phase "resume" (a new page, same origin): rebuild the
// session from IndexedDB and pay on; the node and the page must agree.
import {
  address,
  appendTransactionMessageInstructions,
  createKeyPairSignerFromPrivateKeyBytes,
  createSolanaRpc,
  createTransactionMessage,
  fetchEncodedAccount,
  generateKeyPairSigner,
  getBase64EncodedWireTransaction,
  getSignatureFromTransaction,
  lamports,
  pipe,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
  type Address,
  type Instruction,
  type Signature,
  type TransactionSigner,
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

const SOL = 1_000_000_000n;
const AMOUNT = 100_000n;
const params = new URLSearchParams(location.search);
const ledgerUrl = params.get("ledger")!;
const nodeUrl = params.get("node")!;
const nodeWallet = address(params.get("wallet")!);
const rpc = createSolanaRpc(ledgerUrl);
const report = (value: unknown) => ((window as unknown as { paychanCrash: unknown }).paychanCrash = value);

async function confirmed(signature: Signature): Promise<void> {
  for (let look = 0; look < 600; look++) {
    const status = (await rpc.getSignatureStatuses([signature]).send()).value[0];
    if (status?.err) throw new Error(JSON.stringify(status.err));
    if (status?.confirmationStatus) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("not confirmed");
}

async function send(payer: TransactionSigner, instructions: readonly Instruction[]): Promise<void> {
  const { value: blockhash } = await rpc.getLatestBlockhash().send();
  const transaction = await signTransactionMessageWithSigners(
    pipe(
      createTransactionMessage({ version: 0 }),
      (m) => setTransactionMessageFeePayerSigner(payer, m),
      (m) => setTransactionMessageLifetimeUsingBlockhash(blockhash, m),
      (m) => appendTransactionMessageInstructions(instructions, m),
    ),
  );
  await rpc.sendTransaction(getBase64EncodedWireTransaction(transaction), { encoding: "base64" }).send();
  await confirmed(getSignatureFromTransaction(transaction));
}

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

async function session(saved: Saved, store: SessionStore): Promise<ChannelSession> {
  for (let attempt = 0; ; attempt++) {
    try {
      const open = await ChannelSession.open({
        url: nodeUrl, channel: saved.channel, openedSlot: BigInt(saved.openedSlot), signerA: saved.signerA,
        signerB: nodeWallet, me: "a", sessionKeySeed: new Uint8Array(saved.seed), store,
      });
      const account = await fetchEncodedAccount(rpc, saved.channel);
      const clock = await fetchEncodedAccount(rpc, address("SysvarC1ock11111111111111111111111111111111"));
      if (!account.exists || !clock.exists) throw new Error("no channel or clock");
      await open.chain(new Uint8Array(account.data), new DataView(clock.data.buffer, clock.data.byteOffset).getBigInt64(32, true));
      return open;
    } catch (error) {
      if (attempt > 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function die(): Promise<void> {
  await loadPaychanWasm(new URL("./paychan_bg.wasm", location.href));
  const wallet = await generateKeyPairSigner();
  await confirmed(await rpc.requestAirdrop(wallet.address, lamports(2n * SOL)).send());
  const seed = crypto.getRandomValues(new Uint8Array(32));
  const signer = await createKeyPairSignerFromPrivateKeyBytes(seed);
  const nonce = BigInt(Math.floor(Math.random() * 2 ** 48));
  const pda = await findChannelPda({ partyA: wallet.address, partyB: nodeWallet, nonce });
  await send(wallet, [
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
