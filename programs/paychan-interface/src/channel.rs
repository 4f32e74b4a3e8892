//! The channel account: a program-owned PDA that holds the locked lamports itself.
//!
//! Fixed size, little-endian, in SPEC §2 order:
//! ```text
//! 0    1  discriminator          CHANNEL_DISCRIMINATOR
//! 1    1  layout version         CHANNEL_VERSION
//! 2    1  status                 Open | Closing | Settled
//! 3    1  bump                   canonical PDA bump
//! 4   32  party_a                the opener
//! 36  32  party_b
//! 68   8  nonce
//! 76   8  opened_slot            Clock slot of the Open
//! 84   8  challenge_period_secs
//! 92   8  deposited_a
//! 100  8  deposited_b
//! 108 72  registered close state (seq, deposited_a, deposited_b, balance_a, balance_b, log_root)
//! 180  1  registered_by          None | A | B
//! 181  8  deadline               i64 unix seconds
//! 189  8  unclaimed_a
//! 197  8  unclaimed_b
//! 205     end
//! ```
//! Lamports beyond the deposits (the rent reserve, and anything sent to the PDA by others)
//! belong to the opener and are returned to party A when the account closes.

use crate::{bytes, error::PaychanError, state::ChannelState, Address};

pub const CHANNEL_DISCRIMINATOR: u8 = 0xC4;
pub const CHANNEL_VERSION: u8 = 1;
pub const CHANNEL_ACCOUNT_LEN: usize = 205;

const STATUS_AT: usize = 2;
const BUMP_AT: usize = 3;
const PARTY_A_AT: usize = 4;
const PARTY_B_AT: usize = 36;
const NONCE_AT: usize = 68;
const OPENED_SLOT_AT: usize = 76;
const PERIOD_AT: usize = 84;
const DEPOSITED_A_AT: usize = 92;
const DEPOSITED_B_AT: usize = 100;
const REG_SEQ_AT: usize = 108;
const REG_DEPOSITED_A_AT: usize = 116;
const REG_DEPOSITED_B_AT: usize = 124;
const REG_BALANCE_A_AT: usize = 132;
const REG_BALANCE_B_AT: usize = 140;
const REG_LOG_ROOT_AT: usize = 148;
const REGISTERED_BY_AT: usize = 180;
const DEADLINE_AT: usize = 181;
const UNCLAIMED_A_AT: usize = 189;
const UNCLAIMED_B_AT: usize = 197;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ChannelStatus {
    /// Payments flow off-chain; deposits are accepted.
    Open = 1,
    /// A state is registered and may be disputed until the deadline.
    Closing = 2,
    /// Paid out, but a share could not be credited and waits for Withdraw.
    Settled = 3,
}

/// One of the two channel parties.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Party {
    A = 1,
    B = 2,
}

impl Party {
    pub const fn other(self) -> Party {
        match self {
            Party::A => Party::B,
            Party::B => Party::A,
        }
    }
}

/// The decoded channel account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Channel {
    pub status: ChannelStatus,
    pub bump: u8,
    pub party_a: Address,
    pub party_b: Address,
    pub nonce: u64,
    pub opened_slot: u64,
    pub challenge_period_secs: u64,
    pub deposited_a: u64,
    pub deposited_b: u64,
    /// The state registered by StartClose or Dispute (the implicit seq-0 state while Open).
    pub registered: ChannelState,
    /// Who registered `registered`, if a party did (watchtower disputes register None).
    pub registered_by: Option<Party>,
    /// Unix seconds after which Finalize may run.
    pub deadline: i64,
    pub unclaimed_a: u64,
    pub unclaimed_b: u64,
}

impl Channel {
    /// Which party `key` is, if any.
    pub fn party_of(&self, key: &Address) -> Option<Party> {
        if *key == self.party_a {
            Some(Party::A)
        } else if *key == self.party_b {
            Some(Party::B)
        } else {
            None
        }
    }

    pub fn party_key(&self, party: Party) -> &Address {
        match party {
            Party::A => &self.party_a,
            Party::B => &self.party_b,
        }
    }

    /// Total value locked by the parties (excludes the opener's rent reserve).
    pub fn total_deposits(&self) -> Result<u64, PaychanError> {
        self.deposited_a
            .checked_add(self.deposited_b)
            .ok_or(PaychanError::ArithmeticOverflow)
    }

    pub fn unpack(data: &[u8]) -> Result<Self, PaychanError> {
        let d: &[u8; CHANNEL_ACCOUNT_LEN] = data
            .try_into()
            .map_err(|_| PaychanError::InvalidChannelAccount)?;
        if d[0] != CHANNEL_DISCRIMINATOR || d[1] != CHANNEL_VERSION {
            return Err(PaychanError::InvalidChannelAccount);
        }
        let status = match d[STATUS_AT] {
            1 => ChannelStatus::Open,
            2 => ChannelStatus::Closing,
            3 => ChannelStatus::Settled,
            _ => return Err(PaychanError::InvalidChannelAccount),
        };
        let registered_by = match d[REGISTERED_BY_AT] {
            0 => None,
            1 => Some(Party::A),
            2 => Some(Party::B),
            _ => return Err(PaychanError::InvalidChannelAccount),
        };
        Ok(Self {
            status,
            bump: d[BUMP_AT],
            party_a: Address::new_from_array(bytes::get_array(d, PARTY_A_AT)),
            party_b: Address::new_from_array(bytes::get_array(d, PARTY_B_AT)),
            nonce: bytes::get_u64(d, NONCE_AT),
            opened_slot: bytes::get_u64(d, OPENED_SLOT_AT),
            challenge_period_secs: bytes::get_u64(d, PERIOD_AT),
            deposited_a: bytes::get_u64(d, DEPOSITED_A_AT),
            deposited_b: bytes::get_u64(d, DEPOSITED_B_AT),
            registered: ChannelState {
                seq: bytes::get_u64(d, REG_SEQ_AT),
                deposited_a: bytes::get_u64(d, REG_DEPOSITED_A_AT),
                deposited_b: bytes::get_u64(d, REG_DEPOSITED_B_AT),
                balance_a: bytes::get_u64(d, REG_BALANCE_A_AT),
                balance_b: bytes::get_u64(d, REG_BALANCE_B_AT),
                log_root: bytes::get_array(d, REG_LOG_ROOT_AT),
            },
            registered_by,
            deadline: i64::from_le_bytes(bytes::get_array(d, DEADLINE_AT)),
            unclaimed_a: bytes::get_u64(d, UNCLAIMED_A_AT),
            unclaimed_b: bytes::get_u64(d, UNCLAIMED_B_AT),
        })
    }

    pub fn pack(&self, data: &mut [u8]) -> Result<(), PaychanError> {
        let d: &mut [u8; CHANNEL_ACCOUNT_LEN] = data
            .try_into()
            .map_err(|_| PaychanError::InvalidChannelAccount)?;
        d[0] = CHANNEL_DISCRIMINATOR;
        d[1] = CHANNEL_VERSION;
        d[STATUS_AT] = self.status as u8;
        d[BUMP_AT] = self.bump;
        d[PARTY_A_AT..PARTY_B_AT].copy_from_slice(self.party_a.as_ref());
        d[PARTY_B_AT..NONCE_AT].copy_from_slice(self.party_b.as_ref());
        bytes::put_u64(d, NONCE_AT, self.nonce);
        bytes::put_u64(d, OPENED_SLOT_AT, self.opened_slot);
        bytes::put_u64(d, PERIOD_AT, self.challenge_period_secs);
        bytes::put_u64(d, DEPOSITED_A_AT, self.deposited_a);
        bytes::put_u64(d, DEPOSITED_B_AT, self.deposited_b);
        bytes::put_u64(d, REG_SEQ_AT, self.registered.seq);
        bytes::put_u64(d, REG_DEPOSITED_A_AT, self.registered.deposited_a);
        bytes::put_u64(d, REG_DEPOSITED_B_AT, self.registered.deposited_b);
        bytes::put_u64(d, REG_BALANCE_A_AT, self.registered.balance_a);
        bytes::put_u64(d, REG_BALANCE_B_AT, self.registered.balance_b);
        d[REG_LOG_ROOT_AT..REGISTERED_BY_AT].copy_from_slice(&self.registered.log_root);
        d[REGISTERED_BY_AT] = self.registered_by.map_or(0, |p| p as u8);
        d[DEADLINE_AT..UNCLAIMED_A_AT].copy_from_slice(&self.deadline.to_le_bytes());
        bytes::put_u64(d, UNCLAIMED_A_AT, self.unclaimed_a);
        bytes::put_u64(d, UNCLAIMED_B_AT, self.unclaimed_b);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Channel {
        Channel {
            status: ChannelStatus::Closing,
            bump: 254,
            party_a: Address::new_from_array([1; 32]),
            party_b: Address::new_from_array([2; 32]),
            nonce: 42,
            opened_slot: 1234,
            challenge_period_secs: 86_400,
            deposited_a: 5_000,
            deposited_b: 3_000,
            registered: ChannelState {
                seq: 9,
                deposited_a: 5_000,
                deposited_b: 1_000,
                balance_a: 2_000,
                balance_b: 4_000,
                log_root: [3; 32],
            },
            registered_by: Some(Party::B),
            deadline: 1_700_000_000,
            unclaimed_a: 11,
            unclaimed_b: 12,
        }
    }

    #[test]
    fn pack_then_unpack_is_identity() {
        let mut data = [0u8; CHANNEL_ACCOUNT_LEN];
        sample().pack(&mut data).expect("exact length");
        assert_eq!(Channel::unpack(&data), Ok(sample()));
        assert_eq!(data[0], CHANNEL_DISCRIMINATOR);
        assert_eq!(data[1], CHANNEL_VERSION);
        assert_eq!(data[180], Party::B as u8);
    }

    #[test]
    fn foreign_or_corrupt_data_is_not_a_channel() {
        let mut data = [0u8; CHANNEL_ACCOUNT_LEN];
        sample().pack(&mut data).expect("exact length");
        for (at, value) in [(0, 0u8), (1, 2), (2, 0), (2, 4), (180, 3)] {
            let mut bad = data;
            bad[at] = value;
            assert_eq!(
                Channel::unpack(&bad),
                Err(PaychanError::InvalidChannelAccount)
            );
        }
        assert_eq!(
            Channel::unpack(&data[..204]),
            Err(PaychanError::InvalidChannelAccount)
        );
        assert_eq!(
            Channel::unpack(&[0u8; 4]),
            Err(PaychanError::InvalidChannelAccount)
        );
    }

    proptest::proptest! {
        #[test]
        fn unpack_never_panics(data in proptest::collection::vec(0u8.., 0..300)) {
            let _ = Channel::unpack(&data);
        }
    }
}
