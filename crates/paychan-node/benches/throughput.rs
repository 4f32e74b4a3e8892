//! Payments per second and latency of one channel, both parties in one process, each with its
//! own store: one payment per round, and batched load. Real redb files (fsync on every commit)
//! and, to show what the disk costs, the same with the store in memory.
//!
//! `cargo bench -p paychan-node --no-default-features --bench throughput`
//!
//! The stores need no async runtime, so the bench drives them with `block_on`, no runtime.

use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use paychan_interface::{channel::Party, state::StateBinding, Address};
use paychan_node::{
    engine::{Action, ChainView, ChannelEngine, ChannelParams, Event, Input, Payment, PeerMessage},
    store::{block_on, ChannelStore, MemoryStore, RedbStore},
};

const SOL: u64 = 1_000_000_000;

/// One party: its engine, its store, and what it has to send.
struct Side<S> {
    engine: ChannelEngine,
    store: S,
    outbox: Vec<PeerMessage>,
    paid: u64,
}

impl<S: ChannelStore> Side<S> {
    fn new(me: Party, keys: &[SigningKey; 2], mut store: S) -> Self {
        let params = ChannelParams {
            binding: StateBinding {
                program_id: paychan_interface::ID,
                channel: Address::new_from_array([9; 32]),
                opened_slot: 1,
            },
            signer_a: Address::new_from_array(keys[0].verifying_key().to_bytes()),
            signer_b: Address::new_from_array(keys[1].verifying_key().to_bytes()),
            me,
        };
        block_on(store.create_channel(&params)).expect("create");
        let mut engine = ChannelEngine::new(params, keys[me as usize - 1].clone());
        engine
            .handle(Input::Chain(ChainView {
                deposited_a: 1_000 * SOL,
                deposited_b: 0,
                ..ChainView::default()
            }))
            .expect("chain view");
        Self {
            engine,
            store,
            outbox: Vec::new(),
            paid: 0,
        }
    }

    /// Runs the engine on `input`, persisting (one commit per run of records) before sending.
    fn run(&mut self, input: Input) {
        let actions = self.engine.handle(input).expect("honest input");
        let channel = self.engine.params().binding.channel;
        let mut records = Vec::new();
        for action in actions {
            match action {
                Action::Persist(record) => records.push(record),
                other => {
                    if !records.is_empty() {
                        block_on(self.store.persist(&channel, &records)).expect("persist");
                        records.clear();
                    }
                    match other {
                        Action::Send(message) => self.outbox.push(message),
                        Action::Notify(Event::Paid { payments, .. }) => {
                            self.paid += payments.len() as u64
                        }
                        _ => {}
                    }
                }
            }
        }
        if !records.is_empty() {
            block_on(self.store.persist(&channel, &records)).expect("persist");
        }
    }
}

fn deliver<S: ChannelStore>(a: &mut Side<S>, b: &mut Side<S>) {
    while !a.outbox.is_empty() || !b.outbox.is_empty() {
        for message in std::mem::take(&mut a.outbox) {
            b.run(Input::Peer(message));
        }
        for message in std::mem::take(&mut b.outbox) {
            a.run(Input::Peer(message));
        }
    }
}

struct Row {
    store: &'static str,
    load: String,
    payments: u64,
    rounds: u64,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// `rounds` times: `batch` payments from A are queued at once, then the link runs until A
/// has them all confirmed. Latency is per payment, from `Pay` to its `Paid`.
fn measure<S: ChannelStore>(
    store: &'static str,
    mut open: impl FnMut(&str) -> S,
    batch: u64,
    iterations: u64,
) -> Row {
    let keys = [
        SigningKey::from_bytes(&[1; 32]),
        SigningKey::from_bytes(&[2; 32]),
    ];
    let mut a = Side::new(Party::A, &keys, open("a"));
    let mut b = Side::new(Party::B, &keys, open("b"));
    let mut latencies = Vec::new();
    let started = Instant::now();
    let mut id = 0u64;
    for _ in 0..iterations {
        let sent = Instant::now();
        let before = a.paid;
        for _ in 0..batch {
            id += 1;
            let mut payment_id = [0u8; 16];
            payment_id[..8].copy_from_slice(&id.to_le_bytes());
            a.run(Input::Pay(Payment {
                id: payment_id,
                amount: 1,
            }));
        }
        deliver(&mut a, &mut b);
        assert_eq!(a.paid - before, batch, "every payment confirmed");
        let latency = sent.elapsed();
        latencies.extend(std::iter::repeat_n(latency, batch as usize));
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Row {
        store,
        load: if batch == 1 {
            "1 payment per round".into()
        } else {
            format!("{batch} concurrent payments")
        },
        payments: a.paid,
        rounds: a.engine.newest_state().seq,
        elapsed,
        latencies,
    }
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut n = 0;
    let mut redb = |side: &str| {
        n += 1;
        RedbStore::open(dir.path().join(format!("{side}-{n}.redb"))).expect("redb")
    };
    let rows = [
        measure("redb (fsync)", &mut redb, 1, 500),
        measure("redb (fsync)", &mut redb, 1_000, 50),
        measure("memory", |_| MemoryStore::new(), 1, 5_000),
        measure("memory", |_| MemoryStore::new(), 1_000, 100),
    ];
    println!();
    println!(
        "| store | load | payments | rounds | payments/s | rounds/s | p50 latency | p99 latency |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let secs = row.elapsed.as_secs_f64();
        println!(
            "| {} | {} | {} | {} | {:.0} | {:.0} | {:.2} ms | {:.2} ms |",
            row.store,
            row.load,
            row.payments,
            row.rounds,
            row.payments as f64 / secs,
            row.rounds as f64 / secs,
            percentile(&row.latencies, 0.50).as_secs_f64() * 1e3,
            percentile(&row.latencies, 0.99).as_secs_f64() * 1e3,
        );
    }
}
