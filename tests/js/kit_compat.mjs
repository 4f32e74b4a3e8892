// The embedded ledger (`paychan ledger`) as @solana/kit sees it: an airdrop and a transfer
// confirmed through kit's subscriptions (the websocket on port + 1) and block heights, and a
// paychan Open (built from the documented bytes) found by getProgramAccounts.
// Usage: node kit_compat.mjs http://127.0.0.1:PORT
import {
  AccountRole,
  address,
  airdropFactory,
  appendTransactionMessageInstruction,
  createSolanaRpc,
  createSolanaRpcSubscriptions,
  createTransactionMessage,
  generateKeyPairSigner,
  getAddressEncoder,
  getProgramDerivedAddress,
  lamports,
  pipe,
  sendAndConfirmTransactionFactory,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
} from "@solana/kit";
import { assertEqual, ledgerUrl, run, within } from "./harness.mjs";

const url = ledgerUrl("kit_compat.mjs");
const http = new URL(url);
const ws = `ws://${http.hostname}:${Number(http.port) + 1}`;
const rpc = createSolanaRpc(url);
const rpcSubscriptions = createSolanaRpcSubscriptions(ws);
const airdrop = airdropFactory({ rpc, rpcSubscriptions });
const sendAndConfirm = sendAndConfirmTransactionFactory({ rpc, rpcSubscriptions });
const SYSTEM = address("11111111111111111111111111111111");
const PAYCHAN = address("Payvfr57PtkZrejLks77Maanvd1vhchENCMryALkmEE");



function u64(value) {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(value), true);
  return bytes;
}

async function funded(amount) {
  const signer = await generateKeyPairSigner();
  await within(
    airdrop({ commitment: "confirmed", recipientAddress: signer.address, lamports: lamports(amount) }),
    "airdrop",
  );
  return signer;
}

async function send(payer, instruction) {
  const { value: latestBlockhash } = await rpc.getLatestBlockhash().send();
  const message = pipe(
    createTransactionMessage({ version: 0 }),
    (m) => setTransactionMessageFeePayerSigner(payer, m),
    (m) => setTransactionMessageLifetimeUsingBlockhash(latestBlockhash, m),
    (m) => appendTransactionMessageInstruction(instruction, m),
  );
  const signed = await signTransactionMessageWithSigners(message);
  await within(sendAndConfirm(signed, { commitment: "confirmed" }), "sendAndConfirmTransaction");
}

const tests = {
  async an_airdrop_and_a_transfer_are_confirmed() {
    const payer = await funded(1_000_000_000n);
    const recipient = await generateKeyPairSigner();
    const data = new Uint8Array(12);
    new DataView(data.buffer).setUint32(0, 2, true); // SystemInstruction::Transfer
    data.set(u64(7_000_000), 4);
    await send(payer, {
      programAddress: SYSTEM,
      accounts: [
        { address: payer.address, role: AccountRole.WRITABLE_SIGNER, signer: payer },
        { address: recipient.address, role: AccountRole.WRITABLE },
      ],
      data,
    });
    const { value } = await rpc.getBalance(recipient.address).send();
    assertEqual(value, 7_000_000n, "recipient balance");
  },

  async a_paychan_open_is_found_by_its_opener() {
    const alice = await funded(2_000_000_000n);
    const bob = await generateKeyPairSigner();
    const encoder = getAddressEncoder();
    const [channel] = await getProgramDerivedAddress({
      programAddress: PAYCHAN,
      seeds: ["channel", encoder.encode(alice.address), encoder.encode(bob.address), u64(3)],
    });
    const data = new Uint8Array(89);
    data.set(u64(3), 1);
    data.set(u64(500_000_000), 9);
    data.set(u64(86_400), 17);
    data.set(encoder.encode(alice.address), 25);
    data.set(encoder.encode(bob.address), 57);
    await send(alice, {
      programAddress: PAYCHAN,
      accounts: [
        { address: alice.address, role: AccountRole.WRITABLE_SIGNER, signer: alice },
        { address: bob.address, role: AccountRole.WRITABLE },
        { address: channel, role: AccountRole.WRITABLE },
        { address: SYSTEM, role: AccountRole.READONLY },
      ],
      data,
    });
    const found = await rpc
      .getProgramAccounts(PAYCHAN, {
        encoding: "base64",
        filters: [{ memcmp: { offset: 8n, bytes: alice.address, encoding: "base58" } }],
      })
      .send();
    assertEqual(found.length, 1, "channels opened by Alice");
    assertEqual(found[0].pubkey, channel, "the channel");
  },
};

await run(tests);
