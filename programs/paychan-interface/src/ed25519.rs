//! The one Ed25519 precompile instruction layout paychan accepts (protocol §5), with its builder and
//! its strict parser side by side so they cannot drift apart.
//!
//! ```text
//! 0    1   num_signatures = 2
//! 1    1   padding = 0
//! 2   14   offsets of signature 1 (party A)  } each: sig_off, sig_ix, pk_off, pk_ix,
//! 16  14   offsets of signature 2 (party B)  }       msg_off, msg_len, msg_ix (u16 LE)
//! 30  64   signature A
//! 94  32   public key A
//! 126 64   signature B
//! 190 32   public key B
//! 222 160  the signed state message (shared by both signatures)
//! ```
//! Every `*_ix` is `u16::MAX`: the data lives in the precompile instruction itself.

use crate::{
    error::PaychanError,
    state::{ChannelState, StateBinding, STATE_MESSAGE_LEN},
    Address,
};

pub const SIGNATURE_COUNT: u8 = 2;
/// Instruction index meaning "this instruction".
pub const THIS_INSTRUCTION: u16 = u16::MAX;

const OFFSETS_AT: usize = 2;
const OFFSETS_LEN: usize = 14;
pub const SIGNATURE_A_AT: usize = OFFSETS_AT + 2 * OFFSETS_LEN;
pub const PUBKEY_A_AT: usize = SIGNATURE_A_AT + 64;
pub const SIGNATURE_B_AT: usize = PUBKEY_A_AT + 32;
pub const PUBKEY_B_AT: usize = SIGNATURE_B_AT + 64;
pub const MESSAGE_AT: usize = PUBKEY_B_AT + 32;
/// Exact length of an accepted precompile instruction's data (382 bytes).
pub const ED25519_DATA_LEN: usize = MESSAGE_AT + STATE_MESSAGE_LEN;

/// The offsets record for one signature: sig, sig_ix, pubkey, pubkey_ix, msg, msg_len, msg_ix.
const fn offsets(signature_at: usize, pubkey_at: usize) -> [u16; 7] {
    [
        signature_at as u16,
        THIS_INSTRUCTION,
        pubkey_at as u16,
        THIS_INSTRUCTION,
        MESSAGE_AT as u16,
        STATE_MESSAGE_LEN as u16,
        THIS_INSTRUCTION,
    ]
}

/// The only offsets accepted, for signature A then signature B.
pub const CANONICAL_OFFSETS: [[u16; 7]; 2] = [
    offsets(SIGNATURE_A_AT, PUBKEY_A_AT),
    offsets(SIGNATURE_B_AT, PUBKEY_B_AT),
];

/// One party's signature over a state message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(
    feature = "client",
    derive(borsh::BorshSerialize, borsh::BorshDeserialize)
)]
pub struct PartySignature {
    pub pubkey: [u8; 32],
    pub signature: [u8; 64],
}

/// Builds the precompile data for a state co-signed by A (first) and B (second).
pub fn ed25519_instruction_data(
    a: &PartySignature,
    b: &PartySignature,
    message: &[u8; STATE_MESSAGE_LEN],
) -> [u8; ED25519_DATA_LEN] {
    let mut d = [0u8; ED25519_DATA_LEN];
    d[0] = SIGNATURE_COUNT;
    for (field, value) in d[OFFSETS_AT..SIGNATURE_A_AT]
        .chunks_exact_mut(2)
        .zip(CANONICAL_OFFSETS.iter().flatten())
    {
        field.copy_from_slice(&value.to_le_bytes());
    }
    d[SIGNATURE_A_AT..PUBKEY_A_AT].copy_from_slice(&a.signature);
    d[PUBKEY_A_AT..SIGNATURE_B_AT].copy_from_slice(&a.pubkey);
    d[SIGNATURE_B_AT..PUBKEY_B_AT].copy_from_slice(&b.signature);
    d[PUBKEY_B_AT..MESSAGE_AT].copy_from_slice(&b.pubkey);
    d[MESSAGE_AT..].copy_from_slice(message);
    d
}

/// What a canonical precompile instruction proves: both keys signed this message.
#[derive(Debug, PartialEq, Eq)]
pub struct CoSignedMessage<'a> {
    pub pubkey_a: &'a [u8; 32],
    pub pubkey_b: &'a [u8; 32],
    pub message: &'a [u8; STATE_MESSAGE_LEN],
}

/// Strictly parses precompile data: exactly the layout above, nothing else.
pub fn parse_ed25519_instruction_data(data: &[u8]) -> Result<CoSignedMessage<'_>, PaychanError> {
    if data.first() != Some(&SIGNATURE_COUNT) {
        return Err(PaychanError::InvalidSignatureCount);
    }
    let d: &[u8; ED25519_DATA_LEN] = data
        .try_into()
        .map_err(|_| PaychanError::InvalidEd25519Layout)?;
    if d[1] != 0 {
        return Err(PaychanError::InvalidEd25519Layout);
    }
    let canonical = d[OFFSETS_AT..SIGNATURE_A_AT]
        .chunks_exact(2)
        .zip(CANONICAL_OFFSETS.iter().flatten())
        .all(|(field, value)| field == value.to_le_bytes());
    if !canonical {
        return Err(PaychanError::InvalidEd25519Offsets);
    }
    let (_, rest) = d.split_at(PUBKEY_A_AT);
    let (pubkey_a, rest) = rest.split_at(32);
    let (_, rest) = rest.split_at(64);
    let (pubkey_b, message) = rest.split_at(32);
    Ok(CoSignedMessage {
        pubkey_a: pubkey_a
            .try_into()
            .map_err(|_| PaychanError::InvalidEd25519Layout)?,
        pubkey_b: pubkey_b
            .try_into()
            .map_err(|_| PaychanError::InvalidEd25519Layout)?,
        message: message
            .try_into()
            .map_err(|_| PaychanError::InvalidEd25519Layout)?,
    })
}

/// Parses precompile data into the state it proves both parties of this channel signed, with
/// their state-signing keys `signer_a` then `signer_b`.
pub fn verified_state(
    data: &[u8],
    signer_a: &Address,
    signer_b: &Address,
    binding: &StateBinding,
) -> Result<ChannelState, PaychanError> {
    let signed = parse_ed25519_instruction_data(data)?;
    if signed.pubkey_a != signer_a.as_array() || signed.pubkey_b != signer_b.as_array() {
        return Err(PaychanError::SignerKeysMismatch);
    }
    ChannelState::from_message(signed.message, binding)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(k: u8) -> PartySignature {
        PartySignature {
            pubkey: [k; 32],
            signature: [k.wrapping_add(100); 64],
        }
    }

    fn canonical() -> [u8; ED25519_DATA_LEN] {
        ed25519_instruction_data(&sig(1), &sig(2), &[7; STATE_MESSAGE_LEN])
    }

    #[test]
    fn layout_is_382_bytes_with_spec_offsets() {
        assert_eq!(ED25519_DATA_LEN, 382);
        assert_eq!(
            (
                SIGNATURE_A_AT,
                PUBKEY_A_AT,
                SIGNATURE_B_AT,
                PUBKEY_B_AT,
                MESSAGE_AT
            ),
            (30, 94, 126, 190, 222)
        );
    }

    #[test]
    fn builder_output_parses_back_to_its_parts() {
        let d = canonical();
        let p = parse_ed25519_instruction_data(&d).expect("canonical data parses");
        assert_eq!(p.pubkey_a, &[1; 32]);
        assert_eq!(p.pubkey_b, &[2; 32]);
        assert_eq!(p.message, &[7; STATE_MESSAGE_LEN]);
    }

    #[test]
    fn signature_counts_other_than_two_are_rejected() {
        for n in [0u8, 1, 3] {
            let mut d = canonical();
            d[0] = n;
            assert_eq!(
                parse_ed25519_instruction_data(&d),
                Err(PaychanError::InvalidSignatureCount)
            );
        }
    }

    #[test]
    fn wrong_length_and_padding_are_rejected() {
        let d = canonical();
        assert_eq!(
            parse_ed25519_instruction_data(&d[..381]),
            Err(PaychanError::InvalidEd25519Layout)
        );
        let mut longer = [0u8; ED25519_DATA_LEN + 1];
        longer[..ED25519_DATA_LEN].copy_from_slice(&d);
        assert_eq!(
            parse_ed25519_instruction_data(&longer),
            Err(PaychanError::InvalidEd25519Layout)
        );
        let mut d = canonical();
        d[1] = 1;
        assert_eq!(
            parse_ed25519_instruction_data(&d),
            Err(PaychanError::InvalidEd25519Layout)
        );
    }

    #[test]
    fn every_offset_or_index_elsewhere_is_rejected() {
        for byte in OFFSETS_AT..SIGNATURE_A_AT {
            let mut d = canonical();
            d[byte] ^= 0x01;
            assert_eq!(
                parse_ed25519_instruction_data(&d),
                Err(PaychanError::InvalidEd25519Offsets),
                "offset byte {byte}"
            );
        }
    }

    #[test]
    fn swapped_keys_are_rejected_as_a_key_mismatch() {
        let binding = StateBinding {
            program_id: crate::ID,
            channel: Address::new_from_array([5; 32]),
            opened_slot: 1,
        };
        let msg = ChannelState {
            seq: 1,
            ..ChannelState::opening(10, 0)
        }
        .message(&binding);
        let d = ed25519_instruction_data(&sig(2), &sig(1), &msg);
        let (a, b) = (
            Address::new_from_array([1; 32]),
            Address::new_from_array([2; 32]),
        );
        assert_eq!(
            verified_state(&d, &a, &b, &binding),
            Err(PaychanError::SignerKeysMismatch)
        );
        let d = ed25519_instruction_data(&sig(1), &sig(2), &msg);
        assert_eq!(verified_state(&d, &a, &b, &binding).map(|s| s.seq), Ok(1));
    }

    proptest::proptest! {
        #[test]
        fn parser_never_panics_on_random_bytes(data in proptest::collection::vec(0u8.., 0..512)) {
            let _ = parse_ed25519_instruction_data(&data);
        }

        #[test]
        fn parser_never_panics_on_mutated_canonical_data(at in 0usize..ED25519_DATA_LEN, v: u8) {
            let mut d = canonical();
            d[at] = v;
            let _ = parse_ed25519_instruction_data(&d);
        }
    }
}
