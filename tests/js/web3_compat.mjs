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
  sendAndConfirmTransaction,
} from "@solana/web3.js";

const url = process.argv[2];
if (!url) {
  console.error("usage: node web3_compat.mjs <ledger url>");
  process.exit(2);
}
// The web3.js default: the websocket is on the next port.
const connection = new Connection(url, "confirmed");
const PAYCHAN = new PublicKey("Payvfr57PtkZrejLks77Maanvd1vhchENCMryALkmEE");
const DEADLINE_MS = 30_000;

function within(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${DEADLINE_MS} ms`)), DEADLINE_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function assertEqual(actual, expected, what) {
  if (actual !== expected) {
    throw new Error(`${what}: expected ${expected}, got ${actual}`);
  }
}

async function funded(lamports) {
  const key = Keypair.generate();
  const signature = await connection.requestAirdrop(key.publicKey, lamports);
  const latest = await connection.getLatestBlockhash();
  await within(connection.confirmTransaction({ signature, ...latest }), "confirm the airdrop");
  return key;
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

  async the_paychan_program_is_deployed() {
    const account = await connection.getAccountInfo(PAYCHAN);
    assertEqual(account?.executable, true, "paychan is executable");
  },
};

let passed = 0;
let failed = 0;
for (const [name, test] of Object.entries(tests)) {
  try {
    await test();
    passed += 1;
    console.log(`test ${name} ... ok`);
  } catch (error) {
    failed += 1;
    console.log(`test ${name} ... FAILED\n${error.stack ?? error}`);
  }
}
console.log(`test result: ${failed === 0 ? "ok" : "FAILED"}. ${passed} passed; ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
