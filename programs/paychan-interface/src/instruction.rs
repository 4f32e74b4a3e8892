//! The seven paychan instructions and their fixed-layout data: a one-byte tag, then
//! little-endian fields. States are never in instruction data: StartClose and Dispute read the
//! co-signed state from the Ed25519 precompile instruction right before them.

use crate::{error::PaychanError, Address};

/// A paychan instruction. Each variant lists its accounts in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaychanInstruction {
    /// Creates the channel PDA (rent paid by A) and locks `deposit` from A. Party B is an
    /// account, not data, so the runtime itself shows whether it can ever be written: a key it
    /// keeps read-only (a sysvar, a builtin program) could never receive B's payout.
    /// `signer_a`/`signer_b` sign the states (the wallets themselves, or session keys); B
    /// checks that `signer_b` is its own key before it deposits or signs anything.
    ///
    /// 0. `[signer, writable]` party A, the opener and payer
    /// 1. `[writable]` party B's wallet
    /// 2. `[writable]` channel PDA `["channel", party_a, party_b, nonce]`
    /// 3. `[]` System program
    Open {
        nonce: u64,
        deposit: u64,
        challenge_period_secs: u64,
        signer_a: Address,
        signer_b: Address,
    },
    /// Adds `amount` to the signer's deposit while the channel is Open (dual funding, top-ups).
    ///
    /// 0. `[signer, writable]` party A or party B
    /// 1. `[writable]` channel
    /// 2. `[]` System program
    Deposit { amount: u64 },
    /// Pays out balances both parties agreed on and closes the channel.
    ///
    /// 0. `[signer, writable]` party A (also receives the rent reserve)
    /// 1. `[signer, writable]` party B
    /// 2. `[writable]` channel
    CloseCooperative { balance_a: u64, balance_b: u64 },
    /// Registers a state and starts the challenge period. With `with_state` the co-signed state
    /// comes from the Ed25519 instruction immediately before; without it, the seq-0 state.
    ///
    /// 0. `[signer]` party A or party B (accountable for what it registers)
    /// 1. `[writable]` channel
    /// 2. `[]` Instructions sysvar
    StartClose { with_state: bool },
    /// Brings a newer co-signed state (Ed25519 instruction immediately before) during the
    /// challenge period. Anyone may submit; a state ≥ 2 newer punishes the registrant.
    ///
    /// 0. `[signer]` submitter (a party or a watchtower)
    /// 1. `[writable]` channel
    /// 2. `[]` Instructions sysvar
    /// 3. `[writable]` party A's wallet
    /// 4. `[writable]` party B's wallet
    Dispute,
    /// Pays out the registered state after the deadline. Anyone may submit.
    ///
    /// 0. `[writable]` channel
    /// 1. `[writable]` party A's wallet
    /// 2. `[writable]` party B's wallet
    Finalize,
    /// Moves an unclaimed share of a Settled channel: anyone's request moves a party's share
    /// to that party's own wallet (`destination`); a party's own request moves its share to
    /// any `destination`.
    ///
    /// 0. `[signer]` anyone (a party, to send its share elsewhere)
    /// 1. `[writable]` channel
    /// 2. `[writable]` destination
    /// 3. `[writable]` party A's wallet (receives the rent reserve when the account closes)
    Withdraw,
}

pub mod tag {
    pub const OPEN: u8 = 0;
    pub const DEPOSIT: u8 = 1;
    pub const CLOSE_COOPERATIVE: u8 = 2;
    pub const START_CLOSE: u8 = 3;
    pub const DISPUTE: u8 = 4;
    pub const FINALIZE: u8 = 5;
    pub const WITHDRAW: u8 = 6;
}

/// Longest instruction data (Open: tag + 3 × 8 + 2 × 32).
pub const MAX_DATA_LEN: usize = 89;

fn u64_at(data: &[u8], at: usize) -> Result<u64, PaychanError> {
    data.get(at..at.wrapping_add(8))
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes)
        .ok_or(PaychanError::InvalidInstructionData)
}

fn address_at(data: &[u8], at: usize) -> Result<Address, PaychanError> {
    data.get(at..at.wrapping_add(32))
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .map(Address::new_from_array)
        .ok_or(PaychanError::InvalidInstructionData)
}

fn exact(data: &[u8], len: usize) -> Result<(), PaychanError> {
    if data.len() == len {
        Ok(())
    } else {
        Err(PaychanError::InvalidInstructionData)
    }
}

impl PaychanInstruction {
    /// Decodes instruction data; any unknown tag or wrong length is `InvalidInstructionData`.
    pub fn unpack(data: &[u8]) -> Result<Self, PaychanError> {
        let (&tag, _) = data
            .split_first()
            .ok_or(PaychanError::InvalidInstructionData)?;
        Ok(match tag {
            tag::OPEN => {
                exact(data, 89)?;
                Self::Open {
                    nonce: u64_at(data, 1)?,
                    deposit: u64_at(data, 9)?,
                    challenge_period_secs: u64_at(data, 17)?,
                    signer_a: address_at(data, 25)?,
                    signer_b: address_at(data, 57)?,
                }
            }
            tag::DEPOSIT => {
                exact(data, 9)?;
                Self::Deposit {
                    amount: u64_at(data, 1)?,
                }
            }
            tag::CLOSE_COOPERATIVE => {
                exact(data, 17)?;
                Self::CloseCooperative {
                    balance_a: u64_at(data, 1)?,
                    balance_b: u64_at(data, 9)?,
                }
            }
            tag::START_CLOSE => {
                exact(data, 2)?;
                let with_state = match data.get(1) {
                    Some(0) => false,
                    Some(1) => true,
                    _ => return Err(PaychanError::InvalidInstructionData),
                };
                Self::StartClose { with_state }
            }
            tag::DISPUTE => {
                exact(data, 1)?;
                Self::Dispute
            }
            tag::FINALIZE => {
                exact(data, 1)?;
                Self::Finalize
            }
            tag::WITHDRAW => {
                exact(data, 1)?;
                Self::Withdraw
            }
            _ => return Err(PaychanError::InvalidInstructionData),
        })
    }

    /// Encodes into `out`, returning the used length.
    pub fn pack_into(&self, out: &mut [u8; MAX_DATA_LEN]) -> usize {
        let mut put = |at: usize, v: u64| out[at..][..8].copy_from_slice(&v.to_le_bytes());
        let (tag, len) = match *self {
            Self::Open {
                nonce,
                deposit,
                challenge_period_secs,
                signer_a,
                signer_b,
            } => {
                put(1, nonce);
                put(9, deposit);
                put(17, challenge_period_secs);
                out[25..57].copy_from_slice(signer_a.as_ref());
                out[57..89].copy_from_slice(signer_b.as_ref());
                (tag::OPEN, 89)
            }
            Self::Deposit { amount } => {
                put(1, amount);
                (tag::DEPOSIT, 9)
            }
            Self::CloseCooperative {
                balance_a,
                balance_b,
            } => {
                put(1, balance_a);
                put(9, balance_b);
                (tag::CLOSE_COOPERATIVE, 17)
            }
            Self::StartClose { with_state } => {
                out[1] = u8::from(with_state);
                (tag::START_CLOSE, 2)
            }
            Self::Dispute => (tag::DISPUTE, 1),
            Self::Finalize => (tag::FINALIZE, 1),
            Self::Withdraw => (tag::WITHDRAW, 1),
        };
        out[0] = tag;
        len
    }

    #[cfg(feature = "std")]
    pub fn pack(&self) -> std::vec::Vec<u8> {
        let mut out = [0u8; MAX_DATA_LEN];
        let len = self.pack_into(&mut out);
        out[..len].to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> [PaychanInstruction; 8] {
        [
            PaychanInstruction::Open {
                nonce: 1,
                deposit: u64::MAX,
                challenge_period_secs: 86_400,
                signer_a: Address::new_from_array([3; 32]),
                signer_b: Address::new_from_array([4; 32]),
            },
            PaychanInstruction::Deposit { amount: 5 },
            PaychanInstruction::CloseCooperative {
                balance_a: 1,
                balance_b: 2,
            },
            PaychanInstruction::StartClose { with_state: true },
            PaychanInstruction::StartClose { with_state: false },
            PaychanInstruction::Dispute,
            PaychanInstruction::Finalize,
            PaychanInstruction::Withdraw,
        ]
    }

    #[test]
    fn every_instruction_round_trips() {
        for ix in all() {
            let mut out = [0u8; MAX_DATA_LEN];
            let len = ix.pack_into(&mut out);
            assert_eq!(PaychanInstruction::unpack(&out[..len]), Ok(ix));
        }
    }

    #[test]
    fn wrong_length_or_unknown_tag_is_invalid_data() {
        for ix in all() {
            let mut out = [0u8; MAX_DATA_LEN];
            let len = ix.pack_into(&mut out);
            assert_eq!(
                PaychanInstruction::unpack(&out[..len - 1]),
                Err(PaychanError::InvalidInstructionData)
            );
            if len < MAX_DATA_LEN {
                assert_eq!(
                    PaychanInstruction::unpack(&out[..len + 1]),
                    Err(PaychanError::InvalidInstructionData)
                );
            }
        }
        assert_eq!(
            PaychanInstruction::unpack(&[7]),
            Err(PaychanError::InvalidInstructionData)
        );
        assert_eq!(
            PaychanInstruction::unpack(&[tag::START_CLOSE, 2]),
            Err(PaychanError::InvalidInstructionData)
        );
    }

    proptest::proptest! {
        #[test]
        fn unpack_never_panics(data in proptest::collection::vec(0u8.., 0..80)) {
            let _ = PaychanInstruction::unpack(&data);
        }
    }
}
