//! The vocabulary of the engine: its parameters, inputs, actions, persisted records and events.

use borsh::{BorshDeserialize, BorshSerialize};
use paychan_interface::{
    channel::Party,
    client::log::Op,
    state::{ChannelState, StateBinding},
    Address,
};

use super::messages::PeerMessage;
use crate::chain::{ChainRequest, ChainView, CloseTerms};

/// Which channel, and which side of it this engine plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChannelParams {
    pub binding: StateBinding,
    /// The keys that sign states for A and B (the channel's `signer_a`/`signer_b`: the
    /// wallets, or session keys).
    pub signer_a: Address,
    pub signer_b: Address,
    pub me: Party,
}

impl ChannelParams {
    pub fn peer(&self) -> Party {
        self.me.other()
    }

    pub fn key_of(&self, party: Party) -> &Address {
        match party {
            Party::A => &self.signer_a,
            Party::B => &self.signer_b,
        }
    }
}

/// A local payment to the peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, BorshSerialize, BorshDeserialize)]
pub struct Payment {
    pub id: [u8; 16],
    pub amount: u64,
}

impl Payment {
    pub fn op(&self) -> Op {
        Op::Pay {
            amount: self.amount,
            payment_id: self.id,
        }
    }
}

/// A state this party signed: durable before its signature leaves the process.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SignedByMe {
    pub state: ChannelState,
    pub ops: Vec<Op>,
    pub signature: [u8; 64],
}

/// A fully signed state with the operations it appended: a log entry and a receipt.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct LogEntry {
    pub state: ChannelState,
    pub ops: Vec<Op>,
    pub signature_a: [u8; 64],
    pub signature_b: [u8; 64],
}

impl LogEntry {
    /// This entry as the state `party` signed (its own half of the two signatures).
    pub fn signed_by(&self, party: Party) -> SignedByMe {
        SignedByMe {
            state: self.state,
            ops: self.ops.clone(),
            signature: match party {
                Party::A => self.signature_a,
                Party::B => self.signature_b,
            },
        }
    }
}

/// A proposal this party sent: durable first, so that after a crash it can still complete
/// (and only complete) the round the peer may already have signed.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Proposed {
    pub state: ChannelState,
    pub ops: Vec<Op>,
}

/// What must be durable, in order, before the actions after it run.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum Record {
    /// This party proposed a state (it signs it only once the peer has).
    Proposed(Proposed),
    /// This party signed a state (it never signs another with the same seq).
    Signed(SignedByMe),
    /// A state became fully signed.
    FullySigned(LogEntry),
    /// This party committed to a cooperative close: it proposes and accepts nothing more.
    Closing(CloseTerms),
    /// A unilateral close was requested or seen on-chain: this party signs no new seq.
    Unilateral,
    /// The peer refused this party's proposal for `seq` for good: a restart must not complete
    /// it (its payments were reported failed).
    ProposalWithdrawn { seq: u64 },
}

/// What the engine tells its user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Payments this party made are final (their state is fully signed and durable).
    Paid { seq: u64, payments: Vec<Payment> },
    /// Payments from the peer are final.
    Received { seq: u64, payments: Vec<Payment> },
    /// The peer refused a proposal; its payments are queued again or failed.
    ProposalRejected {
        seq: u64,
        reason: super::messages::RejectReason,
    },
    /// These payments will never be made: the peer refused their round, or the channel is
    /// closing. (Payments of a round refused for a reason that is not theirs are retried.)
    Dropped {
        payments: Vec<Payment>,
        reason: super::messages::RejectReason,
    },
    /// The peer sent something invalid; it was refused and nothing changed.
    PeerFault(super::EngineError),
    /// Both sides agreed to close at these terms.
    CloseAgreed(CloseTerms),
    /// The cooperative close at these terms did not land within
    /// [`COOPERATIVE_CLOSE_WAIT_SECS`](super::COOPERATIVE_CLOSE_WAIT_SECS) of chain time: this
    /// party registered the newest co-signed state instead (a unilateral close).
    CooperativeCloseStalled(CloseTerms),
    /// This party's store was behind (restored from an old copy, say): the peer showed a
    /// state both signed, at seq `to`, while the store held `from`; it is now the newest.
    /// Payments in between have no receipt here, but the balances are the channel's.
    CaughtUp { from: u64, to: u64 },
}

/// Everything that can happen to an engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// Pay the peer.
    Pay(Payment),
    /// Close cooperatively at the newest state once idle.
    Close,
    /// Close unilaterally now: stop signing, then register the newest co-signed state.
    ForceClose,
    /// A message from the peer.
    Peer(PeerMessage),
    /// A fresh view of the chain.
    Chain(ChainView),
    /// The link to the peer is (re)established: resynchronise.
    Connected,
    /// The driver built and signed the CloseCooperative transaction this party asked for
    /// (serialized); it goes to the peer for its signature.
    CloseTransactionBuilt(Vec<u8>),
    /// The driver checked the peer's CloseCooperative transaction and signed it: the signature
    /// goes back to the peer, which submits.
    CloseCountersigned {
        terms: CloseTerms,
        signature: [u8; 64],
    },
}

/// Side effects for the driver, to be carried out in order. A `Persist` must be durable before
/// any later action runs: that is how "persist before you sign" holds across crashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Persist(Record),
    Send(PeerMessage),
    Submit(ChainRequest),
    Notify(Event),
    /// The peer sent this CloseCooperative transaction for the agreed terms: check it is
    /// exactly that and sign it (answer with [`Input::CloseCountersigned`]); never submit it.
    CountersignClose {
        terms: CloseTerms,
        transaction: Vec<u8>,
    },
    /// The peer countersigned the CloseCooperative transaction this party built: add the
    /// signature and submit it.
    SubmitCooperativeClose {
        terms: CloseTerms,
        signature: [u8; 64],
    },
}
