//! A test harness: two engines with in-memory "drivers" that record what they did.

use ed25519_dalek::SigningKey;
use paychan_interface::{
    channel::Party,
    state::{ChannelState, StateBinding},
    Address,
};

use crate::engine::*;
use crate::store::ChannelStore;
use crate::watcher::ChainRequest;

pub const SOL: u64 = 1_000_000_000;

/// One party: its engine plus everything its driver did.
pub struct Node {
    pub engine: ChannelEngine,
    pub key: SigningKey,
    pub records: Vec<Record>,
    pub outbox: Vec<PeerMessage>,
    pub events: Vec<Event>,
    pub submitted: Vec<ChainRequest>,
}

impl Node {
    pub fn new(me: Party, keys: &[SigningKey; 2]) -> Self {
        let key = keys[me as usize - 1].clone();
        Self {
            engine: ChannelEngine::new(params(me, keys), key.clone()),
            key,
            records: vec![],
            outbox: vec![],
            events: vec![],
            submitted: vec![],
        }
    }

    pub fn run(&mut self, input: Input) -> Result<(), EngineError> {
        for action in self.engine.handle(input)? {
            match action {
                Action::Persist(record) => self.records.push(record),
                Action::Send(message) => self.outbox.push(message),
                Action::Notify(event) => self.events.push(event),
                Action::Submit(request) => self.submitted.push(request),
                Action::CountersignClose { .. } | Action::SubmitCooperativeClose { .. } => {}
            }
        }
        Ok(())
    }

    pub fn pay(&mut self, amount: u64, id: u8) -> Result<(), EngineError> {
        self.run(Input::Pay(Payment {
            id: [id; 16],
            amount,
        }))
    }

    pub fn chain(&mut self, deposited_a: u64, deposited_b: u64) {
        self.chain_at(deposited_a, deposited_b, 0);
    }

    /// A chain view observed at unix time `now`.
    pub fn chain_at(&mut self, deposited_a: u64, deposited_b: u64, now: i64) {
        self.run(Input::Chain(ChainView {
            deposited_a,
            deposited_b,
            now,
            ..ChainView::default()
        }))
        .expect("chain views are always accepted");
    }

    /// What a restart would rebuild from everything persisted so far.
    pub fn recovered(&self) -> Recovered {
        let mut store = crate::store::MemoryStore::new();
        let params = *self.engine.params();
        let channel = params.binding.channel;
        crate::store::block_on(async {
            store.create_channel(&params).await.expect("create");
            store
                .persist(&channel, &self.records)
                .await
                .expect("persist");
            store
                .recover(&channel)
                .await
                .expect("recover")
                .expect("known")
                .1
        })
    }

    pub fn restart(&mut self) {
        let params = *self.engine.params();
        self.engine = ChannelEngine::recover(params, self.key.clone(), self.recovered());
        self.outbox.clear();
    }

    pub fn signed_states(&self) -> Vec<ChannelState> {
        self.records
            .iter()
            .filter_map(|r| match r {
                Record::Signed(s) => Some(s.state),
                Record::FullySigned(e) => Some(e.state),
                Record::Proposed(_)
                | Record::Closing(_)
                | Record::Unilateral
                | Record::ProposalWithdrawn { .. } => None,
            })
            .collect()
    }
}

pub fn keys() -> [SigningKey; 2] {
    [
        SigningKey::from_bytes(&[1; 32]),
        SigningKey::from_bytes(&[2; 32]),
    ]
}

pub fn params(me: Party, keys: &[SigningKey; 2]) -> ChannelParams {
    ChannelParams {
        binding: StateBinding {
            program_id: paychan_interface::ID,
            channel: Address::new_from_array([9; 32]),
            opened_slot: 5,
        },
        signer_a: Address::new_from_array(keys[0].verifying_key().to_bytes()),
        signer_b: Address::new_from_array(keys[1].verifying_key().to_bytes()),
        me,
    }
}

/// A (10 SOL) and B (5 SOL), both seeing the deposits.
pub fn pair() -> (Node, Node) {
    let keys = keys();
    let (mut a, mut b) = (Node::new(Party::A, &keys), Node::new(Party::B, &keys));
    a.chain(10 * SOL, 5 * SOL);
    b.chain(10 * SOL, 5 * SOL);
    (a, b)
}

/// Delivers every queued message both ways until both outboxes are empty.
pub fn settle(a: &mut Node, b: &mut Node) {
    for _ in 0..10_000 {
        if a.outbox.is_empty() && b.outbox.is_empty() {
            return;
        }
        for message in std::mem::take(&mut a.outbox) {
            b.run(Input::Peer(message))
                .expect("honest message accepted");
        }
        for message in std::mem::take(&mut b.outbox) {
            a.run(Input::Peer(message))
                .expect("honest message accepted");
        }
    }
    panic!("messages never settled");
}

pub fn paid(node: &Node) -> u64 {
    node.events
        .iter()
        .filter_map(|e| match e {
            Event::Paid { payments, .. } => Some(payments.len() as u64),
            _ => None,
        })
        .sum()
}

pub fn received(node: &Node) -> u64 {
    node.events
        .iter()
        .filter_map(|e| match e {
            Event::Received { payments, .. } => Some(payments.len() as u64),
            _ => None,
        })
        .sum()
}
