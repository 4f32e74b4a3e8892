// The embedded ledger (`paychan ledger`) as @solana/web3.js 1.x sees it: the confirmation
// paths a dApp uses (the websocket on port + 1, block heights that move with time), and the
// paychan program deployed. Usage: node web3_compat.mjs http://127.0.0.1:PORT
// Prints one line per test and a cargo-style summary; exits non-zero if any test fails.
import {
  Connection,
  Keypair,
  LAMPORTS_PER_SOL,
  PublicKey,
  SystemProgram,
  Transaction,
  TransactionInstruction,
  sendAndConfirmTransaction,
} from "@solana/web3.js";
import { DEADLINE_MS, assertEqual, ledgerUrl, run, within } from "./harness.js";

const url = ledgerUrl("web3_compat.mjs");
// The web3.js default: the websocket is on the next port.
const connection = new Connection(url, "confirmed");
const PAYCHAN = new PublicKey("Payvfr57PtkZrejLks77Maanvd1vhchENCMryALkmEE");



async function funded(lamports) {
  const key = Keypair.generate();
  const signature = await connection.requestAirdrop(key.publicKey, lamports);
  const latest = await connection.getLatestBlockhash();
  await within(connection.confirmTransaction({ signature, ...latest }), "confirm the airdrop");
  return key;
}

/// paychan's Open, byte for byte as the README documents it (the wallets sign the states).
function openInstruction(a, b, nonce, deposit, period) {
  const nonceBytes = Buffer.alloc(8);
  nonceBytes.writeBigUInt64LE(BigInt(nonce));
  const [channel, bump] = PublicKey.findProgramAddressSync(
    [Buffer.from("channel"), a.toBuffer(), b.toBuffer(), nonceBytes],
    PAYCHAN,
  );
  const data = Buffer.alloc(90);
  data.writeUInt8(0, 0);
  data.writeBigUInt64LE(BigInt(nonce), 1);
  data.writeBigUInt64LE(BigInt(deposit), 9);
  data.writeBigUInt64LE(BigInt(period), 17);
  a.toBuffer().copy(data, 25);
  b.toBuffer().copy(data, 57);
  data.writeUInt8(bump, 89);
  const instruction = new TransactionInstruction({
    programId: PAYCHAN,
    keys: [
      { pubkey: a, isSigner: true, isWritable: true },
      { pubkey: b, isSigner: false, isWritable: true },
      { pubkey: channel, isSigner: false, isWritable: true },
      { pubkey: SystemProgram.programId, isSigner: false, isWritable: false },
    ],
    data,
  });
  return { channel, instruction };
}

const tests = {
  async an_airdrop_is_confirmed_over_the_websocket() {
    const key = await funded(2 * LAMPORTS_PER_SOL);
    assertEqual(await connection.getBalance(key.publicKey), 2 * LAMPORTS_PER_SOL, "balance");
  },

  async send_and_confirm_transaction_lands_a_transfer() {
    const payer = await funded(LAMPORTS_PER_SOL);
    const recipient = Keypair.generate();
    const transfer = new Transaction().add(
      SystemProgram.transfer({
        fromPubkey: payer.publicKey,
        toPubkey: recipient.publicKey,
        lamports: 10_000_000,
      }),
    );
    const signature = await within(
      sendAndConfirmTransaction(connection, transfer, [payer]),
      "sendAndConfirmTransaction",
    );
    const status = await connection.getSignatureStatus(signature);
    assertEqual(status.value?.err, null, "transaction error");
    assertEqual(await connection.getBalance(recipient.publicKey), 10_000_000, "recipient");
  },

  async an_account_listener_sees_the_change() {
    const payer = await funded(LAMPORTS_PER_SOL);
    const watched = Keypair.generate();
    let notified = null;
    const subscription = connection.onAccountChange(watched.publicKey, (account) => {
      notified = account.lamports;
    });
    // The subscription is registered asynchronously: transfer until a change is notified
    // (the first that lands after it is), at most ten times.
    let sent = 0;
    while (notified === null && sent < 10) {
      sent += 1;
      await sendAndConfirmTransaction(
        connection,
        new Transaction().add(
          SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: watched.publicKey, lamports: 3_000_000 }),
        ),
        [payer],
      );
      await within(
        new Promise((resolve) => setTimeout(resolve, 100)),
        "a tick for the notification",
      );
    }
    if (notified === null) {
      throw new Error("no account notification after ten transfers");
    }
    assertEqual(notified % 3_000_000, 0, "notified lamports are a sum of the transfers");
    await connection.removeAccountChangeListener(subscription);
  },

  async block_height_moves_with_time() {
    const first = await connection.getBlockHeight();
    const started = Date.now();
    let later = first;
    while (later <= first && Date.now() - started < DEADLINE_MS) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      later = await connection.getBlockHeight();
    }
    if (!(later > first)) {
      throw new Error(`block height stayed at ${first}`);
    }
  },

  async a_channel_is_found_by_filters_and_its_transaction_by_signature() {
    const alice = await funded(2 * LAMPORTS_PER_SOL);
    const bob = Keypair.generate();
    const { channel, instruction } = openInstruction(alice.publicKey, bob.publicKey, 7, LAMPORTS_PER_SOL, 86_400);
    const transaction = new Transaction().add(instruction);
    const simulated = await connection.simulateTransaction(transaction, [alice]);
    assertEqual(simulated.value.err, null, "simulated error");
    const signature = await within(
      sendAndConfirmTransaction(connection, transaction, [alice]),
      "open",
    );
    // getProgramAccounts with a size and a party filter, and a slice of party_a.
    const found = await connection.getProgramAccounts(PAYCHAN, {
      filters: [{ dataSize: 352 }, { memcmp: { offset: 8, bytes: alice.publicKey.toBase58() } }],
      dataSlice: { offset: 8, length: 32 },
    });
    assertEqual(found.length, 1, "channels of Alice");
    assertEqual(found[0].pubkey.toBase58(), channel.toBase58(), "the channel");
    assertEqual(new PublicKey(found[0].account.data).toBase58(), alice.publicKey.toBase58(), "party_a slice");
    const none = await connection.getProgramAccounts(PAYCHAN, {
      filters: [{ memcmp: { offset: 8, bytes: bob.publicKey.toBase58() } }],
    });
    assertEqual(none.length, 0, "channels opened by Bob");
    // The transaction, its logs, and the address's history.
    const landed = await connection.getTransaction(signature, { maxSupportedTransactionVersion: 0 });
    assertEqual(landed.meta.err, null, "landed error");
    if (!landed.meta.logMessages.some((line) => line.includes(PAYCHAN.toBase58()))) {
      throw new Error(`no paychan log line: ${landed.meta.logMessages}`);
    }
    const history = await connection.getSignaturesForAddress(channel);
    assertEqual(history[0]?.signature, signature, "the channel's newest signature");
  },

  async a_refused_open_names_its_error_and_skip_preflight_lands_it_failed() {
    const alice = await funded(LAMPORTS_PER_SOL);
    // B equal to A: PartiesEqual (8), named in the program's log.
    const { instruction } = openInstruction(alice.publicKey, alice.publicKey, 1, 1000, 86_400);
    const transaction = new Transaction().add(instruction);
    const simulated = await connection.simulateTransaction(transaction, [alice]);
    if (!simulated.value.logs.some((line) => line.includes("paychan error 8 PartiesEqual"))) {
      throw new Error(`the log does not name the error: ${simulated.value.logs}`);
    }
    const before = await connection.getBalance(alice.publicKey);
    const signature = await connection.sendTransaction(transaction, [alice], { skipPreflight: true });
    const status = await connection.getSignatureStatus(signature);
    if (status.value?.err === null || status.value === null) {
      throw new Error(`expected a landed failure, got ${JSON.stringify(status.value)}`);
    }
    assertEqual(before - (await connection.getBalance(alice.publicKey)), 5_000, "the fee is charged");
  },

  async epoch_fee_and_genesis_are_answered() {
    const epoch = await connection.getEpochInfo();
    assertEqual(epoch.epoch, 0, "epoch");
    const payer = Keypair.generate();
    const { blockhash } = await connection.getLatestBlockhash();
    const message = new Transaction({ feePayer: payer.publicKey, recentBlockhash: blockhash })
      .add(SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: payer.publicKey, lamports: 1 }))
      .compileMessage();
    assertEqual(await connection.getFeeForMessage(message).then((r) => r.value), 5_000, "fee");
    const genesis = await connection.getGenesisHash();
    assertEqual(genesis, await connection.getGenesisHash(), "genesis hash is stable");
  },

  async the_paychan_program_is_deployed() {
    const account = await connection.getAccountInfo(PAYCHAN);
    assertEqual(account?.executable, true, "paychan is executable");
  },
};

await run(tests);
