//! The round in flight, if any.

use paychan_interface::{client::log::Op, state::ChannelState};

use super::{messages::PeerMessage, types::Payment};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Round {
    Idle,
    /// We proposed `state` and wait for the peer's signature.
    Proposing(Proposal),
    /// We signed the peer's proposal for `seq` (kept in `signed`) and wait for its commit.
    Accepting {
        seq: u64,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    pub payments: Vec<Payment>,
    pub ops: Vec<Op>,
    pub state: ChannelState,
}

impl Proposal {
    pub fn message(&self) -> PeerMessage {
        PeerMessage::Propose {
            seq: self.state.seq,
            ops: self.ops.clone(),
            state: self.state,
        }
    }
}

/// The payments a log entry's operations made.
pub fn payments_of(ops: &[Op]) -> Vec<Payment> {
    ops.iter()
        .map(|op| match *op {
            Op::Pay { amount, payment_id } => Payment {
                id: payment_id,
                amount,
            },
        })
        .collect()
}
