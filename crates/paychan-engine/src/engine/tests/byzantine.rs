//! One honest party (B) against a byzantine link and peer: messages from A are dropped,
//! duplicated, reordered, replayed or forged, and either side may crash and restart. B must
//! never sign two states for one seq, never hold a state that is not validly co-signed, and
//! its balance must always equal its deposit plus what it received minus what it paid. Once the
//! link heals, both sides agree — unless old messages were replayed or duplicated: a replayed
//! stale proposal can stall the channel (never cost B money), and preventing replays is the
//! authenticated transport's job.

use paychan_interface::{channel::Party, client::log::Op, state::ChannelState};
use proptest::prelude::*;

use super::harness::*;
use crate::engine::*;

#[derive(Clone, Debug)]
enum Step {
    PayA(u64),
    PayB(u64),
    /// Deliver the i-th pending message (not necessarily the first: reordering).
    DeliverToB(usize),
    DeliverToA(usize),
    DropToB(usize),
    DropToA(usize),
    /// Deliver a copy and keep the original queued.
    DuplicateToB(usize),
    /// Deliver again something A sent earlier.
    ReplayToB(usize),
    Forge(Forgery),
    RestartA,
    RestartB,
    Reconnect,
}

#[derive(Clone, Debug)]
enum Forgery {
    /// A proposal where A takes lamports from B.
    StealingPropose(u64),
    /// A commit or accept with a made-up signature.
    Signature(u8),
    /// A hello claiming a newer fully signed state that B never signed.
    Hello(u64),
    /// A pending state B is asked to adopt.
    Pending(u64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (1u64..SOL).prop_map(Step::PayA),
        2 => (1u64..SOL).prop_map(Step::PayB),
        5 => (0usize..3).prop_map(Step::DeliverToB),
        5 => (0usize..3).prop_map(Step::DeliverToA),
        1 => (0usize..3).prop_map(Step::DropToB),
        1 => (0usize..3).prop_map(Step::DropToA),
        1 => (0usize..3).prop_map(Step::DuplicateToB),
        1 => (0usize..50).prop_map(Step::ReplayToB),
        1 => prop_oneof![
            (1u64..SOL).prop_map(Forgery::StealingPropose),
            any::<u8>().prop_map(Forgery::Signature),
            (1u64..SOL).prop_map(Forgery::Hello),
            (1u64..SOL).prop_map(Forgery::Pending),
        ]
        .prop_map(Step::Forge),
        1 => Just(Step::RestartA),
        1 => Just(Step::RestartB),
        1 => Just(Step::Reconnect),
    ]
}

struct World {
    a: Node,
    b: Node,
    /// Everything A ever sent, for replays.
    sent_by_a: Vec<PeerMessage>,
    replayed: bool,
}

impl World {
    fn deliver_to_b(&mut self, index: usize, keep: bool) {
        if self.a.outbox.is_empty() {
            return;
        }
        let index = index % self.a.outbox.len();
        let message = if keep {
            self.a.outbox[index].clone()
        } else {
            self.a.outbox.remove(index)
        };
        self.sent_by_a.push(message.clone());
        // Refusals are fine; panics and broken invariants are not.
        let _ = self.b.run(Input::Peer(message));
    }

    fn deliver_to_a(&mut self, index: usize) {
        if self.b.outbox.is_empty() {
            return;
        }
        let message = self.b.outbox.remove(index % self.b.outbox.len());
        let _ = self.a.run(Input::Peer(message));
    }

    fn forge(&mut self, forgery: Forgery) {
        let newest = self.b.engine.newest_state();
        let seq = newest.seq + 1;
        let pay_b = |amount| {
            vec![Op::Pay {
                amount,
                payment_id: [0xEE; 16],
            }]
        };
        let deposits = (
            newest.deposited_a.max(10 * SOL),
            newest.deposited_b.max(5 * SOL),
        );
        let message = match forgery {
            Forgery::StealingPropose(amount) => {
                // Claims B pays A: a valid-looking state with B as the payer.
                let ops = pay_b(amount);
                match next_state(&newest, Party::B, &ops, deposits) {
                    Ok(state) => PeerMessage::Propose { seq, ops, state },
                    Err(_) => return,
                }
            }
            Forgery::Signature(byte) => PeerMessage::Commit {
                seq: self.b.engine.newest_state().seq + 1,
                signature: [byte; 64],
            },
            Forgery::Hello(amount) => {
                let ops = pay_b(amount);
                let Ok(state) = next_state(&newest, Party::A, &ops, deposits) else {
                    return;
                };
                let a_sig = paychan_interface::client::sign_state(
                    &self.a.key,
                    &state,
                    &self.a.engine.params().binding,
                );
                PeerMessage::Hello {
                    newest: Some(Box::new(LogEntry {
                        state,
                        ops,
                        signature_a: a_sig.signature,
                        signature_b: [7; 64],
                    })),
                    pending: None,
                }
            }
            Forgery::Pending(amount) => {
                let ops = pay_b(amount);
                let Ok(state) = next_state(&newest, Party::B, &ops, deposits) else {
                    return;
                };
                let a_sig = paychan_interface::client::sign_state(
                    &self.a.key,
                    &state,
                    &self.a.engine.params().binding,
                );
                PeerMessage::Hello {
                    newest: None,
                    pending: Some(Box::new(SignedByMe {
                        state,
                        ops,
                        signature: a_sig.signature,
                    })),
                }
            }
        };
        let _ = self.b.run(Input::Peer(message));
    }

    fn reconnect(&mut self) {
        self.a.outbox.clear();
        self.b.outbox.clear();
        let _ = self.a.run(Input::Connected);
        let _ = self.b.run(Input::Connected);
    }

    fn apply(&mut self, step: Step) {
        match step {
            Step::PayA(amount) => drop(self.a.pay(amount, 1)),
            Step::PayB(amount) => drop(self.b.pay(amount, 2)),
            Step::DeliverToB(i) => self.deliver_to_b(i, false),
            Step::DeliverToA(i) => self.deliver_to_a(i),
            Step::DropToB(i) => {
                if !self.a.outbox.is_empty() {
                    let len = self.a.outbox.len();
                    self.a.outbox.remove(i % len);
                }
            }
            Step::DropToA(i) => {
                if !self.b.outbox.is_empty() {
                    let len = self.b.outbox.len();
                    self.b.outbox.remove(i % len);
                }
            }
            Step::DuplicateToB(i) => {
                // A copy delivered now and the original later: a delayed duplicate, i.e. a replay.
                self.replayed = true;
                self.deliver_to_b(i, true)
            }
            Step::ReplayToB(i) => {
                if !self.sent_by_a.is_empty() {
                    let message = self.sent_by_a[i % self.sent_by_a.len()].clone();
                    self.replayed = true;
                    let _ = self.b.run(Input::Peer(message));
                }
            }
            Step::Forge(forgery) => self.forge(forgery),
            Step::RestartA => {
                self.a.restart();
                self.a.chain(10 * SOL, 5 * SOL);
            }
            Step::RestartB => {
                self.b.restart();
                self.b.chain(10 * SOL, 5 * SOL);
            }
            Step::Reconnect => self.reconnect(),
        }
    }

    /// B's invariants, checked after every step.
    fn check_honest(&self) {
        let b = &self.b;
        let mut by_seq: std::collections::BTreeMap<u64, ChannelState> = Default::default();
        for state in b.signed_states() {
            if let Some(previous) = by_seq.insert(state.seq, state) {
                assert_eq!(previous, state, "B signed two states for seq {}", state.seq);
            }
        }
        if let Some(newest) = b.engine.newest_co_signed() {
            newest
                .verify(&b.engine.params().signer_a, &b.engine.params().signer_b)
                .expect("B's newest state is validly co-signed");
        }
        let newest = b.engine.newest_state();
        if newest.seq > 0 {
            let paid: u64 = amounts(b, true);
            let received: u64 = amounts(b, false);
            assert_eq!(
                newest.balance_b,
                newest.deposited_b + received - paid,
                "B's balance is its deposit plus what it received minus what it paid"
            );
        }
    }
}

/// Sum of the payments B made (`paid`) or received, per its events.
fn amounts(node: &Node, paid: bool) -> u64 {
    node.events
        .iter()
        .map(|e| match e {
            Event::Paid { payments, .. } if paid => payments.iter().map(|p| p.amount).sum(),
            Event::Received { payments, .. } if !paid => payments.iter().map(|p| p.amount).sum(),
            _ => 0,
        })
        .sum()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn an_honest_party_survives_a_byzantine_link(steps in proptest::collection::vec(step(), 1..80)) {
        let (a, b) = pair();
        let mut world = World { a, b, sent_by_a: Vec::new(), replayed: false };
        for step in steps {
            world.apply(step);
            world.check_honest();
        }
        // The link heals: both sides reconnect and deliver everything, and then agree.
        world.reconnect();
        if world.replayed {
            for _ in 0..100 {
                world.apply(Step::DeliverToB(0));
                world.apply(Step::DeliverToA(0));
                world.check_honest();
            }
        } else {
            settle(&mut world.a, &mut world.b);
            world.check_honest();
            prop_assert_eq!(world.a.engine.newest_state(), world.b.engine.newest_state());
        }
    }
}
