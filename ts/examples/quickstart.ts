// A channel from TypeScript: open, pay off-chain, close alone, finalize after the window.
// node dist/examples/quickstart.js http://127.0.0.1:8899   (against `paychan ledger`)
import {
  airdropFactory, appendTransactionMessageInstructions, assertIsTransactionWithBlockhashLifetime,
  createSolanaRpc, createSolanaRpcSubscriptions, createTransactionMessage, generateKeyPairSigner,
  lamports, pipe, sendAndConfirmTransactionFactory, setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash, signTransactionMessageWithSigners,
  type Instruction, type TransactionSigner,
} from "@solana/kit";
import {
  fetchChannel, findChannelPda, getFinalizeInstruction, getOpenInstructionAsync,
  getStartCloseWithStateInstructions, getStateBinding, getStateMessage, signStateMessage,
  type CoSignedState,
} from "../src/index.js";

const url = process.argv[2] ?? "http://127.0.0.1:8899";
const rpc = createSolanaRpc(url);
const port = Number(new URL(url).port) + 1; // the websocket, as beside a validator
const rpcSubscriptions = createSolanaRpcSubscriptions(`ws://${new URL(url).hostname}:${port}`);
const sendAndConfirm = sendAndConfirmTransactionFactory({ rpc, rpcSubscriptions });

async function send(payer: TransactionSigner, instructions: Instruction[]) {
  const { value: blockhash } = await rpc.getLatestBlockhash().send();
  const transaction = await signTransactionMessageWithSigners(pipe(
    createTransactionMessage({ version: 0 }),
    (m) => setTransactionMessageFeePayerSigner(payer, m),
    (m) => setTransactionMessageLifetimeUsingBlockhash(blockhash, m),
    (m) => appendTransactionMessageInstructions(instructions, m),
  ));
  assertIsTransactionWithBlockhashLifetime(transaction);
  await sendAndConfirm(transaction, { commitment: "confirmed" });
}

const [alice, bob] = [await generateKeyPairSigner(), await generateKeyPairSigner()];
await airdropFactory({ rpc, rpcSubscriptions })({
  recipientAddress: alice.address, lamports: lamports(2_000_000_000n), commitment: "confirmed",
});

// Session keys sign the states: the wallets are asked only for Open (and Deposit, Withdraw).
const [sessionA, sessionB] = [await generateKeyPairSigner(), await generateKeyPairSigner()];
const nonce = 1n;
const deposit = 1_000_000_000n;
await send(alice, [await getOpenInstructionAsync({
  partyA: alice, partyB: bob.address, nonce, deposit, challengePeriodSecs: 1n,
  signerA: sessionA.address, signerB: sessionB.address,
})]);
const [channel] = await findChannelPda({ partyA: alice.address, partyB: bob.address, nonce });
const binding = getStateBinding(await fetchChannel(rpc, channel));

// 100 payments of 0.001 SOL off-chain: each is a state both session keys sign (a real client
// stores each co-signed state before it signs the next; both sides check the other's signature).
async function pay(seq: bigint): Promise<CoSignedState> {
  const paid = seq * 1_000_000n;
  const message = getStateMessage({
    seq, depositedA: deposit, depositedB: 0n, balanceA: deposit - paid, balanceB: paid,
    logRoot: new Uint8Array(32), // the hash chain of the payment log, in a real client
  }, binding);
  return { message, a: await signStateMessage(sessionA, message), b: await signStateMessage(sessionB, message) };
}
for (let seq = 1n; seq < 100n; seq++) await pay(seq);
const newest = await pay(100n);

// Bob closes alone with the newest state; after the challenge period anyone finalizes.
await send(alice, getStartCloseWithStateInstructions({ registrant: sessionB, channel, state: newest }));
const closing = await fetchChannel(rpc, channel);
console.log(`registered seq ${closing.data.registered.seq}; the window ends at ${closing.data.deadline}`);
// The embedded ledger's one extension skips the window (a validator: wait `deadline`).
await fetch(url, { method: "POST", headers: { "content-type": "application/json" },
  body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "paychan_warpClock", params: [2] }) });
await send(alice, [getFinalizeInstruction({ channel, partyA: alice.address, partyB: bob.address })]);
const { value: bobBalance } = await rpc.getBalance(bob.address).send();
console.log(`finalized: Bob's wallet holds ${bobBalance} lamports`);
