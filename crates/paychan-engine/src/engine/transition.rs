//! The state that follows a state: pure arithmetic shared by proposer and acceptor, so both
//! compute byte-identical states.

use paychan_interface::{
    channel::Party,
    client::log::{next_log_root, Op},
    state::ChannelState,
};

use super::EngineError;

/// Most operations one round may carry: bounds message size and validation work.
pub const MAX_OPS_PER_ROUND: usize = 4096;

/// The state after `proposer` applies `ops` on top of `previous`, seeing `deposits` on-chain.
/// New deposits are credited to their depositor; each payment moves lamports from the
/// proposer to the other party.
pub fn next_state(
    previous: &ChannelState,
    proposer: Party,
    ops: &[Op],
    deposits: (u64, u64),
) -> Result<ChannelState, EngineError> {
    if ops.is_empty() || ops.len() > MAX_OPS_PER_ROUND {
        return Err(EngineError::BadOpCount(ops.len()));
    }
    let (deposited_a, deposited_b) = deposits;
    let new_a = deposited_a
        .checked_sub(previous.deposited_a)
        .ok_or(EngineError::DepositsWentBackwards)?;
    let new_b = deposited_b
        .checked_sub(previous.deposited_b)
        .ok_or(EngineError::DepositsWentBackwards)?;
    let mut balance_a = previous
        .balance_a
        .checked_add(new_a)
        .ok_or(EngineError::Overflow)?;
    let mut balance_b = previous
        .balance_b
        .checked_add(new_b)
        .ok_or(EngineError::Overflow)?;
    for op in ops {
        let Op::Pay { amount, .. } = *op;
        if amount == 0 {
            return Err(EngineError::ZeroPayment);
        }
        let (from, to) = match proposer {
            Party::A => (&mut balance_a, &mut balance_b),
            Party::B => (&mut balance_b, &mut balance_a),
        };
        *from = from
            .checked_sub(amount)
            .ok_or(EngineError::InsufficientBalance)?;
        *to = to.checked_add(amount).ok_or(EngineError::Overflow)?;
    }
    let seq = previous.seq.checked_add(1).ok_or(EngineError::Overflow)?;
    Ok(ChannelState {
        seq,
        deposited_a,
        deposited_b,
        balance_a,
        balance_b,
        log_root: next_log_root(&previous.log_root, seq, ops),
    })
}

/// The balance `party` holds in `state`.
pub fn balance_of(state: &ChannelState, party: Party) -> u64 {
    match party {
        Party::A => state.balance_a,
        Party::B => state.balance_b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pay(amount: u64) -> Op {
        Op::Pay {
            amount,
            payment_id: [0; 16],
        }
    }

    fn genesis() -> ChannelState {
        ChannelState::default()
    }

    #[test]
    fn payments_move_balance_from_the_proposer_and_deposits_credit_their_depositor() {
        let s1 = next_state(&genesis(), Party::A, &[pay(30), pay(20)], (100, 40)).expect("valid");
        assert_eq!((s1.seq, s1.balance_a, s1.balance_b), (1, 50, 90));
        assert_eq!((s1.deposited_a, s1.deposited_b), (100, 40));
        let s2 = next_state(&s1, Party::B, &[pay(90)], (100, 60)).expect("valid");
        assert_eq!((s2.seq, s2.balance_a, s2.balance_b), (2, 140, 20));
        assert_eq!(s2.balance_a + s2.balance_b, s2.deposited_a + s2.deposited_b);
    }

    #[test]
    fn invalid_rounds_are_typed_errors() {
        let s1 = next_state(&genesis(), Party::A, &[pay(10)], (100, 0)).expect("valid");
        assert_eq!(
            next_state(&s1, Party::A, &[pay(91)], (100, 0)),
            Err(EngineError::InsufficientBalance)
        );
        assert_eq!(
            next_state(&s1, Party::A, &[pay(0)], (100, 0)),
            Err(EngineError::ZeroPayment)
        );
        assert_eq!(
            next_state(&s1, Party::A, &[], (100, 0)),
            Err(EngineError::BadOpCount(0))
        );
        assert_eq!(
            next_state(&s1, Party::A, &[pay(1)], (99, 0)),
            Err(EngineError::DepositsWentBackwards)
        );
    }
}
