// The whole channel lifecycle through the generated client and the hand-written state bytes,
// against the real program in `paychan ledger`: open, deposit, co-signed close; StartClose with
// a stale state, Dispute and punishment; StartClose, Dispute, Finalize and Withdraw; and the
// errors a dApp sees when paychan refuses; then the token channel cases (token-lifecycle.ts) and
// the guard a paying page runs (watch-lifecycle.ts).
// Usage: node dist/test/lifecycle.js http://127.0.0.1:PORT
import { generateKeyPairSigner, type Address, type KeyPairSigner } from "@solana/kit";
import {
  ChannelStatus,
  RegisteredBy,
  fetchChannel,
  fetchMaybeChannel,
  findChannelPda,
  getCloseCooperativeInstruction,
  getDepositInstruction,
  getDisputeWithStateInstructions,
  getFinalizeInstruction,
  getOpenInstruction,
  getPaychanErrorFromLogs,
  getStartCloseWithStateInstructions,
  getStateBinding,
  getStateMessage,
  getWithdrawInstruction,
  signStateMessage,
  verifyStateSignature,
  type CoSignedState,
  type StateBinding,
} from "../src/index.js";
import { assertEqual, ledgerUrl, run } from "./harness.js";
import { Ledger } from "./ledger.js";
import { tokenChannelTests } from "./token-lifecycle.js";
import { watchTests } from "./watch-lifecycle.js";

const ledger = new Ledger(ledgerUrl("lifecycle.js"));
const SOL = 1_000_000_000n;

type Opened = { channel: Address; binding: StateBinding; alice: KeyPairSigner; bob: KeyPairSigner };

/// Alice opens a channel to Bob locking `deposit`; the signers default to the wallets.
async function open(
  alice: KeyPairSigner,
  bob: KeyPairSigner,
  deposit: bigint,
  options: { challengePeriodSecs?: bigint; signerA?: Address; signerB?: Address } = {},
): Promise<Opened> {
  const nonce = BigInt(Math.floor(Math.random() * 2 ** 48));
  // Open names the channel PDA's bump (the program checks the address by hashing).
  const pda = await findChannelPda({ partyA: alice.address, partyB: bob.address, nonce });
  const [channel, bump] = pda;
  const instruction = getOpenInstruction({
    partyA: alice,
    partyB: bob.address,
    channel: pda,
    nonce,
    deposit,
    challengePeriodSecs: options.challengePeriodSecs ?? 86_400n,
    signerA: options.signerA ?? alice.address,
    signerB: options.signerB ?? bob.address,
    bump,
  });
  assertEqual(instruction.data[89], bump, "the bump, after the signing keys");
  await ledger.send(alice, [instruction]);
  const account = await fetchChannel(ledger.rpc, channel);
  return { channel, binding: getStateBinding(account), alice, bob };
}

/// The state after Alice paid Bob `paid` in total, co-signed by both state-signing keys (each
/// party checks the other's signature, as a peer would).
async function coSigned(
  binding: StateBinding,
  seq: bigint,
  deposits: [bigint, bigint],
  paid: bigint,
  signerA: KeyPairSigner,
  signerB: KeyPairSigner,
): Promise<CoSignedState> {
  const [depositedA, depositedB] = deposits;
  const state = {
    seq,
    depositedA,
    depositedB,
    balanceA: depositedA - paid,
    balanceB: depositedB + paid,
    logRoot: crypto.getRandomValues(new Uint8Array(32)),
  };
  const message = getStateMessage(state, binding);
  const a = await signStateMessage(signerA, message);
  const b = await signStateMessage(signerB, message);
  for (const signature of [a, b]) {
    assertEqual(await verifyStateSignature(signature, message), true, `${signature.signer} signed`);
  }
  return { message, a, b };
}

const tests = {
  async opens_takes_a_deposit_from_each_side_and_closes_cooperatively() {
    const alice = await ledger.funded(2n * SOL);
    const bob = await ledger.funded(1n * SOL);
    const { channel } = await open(alice, bob, SOL / 2n);
    await ledger.send(bob, [getDepositInstruction({ party: bob, channel, amount: SOL / 5n })]);

    const opened = await fetchChannel(ledger.rpc, channel);
    assertEqual(opened.data.status, ChannelStatus.Open, "status");
    assertEqual(opened.data.partyA, alice.address, "party A");
    assertEqual(opened.data.signerB, bob.address, "signer B");
    assertEqual(opened.data.depositedA, SOL / 2n, "A's deposit");
    assertEqual(opened.data.depositedB, SOL / 5n, "B's deposit");

    // Alice paid Bob 0.1 SOL off-chain; both wallets sign the close. A third key pays the fee
    // so both deltas are exact.
    const bobBefore = await ledger.balance(bob.address);
    const aliceBefore = await ledger.balance(alice.address);
    const rentReserve = opened.lamports - SOL / 2n - SOL / 5n;
    const feePayer = await ledger.funded(SOL / 10n);
    await ledger.send(feePayer, [
      getCloseCooperativeInstruction({
        partyA: alice,
        partyB: bob,
        channel,
        balanceA: (4n * SOL) / 10n,
        balanceB: (3n * SOL) / 10n,
      }),
    ]);
    assertEqual(await ledger.balance(bob.address), bobBefore + (3n * SOL) / 10n, "Bob's wallet");
    assertEqual(
      await ledger.balance(alice.address),
      aliceBefore + (4n * SOL) / 10n + rentReserve,
      "Alice's wallet (her balance and the rent reserve)",
    );
    assertEqual((await fetchMaybeChannel(ledger.rpc, channel)).exists, false, "the channel is closed");
  },

  async a_stale_registration_by_a_session_key_is_disputed_and_punished() {
    const alice = await ledger.funded(2n * SOL);
    const bob = await ledger.funded(1n * SOL);
    // Session keys sign the states, so the wallets sign only Open and Deposit.
    const sessionA = await generateKeyPairSigner();
    const sessionB = await generateKeyPairSigner();
    const { channel, binding } = await open(alice, bob, SOL, {
      signerA: sessionA.address,
      signerB: sessionB.address,
    });
    await ledger.send(bob, [getDepositInstruction({ party: bob, channel, amount: SOL / 2n })]);
    const deposits: [bigint, bigint] = [SOL, SOL / 2n];
    const first = await coSigned(binding, 1n, deposits, SOL / 10n, sessionA, sessionB);
    const newest = await coSigned(binding, 3n, deposits, (3n * SOL) / 10n, sessionA, sessionB);

    // Alice's session key registers seq 1, though seq 3 exists.
    await ledger.send(alice, getStartCloseWithStateInstructions({ registrant: sessionA, channel, state: first }));
    const closing = await fetchChannel(ledger.rpc, channel);
    assertEqual(closing.data.status, ChannelStatus.Closing, "status");
    assertEqual(closing.data.registeredBy, RegisteredBy.PartyA, "registered by");
    assertEqual(closing.data.registered.seq, 1n, "registered seq");

    // A watchtower brings seq 3: two newer than what Alice registered, so Bob takes everything.
    const tower = await ledger.funded(SOL / 10n);
    const bobBefore = await ledger.balance(bob.address);
    await ledger.send(
      tower,
      getDisputeWithStateInstructions({
        submitter: tower,
        channel,
        partyA: alice.address,
        partyB: bob.address,
        state: newest,
      }),
    );
    assertEqual(await ledger.balance(bob.address), bobBefore + SOL + SOL / 2n, "Bob's wallet (both deposits)");
    assertEqual((await fetchMaybeChannel(ledger.rpc, channel)).exists, false, "the channel is closed");
  },

  async a_replaced_state_is_finalized_after_the_window_and_an_unpayable_share_withdrawn() {
    const alice = await ledger.funded(2n * SOL);
    // Bob's wallet holds nothing: his small share cannot be paid to it (below rent exemption),
    // so it stays in the channel until he withdraws it.
    const bob = await generateKeyPairSigner();
    const { channel, binding } = await open(alice, bob, SOL / 10n, { challengePeriodSecs: 3_600n });
    const deposits: [bigint, bigint] = [SOL / 10n, 0n];
    const older = await coSigned(binding, 1n, deposits, 300_000n, alice, bob);
    const newer = await coSigned(binding, 2n, deposits, 500_000n, alice, bob);

    await ledger.send(alice, getStartCloseWithStateInstructions({ registrant: alice, channel, state: older }));
    // One newer only replaces the state (no punishment); Bob submits it, Alice pays the fee.
    await ledger.send(
      alice,
      getDisputeWithStateInstructions({ submitter: bob, channel, partyA: alice.address, partyB: bob.address, state: newer }),
    );
    const replaced = await fetchChannel(ledger.rpc, channel);
    assertEqual(replaced.data.registered.seq, 2n, "registered seq");
    assertEqual(replaced.data.registeredBy, RegisteredBy.PartyA, "still accountable");

    const keeper = await ledger.funded(SOL / 10n);
    const finalize = getFinalizeInstruction({ channel, partyA: alice.address, partyB: bob.address });
    await ledger.expectRefused(keeper, [finalize], "ChallengePeriodActive", [alice.address, channel]);

    await ledger.warp(3_601);
    const aliceBefore = await ledger.balance(alice.address);
    await ledger.send(keeper, [finalize]);
    assertEqual(await ledger.balance(alice.address), aliceBefore + SOL / 10n - 500_000n, "Alice's wallet");
    const settled = await fetchChannel(ledger.rpc, channel);
    assertEqual(settled.data.status, ChannelStatus.Settled, "status");
    assertEqual(settled.data.unclaimedB, 500_000n, "Bob's unclaimed share");

    const savings = await ledger.funded(SOL / 100n);
    const savingsBefore = await ledger.balance(savings.address);
    await ledger.send(alice, [
      getWithdrawInstruction({ submitter: bob, channel, destination: savings.address, partyA: alice.address }),
    ]);
    assertEqual(await ledger.balance(savings.address), savingsBefore + 500_000n, "Bob's savings");
    assertEqual((await fetchMaybeChannel(ledger.rpc, channel)).exists, false, "the channel is closed");
  },

  async a_state_signed_by_the_wrong_keys_is_refused_by_name_and_moves_nothing() {
    const alice = await ledger.funded(2n * SOL);
    const bob = await ledger.funded(SOL);
    const mallory = await generateKeyPairSigner();
    const { channel, binding } = await open(alice, bob, SOL / 2n);
    const forged = await coSigned(binding, 1n, [SOL / 2n, 0n], SOL / 2n, mallory, bob);
    await ledger.expectRefused(
      bob,
      getStartCloseWithStateInstructions({ registrant: bob, channel, state: forged }),
      "SignerKeysMismatch",
      [alice.address, channel],
    );
    assertEqual((await fetchChannel(ledger.rpc, channel)).data.status, ChannelStatus.Open, "still open");
    await ledger.expectRefused(bob, [getDepositInstruction({ party: bob, channel, amount: 0 })], "ZeroAmount");
  },

  async a_signature_over_other_bytes_or_by_another_key_does_not_verify() {
    const signer = await generateKeyPairSigner();
    const other = await generateKeyPairSigner();
    const binding = { channel: other.address, openedSlot: 7n };
    const message = getStateMessage(
      { seq: 1n, depositedA: 10n, depositedB: 0n, balanceA: 9n, balanceB: 1n, logRoot: new Uint8Array(32) },
      binding,
    );
    const signature = await signStateMessage(signer, message);
    assertEqual(await verifyStateSignature(signature, message), true, "the signed bytes");
    const tampered = message.slice();
    tampered[120] = 2; // balanceB 1 → 2
    assertEqual(await verifyStateSignature(signature, tampered), false, "a changed balance");
    assertEqual(
      await verifyStateSignature({ signer: other.address, signature: signature.signature }, message),
      false,
      "another key",
    );
  },

  async the_program_log_line_names_the_error() {
    const info = getPaychanErrorFromLogs([
      "Program Payvfr57PtkZrejLks77Maanvd1vhchENCMryALkmEE invoke [1]",
      "Program log: paychan error 24 SignerKeysMismatch: the Ed25519 signers are not signer_a then signer_b of this channel",
    ]);
    assertEqual(info?.code, 24, "code");
    assertEqual(info?.name, "SignerKeysMismatch", "name");
    assertEqual(info?.message, "the Ed25519 signers are not signer_a then signer_b of this channel", "message");
  },
};

await run({ ...tests, ...tokenChannelTests(ledger, coSigned), ...watchTests(ledger, open, coSigned) });
