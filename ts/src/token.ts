// Token channels: the token programs, the addresses a token channel derives (its PDA with the
// mint as a fifth seed, its vault, the parties' associated token accounts), and the token
// accounts a channel's instructions take after their own, read from the channel account.
//
// A lamport channel's instructions take none of them: every helper here gives an empty object
// for a lamport channel, so `{ ...accounts }` spreads into any builder's input either way.
import { address, type Address, type ProgramDerivedAddress } from "@solana/kit";
import type { Channel } from "./generated/accounts/index.js";
import { findAssociatedTokenPda, findTokenChannelPda, findVaultPda } from "./generated/pdas/index.js";
import { TokenProgramKind } from "./generated/types/index.js";

export const SPL_TOKEN_PROGRAM_ADDRESS = address("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
export const TOKEN_2022_PROGRAM_ADDRESS = address("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb");
export const ASSOCIATED_TOKEN_PROGRAM_ADDRESS = address("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");

/// The token program a channel of this kind locks tokens of (undefined: lamports).
export function getTokenProgramAddress(kind: TokenProgramKind): Address | undefined {
  switch (kind) {
    case TokenProgramKind.SplToken:
      return SPL_TOKEN_PROGRAM_ADDRESS;
    case TokenProgramKind.Token2022:
      return TOKEN_2022_PROGRAM_ADDRESS;
    default:
      return undefined;
  }
}

/// The kind of a token program (a mint's owner); throws for any other program.
export function getTokenProgramKind(tokenProgram: Address): TokenProgramKind {
  if (tokenProgram === SPL_TOKEN_PROGRAM_ADDRESS) return TokenProgramKind.SplToken;
  if (tokenProgram === TOKEN_2022_PROGRAM_ADDRESS) return TokenProgramKind.Token2022;
  throw new Error(`${tokenProgram} is neither SPL Token nor Token-2022`);
}

/// `owner`'s associated token account for `mint` (of `tokenProgram`, the mint's owner).
export async function findAssociatedTokenAddress(input: {
  owner: Address;
  mint: Address;
  tokenProgram: Address;
}): Promise<Address> {
  const [associated] = await findAssociatedTokenPda(input);
  return associated;
}

/// A token channel's address and its vault's, each with the bump `openToken` names.
export type TokenChannelPdas = { channel: ProgramDerivedAddress; vault: ProgramDerivedAddress };

/// The token channel of (party A, party B, nonce, mint) and its vault.
export async function findTokenChannelPdas(
  seeds: { partyA: Address; partyB: Address; nonce: number | bigint; mint: Address },
  config: { programAddress?: Address } = {},
): Promise<TokenChannelPdas> {
  const channel = await findTokenChannelPda(seeds, config);
  const vault = await findVaultPda({ channel: channel[0] }, config);
  return { channel, vault };
}

/// The vault, mint and token program Deposit and Withdraw take after their own accounts.
export type ChannelTokenAccounts = { vault: Address; mint: Address; tokenProgram: Address };

/// CloseCooperative's, Dispute's and Finalize's: the token accounts and each party's payout
/// token account.
export type ChannelPayoutAccounts = ChannelTokenAccounts & { destinationA: Address; destinationB: Address };

type TokenFields = Pick<Channel, "tokenProgram" | "mint" | "vault">;

/// The token accounts of a channel as its account records them (nothing for a lamport
/// channel): spread them into Deposit's or Withdraw's input. With the async builders, the
/// mint and token program are enough (the vault and a depositor's source are derived).
export function getChannelTokenAccounts(channel: TokenFields): ChannelTokenAccounts | Record<string, never> {
  const tokenProgram = getTokenProgramAddress(channel.tokenProgram);
  if (tokenProgram === undefined) return {};
  return { vault: channel.vault, mint: channel.mint, tokenProgram };
}

/// The payout accounts of a channel (nothing for a lamport channel): its token accounts and
/// each party's associated token account. Spread them into CloseCooperative's, Dispute's or
/// Finalize's input; name other token accounts of the parties by overriding
/// `destinationA`/`destinationB`.
export async function getChannelPayoutAccounts(
  channel: TokenFields & Pick<Channel, "partyA" | "partyB">,
): Promise<ChannelPayoutAccounts | Record<string, never>> {
  const tokenProgram = getTokenProgramAddress(channel.tokenProgram);
  if (tokenProgram === undefined) return {};
  const { mint } = channel;
  return {
    vault: channel.vault,
    mint,
    tokenProgram,
    destinationA: await findAssociatedTokenAddress({ owner: channel.partyA, mint, tokenProgram }),
    destinationB: await findAssociatedTokenAddress({ owner: channel.partyB, mint, tokenProgram }),
  };
}
