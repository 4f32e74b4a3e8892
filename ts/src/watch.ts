// Guarding a channel from the page or agent that pays through it: one look at the chain
// decides what to do — dispute a registered state older than the newest co-signed one (which
// punishes a knowingly stale close), finalize once the window is over — and previews what each
// party will be paid. `watchChannel` looks every `intervalMs`; `checkChannel` is one look, for
// callers that drive their own clock.
import {
  type Address,
  type GetAccountInfoApi,
  type Instruction,
  type Rpc,
  type Signature,
  type TransactionSigner,
} from "@solana/kit";
import {
  ChannelStatus,
  fetchMaybeChannel,
  getFinalizeInstruction,
  type Channel,
} from "./generated/index.js";
import { PAYCHAN_PROGRAM_ADDRESS } from "./generated/programs/index.js";
import { getDisputeWithStateInstructions, type CoSignedState } from "./ed25519.js";
import { fetchUnixTimestamp } from "./clock.js";
import { getChannelPayoutAccounts } from "./token.js";

/// What each party would be paid.
export type PayoutPreview = { a: bigint; b: bigint };

/// What settling the channel pays now: while Open, the opening state (each deposit back);
/// while Closing, the registered state plus deposits made after it was signed; once Settled,
/// the shares still unclaimed.
export function previewPayouts(channel: Channel): PayoutPreview {
  if (channel.status === ChannelStatus.Settled) {
    return { a: channel.unclaimedA, b: channel.unclaimedB };
  }
  if (channel.status === ChannelStatus.Open) {
    return { a: channel.depositedA, b: channel.depositedB };
  }
  const state = channel.registered;
  return {
    a: state.balanceA + (channel.depositedA - state.depositedA),
    b: state.balanceB + (channel.depositedB - state.depositedB),
  };
}

/// The seq of a signed state (its 160 bytes: domain, program, channel, opened slot, seq, …).
export function getCoSignedSeq(state: CoSignedState): bigint {
  const bytes = state.message;
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(88, true);
}

/// What one look at the chain found, and did.
export type WatchDecision =
  | { kind: "closed" }
  | { kind: "open"; payouts: PayoutPreview }
  | { kind: "waiting"; deadline: bigint; payouts: PayoutPreview }
  | { kind: "disputed"; seq: bigint; signature: Signature }
  | { kind: "finalized"; payouts: PayoutPreview; signature: Signature }
  | { kind: "settled"; payouts: PayoutPreview };

export type CheckChannelInput = {
  rpc: Rpc<GetAccountInfoApi>;
  channel: Address;
  /// The newest state this party holds signed by both (none before the first payment).
  newest?: CoSignedState;
  /// Pays for a dispute or a finalize (a party, or a watchtower's key).
  submitter: TransactionSigner;
  /// Lands instructions in one transaction, paid by `submitter`.
  send: (instructions: readonly Instruction[]) => Promise<Signature>;
  programAddress?: Address;
};

/// One look: disputes a registration older than `newest` inside the window, finalizes after it.
export async function checkChannel(input: CheckChannelInput): Promise<WatchDecision> {
  const programAddress = input.programAddress ?? PAYCHAN_PROGRAM_ADDRESS;
  const account = await fetchMaybeChannel(input.rpc, input.channel);
  if (!account.exists) return { kind: "closed" };
  const channel = account.data;
  const payouts = previewPayouts(channel);
  if (channel.status === ChannelStatus.Open) return { kind: "open", payouts };
  if (channel.status === ChannelStatus.Settled) return { kind: "settled", payouts };

  const now = await fetchUnixTimestamp(input.rpc);
  const tokenAccounts = await getChannelPayoutAccounts(channel);
  const newestSeq = input.newest ? getCoSignedSeq(input.newest) : 0n;
  if (input.newest && newestSeq > channel.registered.seq && now <= channel.deadline) {
    const instructions = getDisputeWithStateInstructions({
      submitter: input.submitter,
      channel: input.channel,
      partyA: channel.partyA,
      partyB: channel.partyB,
      state: input.newest,
      programAddress,
      ...tokenAccounts,
    });
    return { kind: "disputed", seq: newestSeq, signature: await input.send(instructions) };
  }
  if (now > channel.deadline) {
    const finalize = getFinalizeInstruction(
      { channel: input.channel, partyA: channel.partyA, partyB: channel.partyB, ...tokenAccounts },
      { programAddress },
    );
    return { kind: "finalized", payouts, signature: await input.send([finalize]) };
  }
  return { kind: "waiting", deadline: channel.deadline, payouts };
}

/// Looks every `intervalMs` (default 1 s, at least 8 times per challenge period in practice)
/// until the channel is closed or `stop()` is called; each decision goes to `onDecision`.
/// `newest()` is asked at every look, so the guard always holds the newest co-signed state.
export function watchChannel(
  input: Omit<CheckChannelInput, "newest"> & {
    newest: () => CoSignedState | undefined;
    intervalMs?: number;
    onDecision?: (decision: WatchDecision) => void;
    onError?: (error: unknown) => void;
  },
): { stop: () => void; closed: Promise<void> } {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const closed = new Promise<void>((resolve) => {
    const look = async () => {
      if (stopped) return resolve();
      try {
        const decision = await checkChannel({ ...input, newest: input.newest() });
        input.onDecision?.(decision);
        if (decision.kind === "closed") return resolve();
      } catch (error) {
        // A failed read or send is retried at the next look: the window allows several.
        input.onError?.(error);
      }
      timer = setTimeout(look, input.intervalMs ?? 1_000);
    };
    void look();
  });
  return {
    stop: () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
    closed,
  };
}
