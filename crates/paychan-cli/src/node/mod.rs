//! `paychan node`: every channel of this key in one process — one listener for peers' links,
//! a dialer for each counterparty given with `--peer`, the watcher of each channel, one store
//! with grouped commits, and the HTTP API (`pay`, `close`, `dispute`, `status --node` and any
//! backend use it). Channels opened to this key while it runs are joined under the policy
//! flags, without a restart.

pub mod client;

use std::{collections::HashMap, path::PathBuf, time::Duration};

use paychan_interface::Address;
use paychan_node::{
    api,
    engine::Event,
    ledger::RpcLedger,
    node::{InboundPolicy, Node, NodeConfig, NodeEvent, NodeHandle},
    store::{ChannelStore, PgConfig, PgStore},
};
use tokio::{io::AsyncWriteExt, net::TcpListener, sync::broadcast};

use crate::{
    amount::lamports,
    cluster::{address, Cluster},
    store::StoreArg,
};
use client::{advert_path, Advert};

#[derive(clap::Args, Debug)]
pub struct Run {
    /// Accept peers' links on this address (payers dial it); without it the node only dials.
    #[arg(long)]
    listen: Option<String>,
    /// Accept peers' links over WebSockets on this address too (browsers' pages dial it): the
    /// same handshake, key proofs, frames and limits as `--listen`.
    #[arg(long)]
    listen_ws: Option<String>,
    /// Serve the HTTP API on this address (keep it on localhost: the token is its only lock).
    #[arg(long, default_value = "127.0.0.1:7480")]
    api: String,
    /// The API token file, created mode 0600 if missing (default: beside the store).
    #[arg(long)]
    api_token: Option<PathBuf>,
    /// Dial this counterparty for every channel with it: WALLET=HOST:PORT (repeatable).
    #[arg(long = "peer", value_name = "WALLET=HOST:PORT")]
    peers: Vec<String>,
    /// Join a channel opened to this node only if the opener locked at least this many SOL.
    #[arg(long, default_value = "0")]
    min_deposit: String,
    /// Join token channels of this mint (repeatable; `tUSD`: the test stablecoin), opened
    /// with at least MIN tokens: MINT or MINT=MIN. Without it the node joins lamport channels
    /// only.
    #[arg(long = "accept-mint", value_name = "MINT[=MIN]")]
    accept_mints: Vec<String>,
    /// Channels to run at most.
    #[arg(long, default_value_t = 10_000)]
    max_channels: usize,
    /// Join channels opened only by this wallet (repeatable; default: anyone's).
    #[arg(long = "allow", value_name = "WALLET")]
    allow: Vec<String>,
    /// How often each channel looks at the chain, in milliseconds.
    #[arg(long, default_value_t = 1_000)]
    interval_ms: u64,
    /// How often to look for new channels naming this key, in milliseconds.
    #[arg(long, default_value_t = 1_000)]
    discover_ms: u64,
    /// Keep DIR/<channel>.json current with each channel's newest co-signed state, for
    /// `paychan watch --tower`.
    #[arg(long)]
    tower_dir: Option<PathBuf>,
    #[command(flatten)]
    store: StoreArg,
}

/// `WALLET=HOST:PORT` → (wallet, address).
fn peer(text: &str) -> Result<(Address, String), String> {
    let (wallet, at) = text
        .split_once('=')
        .ok_or_else(|| format!("--peer {text}: expected WALLET=HOST:PORT"))?;
    Ok((address(wallet)?, at.to_string()))
}

pub async fn run(cluster: &Cluster, args: Run) -> Result<(), String> {
    let wallet = cluster.keypair()?;
    let signer = cluster.signer()?;
    let mut mints = std::collections::BTreeMap::new();
    for text in &args.accept_mints {
        let (mint, min) = text.split_once('=').unwrap_or((text, "0"));
        let mut ledger = paychan_node::ledger::RpcLedger::new(cluster.url.clone());
        let (mint, _, decimals) = crate::cluster::mint_at(&mut ledger, mint)
            .await
            .map_err(|e| format!("--accept-mint {text}: {e}"))?;
        let min = match min.trim() {
            "0" => 0,
            amount => crate::amount::Unit::Token { mint, decimals }
                .parse(amount)
                .map_err(|e| format!("--accept-mint {text}: {e}"))?,
        };
        mints.insert(mint, min);
    }
    let policy = InboundPolicy {
        join: cluster.policy(),
        min_deposit: match args.min_deposit.trim() {
            "0" => 0,
            amount => lamports(amount).map_err(|e| format!("--min-deposit: {e}"))?,
        },
        mints,
        max_channels: args.max_channels,
        allow: if args.allow.is_empty() {
            None
        } else {
            Some(
                args.allow
                    .iter()
                    .map(|w| address(w))
                    .collect::<Result<_, _>>()?,
            )
        },
    };
    let peers: HashMap<Address, String> = args
        .peers
        .iter()
        .map(|p| peer(p))
        .collect::<Result<_, _>>()?;
    let store_path = args.store.path(&wallet)?;
    let token_file = match &args.api_token {
        Some(path) => path.clone(),
        None => store_path.with_extension("api-token"),
    };
    let token = api::token::load_or_create(&token_file).map_err(|e| e.to_string())?;
    let peer_listener = match &args.listen {
        Some(bind) => Some(
            paychan_node::runtime::listen(bind)
                .await
                .map_err(|e| format!("cannot listen for peers on {bind}: {e}"))?,
        ),
        None => None,
    };
    let websocket_listener = match &args.listen_ws {
        Some(bind) => Some(
            paychan_node::runtime::listen(bind)
                .await
                .map_err(|e| format!("cannot listen for WebSocket peers on {bind}: {e}"))?,
        ),
        None => None,
    };
    let api_listener = TcpListener::bind(&args.api)
        .await
        .map_err(|e| format!("cannot serve the API on {}: {e}", args.api))?;
    let config = NodeConfig {
        wallet: wallet.insecure_clone(),
        signer,
        program_id: paychan_interface::ID,
        policy,
        peers,
        tick: Duration::from_millis(args.interval_ms),
        discover_every: Duration::from_millis(args.discover_ms),
    };
    let ledger = RpcLedger::new(cluster.url.clone());
    // One node type per store: the rest of the run is the same for both.
    macro_rules! serve_on {
        ($store:expr) => {
            serve(
                Node::new(config, $store, ledger),
                &args,
                token,
                token_file,
                api_listener,
                [peer_listener, websocket_listener],
                &wallet,
            )
            .await
        };
    }
    match args.store.postgres() {
        Some(url) => serve_on!(PgStore::open(PgConfig::new(url))
            .await
            .map_err(|e| format!("cannot open the PostgreSQL store: {e}"))?),
        None => serve_on!(args.store.open(&wallet)?),
    }
}

/// Runs `node` with its API, log and tower files until it stops.
async fn serve<S: ChannelStore + Clone + 'static>(
    node: Node<S, RpcLedger>,
    args: &Run,
    token: String,
    token_file: PathBuf,
    api_listener: TcpListener,
    [peer_listener, websocket_listener]: [Option<TcpListener>; 2],
    wallet: &solana_keypair::Keypair,
) -> Result<(), String> {
    let api_at = api_listener.local_addr().map_err(|e| e.to_string())?;
    let handle = node.handle();
    tokio::task::spawn_local(log(handle.subscribe()));
    if let Some(dir) = args.tower_dir.clone() {
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        tokio::task::spawn_local(keep_tower_files(dir, handle.clone()));
    }
    let advert = Advert {
        api: format!("http://{api_at}"),
        token_file: token_file.clone(),
    };
    let advert_at = advert_path(&args.store, wallet)?;
    let advert_json = serde_json::to_vec(&advert).map_err(|e| e.to_string())?;
    paychan_durable::write_atomically(&advert_at, &advert_json)
        .map_err(|e| format!("cannot write {}: {e}", advert_at.display()))?;
    // On stdout, first: scripts and tests read the addresses from here.
    if let Some(listener) = &peer_listener {
        let at = listener.local_addr().map_err(|e| e.to_string())?;
        println!("listening for peers on {at}");
    }
    if let Some(listener) = &websocket_listener {
        let at = listener.local_addr().map_err(|e| e.to_string())?;
        println!("listening for WebSocket peers on ws://{at}/");
    }
    println!("api on http://{api_at} (token in {})", token_file.display());
    tokio::task::spawn(api::serve(api_listener, handle.clone(), token));
    println!("running as {}", handle.wallet());
    let end = node.run_listening(peer_listener, websocket_listener).await;
    let _ = std::fs::remove_file(&advert_at);
    end.map_err(|e| format!("{e} (restart the node: it resumes from its store)"))
}

/// Channel lifecycles on stdout (scripts wait for them), everything else on stderr; neither
/// blocks the node (a stalled reader stalls this task alone).
async fn log(mut events: broadcast::Receiver<NodeEvent>) {
    let (mut stdout, mut stderr) = (tokio::io::stdout(), tokio::io::stderr());
    loop {
        let event = match events.recv().await {
            Ok(event) => event,
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let (out, line) = match event {
            NodeEvent::Started { channel, me } => {
                (true, format!("channel {channel} running (as {me:?})"))
            }
            NodeEvent::Ended { channel, reason } => {
                (true, format!("channel {channel} ended: {reason}"))
            }
            NodeEvent::Refused { channel, reason } => {
                (false, format!("not joining {channel}: {reason}"))
            }
            NodeEvent::Notice {
                channel: Some(channel),
                text,
            } => (false, format!("{channel}: {text}")),
            NodeEvent::Notice {
                channel: None,
                text,
            } => (false, text),
            NodeEvent::Channel { .. } => continue,
        };
        let written = if out {
            stdout
                .write_all(format!("{line}\n").as_bytes())
                .await
                .and(stdout.flush().await)
        } else {
            stderr
                .write_all(format!("paychan node: {line}\n").as_bytes())
                .await
        };
        if written.is_err() {
            return;
        }
    }
}

/// Rewrites DIR/<channel>.json whenever a channel's newest co-signed state moves on.
async fn keep_tower_files(dir: PathBuf, node: NodeHandle) {
    let mut events = node.subscribe();
    let mut written: HashMap<Address, u64> = HashMap::new();
    loop {
        let channel = match events.recv().await {
            Ok(NodeEvent::Started { channel, .. }) => channel,
            Ok(NodeEvent::Channel {
                channel,
                event: Event::Paid { .. } | Event::Received { .. },
            }) => channel,
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let (Ok(status), Ok(entry)) = (node.status(&channel).await, node.channel(&channel)) else {
            continue;
        };
        let Some(state) = status.co_signed else {
            continue;
        };
        if written.get(&channel) == Some(&state.state.seq) {
            continue;
        }
        let at = entry.address;
        let path = dir.join(format!("{channel}.json"));
        match crate::tower::write(&path, &at, &state) {
            Ok(()) => {
                written.insert(channel, state.state.seq);
            }
            Err(e) => eprintln!("paychan node: warning: {e}"),
        }
    }
}
