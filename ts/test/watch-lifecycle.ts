// The guard a paying page or agent runs (src/watch.ts) against the real program: it punishes a
// stale close with the newest co-signed state, and waits out an honest close, then finalizes
// and pays what it previewed. Run by lifecycle.ts with its channel helpers.
import type { Address, KeyPairSigner } from "@solana/kit";
import { checkChannel, previewPayouts, fetchChannel, getStartCloseWithStateInstructions, type StateBinding } from "../src/index.js";
import { assertEqual } from "./harness.js";
import type { Ledger } from "./ledger.js";
import type { CoSign } from "./token-lifecycle.js";

const SOL = 1_000_000_000n;

export type Open = (
  alice: KeyPairSigner,
  bob: KeyPairSigner,
  deposit: bigint,
  options?: { challengePeriodSecs?: bigint },
) => Promise<{ channel: Address; binding: StateBinding }>;

export function watchTests(ledger: Ledger, open: Open, coSigned: CoSign): Record<string, () => Promise<void>> {
  return {
    async a_guard_disputes_a_stale_close_and_the_cheater_loses_the_channel() {
      const alice = await ledger.funded(2n * SOL);
      const bob = await ledger.funded(SOL / 10n);
      const { channel, binding } = await open(alice, bob, SOL, { challengePeriodSecs: 3_600n });
      const deposits: [bigint, bigint] = [SOL, 0n];
      const first = await coSigned(binding, 1n, deposits, SOL / 10n, alice, bob);
      const newest = await coSigned(binding, 3n, deposits, (3n * SOL) / 10n, alice, bob);
      const guard = await ledger.funded(SOL / 10n);
      const look = () =>
        checkChannel({ rpc: ledger.rpc, channel, newest, submitter: guard, send: (ixs) => ledger.send(guard, ixs) });

      assertEqual((await look()).kind, "open", "nothing to do while Open");
      await ledger.send(alice, getStartCloseWithStateInstructions({ registrant: alice, channel, state: first }));
      const before = await ledger.balance(bob.address);
      const decision = await look();
      assertEqual(decision.kind, "disputed", "the guard disputes seq 1 with seq 3");
      assertEqual(decision.kind === "disputed" && decision.seq, 3n, "with the newest");
      assertEqual(await ledger.balance(bob.address), before + SOL, "Alice registered two behind: Bob takes all");
      assertEqual((await look()).kind, "closed", "nothing is left to guard");
    },

    async a_guard_waits_out_an_honest_close_then_finalizes_what_it_previewed() {
      const alice = await ledger.funded(2n * SOL);
      const bob = await ledger.funded(SOL / 10n);
      const { channel, binding } = await open(alice, bob, SOL, { challengePeriodSecs: 3_600n });
      const newest = await coSigned(binding, 2n, [SOL, 0n], SOL / 4n, alice, bob);
      await ledger.send(alice, getStartCloseWithStateInstructions({ registrant: alice, channel, state: newest }));
      const guard = await ledger.funded(SOL / 10n);
      const look = () =>
        checkChannel({ rpc: ledger.rpc, channel, newest, submitter: guard, send: (ixs) => ledger.send(guard, ixs) });

      const waiting = await look();
      assertEqual(waiting.kind, "waiting", "the newest state is registered: nothing to dispute");
      const preview = previewPayouts((await fetchChannel(ledger.rpc, channel)).data);
      assertEqual(preview.a, (3n * SOL) / 4n, "A's payout");
      assertEqual(preview.b, SOL / 4n, "B's payout");
      const before = await ledger.balance(bob.address);
      await ledger.warp(3_601);
      const finalized = await look();
      assertEqual(finalized.kind, "finalized", "after the window the guard finalizes");
      assertEqual(await ledger.balance(bob.address), before + preview.b, "Bob is paid what was previewed");
    },
  };
}
