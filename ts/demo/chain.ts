// What both demo pages do on the chain without a wallet adapter: send a transaction and wait
// until the ledger confirms it (by polling: a page needs no websocket for that).
import {
  appendTransactionMessageInstructions,
  createTransactionMessage,
  getBase64EncodedWireTransaction,
  getSignatureFromTransaction,
  pipe,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
  type GetLatestBlockhashApi,
  type GetSignatureStatusesApi,
  type Instruction,
  type Rpc,
  type SendTransactionApi,
  type Signature,
  type TransactionSigner,
} from "@solana/kit";

export type DemoRpc = Rpc<GetLatestBlockhashApi & GetSignatureStatusesApi & SendTransactionApi>;

export async function confirmed(rpc: DemoRpc, signature: Signature): Promise<void> {
  for (let look = 0; look < 600; look++) {
    const status = (await rpc.getSignatureStatuses([signature]).send()).value[0];
    if (status?.err) throw new Error(`transaction ${signature} failed: ${JSON.stringify(status.err)}`);
    if (status?.confirmationStatus) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`transaction ${signature} was not confirmed`);
}

export async function send(rpc: DemoRpc, payer: TransactionSigner, instructions: readonly Instruction[]): Promise<Signature> {
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
  const signature = getSignatureFromTransaction(transaction);
  await confirmed(rpc, signature);
  return signature;
}
