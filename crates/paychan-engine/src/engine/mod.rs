//! The channel engine: one party's half of the two-person SMR (protocol §6), with no I/O.
//!
//! Feed it [`Input`]s; carry out the returned [`Action`]s in order. Every `Persist` must be
//! durable before the actions after it run, which gives the lock-step invariant: a signature
//! leaves only after it is stored, seq k+1 is signed only while seq k is stored fully signed, and
//! no seq is ever signed twice with different contents.

mod error;
mod messages;
mod queue;
mod round;
mod transition;
mod types;

#[cfg(test)]
mod tests;

pub use crate::chain::{ChainView, CloseTerms, RegisteredClose};
pub use error::EngineError;
pub use messages::{PeerMessage, RejectReason};
pub use transition::{next_state, MAX_OPS_PER_ROUND};
pub use types::{
    Action, ChannelParams, Event, Input, LogEntry, Payment, Proposed, Record, SignedByMe,
};

use ed25519_dalek::SigningKey;
use paychan_interface::{
    channel::Party,
    client::{log::genesis_log_root, sign_state, CoSignedState},
    ed25519::PartySignature,
    state::ChannelState,
};

use crate::{chain::ChainRequest, watcher};
use queue::PaymentQueue;
use round::Round;

/// How long (chain-clock seconds) a peer message may wait for a deposit this party's chain view
/// does not show: then it is refused. A deposit the peer saw confirmed shows here within
/// seconds; one that never does (a fork, or a peer that lies) must not hold the peer's round,
/// and its payments, forever. Nothing was signed, so refusing costs no one anything.
pub const DEPOSIT_WAIT_SECS: i64 = 120;

/// How long (chain-clock seconds) a cooperative close may go unfinished on-chain before this
/// party closes unilaterally with the newest co-signed state. A countersigned close lands in
/// seconds; a peer that agrees and never countersigns (or whose transaction never lands) must
/// not hold the channel, and every payment, forever.
pub const COOPERATIVE_CLOSE_WAIT_SECS: i64 = 120;

/// What survives a restart (see [`crate::engine::Record`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovered {
    /// The newest fully signed state.
    pub newest: Option<LogEntry>,
    /// The highest-seq state this party signed.
    pub signed: Option<SignedByMe>,
    /// The highest-seq state this party proposed.
    pub proposed: Option<Proposed>,
    pub closing: Option<CloseTerms>,
    /// A unilateral close was requested or seen on-chain: sign no new seq.
    pub unilateral: bool,
}

#[derive(Debug)]
pub struct ChannelEngine {
    params: ChannelParams,
    key: SigningKey,
    newest: Option<LogEntry>,
    signed: Option<SignedByMe>,
    round: Round,
    queue: PaymentQueue,
    chain: ChainView,
    closing: Option<CloseTerms>,
    close_wanted: bool,
    /// A close is registered (or this party asked for one) on-chain. A registrant that signed
    /// two more states would be punished for its own registration (protocol §4), so from here on
    /// this party signs no new seq: it only completes a state it already signed.
    unilateral: bool,
    /// A peer message that needs deposits the chain has not shown this party yet; it is
    /// handled again on every chain view (the peer saw the deposit first, not a fault), and
    /// refused after [`DEPOSIT_WAIT_SECS`].
    parked: Option<PeerMessage>,
    /// Chain time at which the peer's wait for an unseen deposit began. It belongs to the
    /// peer, not to a message: another message counting an unseen deposit does not restart
    /// it (alternating two would otherwise wait forever). A parked message that goes through,
    /// or deposits rising on-chain, end it.
    deposit_wait_since: Option<i64>,
    /// Whether `chain` holds a real view yet (its clock may read anything, zero included).
    chain_seen: bool,
    /// Chain time of the first view after this party asked for (or agreed to) a cooperative
    /// close: the start of [`COOPERATIVE_CLOSE_WAIT_SECS`].
    closing_since: Option<i64>,
}

impl ChannelEngine {
    /// A fresh channel at the implicit seq-0 state.
    pub fn new(params: ChannelParams, key: SigningKey) -> Self {
        Self::recover(params, key, Recovered::default())
    }

    /// Rebuilds the engine from what the store kept. A state signed by this party but not yet
    /// fully signed resumes as an open round waiting for the peer's commit.
    pub fn recover(params: ChannelParams, key: SigningKey, recovered: Recovered) -> Self {
        let newest_seq = recovered.newest.as_ref().map_or(0, |e| e.state.seq);
        let round = match (&recovered.signed, &recovered.proposed) {
            (Some(signed), _) if signed.state.seq > newest_seq => Round::Accepting {
                seq: signed.state.seq,
            },
            (_, Some(proposed)) if proposed.state.seq > newest_seq => {
                Round::Proposing(round::Proposal {
                    payments: round::payments_of(&proposed.ops),
                    ops: proposed.ops.clone(),
                    state: proposed.state,
                })
            }
            _ => Round::Idle,
        };
        Self {
            params,
            key,
            newest: recovered.newest,
            signed: recovered.signed,
            round,
            queue: PaymentQueue::default(),
            chain: ChainView::default(),
            closing: recovered.closing,
            close_wanted: recovered.closing.is_some(),
            unilateral: recovered.unilateral,
            parked: None,
            deposit_wait_since: None,
            chain_seen: false,
            closing_since: None,
        }
    }

    pub fn params(&self) -> &ChannelParams {
        &self.params
    }

    /// The newest fully signed state (the seq-0 state before the first payment).
    pub fn newest_state(&self) -> ChannelState {
        self.newest.as_ref().map_or_else(
            || ChannelState {
                log_root: genesis_log_root(&self.params.binding.channel),
                ..ChannelState::default()
            },
            |e| e.state,
        )
    }

    /// The newest state as a co-signed state for the chain, if any state was signed yet.
    pub fn newest_co_signed(&self) -> Option<CoSignedState> {
        self.newest.as_ref().map(|e| self.co_signed(e))
    }

    pub fn closing(&self) -> Option<CloseTerms> {
        self.closing
    }

    /// Whether a unilateral close is registered or requested: no new seq is signed.
    pub fn is_closing_on_chain(&self) -> bool {
        self.unilateral
    }

    /// Payments waiting for the next round.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Whether a round is in flight.
    pub fn is_idle(&self) -> bool {
        matches!(self.round, Round::Idle)
    }

    pub fn handle(&mut self, input: Input) -> Result<Vec<Action>, EngineError> {
        let mut actions = Vec::new();
        match input {
            Input::Pay(payment) => self.on_pay(payment, &mut actions)?,
            Input::Close => {
                self.close_wanted = true;
                self.maybe_close(&mut actions)?;
            }
            Input::Peer(message) => self.on_peer(message, &mut actions)?,
            Input::Chain(view) => self.on_chain(view, &mut actions)?,
            Input::ForceClose => {
                self.go_unilateral(&mut actions);
                actions.push(Action::Submit(ChainRequest::StartClose(
                    self.newest_co_signed(),
                )));
            }
            Input::Connected => {
                actions.push(Action::Send(self.hello()));
                if let Round::Proposing(proposal) = &self.round {
                    actions.push(Action::Send(proposal.message()));
                }
                // A close request or its acceptance may have been lost with the old link.
                if let Some(terms) = self.closing {
                    actions.push(Action::Send(PeerMessage::CloseRequest { terms }));
                }
            }
            Input::CloseTransactionBuilt(transaction) => {
                let terms = self.closing.ok_or(EngineError::Unexpected {
                    message: "close transaction",
                    seq: 0,
                })?;
                actions.push(Action::Send(PeerMessage::CloseTransaction {
                    terms,
                    transaction,
                }));
            }
            Input::CloseCountersigned { terms, signature } => {
                if self.closing != Some(terms) {
                    return Err(EngineError::CloseTermsMismatch);
                }
                actions.push(Action::Send(PeerMessage::CloseSignature {
                    terms,
                    signature,
                }));
            }
        }
        Ok(actions)
    }

    /// Where this party stands, for the peer to catch up (or to let it finish our round).
    fn hello(&self) -> PeerMessage {
        let newest_seq = self.newest_state().seq;
        PeerMessage::Hello {
            newest: self.newest.clone().map(Box::new),
            pending: self
                .signed
                .clone()
                .filter(|s| s.state.seq > newest_seq)
                .map(Box::new),
        }
    }

    fn on_pay(&mut self, payment: Payment, actions: &mut Vec<Action>) -> Result<(), EngineError> {
        if self.unilateral {
            return Err(EngineError::ClosingOnChain);
        }
        if self.close_wanted {
            return Err(EngineError::Closing);
        }
        if payment.amount == 0 {
            return Err(EngineError::ZeroPayment);
        }
        let spendable = self.spendable()?;
        self.queue.push_within(payment, spendable)?;
        self.maybe_propose(actions)
    }

    /// Stops signing new seqs for good (durably first), failing the own round in flight and
    /// every queued payment.
    fn go_unilateral(&mut self, actions: &mut Vec<Action>) {
        if self.unilateral {
            return;
        }
        self.unilateral = true;
        self.parked = None;
        actions.push(Action::Persist(Record::Unilateral));
        self.abandon_own_round(actions);
        self.drop_queue(actions);
    }

    /// Fails this party's round in flight for good (a restart never completes it) and reports
    /// its payments dropped; returns its seq, if there was one.
    fn abandon_own_round(&mut self, actions: &mut Vec<Action>) -> Option<u64> {
        let Round::Proposing(own) = std::mem::replace(&mut self.round, Round::Idle) else {
            return None;
        };
        let seq = own.state.seq;
        actions.push(Action::Persist(Record::ProposalWithdrawn { seq }));
        self.drop_payments(own.payments, RejectReason::Closing, actions);
        Some(seq)
    }

    /// Reports every queued payment dropped: the channel is closing.
    fn drop_queue(&mut self, actions: &mut Vec<Action>) {
        let queued = self.queue.take_all();
        self.drop_payments(queued, RejectReason::Closing, actions);
    }

    fn drop_payments(
        &mut self,
        payments: Vec<Payment>,
        reason: RejectReason,
        actions: &mut Vec<Action>,
    ) {
        if !payments.is_empty() {
            actions.push(Action::Notify(Event::Dropped { payments, reason }));
        }
    }

    /// What this party could pay now: its balance in the newest (or in-flight own) state plus
    /// deposits the chain shows since.
    fn spendable(&self) -> Result<u64, EngineError> {
        let base = match &self.round {
            Round::Proposing(proposal) => proposal.state,
            _ => self.newest_state(),
        };
        let me = self.params.me;
        let (deposited, seen) = match me {
            Party::A => (base.deposited_a, self.chain.deposited_a),
            Party::B => (base.deposited_b, self.chain.deposited_b),
        };
        transition::balance_of(&base, me)
            .checked_add(seen.saturating_sub(deposited))
            .ok_or(EngineError::Overflow)
    }

    /// Deposit counters for a new proposal: the newest state's, raised to what the chain shows.
    fn deposits_for(&self, base: &ChannelState) -> (u64, u64) {
        (
            base.deposited_a.max(self.chain.deposited_a),
            base.deposited_b.max(self.chain.deposited_b),
        )
    }

    fn maybe_propose(&mut self, actions: &mut Vec<Action>) -> Result<(), EngineError> {
        if !self.is_idle() || self.close_wanted || self.unilateral || self.queue.is_empty() {
            return Ok(());
        }
        let payments = self.queue.take_front(MAX_OPS_PER_ROUND);
        let ops: Vec<_> = payments.iter().map(Payment::op).collect();
        let base = self.newest_state();
        let state = next_state(&base, self.params.me, &ops, self.deposits_for(&base))?;
        let proposal = round::Proposal {
            payments,
            ops,
            state,
        };
        actions.push(Action::Persist(Record::Proposed(Proposed {
            state,
            ops: proposal.ops.clone(),
        })));
        actions.push(Action::Send(proposal.message()));
        self.round = Round::Proposing(proposal);
        Ok(())
    }

    fn maybe_close(&mut self, actions: &mut Vec<Action>) -> Result<(), EngineError> {
        if !self.close_wanted || self.closing.is_some() || !self.is_idle() {
            return Ok(());
        }
        let terms = self.close_terms()?;
        self.closing = Some(terms);
        actions.push(Action::Persist(Record::Closing(terms)));
        actions.push(Action::Send(PeerMessage::CloseRequest { terms }));
        self.drop_queue(actions);
        Ok(())
    }

    /// Cooperative-close balances: the newest state, plus deposits made since, returned.
    fn close_terms(&self) -> Result<CloseTerms, EngineError> {
        let newest = self.newest_state();
        let (deposited_a, deposited_b) = self.deposits_for(&newest);
        let payouts =
            paychan_interface::settlement::state_payouts(&newest, deposited_a, deposited_b)
                .map_err(|_| EngineError::Overflow)?;
        Ok(CloseTerms {
            seq: newest.seq,
            balance_a: payouts.a,
            balance_b: payouts.b,
        })
    }

    fn on_chain(&mut self, view: ChainView, actions: &mut Vec<Action>) -> Result<(), EngineError> {
        if view.deposited_a > self.chain.deposited_a || view.deposited_b > self.chain.deposited_b {
            // A deposit landed: whatever the peer waits for may show now; a fresh wait.
            self.deposit_wait_since = None;
        }
        self.chain_seen = true;
        self.chain = ChainView {
            deposited_a: self.chain.deposited_a.max(view.deposited_a),
            deposited_b: self.chain.deposited_b.max(view.deposited_b),
            ..view
        };
        if self.chain.closing.is_some() {
            self.go_unilateral(actions);
        } else {
            self.reterm_close(actions)?;
            self.fall_back_if_close_stalled(actions);
        }
        if let Some(request) = watcher::decide(self.newest_co_signed().as_ref(), &self.chain) {
            actions.push(Action::Submit(request));
        }
        self.retry_parked(actions)
    }

    /// A cooperative close the chain still does not show after [`COOPERATIVE_CLOSE_WAIT_SECS`]
    /// becomes a unilateral close of the newest co-signed state.
    fn fall_back_if_close_stalled(&mut self, actions: &mut Vec<Action>) {
        let Some(terms) = self.closing.filter(|_| !self.unilateral) else {
            return;
        };
        let since = *self.closing_since.get_or_insert(self.chain.now);
        if self.chain.now.saturating_sub(since) < COOPERATIVE_CLOSE_WAIT_SECS {
            return;
        }
        actions.push(Action::Notify(Event::CooperativeCloseStalled(terms)));
        self.go_unilateral(actions);
        actions.push(Action::Submit(ChainRequest::StartClose(
            self.newest_co_signed(),
        )));
    }

    /// Handles the parked message again with the new chain view; refuses it once the peer has
    /// waited [`DEPOSIT_WAIT_SECS`] for a deposit that still does not show.
    fn retry_parked(&mut self, actions: &mut Vec<Action>) -> Result<(), EngineError> {
        let Some(message) = self.parked.take() else {
            return Ok(());
        };
        // Parked before any chain view: the wait starts with the first, whatever its clock.
        let since = *self.deposit_wait_since.get_or_insert(self.chain.now);
        self.on_peer(message, actions)?;
        let waited = self.chain.now.saturating_sub(since);
        match self.parked.take() {
            None => self.deposit_wait_since = None,
            Some(still) if waited < DEPOSIT_WAIT_SECS => self.parked = Some(still),
            Some(message) => {
                let answer = match message {
                    PeerMessage::Propose { seq, state, .. } => PeerMessage::Reject {
                        seq,
                        log_root: state.log_root,
                        reason: RejectReason::Invalid,
                    },
                    _ => self.hello(),
                };
                actions.push(Action::Send(answer));
                actions.push(Action::Notify(Event::PeerFault(
                    EngineError::DepositsNotSeen,
                )));
            }
        }
        Ok(())
    }

    /// Keeps `message` until the chain shows the deposit it counts (the newest such message
    /// replaces an older one; the wait goes on, see `deposit_wait_since`).
    fn park(&mut self, message: PeerMessage) {
        if self.chain_seen && self.deposit_wait_since.is_none() {
            self.deposit_wait_since = Some(self.chain.now);
        }
        self.parked = Some(message);
    }

    /// A close asked for before this party saw a deposit the peer saw asks again at the new
    /// terms (deposits only rise, so this settles). Nothing was signed for the old terms.
    fn reterm_close(&mut self, actions: &mut Vec<Action>) -> Result<(), EngineError> {
        let Some(terms) = self.closing else {
            return Ok(());
        };
        let current = self.close_terms()?;
        if current != terms && current.seq == terms.seq {
            self.closing = Some(current);
            actions.push(Action::Persist(Record::Closing(current)));
            actions.push(Action::Send(PeerMessage::CloseRequest { terms: current }));
        }
        Ok(())
    }

    /// Whether `state` counts deposits this party's chain view does not show yet.
    fn deposits_unseen(&self, deposited_a: u64, deposited_b: u64) -> bool {
        let newest = self.newest_state();
        deposited_a > self.chain.deposited_a.max(newest.deposited_a)
            || deposited_b > self.chain.deposited_b.max(newest.deposited_b)
    }

    /// Whether a peer message waits for the chain to show a deposit (kept in `parked`): the
    /// driver looks at the chain at once, then at every tick.
    pub fn waits_for_chain(&self) -> bool {
        self.parked.is_some()
    }

    fn on_peer(
        &mut self,
        message: PeerMessage,
        actions: &mut Vec<Action>,
    ) -> Result<(), EngineError> {
        match message {
            PeerMessage::Propose { seq, ops, state } => self.on_propose(seq, ops, state, actions),
            PeerMessage::Accept { seq, signature } => self.on_accept(seq, signature, actions),
            PeerMessage::Commit { seq, signature } => self.on_commit(seq, signature, actions),
            PeerMessage::Reject {
                seq,
                log_root,
                reason,
            } => self.on_reject(seq, log_root, reason, actions),
            PeerMessage::Hello { newest, pending } => {
                self.on_hello(newest.map(|e| *e), pending.map(|p| *p), actions)
            }
            PeerMessage::CloseRequest { terms } => self.on_close_request(terms, actions),
            PeerMessage::CloseAccept { terms } => {
                if self.closing != Some(terms) {
                    return Err(EngineError::CloseTermsMismatch);
                }
                actions.push(Action::Notify(Event::CloseAgreed(terms)));
                actions.push(Action::Submit(ChainRequest::CloseCooperative(terms)));
                Ok(())
            }
            PeerMessage::CloseTransaction { terms, transaction } => {
                if self.closing != Some(terms) {
                    return Err(EngineError::CloseTermsMismatch);
                }
                actions.push(Action::CountersignClose { terms, transaction });
                Ok(())
            }
            PeerMessage::CloseSignature { terms, signature } => {
                if self.closing != Some(terms) {
                    return Err(EngineError::CloseTermsMismatch);
                }
                actions.push(Action::SubmitCooperativeClose { terms, signature });
                Ok(())
            }
        }
    }

    fn on_propose(
        &mut self,
        seq: u64,
        ops: Vec<paychan_interface::client::log::Op>,
        state: ChannelState,
        actions: &mut Vec<Action>,
    ) -> Result<(), EngineError> {
        let log_root = state.log_root;
        let reject = |reason| {
            Action::Send(PeerMessage::Reject {
                seq,
                log_root,
                reason,
            })
        };
        if self.closing.is_some() || self.unilateral {
            actions.push(reject(RejectReason::Closing));
            return Ok(());
        }
        let newest = self.newest_state();
        let expected_seq = newest.seq.saturating_add(1);
        if seq != expected_seq {
            // One of us missed a message: tell the peer where we stand.
            actions.push(reject(RejectReason::WrongSeq));
            actions.push(Action::Send(self.hello()));
            return Ok(());
        }
        if let Some(signed) = self.signed.as_ref().filter(|s| s.state.seq == seq) {
            // Already signed this seq: repeat the same signature, never sign another state.
            if signed.state == state && signed.ops == ops {
                actions.push(Action::Send(PeerMessage::Accept {
                    seq,
                    signature: signed.signature,
                }));
                return Ok(());
            }
            // A peer whose store lost its proposal proposes afresh: tell it we signed another
            // state for this seq, the only one we will ever sign for it.
            actions.push(reject(RejectReason::AlreadySigned));
            actions.push(Action::Send(self.hello()));
            actions.push(Action::Notify(Event::PeerFault(EngineError::Equivocation(
                seq,
            ))));
            return Ok(());
        }
        if self.deposits_unseen(state.deposited_a, state.deposited_b) {
            self.park(PeerMessage::Propose { seq, ops, state });
            return Ok(());
        }
        if let Err(error) = self.check_proposal(&newest, &ops, &state) {
            actions.push(reject(RejectReason::Invalid));
            actions.push(Action::Notify(Event::PeerFault(error)));
            return Ok(());
        }
        if let Round::Proposing(own) = &self.round {
            // Concurrent valid proposals for the same seq: A's wins. (An honest A that proposed
            // never signed B's, so B may drop its own.)
            if self.params.me == Party::A {
                actions.push(reject(RejectReason::Conflict));
                return Ok(());
            }
            self.queue.requeue(&own.payments);
            self.round = Round::Idle;
        }
        let signature = sign_state(&self.key, &state, &self.params.binding).signature;
        let signed = SignedByMe {
            state,
            ops,
            signature,
        };
        actions.push(Action::Persist(Record::Signed(signed.clone())));
        actions.push(Action::Send(PeerMessage::Accept { seq, signature }));
        self.signed = Some(signed);
        self.round = Round::Accepting { seq };
        Ok(())
    }

    /// The acceptor recomputes the proposed state itself: same ops, same deposits, same bytes.
    fn check_proposal(
        &self,
        newest: &ChannelState,
        ops: &[paychan_interface::client::log::Op],
        state: &ChannelState,
    ) -> Result<(), EngineError> {
        if state.deposited_a > self.chain.deposited_a.max(newest.deposited_a)
            || state.deposited_b > self.chain.deposited_b.max(newest.deposited_b)
        {
            return Err(EngineError::DepositsNotSeen);
        }
        let expected = next_state(
            newest,
            self.params.peer(),
            ops,
            (state.deposited_a, state.deposited_b),
        )?;
        if expected != *state {
            return Err(EngineError::StateMismatch);
        }
        Ok(())
    }

    fn on_accept(
        &mut self,
        seq: u64,
        signature: [u8; 64],
        actions: &mut Vec<Action>,
    ) -> Result<(), EngineError> {
        if self.unilateral {
            return Ok(()); // the own round was failed when the close began; sign nothing new
        }
        let Round::Proposing(proposal) = &self.round else {
            return self.stale_or_unexpected("accept", seq);
        };
        if proposal.state.seq != seq {
            return self.stale_or_unexpected("accept", seq);
        }
        let theirs = self.peer_signature(signature);
        paychan_interface::client::verify_state_signature(
            &theirs,
            &proposal.state,
            &self.params.binding,
        )
        .map_err(|_| EngineError::BadSignature)?;
        let Round::Proposing(proposal) = std::mem::replace(&mut self.round, Round::Idle) else {
            unreachable!("matched above");
        };
        let mine = sign_state(&self.key, &proposal.state, &self.params.binding).signature;
        let entry = self.entry(proposal.state, proposal.ops, mine, signature);
        actions.push(Action::Persist(Record::FullySigned(entry.clone())));
        actions.push(Action::Send(PeerMessage::Commit {
            seq,
            signature: mine,
        }));
        actions.push(Action::Notify(Event::Paid {
            seq,
            payments: proposal.payments,
        }));
        self.signed = Some(entry.signed_by(self.params.me));
        self.newest = Some(entry);
        self.after_round(actions)
    }

    fn on_commit(
        &mut self,
        seq: u64,
        signature: [u8; 64],
        actions: &mut Vec<Action>,
    ) -> Result<(), EngineError> {
        let accepting = matches!(self.round, Round::Accepting { seq: s } if s == seq);
        let Some(signed) = self.signed.as_ref().filter(|_| accepting) else {
            return self.stale_or_unexpected("commit", seq);
        };
        let theirs = self.peer_signature(signature);
        paychan_interface::client::verify_state_signature(
            &theirs,
            &signed.state,
            &self.params.binding,
        )
        .map_err(|_| EngineError::BadSignature)?;
        let entry = self.entry(
            signed.state,
            signed.ops.clone(),
            signed.signature,
            signature,
        );
        self.accept_entry(entry, actions);
        self.after_round(actions)
    }

    /// Stores a fully signed entry the peer completed and reports its payments as received.
    fn accept_entry(&mut self, entry: LogEntry, actions: &mut Vec<Action>) {
        let payments = round::payments_of(&entry.ops);
        let seq = entry.state.seq;
        actions.push(Action::Persist(Record::FullySigned(entry.clone())));
        actions.push(Action::Notify(Event::Received { seq, payments }));
        self.newest = Some(entry);
        self.round = Round::Idle;
    }

    fn after_round(&mut self, actions: &mut Vec<Action>) -> Result<(), EngineError> {
        self.maybe_close(actions)?;
        self.maybe_propose(actions)
    }

    fn on_reject(
        &mut self,
        seq: u64,
        log_root: [u8; 32],
        reason: RejectReason,
        actions: &mut Vec<Action>,
    ) -> Result<(), EngineError> {
        let Round::Proposing(proposal) = &self.round else {
            return Ok(());
        };
        if proposal.state.seq != seq || proposal.state.log_root != log_root {
            return Ok(());
        }
        if reason == RejectReason::WrongSeq {
            // The peer is behind or ahead and sent a Hello with it: once it catches up, the
            // proposal (which it may still sign) is sent again.
            return Ok(());
        }
        if reason == RejectReason::AlreadySigned {
            // The peer signed another state for this seq, which this store does not hold: it
            // lost writes (restored from an old copy?). Proposing again would loop forever.
            return Err(EngineError::PeerSignedOtherState(seq));
        }
        let Round::Proposing(proposal) = std::mem::replace(&mut self.round, Round::Idle) else {
            return Ok(());
        };
        actions.push(Action::Notify(Event::ProposalRejected { seq, reason }));
        match reason {
            // Not the payments' fault: they go first into the next proposal.
            RejectReason::Conflict | RejectReason::WrongSeq | RejectReason::AlreadySigned => {
                self.queue.requeue(&proposal.payments);
            }
            // Refused for good: never complete it after a restart either.
            RejectReason::Invalid | RejectReason::Closing => {
                actions.push(Action::Persist(Record::ProposalWithdrawn { seq }));
                self.drop_payments(proposal.payments, reason, actions);
            }
        }
        Ok(())
    }

    fn on_hello(
        &mut self,
        theirs: Option<LogEntry>,
        pending: Option<SignedByMe>,
        actions: &mut Vec<Action>,
    ) -> Result<(), EngineError> {
        let mine = self.newest_state().seq;
        let their_seq = theirs.as_ref().map_or(0, |e| e.state.seq);
        if their_seq < mine {
            actions.push(Action::Send(self.hello()));
            return Ok(());
        }
        if let Some(entry) = theirs.filter(|_| their_seq > mine) {
            // A state ahead of ours must carry our own signature: we signed it, so it is the
            // channel's truth whether we still hold it or not.
            self.check_co_signed(&entry)?;
            if let Round::Proposing(own) = std::mem::replace(&mut self.round, Round::Idle) {
                self.queue.requeue(&own.payments);
            }
            if self.completes_peer_round(&entry) {
                // The peer completed a round whose commit never reached us.
                self.accept_entry(entry, actions);
            } else {
                self.adopt(entry, mine, actions);
            }
            // Tell the peer we caught up, so it can (re)send a proposal for the next seq.
            actions.push(Action::Send(self.hello()));
            return self.after_round(actions);
        }
        if let Round::Proposing(proposal) = &self.round {
            // The peer signed our proposal but the accept was lost (or we crashed): finish it.
            // Only a proposal we stored ourselves is ever completed this way.
            if let Some(signed) =
                pending.filter(|p| p.state == proposal.state && p.ops == proposal.ops)
            {
                return self.on_accept(signed.state.seq, signed.signature, actions);
            }
            actions.push(Action::Send(proposal.message()));
        }
        self.maybe_propose(actions)
    }

    /// Whether `entry` is the peer's proposal on top of our newest state (only the proposer
    /// completes a round first), i.e. the usual lost-commit catch-up.
    fn completes_peer_round(&self, entry: &LogEntry) -> bool {
        let newest = self.newest_state();
        if entry.state.seq != newest.seq.saturating_add(1) {
            return false;
        }
        let expected = next_state(
            &newest,
            self.params.peer(),
            &entry.ops,
            (entry.state.deposited_a, entry.state.deposited_b),
        );
        expected.is_ok_and(|expected| expected == entry.state)
    }

    /// Our store is behind a state both of us signed (restored from an old copy, or a round
    /// we proposed whose commit we lost): adopt it, durably, before anything else. Closing
    /// with what we still held would register a state older than one the peer can prove we
    /// signed, and the peer's watcher would take the whole channel (Lightning's data-loss
    /// protection answers the same threat).
    fn adopt(&mut self, entry: LogEntry, behind: u64, actions: &mut Vec<Action>) {
        let seq = entry.state.seq;
        actions.push(Action::Persist(Record::FullySigned(entry.clone())));
        actions.push(Action::Notify(Event::CaughtUp {
            from: behind,
            to: seq,
        }));
        if self.signed.as_ref().is_none_or(|s| s.state.seq <= seq) {
            self.signed = Some(entry.signed_by(self.params.me));
        }
        self.newest = Some(entry);
        self.round = Round::Idle;
    }

    fn on_close_request(
        &mut self,
        terms: CloseTerms,
        actions: &mut Vec<Action>,
    ) -> Result<(), EngineError> {
        if self.closing == Some(terms) {
            // Both asked (or a reconnect repeats the request): A drives the close, so only B
            // answers, and exactly one CloseCooperative transaction is built.
            if self.params.me == Party::B {
                actions.push(Action::Send(PeerMessage::CloseAccept { terms }));
            }
            return Ok(());
        }
        let own = self.close_terms()?;
        if terms != own {
            let total = terms.balance_a.checked_add(terms.balance_b);
            if total > own.balance_a.checked_add(own.balance_b) {
                // The peer counts a deposit our chain view does not show yet.
                self.park(PeerMessage::CloseRequest { terms });
                return Ok(());
            }
            actions.push(Action::Send(self.hello()));
            return Err(EngineError::CloseTermsMismatch);
        }
        // An own proposal in flight fails; a signature of ours on a newer seq stays valid but
        // the close pays the newest fully signed state.
        if let Some(seq) = self.abandon_own_round(actions) {
            actions.push(Action::Notify(Event::ProposalRejected {
                seq,
                reason: RejectReason::Closing,
            }));
        }
        self.drop_queue(actions);
        self.close_wanted = true;
        self.closing = Some(terms);
        actions.push(Action::Persist(Record::Closing(terms)));
        actions.push(Action::Send(PeerMessage::CloseAccept { terms }));
        actions.push(Action::Notify(Event::CloseAgreed(terms)));
        Ok(())
    }

    fn stale_or_unexpected(&self, message: &'static str, seq: u64) -> Result<(), EngineError> {
        if seq <= self.newest_state().seq {
            Ok(()) // a duplicate of a finished round
        } else {
            Err(EngineError::Unexpected { message, seq })
        }
    }

    fn peer_signature(&self, signature: [u8; 64]) -> PartySignature {
        PartySignature {
            pubkey: self.params.key_of(self.params.peer()).to_bytes(),
            signature,
        }
    }

    fn entry(
        &self,
        state: ChannelState,
        ops: Vec<paychan_interface::client::log::Op>,
        mine: [u8; 64],
        theirs: [u8; 64],
    ) -> LogEntry {
        let (signature_a, signature_b) = match self.params.me {
            Party::A => (mine, theirs),
            Party::B => (theirs, mine),
        };
        LogEntry {
            state,
            ops,
            signature_a,
            signature_b,
        }
    }

    fn co_signed(&self, entry: &LogEntry) -> CoSignedState {
        CoSignedState {
            binding: self.params.binding,
            state: entry.state,
            a: PartySignature {
                pubkey: self.params.signer_a.to_bytes(),
                signature: entry.signature_a,
            },
            b: PartySignature {
                pubkey: self.params.signer_b.to_bytes(),
                signature: entry.signature_b,
            },
        }
    }

    fn check_co_signed(&self, entry: &LogEntry) -> Result<(), EngineError> {
        self.co_signed(entry)
            .verify(&self.params.signer_a, &self.params.signer_b)
            .map_err(|_| EngineError::BadSignature)
    }
}
