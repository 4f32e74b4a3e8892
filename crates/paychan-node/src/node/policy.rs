//! Which inbound channels a node joins. A channel a stranger opens to this node's key is
//! joined only if it meets every rule here; until then the node signs nothing for it.

use std::collections::{BTreeMap, BTreeSet};

use paychan_interface::{channel::Channel, Address};

use crate::driver::JoinPolicy;

/// What a node requires of a channel someone else opened to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboundPolicy {
    /// The shortest challenge period accepted (checked for every channel, ours too).
    pub join: JoinPolicy,
    /// The least the opener must have locked in a lamport channel, in lamports.
    pub min_deposit: u64,
    /// The mints whose token channels the node joins, each with the least the opener must
    /// have locked (base units). A token channel of any other mint is refused: a service
    /// chooses what it is paid in.
    pub mints: BTreeMap<Address, u64>,
    /// Channels this node runs at once, inbound and outbound together.
    pub max_channels: usize,
    /// Openers (wallets) the node accepts; `None`: anyone.
    pub allow: Option<BTreeSet<Address>>,
}

impl Default for InboundPolicy {
    fn default() -> Self {
        Self {
            join: JoinPolicy::default(),
            min_deposit: 0,
            mints: BTreeMap::new(),
            max_channels: 10_000,
            allow: None,
        }
    }
}

/// Why a node does not join a channel opened to it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the opener {opener} is not on the allow-list")]
    NotAllowed { opener: Address },
    #[error("the opener locked {deposited} base units, below the minimum of {min}")]
    DepositTooSmall { deposited: u64, min: u64 },
    #[error("the channel locks tokens of {mint}, a mint this node does not accept")]
    MintNotAccepted { mint: Address },
    #[error("the node already runs its maximum of {max} channels")]
    Full { max: usize },
    #[error(
        "the challenge period is {period} s, below the minimum of {min} s: a stale state \
         could be registered and finalized before a dispute lands"
    )]
    ChallengePeriodTooShort { period: u64, min: u64 },
    #[error(
        "looking at the chain every {interval_ms} ms is fewer than {LOOKS_PER_PERIOD} times in \
         the channel's {period} s challenge period (look at least every {most} ms)",
        most = period.saturating_mul(1_000) / LOOKS_PER_PERIOD
    )]
    PolledTooRarely { period: u64, interval_ms: u64 },
}

/// A guard looks at the chain at least this many times per challenge period: a stale
/// registration is seen, and disputed, with most of the window left.
pub const LOOKS_PER_PERIOD: u64 = 8;

/// Refuses a look at the chain every `interval_ms` for a `period_secs` challenge period if it
/// leaves fewer than [`LOOKS_PER_PERIOD`] looks in the window.
pub fn require_polling(period_secs: u64, interval_ms: u64) -> Result<(), Refusal> {
    if interval_ms.saturating_mul(LOOKS_PER_PERIOD) > period_secs.saturating_mul(1_000) {
        return Err(Refusal::PolledTooRarely {
            period: period_secs,
            interval_ms,
        });
    }
    Ok(())
}

impl InboundPolicy {
    /// Checks a channel `opener` opened to this node, which runs `running` channels now.
    pub fn check(&self, channel: &Channel, running: usize) -> Result<(), Refusal> {
        let opener = channel.party_a;
        if self
            .allow
            .as_ref()
            .is_some_and(|allow| !allow.contains(&opener))
        {
            return Err(Refusal::NotAllowed { opener });
        }
        let min = match &channel.token {
            None => self.min_deposit,
            Some(token) => *self
                .mints
                .get(&token.mint)
                .ok_or(Refusal::MintNotAccepted { mint: token.mint })?,
        };
        if channel.deposited_a < min {
            return Err(Refusal::DepositTooSmall {
                deposited: channel.deposited_a,
                min,
            });
        }
        self.check_own(channel, running)
    }

    /// What holds for every channel, including those this node opened itself.
    pub fn check_own(&self, channel: &Channel, running: usize) -> Result<(), Refusal> {
        if running >= self.max_channels {
            return Err(Refusal::Full {
                max: self.max_channels,
            });
        }
        let (period, min) = (
            channel.challenge_period_secs,
            self.join.min_challenge_period_secs,
        );
        if period < min {
            return Err(Refusal::ChallengePeriodTooShort { period, min });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(opener: u8, deposited_a: u64, period: u64) -> Channel {
        let node = Address::new_from_array([9; 32]);
        Channel {
            status: paychan_interface::channel::ChannelStatus::Open,
            bump: 255,
            party_a: Address::new_from_array([opener; 32]),
            party_b: node,
            nonce: 1,
            opened_slot: 1,
            challenge_period_secs: period,
            deposited_a,
            deposited_b: 0,
            registered: Default::default(),
            registered_by: None,
            accountable_seq: 0,
            deadline: 0,
            unclaimed_a: 0,
            unclaimed_b: 0,
            signer_a: Address::new_from_array([opener; 32]),
            signer_b: node,
            token: None,
        }
    }

    fn policy() -> InboundPolicy {
        InboundPolicy {
            join: JoinPolicy {
                min_challenge_period_secs: 100,
            },
            min_deposit: 1_000,
            mints: [(Address::new_from_array([5; 32]), 50)].into(),
            max_channels: 2,
            allow: Some([Address::new_from_array([1; 32])].into()),
        }
    }

    fn token_channel(mint: u8, deposited_a: u64) -> Channel {
        Channel {
            token: Some(paychan_interface::token::TokenChannel {
                program: paychan_interface::token::TokenProgram::Spl,
                mint: Address::new_from_array([mint; 32]),
                vault: Address::new_from_array([6; 32]),
                decimals: 6,
            }),
            ..channel(1, deposited_a, 100)
        }
    }

    #[test]
    fn token_channels_need_an_accepted_mint_and_its_own_minimum() {
        let policy = policy();
        assert_eq!(policy.check(&token_channel(5, 50), 0), Ok(()));
        assert_eq!(
            policy.check(&token_channel(5, 49), 0),
            Err(Refusal::DepositTooSmall {
                deposited: 49,
                min: 50
            })
        );
        assert_eq!(
            policy.check(&token_channel(8, 1_000_000), 0),
            Err(Refusal::MintNotAccepted {
                mint: Address::new_from_array([8; 32])
            })
        );
    }

    #[test]
    fn each_rule_refuses_with_its_own_reason() {
        let policy = policy();
        assert_eq!(policy.check(&channel(1, 1_000, 100), 1), Ok(()));
        assert_eq!(
            policy.check(&channel(2, 1_000, 100), 1),
            Err(Refusal::NotAllowed {
                opener: Address::new_from_array([2; 32])
            })
        );
        assert_eq!(
            policy.check(&channel(1, 999, 100), 1),
            Err(Refusal::DepositTooSmall {
                deposited: 999,
                min: 1_000
            })
        );
        assert_eq!(
            policy.check(&channel(1, 1_000, 100), 2),
            Err(Refusal::Full { max: 2 })
        );
        assert_eq!(
            policy.check(&channel(1, 1_000, 99), 1),
            Err(Refusal::ChallengePeriodTooShort {
                period: 99,
                min: 100
            })
        );
    }

    #[test]
    fn anyone_may_open_without_an_allow_list() {
        let policy = InboundPolicy {
            allow: None,
            ..policy()
        };
        assert_eq!(policy.check(&channel(7, 5_000, 100), 0), Ok(()));
    }
}
