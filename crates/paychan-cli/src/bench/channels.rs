//! `paychan bench --channels N`: one node (a child process running `paychan bench-node`, the
//! same `Node` as `paychan node`, with its store) serves N channels; this process runs N
//! payers, each sending one payment per round and waiting until it is final, all at once.
//! Both processes read the same N channel accounts from a ledger in memory: payments never
//! touch a chain. Payers keep their states in memory (they stand for clients on other
//! machines); the node's store is the one measured.

use std::{collections::HashMap, rc::Rc, time::Duration, time::Instant};

use ed25519_dalek::{Signer as _, SigningKey};
use paychan_interface::{
    channel::{Channel, ChannelStatus, CHANNEL_ACCOUNT_LEN},
    client::ChannelAddress,
    Address,
};
use paychan_node::{
    driver::{ChannelDriver, JoinPolicy},
    engine::{Event, Input, Payment, PeerMessage},
    ledger::{Landed, Ledger, LedgerError},
    node::{InboundPolicy, Node, NodeConfig},
    runtime::{dial_forever, Command, LinkState, Runtime},
    store::{MemoryStore, RedbStore},
    transport::PeerLink,
};
use solana_keypair::Keypair;
use solana_signer::Signer;
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    sync::{broadcast, mpsc, oneshot, watch},
    task::spawn_local,
};

use crate::cluster::Output;

/// Where the node keeps its channels.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BenchStore {
    /// A redb file: every round durable (fsync), commits grouped across channels.
    Redb,
    /// Memory: what the node costs without the disk.
    Memory,
    /// PostgreSQL at `--postgres URL` (a fresh schema per run): commits grouped, leases held.
    Postgres,
}

#[derive(clap::Args, Debug)]
pub struct BenchNode {
    #[arg(long)]
    channels: u64,
    #[arg(long, value_enum)]
    store: BenchStore,
    #[arg(long)]
    dir: std::path::PathBuf,
    /// Listen on this port (a restarted node takes its old one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The PostgreSQL store's URL (with `--store postgres`).
    #[arg(long)]
    postgres: Option<String>,
}

const SOL: u64 = crate::amount::LAMPORTS_PER_SOL;
const NOW: i64 = 1_700_000_000;

/// The node's key and the payers' (payer i pays on channel i), the same in every process.
struct Fleet {
    node: Keypair,
    channels: Vec<(Keypair, Address, Channel)>,
}

fn key(seed: u64, tag: u8) -> Keypair {
    let mut secret = [tag; 32];
    secret[..8].copy_from_slice(&seed.to_le_bytes());
    Keypair::new_from_array(secret)
}

fn fleet(count: u64) -> Fleet {
    let node = key(0, 0xbb);
    let channels = (0..count)
        .map(|i| {
            let payer = key(i, 0xaa);
            let mut address = [0xcc; 32];
            address[..8].copy_from_slice(&i.to_le_bytes());
            let channel = Channel {
                status: ChannelStatus::Open,
                bump: 255,
                party_a: payer.pubkey(),
                party_b: node.pubkey(),
                nonce: i,
                opened_slot: 1,
                challenge_period_secs: 86_400,
                deposited_a: 1_000 * SOL,
                deposited_b: 0,
                registered: Default::default(),
                registered_by: None,
                accountable_seq: 0,
                deadline: 0,
                unclaimed_a: 0,
                unclaimed_b: 0,
                signer_a: payer.pubkey(),
                signer_b: node.pubkey(),
                token: None,
            };
            (payer, Address::new_from_array(address), channel)
        })
        .collect();
    Fleet { node, channels }
}

/// The fleet's channel accounts, read-only: nothing is ever submitted.
#[derive(Clone)]
struct FleetLedger(Rc<HashMap<Address, solana_account::Account>>);

impl FleetLedger {
    fn new(fleet: &Fleet) -> Result<Self, String> {
        let mut accounts = HashMap::new();
        for (_, address, channel) in &fleet.channels {
            let mut data = vec![0u8; CHANNEL_ACCOUNT_LEN];
            channel.pack(&mut data).map_err(|e| e.to_string())?;
            let account = solana_account::Account {
                lamports: channel.deposited_a + SOL,
                data,
                owner: paychan_interface::ID,
                executable: false,
                rent_epoch: 0,
            };
            accounts.insert(*address, account);
        }
        Ok(Self(Rc::new(accounts)))
    }
}

impl Ledger for FleetLedger {
    async fn submit(&mut self, _: solana_transaction::Transaction) -> Result<Landed, LedgerError> {
        Err(LedgerError::Unreachable("the bench submits nothing".into()))
    }
    async fn latest_blockhash(&mut self) -> Result<solana_hash::Hash, LedgerError> {
        Err(LedgerError::Unreachable("the bench submits nothing".into()))
    }
    async fn account(
        &mut self,
        address: &Address,
    ) -> Result<Option<solana_account::Account>, LedgerError> {
        Ok(self.0.get(address).cloned())
    }
    async fn unix_timestamp(&mut self) -> Result<i64, LedgerError> {
        Ok(NOW)
    }
    async fn program_accounts(
        &mut self,
        _: &Address,
    ) -> Result<Vec<(Address, solana_account::Account)>, LedgerError> {
        Ok(self
            .0
            .iter()
            .map(|(a, account)| (*a, account.clone()))
            .collect())
    }
}

fn signing_key(keypair: &Keypair) -> SigningKey {
    SigningKey::from_bytes(keypair.secret_bytes())
}

/// This process's CPU time so far (user + system), from /proc.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 (1-based), 11 and 12 after the ')'; 100 ticks/s.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// The node side: prints its port, then answers `stats` on stdin with one JSON line.
pub fn node(args: BenchNode) -> Result<(), String> {
    let local = tokio::task::LocalSet::new();
    local.block_on(&super::runtime()?, async {
        let fleet = fleet(args.channels);
        let ledger = FleetLedger::new(&fleet)?;
        let listener = paychan_node::runtime::listen(&format!("127.0.0.1:{}", args.port))
            .await
            .map_err(|e| e.to_string())?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let config = NodeConfig {
            wallet: fleet.node.insecure_clone(),
            signer: signing_key(&fleet.node),
            program_id: paychan_interface::ID,
            policy: InboundPolicy {
                max_channels: usize::MAX,
                ..InboundPolicy::default()
            },
            peers: HashMap::new(),
            tick: Duration::from_secs(3_600),
            discover_every: Duration::from_millis(200),
        };
        let (commits, node): (Box<dyn Fn() -> (u64, u64)>, _) = match args.store {
            BenchStore::Redb => {
                let store =
                    RedbStore::open(args.dir.join("node.redb")).map_err(|e| e.to_string())?;
                let stats = store.clone();
                let node = Node::new(config, store, ledger);
                let handle = node.handle();
                spawn_local(node.run(Some(listener)));
                (
                    Box::new(move || {
                        let stats = stats.commit_stats();
                        (stats.commits(), stats.writes())
                    }),
                    handle,
                )
            }
            BenchStore::Memory => {
                let node = Node::new(config, MemoryStore::new(), ledger);
                let handle = node.handle();
                spawn_local(node.run(Some(listener)));
                (Box::new(|| (0, 0)), handle)
            }
            BenchStore::Postgres => {
                let url = args
                    .postgres
                    .ok_or("--store postgres needs --postgres URL")?;
                let store =
                    paychan_node::store::PgStore::open(paychan_node::store::PgConfig::new(url))
                        .await
                        .map_err(|e| e.to_string())?;
                let stats = store.clone();
                let node = Node::new(config, store, ledger);
                let handle = node.handle();
                spawn_local(node.run(Some(listener)));
                (
                    Box::new(move || {
                        let counts = stats.commit_stats();
                        (counts.commits(), counts.writes())
                    }),
                    handle,
                )
            }
        };
        println!("port {port}");
        let mut stdin = BufReader::new(tokio::io::stdin()).lines();
        let mut stdout = tokio::io::stdout();
        while let Ok(Some(line)) = stdin.next_line().await {
            if line.trim() == "stats" {
                let (commits, writes) = commits();
                let stats = serde_json::json!({
                    "commits": commits,
                    "writes": writes,
                    "cpu_ms": cpu_time().as_millis() as u64,
                    "running": node.running(),
                });
                let _ = stdout.write_all(format!("{stats}\n").as_bytes()).await;
                let _ = stdout.flush().await;
            }
        }
        Ok(())
    })
}

/// One payer: its runtime's command queue, its events and its link.
struct Payer {
    commands: mpsc::Sender<Command>,
    events: broadcast::Receiver<Event>,
    link: watch::Receiver<LinkState>,
}

impl Clone for Payer {
    fn clone(&self) -> Self {
        Self {
            commands: self.commands.clone(),
            events: self.events.resubscribe(),
            link: self.link.clone(),
        }
    }
}

type NodeOut = tokio::io::Lines<BufReader<tokio::process::ChildStdout>>;

/// Starts `paychan bench-node` on `port` (0: any); returns it, its stdin and stdout, and its
/// port.
async fn start_node(
    exe: &std::path::Path,
    dir: &std::path::Path,
    (store, postgres): (BenchStore, Option<&str>),
    channels: u64,
    port: u16,
) -> Result<
    (
        tokio::process::Child,
        tokio::process::ChildStdin,
        NodeOut,
        u16,
    ),
    String,
> {
    let mut child = tokio::process::Command::new(exe)
        .arg("bench-node")
        .args(postgres.into_iter().flat_map(|url| ["--postgres", url]))
        .arg("--channels")
        .arg(channels.to_string())
        .arg("--store")
        .arg(match store {
            BenchStore::Redb => "redb",
            BenchStore::Memory => "memory",
            BenchStore::Postgres => "postgres",
        })
        .arg("--dir")
        .arg(dir)
        .arg("--port")
        .arg(port.to_string())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start the node: {e}"))?;
    let stdout = child.stdout.take().ok_or("the node has no stdout")?;
    let mut node_out = BufReader::new(stdout).lines();
    let node_in = child.stdin.take().ok_or("the node has no stdin")?;
    let line = node_out
        .next_line()
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the node stopped before listening")?;
    let port: u16 = line
        .strip_prefix("port ")
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| format!("the node said {line:?}"))?;
    Ok((child, node_in, node_out, port))
}

/// What one run measured.
pub struct ChannelsRow {
    pub store: BenchStore,
    pub channels: u64,
    /// Peers among them that flood the node and never read.
    pub hostile: u64,
    pub payments: u64,
    pub elapsed: Duration,
    pub latencies: Vec<Duration>,
    pub commits: u64,
    pub writes: u64,
    pub node_cpu: Duration,
    pub payers_cpu: Duration,
    /// After a kill -9 of the node: until it runs every channel again, and until every payer
    /// has made one more payment through it.
    pub restart: Option<(Duration, Duration)>,
}

/// Starts the node process, links N payers to it (a few at a time: the listener admits 4
/// handshakes per address at once), then has every payer pay `rounds` times, one payment per
/// round, all at once.
pub async fn measure(
    exe: &std::path::Path,
    dir: &std::path::Path,
    (store, postgres): (BenchStore, Option<&str>),
    (channels, rounds, restart, hostile): (u64, u64, bool, u64),
    progress: &indicatif::ProgressBar,
) -> Result<ChannelsRow, String> {
    // A fresh schema for each run: the node starts with no channel stored.
    let postgres = postgres.map(|url| {
        let joiner = if url.contains('?') { '&' } else { '?' };
        format!("{url}{joiner}schema=bench_{:08x}", rand::random::<u32>())
    });
    let postgres = postgres.as_deref();
    let (mut child, mut node_in, mut node_out, port) =
        start_node(exe, dir, (store, postgres), channels + hostile, 0).await?;
    let mut fleet = fleet(channels + hostile);
    let ledger = FleetLedger::new(&fleet)?;
    let node_key = fleet.node.pubkey().to_bytes();
    // Peers that link, then flood the node and never read what it sends back.
    for (payer, address, _) in fleet.channels.split_off(channels as usize) {
        let link = loop {
            let key = signing_key(&payer);
            let dialed =
                PeerLink::connect(("127.0.0.1", port), &key, &node_key, address.to_bytes());
            match dialed.await {
                Ok(link) => break link,
                // The node has not found the channel yet.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        spawn_local(flood(link));
    }
    let (notices, mut dropped) = mpsc::unbounded_channel();
    spawn_local(async move { while dropped.recv().await.is_some() {} });
    let mut payers = Vec::new();
    progress.set_length(channels);
    progress.set_message("linking payers");
    for group in fleet.channels.chunks(4) {
        let mut linking = Vec::new();
        for (payer, address, channel) in group {
            let at = ChannelAddress::of_account(&paychan_interface::ID, address, channel);
            let driver = ChannelDriver::join_with_policy(
                MemoryStore::new(),
                ledger.clone(),
                payer.insecure_clone(),
                signing_key(payer),
                at,
                JoinPolicy::default(),
            )
            .await
            .map_err(|e| e.to_string())?;
            let (links_tx, mut links) = mpsc::channel(4);
            let (link_tx, link_rx) = watch::channel(LinkState::default());
            spawn_local(dial_forever(
                format!("127.0.0.1:{port}"),
                signing_key(payer),
                node_key,
                address.to_bytes(),
                links_tx,
                link_rx.clone(),
                notices.clone(),
            ));
            let (events_tx, events) = broadcast::channel(64);
            let (commands, mut commands_rx) = mpsc::channel(16);
            let mut runtime = Runtime::new(driver, events_tx, notices.clone(), link_tx);
            spawn_local(async move {
                runtime
                    .run(&mut commands_rx, &mut links, Duration::from_secs(3_600))
                    .await
            });
            linking.push(link_rx.clone());
            payers.push(Payer {
                commands,
                events,
                link: link_rx,
            });
        }
        for mut link in linking {
            tokio::time::timeout(Duration::from_secs(60), link.wait_for(|s| s.connected))
                .await
                .map_err(|_| "a payer could not link to the node within 60 s".to_string())?
                .map_err(|e| e.to_string())?;
            progress.inc(1);
        }
    }

    progress.set_length(channels * rounds);
    progress.set_position(0);
    progress.set_message("paying");
    let cpu_before = cpu_time();
    let node_before = node_stats(&mut node_in, &mut node_out).await?;
    let started = Instant::now();
    let mut running = Vec::new();
    for (index, payer) in payers.iter().enumerate() {
        let progress = progress.clone();
        running.push(spawn_local(pay_rounds(
            payer.clone(),
            index as u64,
            0..rounds,
            progress,
        )));
    }
    let mut latencies = Vec::with_capacity((channels * rounds) as usize);
    for payer in running {
        latencies.extend(payer.await.map_err(|e| e.to_string())??);
    }
    let elapsed = started.elapsed();
    let node_after = node_stats(&mut node_in, &mut node_out).await?;
    let payers_cpu = cpu_time().saturating_sub(cpu_before);
    drop(node_in);
    let _ = child.kill().await;
    let restart = if restart {
        progress.set_length(channels);
        progress.set_position(0);
        progress.set_message("restarting");
        let killed = Instant::now();
        let (child, mut node_in, mut node_out, _) =
            start_node(exe, dir, (store, postgres), channels, port).await?;
        loop {
            let stats = node_stats(&mut node_in, &mut node_out).await?;
            let running = stats["running"].as_u64().unwrap_or(0);
            progress.set_position(running);
            if running >= channels {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let resumed = killed.elapsed();
        progress.set_position(0);
        progress.set_message("paying again");
        let mut again = Vec::new();
        for (index, payer) in payers.iter_mut().enumerate() {
            again.push(spawn_local(pay_rounds(
                payer.clone(),
                index as u64,
                rounds..rounds + 1,
                progress.clone(),
            )));
        }
        for payer in again {
            payer.await.map_err(|e| e.to_string())??;
        }
        let serving = killed.elapsed();
        drop((child, node_in));
        Some((resumed, serving))
    } else {
        None
    };
    let field = |stats: &serde_json::Value, name: &str| stats[name].as_u64().unwrap_or(0);
    let delta = |name: &str| field(&node_after, name).saturating_sub(field(&node_before, name));
    Ok(ChannelsRow {
        store,
        channels,
        hostile,
        payments: latencies.len() as u64,
        elapsed,
        latencies,
        commits: delta("commits"),
        writes: delta("writes"),
        node_cpu: Duration::from_millis(delta("cpu_ms")),
        payers_cpu,
        restart,
    })
}

async fn node_stats(
    input: &mut tokio::process::ChildStdin,
    output: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
) -> Result<serde_json::Value, String> {
    input
        .write_all(b"stats\n")
        .await
        .map_err(|e| format!("the node stopped: {e}"))?;
    let line = output
        .next_line()
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the node stopped")?;
    serde_json::from_str(&line).map_err(|e| format!("the node said {line:?}: {e}"))
}

/// Sends resync requests as fast as the link takes them and reads nothing: a peer that makes
/// the node work and never reads its answers.
async fn flood(mut link: PeerLink) {
    loop {
        let hello = PeerMessage::Hello {
            newest: None,
            pending: None,
        };
        if link.send(hello).await.is_err() {
            return; // the node gave up on it
        }
    }
}

/// One payer's rounds: pay one, wait until it is final, again; each payment's latency.
async fn pay_rounds(
    mut payer: Payer,
    index: u64,
    rounds: std::ops::Range<u64>,
    progress: indicatif::ProgressBar,
) -> Result<Vec<Duration>, String> {
    let mut latencies = Vec::with_capacity(rounds.clone().count());
    for round in rounds {
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&index.to_le_bytes());
        id[8..].copy_from_slice(&round.to_le_bytes());
        let sent = Instant::now();
        let (reply, answer) = oneshot::channel();
        let input = Input::Pay(Payment { id, amount: 1 });
        payer
            .commands
            .send(Command::Input { input, reply })
            .await
            .map_err(|_| "a payer's channel stopped".to_string())?;
        answer
            .await
            .map_err(|_| "a payer's channel stopped".to_string())?
            .map_err(|e| format!("a payment was refused: {e}"))?;
        loop {
            match tokio::time::timeout(Duration::from_secs(60), payer.events.recv()).await {
                Ok(Ok(Event::Paid { payments, .. })) if payments.iter().any(|p| p.id == id) => {
                    break
                }
                Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
                Ok(Err(broadcast::error::RecvError::Closed)) => {
                    return Err("a payer's channel stopped".into())
                }
                Err(_) => {
                    let connected = payer.link.borrow().connected;
                    return Err(format!(
                        "payment {round} of payer {index} was not final within 60 s (linked: {connected})"
                    ));
                }
            }
        }
        latencies.push(sent.elapsed());
        progress.inc(1);
    }
    Ok(latencies)
}

/// Sign and verify (`verify_strict`, as every round does) on one core: seconds each.
pub fn signature_costs() -> (f64, f64) {
    const N: u32 = 2_000;
    let key = SigningKey::from_bytes(&[5; 32]);
    let mut message = [7u8; 160];
    let started = Instant::now();
    let mut signature = key.sign(&message);
    for i in 0..N {
        message[..4].copy_from_slice(&i.to_le_bytes());
        signature = key.sign(&message);
    }
    let sign = started.elapsed().as_secs_f64() / f64::from(N);
    let verifying = key.verifying_key();
    let started = Instant::now();
    let mut valid = 0u32;
    for _ in 0..N {
        valid += u32::from(verifying.verify_strict(&message, &signature).is_ok());
    }
    let verify = started.elapsed().as_secs_f64() / f64::from(N);
    debug_assert_eq!(valid, N);
    (sign, verify)
}

/// Prints the table (or JSON): one row per store, then the limit signatures set.
pub fn report(rows: &mut [ChannelsRow], output: Output) {
    let (sign, verify) = signature_costs();
    // Every round costs each side one signature and one strict verification.
    let per_round = 2.0 * (sign + verify);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let limit = cores / per_round;
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mut json_rows = Vec::new();
    if output == Output::Display {
        println!("| node store | channels | payments | payments/s | p50 | p99 | fsyncs/s | writes per fsync | node CPU per payment | payers' CPU per payment | kill -9 → all channels run | → every payer paid again |");
        println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    }
    for row in rows.iter_mut() {
        row.latencies.sort();
        let pick = |p: f64| {
            let i = ((row.latencies.len().saturating_sub(1)) as f64 * p).round() as usize;
            row.latencies.get(i).copied().map_or(0.0, ms)
        };
        let seconds = row.elapsed.as_secs_f64();
        let per_second = row.payments as f64 / seconds;
        let fsyncs = row.commits as f64 / seconds;
        let grouped = if row.commits > 0 {
            row.writes as f64 / row.commits as f64
        } else {
            0.0
        };
        let per = |cpu: Duration| cpu.as_secs_f64() * 1e6 / row.payments.max(1) as f64;
        let store = match row.store {
            BenchStore::Redb => "redb (fsync)",
            BenchStore::Memory => "memory",
            BenchStore::Postgres => "PostgreSQL",
        };
        let store = match row.hostile {
            0 => store.to_string(),
            n => format!("{store}, {n} peers that never read"),
        };
        let (resumed, serving) = match row.restart {
            Some((resumed, serving)) => (
                format!("{:.2} s", resumed.as_secs_f64()),
                format!("{:.2} s", serving.as_secs_f64()),
            ),
            None => ("—".into(), "—".into()),
        };
        match output {
            Output::Display => println!(
                "| {store} | {} | {} | {per_second:.0} | {:.2} ms | {:.2} ms | {fsyncs:.0} | {grouped:.1} | {:.0} µs | {:.0} µs | {resumed} | {serving} |",
                row.channels,
                row.payments,
                pick(0.50),
                pick(0.99),
                per(row.node_cpu),
                per(row.payers_cpu),
            ),
            Output::Json => json_rows.push(serde_json::json!({
                "store": store, "channels": row.channels, "payments": row.payments,
                "payments_per_second": per_second, "p50_ms": pick(0.50), "p99_ms": pick(0.99),
                "fsyncs_per_second": fsyncs, "writes_per_fsync": grouped,
                "node_cpu_us_per_payment": per(row.node_cpu),
                "payers_cpu_us_per_payment": per(row.payers_cpu),
                "restart_all_channels_s": row.restart.map(|(r, _)| r.as_secs_f64()),
                "restart_every_payer_paid_s": row.restart.map(|(_, s)| s.as_secs_f64()),
            })),
        }
    }
    match output {
        Output::Display => println!(
            "\nsignature limit: sign {:.1} µs + verify {:.1} µs per side per round → at most {limit:.0} payments/s on {cores} cores with payers and node on this machine ({:.0} with the payers elsewhere)",
            sign * 1e6,
            verify * 1e6,
            2.0 * limit,
        ),
        Output::Json => println!(
            "{}",
            serde_json::json!({
                "rows": json_rows,
                "sign_us": sign * 1e6, "verify_us": verify * 1e6, "cores": cores,
                "signature_limit_per_second": limit,
                "signature_limit_node_alone_per_second": 2.0 * limit,
            })
        ),
    }
}
