// The embedded ledger (`paychan ledger`) through @solana/kit, as the npm tests use it: funded
// keys, transactions sent and confirmed over the websocket on port + 1, balances, the clock
// extension, and the paychan error a refused transaction names.
import {
  airdropFactory,
  appendTransactionMessageInstructions,
  assertIsTransactionWithBlockhashLifetime,
  createSolanaRpc,
  createSolanaRpcSubscriptions,
  createTransactionMessage,
  generateKeyPairSigner,
  getSignatureFromTransaction,
  lamports,
  pipe,
  sendAndConfirmTransactionFactory,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
  type Address,
  type Instruction,
  type KeyPairSigner,
  type Signature,
  type TransactionSigner,
} from "@solana/kit";
import { getPaychanErrorFromTransactionError } from "../src/index.js";
import { assertEqual, within } from "./harness.js";

export class Ledger {
  readonly rpc;
  readonly rpcSubscriptions;
  private readonly url: string;
  private readonly airdrop;
  private readonly sendAndConfirm;

  constructor(url: string) {
    const http = new URL(url);
    this.url = url;
    this.rpc = createSolanaRpc(url);
    this.rpcSubscriptions = createSolanaRpcSubscriptions(`ws://${http.hostname}:${Number(http.port) + 1}`);
    this.airdrop = airdropFactory({ rpc: this.rpc, rpcSubscriptions: this.rpcSubscriptions });
    this.sendAndConfirm = sendAndConfirmTransactionFactory({ rpc: this.rpc, rpcSubscriptions: this.rpcSubscriptions });
  }

  /// A new key holding `amount` lamports.
  async funded(amount: bigint): Promise<KeyPairSigner> {
    const signer = await generateKeyPairSigner();
    await within(
      this.airdrop({ commitment: "confirmed", recipientAddress: signer.address, lamports: lamports(amount) }),
      "airdrop",
    );
    return signer;
  }

  private async signed(feePayer: TransactionSigner, instructions: readonly Instruction[]) {
    const { value: latestBlockhash } = await this.rpc.getLatestBlockhash().send();
    const message = pipe(
      createTransactionMessage({ version: 0 }),
      (m) => setTransactionMessageFeePayerSigner(feePayer, m),
      (m) => setTransactionMessageLifetimeUsingBlockhash(latestBlockhash, m),
      (m) => appendTransactionMessageInstructions(instructions, m),
    );
    const transaction = await signTransactionMessageWithSigners(message);
    assertIsTransactionWithBlockhashLifetime(transaction);
    return { message, transaction };
  }

  /// Sends one transaction (every signer its instructions name signs it) and waits until it is
  /// confirmed.
  async send(feePayer: TransactionSigner, instructions: readonly Instruction[]): Promise<Signature> {
    const { transaction } = await this.signed(feePayer, instructions);
    await within(this.sendAndConfirm(transaction, { commitment: "confirmed" }), "sendAndConfirmTransaction");
    return getSignatureFromTransaction(transaction);
  }

  /// Sends a transaction paychan must refuse with `name`; nothing it touches may change.
  async expectRefused(
    feePayer: TransactionSigner,
    instructions: readonly Instruction[],
    name: string,
    unchanged: readonly Address[] = [],
  ): Promise<void> {
    const before = await Promise.all(unchanged.map((a) => this.balance(a)));
    const { message, transaction } = await this.signed(feePayer, instructions);
    let refused: unknown;
    try {
      await within(this.sendAndConfirm(transaction, { commitment: "confirmed" }), "sendAndConfirmTransaction");
    } catch (error) {
      refused = error;
    }
    if (refused === undefined) throw new Error(`expected paychan to refuse with ${name}, but it landed`);
    const error = getPaychanErrorFromTransactionError(refused, message);
    assertEqual(error?.name, name, `the paychan error (${String(refused)})`);
    const after = await Promise.all(unchanged.map((a) => this.balance(a)));
    unchanged.forEach((a, i) => assertEqual(after[i], before[i], `balance of ${a}`));
  }

  async balance(address: Address): Promise<bigint> {
    const { value } = await this.rpc.getBalance(address, { commitment: "confirmed" }).send();
    return value;
  }

  /// Moves the ledger's clock `seconds` ahead (`paychan_warpClock`, the embedded ledger's one
  /// extension), so a test skips a challenge period without waiting for it.
  async warp(seconds: number): Promise<void> {
    const response = await fetch(this.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "paychan_warpClock", params: [seconds] }),
    });
    const body = (await response.json()) as { error?: { message: string } };
    if (body.error) throw new Error(`paychan_warpClock: ${body.error.message}`);
  }
}
