//! Byte encodings of what the stores keep (redb and PostgreSQL alike): borsh throughout, with a borsh mirror of
//! [`ChannelParams`] (whose address type has no borsh impl).

use borsh::{BorshDeserialize, BorshSerialize};
use paychan_interface::{channel::Party, state::StateBinding, Address};

use crate::{engine::ChannelParams, store::StoreError};

#[derive(BorshSerialize, BorshDeserialize)]
struct StoredParams {
    program_id: [u8; 32],
    channel: [u8; 32],
    opened_slot: u64,
    signer_a: [u8; 32],
    signer_b: [u8; 32],
    me: u8,
}

pub(super) fn encode<T: BorshSerialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    Ok(borsh::to_vec(value)?)
}

/// Decodes a stored value; anything that does not parse is corruption of the `what` row.
pub(super) fn decode<T: BorshDeserialize>(bytes: &[u8], what: &str) -> Result<T, StoreError> {
    T::try_from_slice(bytes).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

pub(super) fn encode_params(params: &ChannelParams) -> Result<Vec<u8>, StoreError> {
    encode(&StoredParams {
        program_id: params.binding.program_id.to_bytes(),
        channel: params.binding.channel.to_bytes(),
        opened_slot: params.binding.opened_slot,
        signer_a: params.signer_a.to_bytes(),
        signer_b: params.signer_b.to_bytes(),
        me: params.me as u8,
    })
}

pub(super) fn decode_params(bytes: &[u8]) -> Result<ChannelParams, StoreError> {
    let stored: StoredParams = decode(bytes, "channel params")?;
    let me = match stored.me {
        1 => Party::A,
        2 => Party::B,
        other => {
            return Err(StoreError::Corrupt(format!(
                "channel params: party {other} is neither A (1) nor B (2)"
            )))
        }
    };
    Ok(ChannelParams {
        binding: StateBinding {
            program_id: Address::new_from_array(stored.program_id),
            channel: Address::new_from_array(stored.channel),
            opened_slot: stored.opened_slot,
        },
        signer_a: Address::new_from_array(stored.signer_a),
        signer_b: Address::new_from_array(stored.signer_b),
        me,
    })
}
