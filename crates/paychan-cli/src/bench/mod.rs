//! `paychan bench`: Alice (this process) pays Bob (a child process) over 127.0.0.1 with the
//! encrypted, authenticated link, each with its own store. (a) one payment per round, waiting
//! for each to be confirmed; (b) many payments at once, batched into rounds. The chain plays no
//! part in payments, so both sides start from a channel whose deposits they are told.
//! `--channels N` measures one node serving N payers instead ([`channels`]).

pub mod channels;

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use paychan_interface::{client::ChannelAddress, Address};
use paychan_node::{
    driver::ChannelDriver,
    engine::{ChainView, Event, Input, Payment},
    ledger::{Landed, Ledger, LedgerError},
    peer::serve,
    store::{ChannelStore, MemoryStore, RedbStore},
    transport::PeerLink,
};
use solana_keypair::Keypair;
use solana_signer::Signer;
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    net::TcpListener,
    sync::mpsc,
};

#[derive(clap::Args, Debug)]
pub struct Bench {
    /// One node serving this many channels, each with its own payer paying one payment per
    /// round, all at once (instead of the two-party runs).
    #[arg(long)]
    channels: Option<u64>,
    /// The node's store in the `--channels` run (default: both, one run each).
    #[arg(long, value_enum)]
    node_store: Option<channels::BenchStore>,
    /// Payments in the one-per-round run (with `--channels`: rounds per payer, default 20).
    #[arg(long)]
    rounds: Option<u64>,
    /// With `--channels`: then kill -9 the node, start it again, and time its return.
    #[arg(long, requires = "channels")]
    restart: bool,
    /// With `--channels`: that many more peers link to the node, flood it and never read.
    #[arg(long, default_value_t = 0, requires = "channels")]
    hostile: u64,
    /// With `--channels`: also measure the node on PostgreSQL at this URL (or only there,
    /// with `--node-store postgres`).
    #[arg(long, requires = "channels")]
    postgres: Option<String>,
    /// Payments in the batched run.
    #[arg(long, default_value_t = 200_000)]
    payments: u64,
    /// Payments kept in flight in the batched run (as many concurrent payers).
    #[arg(long, default_value_t = 1_000)]
    concurrency: u64,
}

#[derive(clap::Args, Debug)]
pub struct BenchPeer {
    #[arg(long)]
    alice: PathBuf,
    #[arg(long)]
    bob: PathBuf,
    #[arg(long)]
    store: Option<PathBuf>,
}

/// A ledger with nothing on it: payments never touch the chain.
struct NoLedger;

impl Ledger for NoLedger {
    async fn submit(&mut self, _: solana_transaction::Transaction) -> Result<Landed, LedgerError> {
        Err(LedgerError::Unreachable("the bench has no ledger".into()))
    }
    async fn latest_blockhash(&mut self) -> Result<solana_hash::Hash, LedgerError> {
        Err(LedgerError::Unreachable("the bench has no ledger".into()))
    }
    async fn account(
        &mut self,
        _: &Address,
    ) -> Result<Option<solana_account::Account>, LedgerError> {
        Ok(None)
    }
    async fn unix_timestamp(&mut self) -> Result<i64, LedgerError> {
        Ok(0)
    }
}

fn channel(alice: &Keypair, bob: &Keypair) -> ChannelAddress {
    ChannelAddress {
        program_id: paychan_interface::ID,
        party_a: alice.pubkey(),
        party_b: bob.pubkey(),
        nonce: 0,
        address: Address::new_from_array([7; 32]),
        bump: 255,
        token: None,
    }
}

fn deposits() -> Input {
    Input::Chain(ChainView {
        deposited_a: 1_000_000 * crate::amount::LAMPORTS_PER_SOL,
        ..ChainView::default()
    })
}

async fn node<S: ChannelStore>(
    mut store: S,
    me: &Keypair,
    alice: &Keypair,
    bob: &Keypair,
) -> Result<ChannelDriver<S, NoLedger>, String> {
    let channel = channel(alice, bob);
    let params = paychan_node::engine::ChannelParams {
        binding: paychan_interface::state::StateBinding {
            program_id: channel.program_id,
            channel: channel.address,
            opened_slot: 1,
        },
        signer_a: alice.pubkey(),
        signer_b: bob.pubkey(),
        me: if me.pubkey() == alice.pubkey() {
            paychan_interface::channel::Party::A
        } else {
            paychan_interface::channel::Party::B
        },
    };
    store
        .create_channel(&params)
        .await
        .map_err(|e| e.to_string())?;
    ChannelDriver::join(store, NoLedger, me.insecure_clone(), channel)
        .await
        .map_err(|e| e.to_string())
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}

/// Bob: listens, prints its port, serves one session.
pub fn peer(args: BenchPeer) -> Result<(), String> {
    let (alice, bob) = (
        crate::keys::read(&args.alice)?,
        crate::keys::read(&args.bob)?,
    );
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime()?, async {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        println!(
            "{}",
            listener.local_addr().map_err(|e| e.to_string())?.port()
        );
        let (stream, _) = listener.accept().await.map_err(|e| e.to_string())?;
        let key = ed25519_dalek::SigningKey::from_bytes(bob.secret_bytes());
        let link = PeerLink::accept(stream, &key, &alice.pubkey().to_bytes(), [7; 32])
            .await
            .map_err(|e| e.to_string())?;
        let (inputs_tx, mut inputs) = mpsc::unbounded_channel();
        let (events, _ignored) = mpsc::unbounded_channel();
        inputs_tx.send(deposits()).map_err(|e| e.to_string())?;
        match &args.store {
            Some(path) => {
                let store = RedbStore::open(path).map_err(|e| e.to_string())?;
                let mut node = node(store, &bob, &alice, &bob).await?;
                serve(&mut node, link, &mut inputs, &events).await
            }
            None => {
                let mut node = node(MemoryStore::new(), &bob, &alice, &bob).await?;
                serve(&mut node, link, &mut inputs, &events).await
            }
        }
        .map_err(|e| e.to_string())?;
        Ok(())
    })
}

struct Row {
    store: &'static str,
    load: String,
    payments: usize,
    elapsed: Duration,
    rounds: u64,
    latencies: Vec<Duration>,
}

/// Runs Alice against a fresh Bob process; returns both measurements.
async fn measure(exe: &Path, dir: &Path, durable: bool, args: &Bench) -> Result<[Row; 2], String> {
    let (alice, bob) = (Keypair::new(), Keypair::new());
    let (alice_file, bob_file) = (dir.join("alice.json"), dir.join("bob.json"));
    for (key, file) in [(&alice, &alice_file), (&bob, &bob_file)] {
        solana_keypair::write_keypair_file(key, file).map_err(|e| e.to_string())?;
    }
    let store_name = if durable { "redb (fsync)" } else { "memory" };
    let mut command = tokio::process::Command::new(exe);
    command
        .arg("bench-peer")
        .arg("--alice")
        .arg(&alice_file)
        .arg("--bob")
        .arg(&bob_file)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true);
    if durable {
        command
            .arg("--store")
            .arg(dir.join(format!("bob-{}.redb", rand::random::<u32>())));
    }
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start the peer: {e}"))?;
    let stdout = child.stdout.take().ok_or("the peer has no stdout")?;
    let mut port = String::new();
    BufReader::new(stdout)
        .read_line(&mut port)
        .await
        .map_err(|e| e.to_string())?;
    let port: u16 = port
        .trim()
        .parse()
        .map_err(|_| format!("the peer said {port:?}"))?;

    let key = ed25519_dalek::SigningKey::from_bytes(alice.secret_bytes());
    let link = PeerLink::connect(("127.0.0.1", port), &key, &bob.pubkey().to_bytes(), [7; 32])
        .await
        .map_err(|e| e.to_string())?;
    let (inputs, mut inputs_rx) = mpsc::unbounded_channel();
    let (events_tx, mut events) = mpsc::unbounded_channel();
    inputs.send(deposits()).map_err(|e| e.to_string())?;
    let alice_store = dir.join(format!("alice-{}.redb", rand::random::<u32>()));
    let session = async move {
        if durable {
            let store = RedbStore::open(alice_store).map_err(|e| e.to_string())?;
            let mut node = node(store, &alice, &alice, &bob).await?;
            serve(&mut node, link, &mut inputs_rx, &events_tx)
                .await
                .map_err(|e| e.to_string())?;
            Ok::<u64, String>(node.engine().newest_state().seq)
        } else {
            let mut node = node(MemoryStore::new(), &alice, &alice, &bob).await?;
            serve(&mut node, link, &mut inputs_rx, &events_tx)
                .await
                .map_err(|e| e.to_string())?;
            Ok(node.engine().newest_state().seq)
        }
    };
    let session = tokio::task::spawn_local(session);

    let mut next_id = 0u128;
    // Owns the input sender: dropping it ends Alice's session.
    let mut pay = move |sent: &mut HashMap<[u8; 16], Instant>| -> Result<(), String> {
        next_id += 1;
        let id = next_id.to_le_bytes();
        sent.insert(id, Instant::now());
        inputs
            .send(Input::Pay(Payment { id, amount: 1 }))
            .map_err(|_| "the session ended".to_string())
    };
    // Confirmations, each one's latency recorded, topping `sent` up to `in_flight` until
    // `total` payments were made, then until all are confirmed.
    async fn confirm(
        events: &mut mpsc::UnboundedReceiver<Event>,
        sent: &mut HashMap<[u8; 16], Instant>,
        latencies: &mut Vec<Duration>,
        mut top_up: impl FnMut(&mut HashMap<[u8; 16], Instant>) -> Result<bool, String>,
    ) -> Result<(), String> {
        while !sent.is_empty() {
            match events.recv().await {
                Some(Event::Paid { payments, .. }) => {
                    let now = Instant::now();
                    for p in payments {
                        if let Some(at) = sent.remove(&p.id) {
                            latencies.push(now - at);
                        }
                    }
                    while top_up(sent)? {}
                }
                Some(Event::ProposalRejected { reason, .. }) => {
                    return Err(format!("a proposal was rejected: {reason:?}"))
                }
                Some(_) => {}
                None => return Err("the session ended".into()),
            }
        }
        Ok(())
    }

    let mut sent = HashMap::new();
    let mut single = Vec::new();
    let started = Instant::now();
    let single_rounds = args.rounds.unwrap_or(2_000);
    for _ in 0..single_rounds {
        pay(&mut sent)?;
        confirm(&mut events, &mut sent, &mut single, |_| Ok(false)).await?;
    }
    let single_elapsed = started.elapsed();

    let mut batched = Vec::new();
    let started = Instant::now();
    let mut made = 0u64;
    let mut top_up = |sent: &mut HashMap<[u8; 16], Instant>| {
        if made < args.payments && (sent.len() as u64) < args.concurrency {
            made += 1;
            pay(sent).map(|()| true)
        } else {
            Ok(false)
        }
    };
    while top_up(&mut sent)? {}
    confirm(&mut events, &mut sent, &mut batched, top_up).await?;
    let batched_elapsed = started.elapsed();
    drop(pay);
    let rounds = session.await.map_err(|e| e.to_string())??;
    let _ = child.wait().await;
    Ok([
        Row {
            store: store_name,
            load: "1 payment per round".into(),
            payments: single.len(),
            elapsed: single_elapsed,
            rounds: single_rounds,
            latencies: single,
        },
        Row {
            store: store_name,
            load: format!("{} in flight (batched)", args.concurrency),
            payments: batched.len(),
            elapsed: batched_elapsed,
            rounds: rounds.saturating_sub(single_rounds),
            latencies: batched,
        },
    ])
}

fn percentile(latencies: &mut [Duration], p: f64) -> f64 {
    latencies.sort();
    let index = ((latencies.len().saturating_sub(1)) as f64 * p).round() as usize;
    latencies.get(index).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

pub fn run(args: Bench, output: crate::cluster::Output) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let local = tokio::task::LocalSet::new();
    if let Some(count) = args.channels {
        if count == 0 {
            return Err("--channels must be at least 1".into());
        }
        let rounds = args.rounds.unwrap_or(20).max(1);
        let stores = match (args.node_store, &args.postgres) {
            (Some(channels::BenchStore::Postgres), None) => {
                return Err("--node-store postgres needs --postgres URL".into())
            }
            (Some(store), _) => vec![store],
            (None, None) => vec![channels::BenchStore::Redb, channels::BenchStore::Memory],
            (None, Some(_)) => vec![
                channels::BenchStore::Redb,
                channels::BenchStore::Postgres,
                channels::BenchStore::Memory,
            ],
        };
        let mut rows = local.block_on(&runtime()?, async {
            let mut rows = Vec::new();
            for store in stores {
                let bar = crate::progress::steps(count * rounds);
                let run = (count, rounds, args.restart, args.hostile);
                let store = (store, args.postgres.as_deref());
                let row = channels::measure(&exe, dir.path(), store, run, &bar).await;
                bar.finish_and_clear();
                rows.push(row?);
            }
            Ok::<_, String>(rows)
        })?;
        channels::report(&mut rows, output);
        return Ok(());
    }
    let rows = local.block_on(&runtime()?, async {
        let mut rows = Vec::new();
        for durable in [true, false] {
            rows.extend(measure(&exe, dir.path(), durable, &args).await?);
        }
        Ok::<_, String>(rows)
    })?;
    println!("| store | load | payments | rounds | payments/s | p50 latency | p99 latency |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for mut row in rows {
        let per_second = row.payments as f64 / row.elapsed.as_secs_f64();
        println!(
            "| {} | {} | {} | {} | {:.0} | {:.2} ms | {:.2} ms |",
            row.store,
            row.load,
            row.payments,
            row.rounds,
            per_second,
            percentile(&mut row.latencies, 0.50),
            percentile(&mut row.latencies, 0.99),
        );
    }
    Ok(())
}
