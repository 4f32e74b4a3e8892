//! PDA derivation under the program id: a lamport channel is `["channel", party_a, party_b,
//! nonce (u64 LE)]`, a token channel adds its mint as a fifth seed (so a state signed for one
//! can never settle another), and a token channel's vault is `["vault", channel]`.

use crate::{token::VAULT_SEED, Address};

pub const CHANNEL_SEED: &[u8] = b"channel";

/// The seeds of a channel PDA, without the bump.
pub fn channel_seeds<'a>(
    party_a: &'a Address,
    party_b: &'a Address,
    nonce_le: &'a [u8; 8],
) -> [&'a [u8]; 4] {
    [CHANNEL_SEED, party_a.as_ref(), party_b.as_ref(), nonce_le]
}

/// The seeds of a token channel PDA, without the bump.
pub fn token_channel_seeds<'a>(
    party_a: &'a Address,
    party_b: &'a Address,
    nonce_le: &'a [u8; 8],
    mint: &'a Address,
) -> [&'a [u8]; 5] {
    [
        CHANNEL_SEED,
        party_a.as_ref(),
        party_b.as_ref(),
        nonce_le,
        mint.as_ref(),
    ]
}

/// The seeds of a token channel's vault PDA, without the bump.
pub fn vault_seeds(channel: &Address) -> [&[u8]; 2] {
    [VAULT_SEED, channel.as_ref()]
}

/// The channel address and canonical bump for a pair and nonce under `program_id`.
#[cfg(feature = "client")]
pub fn find_channel_address(
    program_id: &Address,
    party_a: &Address,
    party_b: &Address,
    nonce: u64,
) -> (Address, u8) {
    let nonce_le = nonce.to_le_bytes();
    Address::find_program_address(&channel_seeds(party_a, party_b, &nonce_le), program_id)
}

/// The token channel address and canonical bump for a pair, nonce and mint.
#[cfg(feature = "client")]
pub fn find_token_channel_address(
    program_id: &Address,
    party_a: &Address,
    party_b: &Address,
    nonce: u64,
    mint: &Address,
) -> (Address, u8) {
    let nonce_le = nonce.to_le_bytes();
    Address::find_program_address(
        &token_channel_seeds(party_a, party_b, &nonce_le, mint),
        program_id,
    )
}

/// A token channel's vault address and canonical bump.
#[cfg(feature = "client")]
pub fn find_vault_address(program_id: &Address, channel: &Address) -> (Address, u8) {
    Address::find_program_address(&vault_seeds(channel), program_id)
}

/// A wallet's associated token account for a mint.
#[cfg(feature = "client")]
pub fn find_associated_token_address(
    wallet: &Address,
    program: crate::token::TokenProgram,
    mint: &Address,
) -> Address {
    Address::find_program_address(
        &crate::token::associated_token_seeds(wallet, program, mint),
        &crate::token::ASSOCIATED_TOKEN_PROGRAM_ID,
    )
    .0
}
