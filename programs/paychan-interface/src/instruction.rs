//! The paychan instructions and their fixed-layout data: a one-byte tag, then
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
    /// `bump` is the channel PDA's bump (the program checks the address by hashing, which
    /// costs a tenth of a PDA search). With `token`, the channel locks tokens of a mint instead
    /// of lamports (tag `OPEN_TOKEN`): A also pays the vault's rent, the mint is a seed of the
    /// channel address, and `decimals` must be the mint's (as in TransferChecked).
    ///
    /// 0. `[signer, writable]` party A, the opener and payer
    /// 1. `[writable]` party B's wallet
    /// 2. `[writable]` channel PDA `["channel", party_a, party_b, nonce]`, or
    ///    `["channel", party_a, party_b, nonce, mint]` for a token channel
    /// 3. `[]` System program
    ///
    /// A token channel also takes (`TOKEN_ACCOUNTS_OPEN`):
    /// 4. `[]` mint
    /// 5. `[writable]` vault PDA `["vault", channel]`
    /// 6. `[]` token program (SPL Token or Token-2022, the mint's owner)
    /// 7. `[writable]` party A's source token account (owned by A)
    Open {
        nonce: u64,
        deposit: u64,
        challenge_period_secs: u64,
        signer_a: Address,
        signer_b: Address,
        bump: u8,
        token: Option<OpenToken>,
    },
    /// Adds `amount` to the signer's deposit while the channel is Open (dual funding, top-ups).
    ///
    /// 0. `[signer, writable]` party A or party B
    /// 1. `[writable]` channel
    /// 2. `[]` System program
    ///
    /// A token channel also takes:
    /// 3. `[writable]` vault
    /// 4. `[]` mint
    /// 5. `[]` token program
    /// 6. `[writable]` the depositor's source token account (owned by the depositor)
    Deposit { amount: u64 },
    /// Pays out balances both parties agreed on and closes the channel.
    ///
    /// 0. `[signer, writable]` party A (also receives the rent reserve)
    /// 1. `[signer, writable]` party B
    /// 2. `[writable]` channel
    ///
    /// A token channel also takes the payout accounts (`TokenPayoutAccounts`):
    /// 3. `[writable]` vault
    /// 4. `[]` mint
    /// 5. `[]` token program
    /// 6. `[writable]` party A's token account
    /// 7. `[writable]` party B's token account
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
    ///
    /// A token channel also takes its payout accounts after these (as CloseCooperative).
    Dispute,
    /// Pays out the registered state after the deadline. Anyone may submit.
    ///
    /// 0. `[writable]` channel
    /// 1. `[writable]` party A's wallet
    /// 2. `[writable]` party B's wallet
    ///
    /// A token channel also takes its payout accounts after these (as CloseCooperative).
    Finalize,
    /// Moves an unclaimed share of a Settled channel: anyone's request moves a party's share
    /// to that party's own wallet (`destination`); a party's own request moves its share to
    /// any `destination`.
    ///
    /// 0. `[signer]` anyone (a party, to send its share elsewhere)
    /// 1. `[writable]` channel
    /// 2. `[writable]` destination
    /// 3. `[writable]` party A's wallet (receives the rent reserve when the account closes)
    ///
    /// A token channel's destination is a token account of its mint, and it also takes:
    /// 4. `[writable]` vault
    /// 5. `[]` mint
    /// 6. `[]` token program
    Withdraw,
}

/// What a token channel's Open adds to the lamport Open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenToken {
    /// The vault PDA's bump.
    pub vault_bump: u8,
    /// The mint's decimals, as the opener understood them.
    pub decimals: u8,
}

pub mod tag {
    pub const OPEN: u8 = 0;
    pub const DEPOSIT: u8 = 1;
    pub const CLOSE_COOPERATIVE: u8 = 2;
    pub const START_CLOSE: u8 = 3;
    pub const DISPUTE: u8 = 4;
    pub const FINALIZE: u8 = 5;
    pub const WITHDRAW: u8 = 6;
    pub const OPEN_TOKEN: u8 = 7;
}

/// Open's data: tag, 3 × u64, 2 keys, bump.
const OPEN_LEN: usize = 90;
/// A token Open's data: Open's, then vault bump and decimals.
const OPEN_TOKEN_LEN: usize = 92;
/// Longest instruction data (a token Open).
pub const MAX_DATA_LEN: usize = OPEN_TOKEN_LEN;

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
            tag::OPEN | tag::OPEN_TOKEN => {
                let token = if tag == tag::OPEN_TOKEN {
                    exact(data, OPEN_TOKEN_LEN)?;
                    Some(OpenToken {
                        vault_bump: data[OPEN_LEN],
                        decimals: data[OPEN_LEN + 1],
                    })
                } else {
                    exact(data, OPEN_LEN)?;
                    None
                };
                Self::Open {
                    nonce: u64_at(data, 1)?,
                    deposit: u64_at(data, 9)?,
                    challenge_period_secs: u64_at(data, 17)?,
                    signer_a: address_at(data, 25)?,
                    signer_b: address_at(data, 57)?,
                    bump: data[89],
                    token,
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
                bump,
                token,
            } => {
                put(1, nonce);
                put(9, deposit);
                put(17, challenge_period_secs);
                out[25..57].copy_from_slice(signer_a.as_ref());
                out[57..89].copy_from_slice(signer_b.as_ref());
                out[89] = bump;
                match token {
                    None => (tag::OPEN, OPEN_LEN),
                    Some(token) => {
                        out[OPEN_LEN] = token.vault_bump;
                        out[OPEN_LEN + 1] = token.decimals;
                        (tag::OPEN_TOKEN, OPEN_TOKEN_LEN)
                    }
                }
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

    fn all() -> [PaychanInstruction; 9] {
        [
            PaychanInstruction::Open {
                nonce: 1,
                deposit: u64::MAX,
                challenge_period_secs: 86_400,
                signer_a: Address::new_from_array([3; 32]),
                signer_b: Address::new_from_array([4; 32]),
                bump: 254,
                token: None,
            },
            PaychanInstruction::Open {
                nonce: 2,
                deposit: 7,
                challenge_period_secs: 60,
                signer_a: Address::new_from_array([5; 32]),
                signer_b: Address::new_from_array([6; 32]),
                bump: 255,
                token: Some(OpenToken {
                    vault_bump: 253,
                    decimals: 6,
                }),
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
            PaychanInstruction::unpack(&[8]),
            Err(PaychanError::InvalidInstructionData)
        );
        assert_eq!(
            PaychanInstruction::unpack(&[tag::START_CLOSE, 2]),
            Err(PaychanError::InvalidInstructionData)
        );
    }

    proptest::proptest! {
        #[test]
        fn unpack_never_panics(data in proptest::collection::vec(0u8.., 0..100)) {
            let _ = PaychanInstruction::unpack(&data);
        }
    }
}
