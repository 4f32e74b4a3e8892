//! The 160 bytes both parties sign for every channel state (protocol §5).
//!
//! ```text
//! 0   16  domain tag  b"paychan/state/v1"
//! 16  32  program id
//! 48  32  channel PDA address
//! 80   8  opened_slot  u64 LE   (binds the state to this incarnation of the PDA)
//! 88   8  seq          u64 LE   (seq 0 is the implicit opening state, never signed)
//! 96   8  deposited_a  u64 LE
//! 104  8  deposited_b  u64 LE
//! 112  8  balance_a    u64 LE
//! 120  8  balance_b    u64 LE
//! 128 32  log_root     SHA-256 hash chain of the operation log
//! ```

use crate::{bytes, error::PaychanError, Address};

pub const STATE_DOMAIN: &[u8; 16] = b"paychan/state/v1";
pub const STATE_MESSAGE_LEN: usize = 160;

const PROGRAM_AT: usize = 16;
const CHANNEL_AT: usize = 48;
const OPENED_SLOT_AT: usize = 80;
const SEQ_AT: usize = 88;
const DEPOSITED_A_AT: usize = 96;
const DEPOSITED_B_AT: usize = 104;
const BALANCE_A_AT: usize = 112;
const BALANCE_B_AT: usize = 120;
const LOG_ROOT_AT: usize = 128;

/// The channel-specific part of a state: what a payment changes. `repr(C)` so the channel
/// account can hold the registered state in place (see `channel::ChannelAccount`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, bytemuck::Pod, bytemuck::Zeroable)]
#[cfg_attr(
    feature = "client",
    derive(borsh::BorshSerialize, borsh::BorshDeserialize)
)]
pub struct ChannelState {
    pub seq: u64,
    pub deposited_a: u64,
    pub deposited_b: u64,
    pub balance_a: u64,
    pub balance_b: u64,
    pub log_root: [u8; 32],
}

/// Which channel incarnation a state belongs to: checked by the program, never chosen by a party.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StateBinding {
    pub program_id: Address,
    pub channel: Address,
    pub opened_slot: u64,
}

impl ChannelState {
    /// The implicit seq-0 state: everyone holds what they deposited.
    pub const fn opening(deposited_a: u64, deposited_b: u64) -> Self {
        Self {
            seq: 0,
            deposited_a,
            deposited_b,
            balance_a: deposited_a,
            balance_b: deposited_b,
            log_root: [0; 32],
        }
    }

    /// The exact bytes both parties sign for this state of `binding`'s channel.
    pub fn message(&self, binding: &StateBinding) -> [u8; STATE_MESSAGE_LEN] {
        let mut m = [0u8; STATE_MESSAGE_LEN];
        m[..PROGRAM_AT].copy_from_slice(STATE_DOMAIN);
        m[PROGRAM_AT..CHANNEL_AT].copy_from_slice(binding.program_id.as_ref());
        m[CHANNEL_AT..OPENED_SLOT_AT].copy_from_slice(binding.channel.as_ref());
        bytes::put_u64(&mut m, OPENED_SLOT_AT, binding.opened_slot);
        bytes::put_u64(&mut m, SEQ_AT, self.seq);
        bytes::put_u64(&mut m, DEPOSITED_A_AT, self.deposited_a);
        bytes::put_u64(&mut m, DEPOSITED_B_AT, self.deposited_b);
        bytes::put_u64(&mut m, BALANCE_A_AT, self.balance_a);
        bytes::put_u64(&mut m, BALANCE_B_AT, self.balance_b);
        m[LOG_ROOT_AT..].copy_from_slice(&self.log_root);
        m
    }

    /// Parses signed bytes, accepting them only for `expected`'s channel incarnation.
    /// Each mismatch has its own error so a rejected close says exactly why.
    pub fn from_message(message: &[u8], expected: &StateBinding) -> Result<Self, PaychanError> {
        let m: &[u8; STATE_MESSAGE_LEN] = message
            .try_into()
            .map_err(|_| PaychanError::InvalidEd25519Layout)?;
        if &m[..PROGRAM_AT] != STATE_DOMAIN {
            return Err(PaychanError::WrongStateDomain);
        }
        if m[PROGRAM_AT..CHANNEL_AT] != *expected.program_id.as_ref() {
            return Err(PaychanError::StateForOtherProgram);
        }
        if m[CHANNEL_AT..OPENED_SLOT_AT] != *expected.channel.as_ref() {
            return Err(PaychanError::StateForOtherChannel);
        }
        if bytes::get_u64(m, OPENED_SLOT_AT) != expected.opened_slot {
            return Err(PaychanError::StateFromEarlierChannel);
        }
        let state = Self {
            seq: bytes::get_u64(m, SEQ_AT),
            deposited_a: bytes::get_u64(m, DEPOSITED_A_AT),
            deposited_b: bytes::get_u64(m, DEPOSITED_B_AT),
            balance_a: bytes::get_u64(m, BALANCE_A_AT),
            balance_b: bytes::get_u64(m, BALANCE_B_AT),
            log_root: bytes::get_array(m, LOG_ROOT_AT),
        };
        if state.seq == 0 {
            return Err(PaychanError::SignedSeqZero);
        }
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding() -> StateBinding {
        StateBinding {
            program_id: crate::ID,
            channel: Address::new_from_array([9; 32]),
            opened_slot: 77,
        }
    }

    fn sample() -> ChannelState {
        ChannelState {
            seq: 3,
            deposited_a: 1_000,
            deposited_b: 500,
            balance_a: 700,
            balance_b: 800,
            log_root: [0xAB; 32],
        }
    }

    #[test]
    fn message_has_the_spec_layout() {
        let m = sample().message(&binding());
        assert_eq!(&m[0..16], b"paychan/state/v1");
        assert_eq!(&m[16..48], crate::ID.as_ref());
        assert_eq!(&m[48..80], &[9; 32]);
        assert_eq!(m[80..88], 77u64.to_le_bytes());
        assert_eq!(m[88..96], 3u64.to_le_bytes());
        assert_eq!(m[96..104], 1_000u64.to_le_bytes());
        assert_eq!(m[104..112], 500u64.to_le_bytes());
        assert_eq!(m[112..120], 700u64.to_le_bytes());
        assert_eq!(m[120..128], 800u64.to_le_bytes());
        assert_eq!(&m[128..160], &[0xAB; 32]);
    }

    #[test]
    fn message_round_trips() {
        let m = sample().message(&binding());
        assert_eq!(ChannelState::from_message(&m, &binding()), Ok(sample()));
    }

    #[test]
    fn message_for_another_binding_is_rejected_with_its_reason() {
        let m = sample().message(&binding());
        let mut other = binding();
        other.program_id = Address::new_from_array([1; 32]);
        assert_eq!(
            ChannelState::from_message(&m, &other),
            Err(PaychanError::StateForOtherProgram)
        );
        let mut other = binding();
        other.channel = Address::new_from_array([1; 32]);
        assert_eq!(
            ChannelState::from_message(&m, &other),
            Err(PaychanError::StateForOtherChannel)
        );
        let mut other = binding();
        other.opened_slot = 78;
        assert_eq!(
            ChannelState::from_message(&m, &other),
            Err(PaychanError::StateFromEarlierChannel)
        );
    }

    #[test]
    fn wrong_domain_short_message_and_seq_zero_are_rejected() {
        let mut m = sample().message(&binding());
        m[0] ^= 1;
        assert_eq!(
            ChannelState::from_message(&m, &binding()),
            Err(PaychanError::WrongStateDomain)
        );
        let m = sample().message(&binding());
        assert_eq!(
            ChannelState::from_message(&m[..159], &binding()),
            Err(PaychanError::InvalidEd25519Layout)
        );
        let zero = ChannelState { seq: 0, ..sample() }.message(&binding());
        assert_eq!(
            ChannelState::from_message(&zero, &binding()),
            Err(PaychanError::SignedSeqZero)
        );
    }
}
