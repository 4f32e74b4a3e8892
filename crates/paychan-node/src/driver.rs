//! The driver of one party's channel: runs the engine's actions against a store, a ledger and
//! an outbox for the peer transport, in order. A failed persist stops everything after it, as
//! a crash would: nothing the store does not hold has left the process.

use std::collections::VecDeque;

use paychan_interface::{
    channel::{Channel, Party},
    client::ChannelAddress,
    error::PaychanError,
    state::StateBinding,
};
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::{
    engine::{
        Action, ChannelEngine, ChannelParams, CloseTerms, EngineError, Event, Input, PeerMessage,
        Record,
    },
    ledger::{self, cooperative, Landed, Ledger, LedgerError},
    store::{ChannelStore, StoreError},
    watcher::ChainRequest,
};

#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("storage failed: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Cosign(#[from] cooperative::CosignError),
    #[error("channel {0} does not exist on-chain")]
    NoChannel(paychan_interface::Address),
    #[error("{key} is neither party of channel {channel}")]
    NotAParty {
        key: paychan_interface::Address,
        channel: paychan_interface::Address,
    },
    #[error(
        "the channel names {named} as your state-signing key, not {signer}: sign with that \
         key, or do not transact on a channel that another key signs for you"
    )]
    SignerMismatch {
        named: paychan_interface::Address,
        signer: paychan_interface::Address,
    },
    #[error(
        "channel {0} was closed and opened again since this store joined it: the store's \
         states belong to the earlier channel; refusing to transact on the address"
    )]
    Reincarnated(paychan_interface::Address),
    #[error(
        "the channel's challenge period is {period} s, below this client's minimum of {min} s: \
         the other party could register a stale state and finalize it before a dispute lands; \
         refusing to transact on it"
    )]
    ChallengePeriodTooShort { period: u64, min: u64 },
}

impl DriverError {
    /// Whether the channel must stop (rather than refuse one input and go on): the store
    /// failed (restart from it), or it lost writes the peer has seen (signing on could sign
    /// two states for one seq).
    pub fn must_stop(&self) -> bool {
        matches!(
            self,
            DriverError::Store(_) | DriverError::Engine(EngineError::PeerSignedOtherState(_))
        )
    }
}

/// Refuses a channel that does not name `signer` as `party`'s state-signing key: whoever holds
/// the key it names (the opener, say) could sign this party's balance away. Checked before
/// joining and before depositing.
pub fn require_named_signer(
    channel: &Channel,
    party: Party,
    signer: &ed25519_dalek::SigningKey,
) -> Result<(), DriverError> {
    let signer = paychan_interface::Address::new_from_array(signer.verifying_key().to_bytes());
    let named = *channel.signer_key(party);
    if named == signer {
        Ok(())
    } else {
        Err(DriverError::SignerMismatch { named, signer })
    }
}

/// The shortest challenge period a party transacts on unless told otherwise. The program
/// accepts a single second; a hostile opener picking one could register a stale state and
/// finalize before the other party's next look at the chain.
pub const DEFAULT_MIN_CHALLENGE_PERIOD_SECS: u64 = 86_400;

/// What a party requires of a channel before it joins (and so before it signs anything).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JoinPolicy {
    /// The shortest challenge period accepted, in seconds.
    pub min_challenge_period_secs: u64,
}

impl Default for JoinPolicy {
    fn default() -> Self {
        Self {
            min_challenge_period_secs: DEFAULT_MIN_CHALLENGE_PERIOD_SECS,
        }
    }
}

impl JoinPolicy {
    /// Refuses a channel whose challenge period is below the minimum.
    pub fn check(&self, channel: &Channel) -> Result<(), DriverError> {
        self.check_period(channel.challenge_period_secs)
    }

    /// Refuses a challenge period (seconds) below the minimum.
    pub fn check_period(&self, period: u64) -> Result<(), DriverError> {
        let min = self.min_challenge_period_secs;
        if period < min {
            return Err(DriverError::ChallengePeriodTooShort { period, min });
        }
        Ok(())
    }
}

/// The compute-unit limit requested along with a priority fee: every paychan instruction stays
/// far below it (see the budget test), and a tight limit keeps the fee (limit × price) small.
pub const COMPUTE_UNIT_LIMIT: u32 = 20_000;

/// Slots a settlement waits out before giving up on the channel's opening slot passing.
const OPENING_SLOT_RETRIES: usize = 5;

/// One party's channel: engine + store + ledger.
#[derive(Debug)]
pub struct ChannelDriver<S, L> {
    engine: ChannelEngine,
    store: S,
    ledger: L,
    keypair: Keypair,
    channel: ChannelAddress,
    /// Messages for the peer, in order; the transport drains it.
    pub outbox: Vec<PeerMessage>,
    /// What happened, in order; the application drains it.
    pub events: Vec<Event>,
    /// Transactions this node landed.
    pub landed: Vec<Landed>,
    /// Priority fee in micro-lamports per compute unit for what this node submits (0: none).
    priority_fee: u64,
    /// The CloseCooperative transaction this party built and signed, waiting for the peer's
    /// signature.
    close_transaction: Option<(CloseTerms, solana_transaction::Transaction)>,
    /// The one look at the chain a peer message may trigger between two of the application's
    /// own looks ([`ChannelDriver::sync_chain`], or a chain view it feeds in) was taken: a
    /// peer cannot drive our RPC traffic.
    peer_look_taken: bool,
}

impl<S: ChannelStore, L: Ledger> ChannelDriver<S, L> {
    /// Joins `channel`, which must be open on-chain, and remembers it in `store`. Resumes from
    /// the store if it already knows the channel. `keypair` is this party's wallet and signs
    /// its states too.
    pub async fn join(
        store: S,
        ledger: L,
        keypair: Keypair,
        channel: ChannelAddress,
    ) -> Result<Self, DriverError> {
        let signer = ed25519_dalek::SigningKey::from_bytes(keypair.secret_bytes());
        Self::join_with_signer(store, ledger, keypair, signer, channel).await
    }

    /// Joins with a state-signing key apart from the wallet (a session key): the channel must
    /// name it as this party's signer. The wallet pays fees and signs transactions; `signer`
    /// signs every state and authenticates the peer link. The channel must meet the default
    /// [`JoinPolicy`].
    pub async fn join_with_signer(
        store: S,
        ledger: L,
        keypair: Keypair,
        signer: ed25519_dalek::SigningKey,
        channel: ChannelAddress,
    ) -> Result<Self, DriverError> {
        Self::join_with_policy(
            store,
            ledger,
            keypair,
            signer,
            channel,
            JoinPolicy::default(),
        )
        .await
    }

    /// [`ChannelDriver::join_with_signer`], refusing a channel that does not meet `policy`.
    pub async fn join_with_policy(
        mut store: S,
        mut ledger: L,
        keypair: Keypair,
        signer: ed25519_dalek::SigningKey,
        channel: ChannelAddress,
        policy: JoinPolicy,
    ) -> Result<Self, DriverError> {
        let me = match keypair.pubkey() {
            key if key == channel.party_a => Party::A,
            key if key == channel.party_b => Party::B,
            key => {
                return Err(DriverError::NotAParty {
                    key,
                    channel: channel.address,
                })
            }
        };
        let account = ledger.channel(&channel.address).await?;
        if let Some(account) = &account {
            require_named_signer(account, me, &signer)?;
        }
        let engine = match store.recover(&channel.address).await? {
            Some((params, recovered)) => {
                // States are bound to opened_slot: another incarnation at this address must
                // never see them, nor be served by this store.
                if account.is_some_and(|a| a.opened_slot != params.binding.opened_slot) {
                    return Err(DriverError::Reincarnated(channel.address));
                }
                ChannelEngine::recover(params, signer, recovered)
            }
            None => {
                // Checked when the store first takes the channel: a store that holds it has
                // states to guard, whatever the period.
                let account = account.ok_or(DriverError::NoChannel(channel.address))?;
                policy.check(&account)?;
                let params = ChannelParams {
                    binding: StateBinding {
                        program_id: channel.program_id,
                        channel: channel.address,
                        opened_slot: account.opened_slot,
                    },
                    signer_a: account.signer_a,
                    signer_b: account.signer_b,
                    me,
                };
                store.create_channel(&params).await?;
                ChannelEngine::new(params, signer)
            }
        };
        let mut node = Self {
            engine,
            store,
            ledger,
            keypair,
            channel,
            outbox: Vec::new(),
            events: Vec::new(),
            landed: Vec::new(),
            priority_fee: 0,
            close_transaction: None,
            peer_look_taken: false,
        };
        node.sync_chain().await?;
        Ok(node)
    }

    pub fn engine(&self) -> &ChannelEngine {
        &self.engine
    }

    pub fn ledger(&mut self) -> &mut L {
        &mut self.ledger
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// Gives back the store and the ledger, as a crash would leave them.
    pub fn into_parts(self) -> (S, L) {
        (self.store, self.ledger)
    }

    pub fn channel(&self) -> &ChannelAddress {
        &self.channel
    }

    /// Pays `micro_lamports` per compute unit (for [`COMPUTE_UNIT_LIMIT`] units) on every
    /// transaction this node submits itself, so disputes land fast on a busy cluster.
    pub fn set_priority_fee(&mut self, micro_lamports: u64) {
        self.priority_fee = micro_lamports;
    }

    /// Feeds one input and carries out every resulting action.
    pub async fn handle(&mut self, input: Input) -> Result<(), DriverError> {
        let from_peer = matches!(input, Input::Peer(_));
        if matches!(input, Input::Chain(_)) {
            self.peer_look_taken = false; // the application's own look: a tick
        }
        self.apply(input).await?;
        if from_peer && self.engine.waits_for_chain() && !self.peer_look_taken {
            // The peer saw a deposit first: look now rather than at the next tick, once.
            self.peer_look_taken = true;
            self.look_at_chain().await?;
        }
        Ok(())
    }

    async fn apply(&mut self, input: Input) -> Result<(), DriverError> {
        let actions = self.engine.handle(input)?;
        self.execute(actions.into()).await
    }

    /// Reads the channel and the clock, and lets the engine (and its watcher) react: the
    /// application's tick.
    pub async fn sync_chain(&mut self) -> Result<(), DriverError> {
        self.peer_look_taken = false;
        self.look_at_chain().await
    }

    async fn look_at_chain(&mut self) -> Result<(), DriverError> {
        if let Some((_, view)) = ledger::chain_view(&mut self.ledger, &self.channel.address).await?
        {
            self.apply(Input::Chain(view)).await?;
        }
        Ok(())
    }

    async fn execute(&mut self, mut actions: VecDeque<Action>) -> Result<(), DriverError> {
        while let Some(action) = actions.pop_front() {
            match action {
                Action::Persist(first) => {
                    // Consecutive records share one durable transaction.
                    let mut records: Vec<Record> = vec![first];
                    while let Some(Action::Persist(_)) = actions.front() {
                        if let Some(Action::Persist(next)) = actions.pop_front() {
                            records.push(next);
                        }
                    }
                    self.store.persist(&self.channel.address, &records).await?;
                }
                Action::Send(message) => self.outbox.push(message),
                Action::Notify(event) => self.events.push(event),
                Action::Submit(ChainRequest::CloseCooperative(terms)) => {
                    // Our own blockhash: the transaction we will submit is ours alone to date.
                    let blockhash = self.ledger.latest_blockhash().await?;
                    let request =
                        cooperative::request(&self.channel, terms, &self.keypair, blockhash);
                    let bytes = cooperative::serialize(&request);
                    self.close_transaction = Some((terms, request));
                    actions.extend(self.engine.handle(Input::CloseTransactionBuilt(bytes))?);
                }
                Action::Submit(request) => {
                    let instructions = request.instructions(&self.channel, &self.keypair.pubkey());
                    self.submit(&instructions).await?;
                }
                Action::CountersignClose { terms, transaction } => {
                    let signature = cooperative::countersign(
                        &transaction,
                        &self.channel,
                        terms,
                        &self.keypair,
                    )?;
                    let answer = Input::CloseCountersigned { terms, signature };
                    actions.extend(self.engine.handle(answer)?);
                }
                Action::SubmitCooperativeClose { terms, signature } => {
                    let built = self.close_transaction.take_if(|(built, _)| *built == terms);
                    let Some((_, transaction)) = built else {
                        continue; // a signature for a transaction a restart forgot: resent
                    };
                    let peer = self.peer_wallet();
                    let transaction = cooperative::complete(transaction, &peer, signature)?;
                    let landed = self.submit_signed(transaction).await?;
                    self.landed.push(landed);
                }
            }
        }
        Ok(())
    }

    /// The other party's wallet (it signs the CloseCooperative transaction).
    fn peer_wallet(&self) -> paychan_interface::Address {
        match self.engine.params().peer() {
            Party::A => self.channel.party_a,
            Party::B => self.channel.party_b,
        }
    }

    /// Signs `instructions` with this party as fee payer and lands them.
    pub async fn submit(&mut self, instructions: &[Instruction]) -> Result<(), DriverError> {
        let mut all = Vec::with_capacity(instructions.len() + 2);
        if self.priority_fee > 0 {
            // First in the transaction: the Ed25519 precompile must stay right before paychan.
            all.push(ComputeBudgetInstruction::set_compute_unit_limit(
                COMPUTE_UNIT_LIMIT,
            ));
            all.push(ComputeBudgetInstruction::set_compute_unit_price(
                self.priority_fee,
            ));
        }
        all.extend_from_slice(instructions);
        let landed = ledger::sign_and_submit(&mut self.ledger, &all, &[&self.keypair]).await?;
        self.landed.push(landed);
        Ok(())
    }

    /// Lands a fully signed transaction. The program refuses to settle in the channel's
    /// opening slot; a close agreed that fast lands a slot later instead of failing.
    async fn submit_signed(
        &mut self,
        transaction: solana_transaction::Transaction,
    ) -> Result<Landed, DriverError> {
        for _ in 0..OPENING_SLOT_RETRIES {
            match self.ledger.submit(transaction.clone()).await {
                Err(LedgerError::Program {
                    error: PaychanError::ChannelOpenedThisSlot,
                    ..
                }) => self.ledger.wait_for_next_slot().await?,
                other => return Ok(other?),
            }
        }
        Ok(self.ledger.submit(transaction).await?)
    }

    /// Unilateral close with the newest fully signed state (or the seq-0 state). The engine
    /// stops signing first (durably), so this party can never co-sign two states past what it
    /// registers and be punished for its own registration.
    pub async fn force_close(&mut self) -> Result<(), DriverError> {
        self.handle(Input::ForceClose).await
    }
}
