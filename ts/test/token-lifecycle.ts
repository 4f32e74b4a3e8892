// Token channels through the generated client and the token helpers, against the real program
// in `paychan ledger` (which carries SPL Token, Token-2022 and the Associated Token Account
// program): an SPL Token channel opened, funded by both and closed cooperatively; a Token-2022
// channel finalized after the window, a share parked for a party without an associated token
// account and withdrawn once it has one; decimals that are not the mint's refused by name; and
// a lamport channel's instructions carrying no token accounts. Run by lifecycle.ts.
import { generateKeyPairSigner, type Address, type KeyPairSigner } from "@solana/kit";
import {
  ChannelStatus,
  TokenProgramKind,
  SPL_TOKEN_PROGRAM_ADDRESS,
  TOKEN_2022_PROGRAM_ADDRESS,
  fetchChannel,
  fetchMaybeChannel,
  findAssociatedTokenAddress,
  findChannelPda,
  findTokenChannelPdas,
  getChannelPayoutAccounts,
  getChannelTokenAccounts,
  getCloseCooperativeInstruction,
  getDepositInstructionAsync,
  getFinalizeInstructionAsync,
  getOpenTokenInstructionAsync,
  getStartCloseWithStateInstructions,
  getStateBinding,
  getWithdrawInstruction,
  type CoSignedState,
  type StateBinding,
} from "../src/index.js";
import { assertEqual } from "./harness.js";
import type { Ledger } from "./ledger.js";
import { createAssociatedAccount, createMint, exists, mintTo, tokenAmount } from "./tokens.js";

const SOL = 1_000_000_000n;

/// The state after A paid B `paid` in total, co-signed by both keys (lifecycle.ts's).
export type CoSign = (
  binding: StateBinding,
  seq: bigint,
  deposits: [bigint, bigint],
  paid: bigint,
  signerA: KeyPairSigner,
  signerB: KeyPairSigner,
) => Promise<CoSignedState>;

type TokenChannel = { channel: Address; vault: Address; binding: StateBinding };

export function tokenChannelTests(ledger: Ledger, coSigned: CoSign): Record<string, () => Promise<void>> {
  /// Alice opens a token channel of `mint` to Bob locking `deposit` from her associated token
  /// account; the client derives the channel, the vault, the source and both bumps.
  async function openToken(
    alice: KeyPairSigner,
    bob: Address,
    mint: Address,
    tokenProgram: Address,
    decimals: number,
    deposit: bigint,
    challengePeriodSecs = 86_400n,
  ): Promise<TokenChannel> {
    const nonce = BigInt(Math.floor(Math.random() * 2 ** 48));
    const open = await getOpenTokenInstructionAsync({
      partyA: alice,
      partyB: bob,
      mint,
      tokenProgram,
      nonce,
      deposit,
      challengePeriodSecs,
      signerA: alice.address,
      signerB: bob,
      decimals,
    });
    const pdas = await findTokenChannelPdas({ partyA: alice.address, partyB: bob, nonce, mint });
    assertEqual(open.accounts[2].address, pdas.channel[0], "the channel PDA (the mint a seed)");
    assertEqual(open.accounts[5].address, pdas.vault[0], "the vault PDA");
    assertEqual(open.data[89], pdas.channel[1], "the channel's bump");
    assertEqual(open.data[90], pdas.vault[1], "the vault's bump");
    assertEqual(open.data[91], decimals, "the decimals");
    await ledger.send(alice, [open]);
    const account = await fetchChannel(ledger.rpc, pdas.channel[0]);
    return { channel: pdas.channel[0], vault: pdas.vault[0], binding: getStateBinding(account) };
  }

  return {
    async an_spl_token_channel_takes_a_deposit_from_each_side_and_closes_cooperatively() {
      const issuer = await ledger.funded(SOL);
      const alice = await ledger.funded(SOL);
      const bob = await ledger.funded(SOL);
      const mint = await createMint(ledger, issuer, SPL_TOKEN_PROGRAM_ADDRESS, 6);
      const aliceTokens = await mintTo(ledger, issuer, mint, SPL_TOKEN_PROGRAM_ADDRESS, alice.address, 1_000_000_000n);
      const bobTokens = await mintTo(ledger, issuer, mint, SPL_TOKEN_PROGRAM_ADDRESS, bob.address, 500_000_000n);

      const { channel, vault } = await openToken(alice, bob.address, mint, SPL_TOKEN_PROGRAM_ADDRESS, 6, 300_000_000n);
      const opened = await fetchChannel(ledger.rpc, channel);
      assertEqual(opened.data.tokenProgram, TokenProgramKind.SplToken, "token program");
      assertEqual(opened.data.decimals, 6, "decimals");
      assertEqual(opened.data.mint, mint, "mint");
      assertEqual(opened.data.vault, vault, "vault");
      assertEqual(opened.data.depositedA, 300_000_000n, "A's deposit");
      assertEqual(await tokenAmount(ledger, vault), 300_000_000n, "the vault");
      assertEqual(await tokenAmount(ledger, aliceTokens), 700_000_000n, "Alice's tokens");

      // Bob tops up from his associated token account (the async builder derives it).
      const deposit = await getDepositInstructionAsync({
        party: bob,
        channel,
        amount: 100_000_000n,
        ...getChannelTokenAccounts(opened.data),
      });
      assertEqual(deposit.accounts.length, 7, "Deposit's accounts with the token accounts");
      assertEqual(deposit.accounts[6]?.address, bobTokens, "Bob's source");
      await ledger.send(bob, [deposit]);
      const funded = await fetchChannel(ledger.rpc, channel);
      assertEqual(funded.data.depositedB, 100_000_000n, "B's deposit");
      assertEqual(await tokenAmount(ledger, vault), 400_000_000n, "the vault");

      // Alice paid Bob 50 tokens off-chain; both sign the close, a third key pays the fee, so
      // Alice's lamports grow by exactly the channel's and the vault's rent.
      const rent = funded.lamports + (await ledger.balance(vault));
      const aliceBefore = await ledger.balance(alice.address);
      const feePayer = await ledger.funded(SOL / 10n);
      await ledger.send(feePayer, [
        getCloseCooperativeInstruction({
          partyA: alice,
          partyB: bob,
          channel,
          balanceA: 250_000_000n,
          balanceB: 150_000_000n,
          ...(await getChannelPayoutAccounts(funded.data)),
        }),
      ]);
      assertEqual(await tokenAmount(ledger, aliceTokens), 950_000_000n, "Alice's tokens");
      assertEqual(await tokenAmount(ledger, bobTokens), 550_000_000n, "Bob's tokens");
      assertEqual((await fetchMaybeChannel(ledger.rpc, channel)).exists, false, "the channel is closed");
      assertEqual(await exists(ledger, vault), false, "the vault is closed");
      assertEqual(await ledger.balance(alice.address), aliceBefore + rent, "Alice's lamports (both rents)");
    },

    async a_token_2022_channel_finalizes_parks_a_share_without_an_associated_account_and_withdraws_it() {
      const issuer = await ledger.funded(SOL);
      const alice = await ledger.funded(SOL);
      // Bob has neither lamports nor a token account: his share is parked at settlement.
      const bob = await generateKeyPairSigner();
      const tokenProgram = TOKEN_2022_PROGRAM_ADDRESS;
      const mint = await createMint(ledger, issuer, tokenProgram, 9);
      const aliceTokens = await mintTo(ledger, issuer, mint, tokenProgram, alice.address, 2_000_000_000n);
      const { channel, vault, binding } = await openToken(alice, bob.address, mint, tokenProgram, 9, SOL, 3_600n);
      assertEqual((await fetchChannel(ledger.rpc, channel)).data.tokenProgram, TokenProgramKind.Token2022, "kind");

      const state = await coSigned(binding, 1n, [SOL, 0n], 400_000_000n, alice, bob);
      await ledger.send(alice, getStartCloseWithStateInstructions({ registrant: alice, channel, state }));
      await ledger.warp(3_601);
      // Anyone finalizes; given the mint and token program, the client derives the vault and
      // both associated token accounts (Bob's does not exist).
      const keeper = await ledger.funded(SOL / 10n);
      const finalize = await getFinalizeInstructionAsync({
        channel,
        partyA: alice.address,
        partyB: bob.address,
        mint,
        tokenProgram,
      });
      assertEqual(finalize.accounts.length, 8, "Finalize's accounts with the payout accounts");
      assertEqual(finalize.accounts[3]?.address, vault, "the vault");
      await ledger.send(keeper, [finalize]);
      assertEqual(await tokenAmount(ledger, aliceTokens), 1_600_000_000n, "Alice's tokens");
      const settled = await fetchChannel(ledger.rpc, channel);
      assertEqual(settled.data.status, ChannelStatus.Settled, "status");
      assertEqual(settled.data.unclaimedB, 400_000_000n, "Bob's parked share");
      assertEqual(await tokenAmount(ledger, vault), 400_000_000n, "the vault keeps it");

      // Once Bob has an associated token account, anyone moves his share there.
      const bobTokens = await createAssociatedAccount(ledger, keeper, bob.address, mint, tokenProgram);
      await ledger.send(keeper, [
        getWithdrawInstruction({
          submitter: keeper,
          channel,
          destination: bobTokens,
          partyA: alice.address,
          ...getChannelTokenAccounts(settled.data),
        }),
      ]);
      assertEqual(await tokenAmount(ledger, bobTokens), 400_000_000n, "Bob's tokens");
      assertEqual((await fetchMaybeChannel(ledger.rpc, channel)).exists, false, "the channel is closed");
      assertEqual(await exists(ledger, vault), false, "the vault is closed");
    },

    async decimals_that_are_not_the_mint_s_are_refused_by_name() {
      const issuer = await ledger.funded(SOL);
      const alice = await ledger.funded(SOL);
      const bob = await generateKeyPairSigner();
      const mint = await createMint(ledger, issuer, SPL_TOKEN_PROGRAM_ADDRESS, 6);
      const aliceTokens = await mintTo(ledger, issuer, mint, SPL_TOKEN_PROGRAM_ADDRESS, alice.address, 1_000n);
      const open = await getOpenTokenInstructionAsync({
        partyA: alice,
        partyB: bob.address,
        mint,
        tokenProgram: SPL_TOKEN_PROGRAM_ADDRESS,
        nonce: 1n,
        deposit: 1_000n,
        challengePeriodSecs: 86_400n,
        signerA: alice.address,
        signerB: bob.address,
        decimals: 9,
      });
      const feePayer = await ledger.funded(SOL / 10n);
      await ledger.expectRefused(feePayer, [open], "DecimalsMismatch", [alice.address]);
      assertEqual(await tokenAmount(ledger, aliceTokens), 1_000n, "Alice's tokens");
    },

    async a_lamport_channel_s_instructions_carry_no_token_accounts() {
      const alice = await generateKeyPairSigner();
      const bob = await generateKeyPairSigner();
      const [channel] = await findChannelPda({ partyA: alice.address, partyB: bob.address, nonce: 5n });
      const lamports = { tokenProgram: TokenProgramKind.None, mint: alice.address, vault: alice.address };
      assertEqual(Object.keys(getChannelTokenAccounts(lamports)).length, 0, "no token accounts");
      const payouts = await getChannelPayoutAccounts({ ...lamports, partyA: alice.address, partyB: bob.address });
      assertEqual(Object.keys(payouts).length, 0, "no payout accounts");
      const deposit = await getDepositInstructionAsync({
        party: alice,
        channel,
        amount: 1n,
        ...getChannelTokenAccounts(lamports),
      });
      assertEqual(deposit.accounts.length, 3, "Deposit's accounts");
      const finalize = await getFinalizeInstructionAsync({ channel, partyA: alice.address, partyB: bob.address });
      assertEqual(finalize.accounts.length, 3, "Finalize's accounts");
      // The same builder for a token channel: the payout accounts are each party's associated
      // token account.
      const mint = (await generateKeyPairSigner()).address;
      const token = await getFinalizeInstructionAsync({
        channel,
        partyA: alice.address,
        partyB: bob.address,
        mint,
        tokenProgram: SPL_TOKEN_PROGRAM_ADDRESS,
      });
      const associated = (owner: Address) =>
        findAssociatedTokenAddress({ owner, mint, tokenProgram: SPL_TOKEN_PROGRAM_ADDRESS });
      assertEqual(token.accounts[6]?.address, await associated(alice.address), "A's payout account");
      assertEqual(token.accounts[7]?.address, await associated(bob.address), "B's payout account");
    },
  };
}
