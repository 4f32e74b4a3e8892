//! Who gets what when a channel closes (protocol §3, §4): pure arithmetic shared by the program,
//! the client and the tests, every step checked.

use crate::{channel::Party, error::PaychanError, state::ChannelState};

/// Lamports owed to each party from the deposits (the rent reserve is separate).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Payouts {
    pub a: u64,
    pub b: u64,
}

impl Payouts {
    pub fn to(party: Party, amount: u64) -> Self {
        match party {
            Party::A => Self { a: amount, b: 0 },
            Party::B => Self { a: 0, b: amount },
        }
    }
}

fn add(x: u64, y: u64) -> Result<u64, PaychanError> {
    x.checked_add(y).ok_or(PaychanError::ArithmeticOverflow)
}

fn sub(x: u64, y: u64) -> Result<u64, PaychanError> {
    x.checked_sub(y).ok_or(PaychanError::ArithmeticOverflow)
}

/// A state is acceptable if it claims no deposit the chain has not seen and its balances
/// distribute exactly the deposits it claims.
pub fn check_state(
    state: &ChannelState,
    deposited_a: u64,
    deposited_b: u64,
) -> Result<(), PaychanError> {
    if state.deposited_a > deposited_a || state.deposited_b > deposited_b {
        return Err(PaychanError::DepositsExceedChain);
    }
    if add(state.balance_a, state.balance_b)? != add(state.deposited_a, state.deposited_b)? {
        return Err(PaychanError::BalancesDoNotSumToDeposits);
    }
    Ok(())
}

/// Payouts for an accepted state: its balances, plus deposits made after it was signed, which
/// go back to their depositor. Always sums to `deposited_a + deposited_b`.
pub fn state_payouts(
    state: &ChannelState,
    deposited_a: u64,
    deposited_b: u64,
) -> Result<Payouts, PaychanError> {
    check_state(state, deposited_a, deposited_b)?;
    Ok(Payouts {
        a: add(state.balance_a, sub(deposited_a, state.deposited_a)?)?,
        b: add(state.balance_b, sub(deposited_b, state.deposited_b)?)?,
    })
}

/// Payouts for a cooperative close: the agreed balances must distribute all deposits.
pub fn cooperative_payouts(
    balance_a: u64,
    balance_b: u64,
    deposited_a: u64,
    deposited_b: u64,
) -> Result<Payouts, PaychanError> {
    if add(balance_a, balance_b)? != add(deposited_a, deposited_b)? {
        return Err(PaychanError::BalancesDoNotSumToDeposits);
    }
    Ok(Payouts {
        a: balance_a,
        b: balance_b,
    })
}

/// What a Dispute with a newer state does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisputeOutcome {
    /// The newer state replaces the registered one; the deadline stays.
    Replace,
    /// The registrant knowingly registered a stale state: the other party takes everything.
    Punish { cheater: Party },
}

/// The punishment rule (protocol §4). Honest parties sign seq k+1 only while holding seq k fully
/// signed, so a co-signed seq ≥ r + 2 proves both held r + 1: registering r with StartClose was
/// knowingly stale. Exactly r + 1 only replaces: the registrant may have lacked the last
/// countersignature. `r` is the seq the StartClose registrant is accountable for, not whatever
/// a later Dispute registered: a replacement (even by the cheater's own second key) must not
/// reset the measure.
pub fn dispute_outcome(
    registered_seq: u64,
    accountable: Option<(Party, u64)>,
    new_seq: u64,
) -> Result<DisputeOutcome, PaychanError> {
    if new_seq <= registered_seq {
        return Err(PaychanError::StaleState);
    }
    Ok(match accountable {
        Some((cheater, accountable_seq))
            if accountable_seq
                .checked_add(2)
                .is_some_and(|two_newer| new_seq >= two_newer) =>
        {
            DisputeOutcome::Punish { cheater }
        }
        _ => DisputeOutcome::Replace,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(seq: u64, dep: (u64, u64), bal: (u64, u64)) -> ChannelState {
        ChannelState {
            seq,
            deposited_a: dep.0,
            deposited_b: dep.1,
            balance_a: bal.0,
            balance_b: bal.1,
            log_root: [0; 32],
        }
    }

    #[test]
    fn later_deposits_return_to_their_depositor() {
        let s = state(4, (100, 50), (30, 120));
        assert_eq!(state_payouts(&s, 160, 75), Ok(Payouts { a: 90, b: 145 }));
    }

    #[test]
    fn claimed_deposits_above_the_chain_are_rejected() {
        let s = state(1, (100, 50), (75, 75));
        assert_eq!(
            state_payouts(&s, 99, 50),
            Err(PaychanError::DepositsExceedChain)
        );
        assert_eq!(
            state_payouts(&s, 100, 49),
            Err(PaychanError::DepositsExceedChain)
        );
    }

    #[test]
    fn balances_must_sum_to_claimed_deposits() {
        let s = state(1, (100, 50), (75, 76));
        assert_eq!(
            state_payouts(&s, 100, 50),
            Err(PaychanError::BalancesDoNotSumToDeposits)
        );
        assert_eq!(
            cooperative_payouts(1, 2, 1, 1),
            Err(PaychanError::BalancesDoNotSumToDeposits)
        );
    }

    #[test]
    fn overflowing_values_are_arithmetic_errors_not_wraps() {
        let s = state(1, (u64::MAX, 1), (u64::MAX, 1));
        assert_eq!(
            state_payouts(&s, u64::MAX, 1),
            Err(PaychanError::ArithmeticOverflow)
        );
        assert_eq!(
            cooperative_payouts(u64::MAX, 1, u64::MAX, 1),
            Err(PaychanError::ArithmeticOverflow)
        );
    }

    #[test]
    fn dispute_rule_replaces_at_plus_one_and_punishes_from_plus_two() {
        use DisputeOutcome::*;
        let a5 = Some((Party::A, 5));
        assert_eq!(dispute_outcome(5, a5, 5), Err(PaychanError::StaleState));
        assert_eq!(dispute_outcome(5, a5, 4), Err(PaychanError::StaleState));
        assert_eq!(dispute_outcome(5, a5, 6), Ok(Replace));
        assert_eq!(dispute_outcome(5, a5, 7), Ok(Punish { cheater: Party::A }));
        assert_eq!(
            dispute_outcome(0, Some((Party::B, 0)), u64::MAX),
            Ok(Punish { cheater: Party::B })
        );
        assert_eq!(dispute_outcome(5, None, 9), Ok(Replace));
        assert_eq!(
            dispute_outcome(u64::MAX - 1, Some((Party::A, u64::MAX - 1)), u64::MAX),
            Ok(Replace)
        );
    }

    #[test]
    fn a_replacement_does_not_launder_the_registrants_accountability() {
        use DisputeOutcome::*;
        // A registered 5, something replaced it with 6: 7 is still two past A's 5.
        assert_eq!(
            dispute_outcome(6, Some((Party::A, 5)), 7),
            Ok(Punish { cheater: Party::A })
        );
        // and a replacement at 6 then 7 leaves 8 punishing too; 7 over 6 alone replaces.
        assert_eq!(
            dispute_outcome(7, Some((Party::A, 5)), 8),
            Ok(Punish { cheater: Party::A })
        );
        assert_eq!(dispute_outcome(6, Some((Party::A, 6)), 7), Ok(Replace));
    }

    proptest::proptest! {
        #[test]
        fn accepted_payouts_conserve_deposits(
            sa in 0u64..1 << 62, sb in 0u64..1 << 62, extra_a in 0u64..1 << 60,
            extra_b in 0u64..1 << 60, moved in 0u64..=u64::MAX,
        ) {
            let total = sa + sb;
            let bal_a = moved % (total + 1);
            let s = state(1, (sa, sb), (bal_a, total - bal_a));
            let p = state_payouts(&s, sa + extra_a, sb + extra_b).expect("acceptable state");
            proptest::prop_assert_eq!(p.a + p.b, sa + extra_a + sb + extra_b);
        }
    }
}
