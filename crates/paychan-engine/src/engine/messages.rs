//! Messages between the two parties (borsh on the wire).

use borsh::{BorshDeserialize, BorshSerialize};
use paychan_interface::{client::log::Op, state::ChannelState};

use super::types::{LogEntry, SignedByMe};
use crate::chain::CloseTerms;

/// One SMR round per seq: Propose (unsigned) → Accept (acceptor's signature) → Commit
/// (proposer's signature). Hello resynchronises after lost messages or a restart.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum PeerMessage {
    Propose {
        seq: u64,
        ops: Vec<Op>,
        state: ChannelState,
    },
    Accept {
        seq: u64,
        signature: [u8; 64],
    },
    Commit {
        seq: u64,
        signature: [u8; 64],
    },
    /// Refuses the proposal for `seq` whose state has `log_root` (which identifies it, so a
    /// late refusal of an older proposal is never mistaken for one of the current).
    Reject {
        seq: u64,
        log_root: [u8; 32],
        reason: RejectReason,
    },
    /// "My newest fully signed state is this one, and this is the newer state I signed and
    /// wait to see committed, if any."
    Hello {
        newest: Option<Box<LogEntry>>,
        pending: Option<Box<SignedByMe>>,
    },
    /// The sender stops transacting and asks to close at `terms`.
    CloseRequest {
        terms: CloseTerms,
    },
    /// The receiver agrees and stops transacting too.
    CloseAccept {
        terms: CloseTerms,
    },
    /// The requester's signed CloseCooperative transaction, for the receiver to countersign.
    CloseTransaction {
        terms: CloseTerms,
        transaction: Vec<u8>,
    },
    /// The receiver's signature on that transaction: the requester completes and submits it.
    CloseSignature {
        terms: CloseTerms,
        signature: [u8; 64],
    },
}

/// Why a proposal was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum RejectReason {
    /// Both proposed the same seq; A's proposal wins.
    Conflict,
    /// The proposal does not follow the acceptor's newest state (resync follows).
    WrongSeq,
    /// The proposal is invalid (bad amounts, balances, deposits or log root).
    Invalid,
    /// The acceptor is closing the channel.
    Closing,
    /// The acceptor already signed a different state for this seq: the proposer's store lost
    /// its proposal (restored from an old copy?).
    AlreadySigned,
}
