// The embedded ledger (`paychan ledger`) as @solana/kit sees it: an airdrop and a transfer
// confirmed through kit's subscriptions (the websocket on port + 1) and block heights, and a
// paychan Open built from the README's documented bytes (no generated client) found by
// getProgramAccounts; what wallets ask before they send (priority fees, the epoch schedule) and
// the block of a landed transaction.
// Usage: node dist/test/kit-compat.js http://127.0.0.1:PORT
import {
  AccountRole,
  address,
  generateKeyPairSigner,
  getAddressEncoder,
  getProgramDerivedAddress,
  getU64Encoder,
  type AccountSignerMeta,
  type Base58EncodedBytes,
  type KeyPairSigner,
} from "@solana/kit";
import { assertEqual, ledgerUrl, run } from "./harness.js";
import { Ledger } from "./ledger.js";

const ledger = new Ledger(ledgerUrl("kit-compat.js"));
const SYSTEM = address("11111111111111111111111111111111");
const PAYCHAN = address("Payvfr57PtkZrejLks77Maanvd1vhchENCMryALkmEE");
const u64 = (value: bigint) => getU64Encoder().encode(value);
const signing = (signer: KeyPairSigner): AccountSignerMeta => ({
  address: signer.address,
  role: AccountRole.WRITABLE_SIGNER,
  signer,
});

const tests = {
  async an_airdrop_and_a_transfer_are_confirmed() {
    const payer = await ledger.funded(1_000_000_000n);
    const recipient = await generateKeyPairSigner();
    const data = new Uint8Array(12);
    new DataView(data.buffer).setUint32(0, 2, true); // SystemInstruction::Transfer
    data.set(u64(7_000_000n), 4);
    await ledger.send(payer, [
      {
        programAddress: SYSTEM,
        accounts: [
          signing(payer),
          { address: recipient.address, role: AccountRole.WRITABLE },
        ],
        data,
      },
    ]);
    assertEqual(await ledger.balance(recipient.address), 7_000_000n, "recipient balance");
  },

  async a_paychan_open_is_found_by_its_opener() {
    const alice = await ledger.funded(2_000_000_000n);
    const bob = await generateKeyPairSigner();
    const encoder = getAddressEncoder();
    const [channel, bump] = await getProgramDerivedAddress({
      programAddress: PAYCHAN,
      seeds: ["channel", encoder.encode(alice.address), encoder.encode(bob.address), u64(3n)],
    });
    const data = new Uint8Array(90);
    data.set(u64(3n), 1);
    data.set(u64(500_000_000n), 9);
    data.set(u64(86_400n), 17);
    data.set(encoder.encode(alice.address), 25);
    data.set(encoder.encode(bob.address), 57);
    data[89] = bump;
    await ledger.send(alice, [
      {
        programAddress: PAYCHAN,
        accounts: [
          signing(alice),
          { address: bob.address, role: AccountRole.WRITABLE },
          { address: channel, role: AccountRole.WRITABLE },
          { address: SYSTEM, role: AccountRole.READONLY },
        ],
        data,
      },
    ]);
    const found = await ledger.rpc
      .getProgramAccounts(PAYCHAN, {
        encoding: "base64",
        filters: [{ memcmp: { offset: 8n, bytes: alice.address as string as Base58EncodedBytes, encoding: "base58" } }],
      })
      .send();
    assertEqual(found.length, 1, "channels opened by Alice");
    assertEqual(found[0]?.pubkey, channel, "the channel");
  },

  async a_wallets_questions_are_answered_fees_epochs_and_blocks() {
    const fees = await ledger.rpc.getRecentPrioritizationFees().send();
    assertEqual(fees.length > 0 && fees.every((f) => f.prioritizationFee === 0n), true, "no priority fee is needed");
    const schedule = await ledger.rpc.getEpochSchedule().send();
    assertEqual(schedule.slotsPerEpoch, 432_000n, "slots per epoch");

    // The block of a transfer holds it, by signature and in full
    const payer = await ledger.funded(1_000_000_000n);
    const data = new Uint8Array(12);
    new DataView(data.buffer).setUint32(0, 2, true);
    data.set(u64(7_000_000n), 4);
    const recipient = await generateKeyPairSigner();
    const signature = await ledger.send(payer, [
      {
        programAddress: SYSTEM,
        accounts: [signing(payer), { address: recipient.address, role: AccountRole.WRITABLE }],
        data,
      },
    ]);
    const landed = await ledger.rpc.getTransaction(signature, { encoding: "json", maxSupportedTransactionVersion: 0 }).send();
    const slot = landed!.slot;
    const signatures = await ledger.rpc
      .getBlock(slot, { transactionDetails: "signatures", rewards: false, maxSupportedTransactionVersion: 0 })
      .send();
    assertEqual(signatures?.signatures.includes(signature), true, "the block lists the transfer");
    const full = await ledger.rpc.getBlock(slot, { encoding: "json", maxSupportedTransactionVersion: 0 }).send();
    const transfer = full?.transactions.find((t) => t.transaction.signatures[0] === signature);
    assertEqual(transfer?.meta?.err, null, "the full block holds the landed transfer");
    assertEqual(full?.parentSlot, slot - 1n, "its parent");
    let refused = false;
    try {
      await ledger.rpc.getBlock(slot + 1_000_000n).send();
    } catch {
      refused = true;
    }
    assertEqual(refused, true, "a slot ahead of the ledger has no block");
  },
};

await run(tests);
