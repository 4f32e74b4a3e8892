//! Channel PDA derivation: `["channel", party_a, party_b, nonce (u64 LE)]` under the program id.

use crate::Address;

pub const CHANNEL_SEED: &[u8] = b"channel";

/// The seeds of a channel PDA, without the bump.
pub fn channel_seeds<'a>(
    party_a: &'a Address,
    party_b: &'a Address,
    nonce_le: &'a [u8; 8],
) -> [&'a [u8]; 4] {
    [CHANNEL_SEED, party_a.as_ref(), party_b.as_ref(), nonce_le]
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
