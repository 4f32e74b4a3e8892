//! Commands that run a channel node for one session: `listen` and `connect` hold a session with
//! the peer over the encrypted link; `history`, `force-close` and `watch` use the node's store
//! (`watch --tower` a tower file). `paychan node` keeps all of it running instead, for every channel.

use std::path::{Path, PathBuf};

use paychan_interface::Address;
use paychan_node::{
    api::{wire::Receipt, MAX_HISTORY},
    driver::ChannelDriver,
    engine::{Event, Input, Payment},
    ledger::{GoneEvidence, RpcLedger, Sighting},
    node::payment_label,
    peer::serve,
    store::{ChannelStore, RedbStore, StoreError},
    transport::PeerLink,
    watcher::ChainRequest,
    watchtower::Watchtower,
};
use tokio::{net::TcpListener, sync::mpsc};

use crate::{
    amount::{lamports, Sol},
    cluster::{channel_at, Cluster},
    node::client::NodeClient,
    store::StoreArg,
};

/// Refuses a polling interval that leaves too few looks at the chain within the channel's
/// challenge period, naming the flag.
pub fn require_polling(period_secs: u64, interval_ms: u64) -> Result<(), String> {
    paychan_node::node::require_polling(period_secs, interval_ms)
        .map_err(|e| format!("--interval-ms {interval_ms}: {e}"))
}

/// Joins the channel from this party's store; with `interval_ms`, refuses to poll the chain
/// less often than [`require_polling`] asks.
pub async fn node(
    cluster: &Cluster,
    store: &StoreArg,
    channel: &str,
    interval_ms: Option<u64>,
) -> Result<ChannelDriver<RedbStore, RpcLedger>, String> {
    let me = cluster.keypair()?;
    let mut ledger = RpcLedger::new(cluster.url.clone());
    let (address, account) = channel_at(&mut ledger, channel).await?;
    let store = store.open(&me)?;
    let node = ChannelDriver::join_with_policy(
        store,
        ledger,
        me.insecure_clone(),
        cluster.signer()?,
        address,
        cluster.policy(),
    )
    .await
    .map_err(|e| crate::cluster::explain(&e))?;
    if let Some(interval_ms) = interval_ms {
        require_polling(account.challenge_period_secs, interval_ms)?;
    }
    Ok(node)
}

/// The key the peer authenticates the link with: its state-signing key.
pub fn peer_key(node: &ChannelDriver<RedbStore, RpcLedger>) -> [u8; 32] {
    let params = node.engine().params();
    params.key_of(params.peer()).to_bytes()
}

#[derive(clap::Args, Debug)]
pub struct Listen {
    /// The channel address.
    channel: String,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7400")]
    bind: String,
    #[command(flatten)]
    store: StoreArg,
}

/// Serves one session with the peer: accepts its payments and countersigns its close.
pub async fn listen(cluster: &Cluster, args: Listen) -> Result<(), String> {
    let mut node = node(cluster, &args.store, &args.channel, None).await?;
    let listener = TcpListener::bind(&args.bind)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.bind))?;
    eprintln!(
        "listening on {}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let (stream, from) = listener.accept().await.map_err(|e| e.to_string())?;
    let key = cluster.signer()?;
    let channel = node.channel().address.to_bytes();
    let link = PeerLink::accept(stream, &key, &peer_key(&node), channel)
        .await
        .map_err(|e| format!("{from}: {e}"))?;
    let (_inputs, mut inputs_rx) = mpsc::unbounded_channel::<Input>();
    let (events, mut events_rx) = mpsc::unbounded_channel();
    let end = serve(&mut node, link, &mut inputs_rx, &events)
        .await
        .map_err(|e| e.to_string())?;
    let mut received = 0u64;
    while let Ok(event) = events_rx.try_recv() {
        if let Event::Received { payments, .. } = event {
            received += payments.iter().map(|p| p.amount).sum::<u64>();
        }
    }
    let newest = node.engine().newest_state();
    println!(
        "session ended ({end:?}): received {} SOL; newest state seq {}",
        Sol(received),
        newest.seq
    );
    Ok(())
}

#[derive(clap::Args, Debug)]
pub struct Connect {
    /// The channel address.
    channel: String,
    /// The peer's listening address.
    #[arg(long)]
    peer: String,
    /// How many payments to make.
    #[arg(long, default_value_t = 1)]
    count: u64,
    /// SOL per payment.
    #[arg(long, allow_negative_numbers = true)]
    amount: String,
    /// Close the channel cooperatively afterwards.
    #[arg(long)]
    close: bool,
    #[command(flatten)]
    store: StoreArg,
}

/// Dials the peer, makes the payments (batched into rounds), optionally closes.
pub async fn connect(cluster: &Cluster, args: Connect) -> Result<(), String> {
    let amount = lamports(&args.amount)?;
    let mut node = node(cluster, &args.store, &args.channel, None).await?;
    let key = cluster.signer()?;
    let channel = node.channel().address.to_bytes();
    let link = PeerLink::connect(&args.peer, &key, &peer_key(&node), channel)
        .await
        .map_err(|e| format!("{}: {e}", args.peer))?;
    let (inputs, mut inputs_rx) = mpsc::unbounded_channel();
    let (events, mut events_rx) = mpsc::unbounded_channel();
    for i in 0..args.count {
        let id = u128::from(i).to_le_bytes();
        inputs
            .send(Input::Pay(Payment { id, amount }))
            .map_err(|e| e.to_string())?;
    }
    let closing = args.close;
    let count = args.count;
    let outcome = async move {
        let session = tokio::task::spawn_local(async move {
            let end = serve(&mut node, link, &mut inputs_rx, &events).await;
            (node, end)
        });
        let mut paid = 0u64;
        while paid < count {
            match events_rx.recv().await {
                Some(Event::Paid { payments, .. }) => paid += payments.len() as u64,
                Some(Event::ProposalRejected { reason, .. }) => {
                    return Err(format!("the peer refused a payment: {reason:?}"))
                }
                Some(_) => {}
                None => return Err(format!("the session ended after {paid} payments")),
            }
        }
        if closing {
            inputs.send(Input::Close).map_err(|e| e.to_string())?;
            loop {
                match events_rx.recv().await {
                    Some(Event::CloseAgreed(_)) => break,
                    Some(_) => {}
                    None => return Err("the session ended before the close".into()),
                }
            }
        }
        drop(inputs);
        let (node, end) = session.await.map_err(|e| e.to_string())?;
        end.map_err(|e| e.to_string())?;
        Ok((node, paid))
    }
    .await?;
    let (node, paid) = outcome;
    let newest = node.engine().newest_state();
    println!(
        "paid {paid} × {} SOL in {} rounds; balances A {} SOL, B {} SOL{}",
        Sol(amount),
        newest.seq,
        Sol(newest.balance_a),
        Sol(newest.balance_b),
        if closing {
            "; cooperative close sent"
        } else {
            ""
        }
    );
    Ok(())
}

#[derive(clap::Args, Debug)]
pub struct StoredChannel {
    /// The channel address.
    channel: String,
    #[command(flatten)]
    store: StoreArg,
}

#[derive(clap::Args, Debug)]
pub struct History {
    /// The channel address.
    channel: String,
    #[command(flatten)]
    node: crate::node::client::NodeArg,
    #[command(flatten)]
    store: StoreArg,
}

/// The log of fully signed states: every payment with the state that is its receipt. From the
/// store, or from the running node that holds it.
pub async fn history(cluster: &Cluster, args: History) -> Result<(), String> {
    let me = cluster.keypair()?;
    let channel = crate::cluster::address(&args.channel)?;
    // A node named on the command line, or a PostgreSQL store (nodes share it), is asked.
    let local = match args.node.given() || args.store.postgres().is_some() {
        true => Err(StoreError::InUse),
        false => RedbStore::open(args.store.path(&me)?),
    };
    let receipts = match local {
        Ok(store) => store
            .log(&channel, 0, usize::MAX)
            .await
            .map_err(|e| e.to_string())?
            .iter()
            .map(Receipt::from)
            .collect(),
        Err(StoreError::InUse) => {
            let node = NodeClient::find(&args.node, &args.store, &me)?;
            let mut receipts: Vec<Receipt> = Vec::new();
            loop {
                let from = receipts.last().map_or(0, |r| r.seq + 1);
                let path =
                    format!("/v1/channels/{channel}/history?from={from}&limit={MAX_HISTORY}");
                let page: Vec<Receipt> = node.get(&path).await?;
                let done = page.len() < MAX_HISTORY;
                receipts.extend(page);
                if done {
                    break receipts;
                }
            }
        }
        Err(e) => return Err(format!("cannot open the store: {e}")),
    };
    if receipts.is_empty() {
        return Err(format!("no payments stored for {channel}"));
    }
    for receipt in receipts {
        let ops: Vec<String> = receipt
            .payments
            .iter()
            .map(|p| format!("pay {} SOL (id {})", Sol(p.amount), label(&p.id)))
            .collect();
        println!(
            "seq {}: A {} SOL, B {} SOL, log root {}: {}",
            receipt.seq,
            Sol(receipt.balance_a),
            Sol(receipt.balance_b),
            receipt.log_root.get(..16).unwrap_or(&receipt.log_root),
            ops.join(", ")
        );
    }
    Ok(())
}

/// A payment id (32 hex digits) as `pay` names it: batch-index.
fn label(id: &str) -> String {
    let bytes: Option<Vec<u8>> = (0..id.len())
        .step_by(2)
        .map(|i| {
            id.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect();
    match bytes.and_then(|b| <[u8; 16]>::try_from(b).ok()) {
        Some(id) => payment_label(&id),
        None => id.to_string(),
    }
}

/// Registers the newest fully signed state this node holds and starts the challenge period.
pub async fn force_close(cluster: &Cluster, args: StoredChannel) -> Result<(), String> {
    let mut node = node(cluster, &args.store, &args.channel, None).await?;
    node.force_close().await.map_err(|e| e.to_string())?;
    println!(
        "registered seq {} for {}; finalize after the challenge period",
        node.engine().newest_state().seq,
        node.channel().address
    );
    Ok(())
}

#[derive(clap::Args, Debug)]
pub struct Watch {
    /// The channel address.
    channel: String,
    /// How often to look at the chain.
    #[arg(long, default_value_t = 1_000)]
    interval_ms: u64,
    /// Watchtower mode: guard the channel with the state in this file (kept current by the
    /// party's `paychan node --tower-dir`); this keypair is a third key paying the fees.
    #[arg(long)]
    tower: Option<PathBuf>,
    #[command(flatten)]
    store: StoreArg,
}

/// Watches the channel until it is closed: disputes a stale registration with the newest
/// co-signed state this node (or the tower file) holds, and finalizes once the challenge
/// period is over. A failed read is reported and retried: only evidence ends the watch.
pub async fn watch(cluster: &Cluster, args: Watch) -> Result<(), String> {
    let address = crate::cluster::address(&args.channel)?;
    let interval = std::time::Duration::from_millis(args.interval_ms);
    if let Some(file) = &args.tower {
        return watch_as_tower(cluster, address, file, interval).await;
    }
    let mut node = node(cluster, &args.store, &args.channel, Some(args.interval_ms)).await?;
    let mut gone = GoneEvidence::default();
    let mut submitted = 0;
    loop {
        // A refused submission (say, a finalize a moment early) is reported and retried.
        if let Err(e) = node.sync_chain().await {
            eprintln!("warning: {e}");
        }
        if node.landed.len() > submitted {
            submitted = node.landed.len();
            println!("submitted a transaction for {address} ({submitted} so far)");
        }
        match closed(node.ledger(), &address, &mut gone).await {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(e) => eprintln!("warning: {e} (trying again)"),
        }
        tokio::time::sleep(interval).await;
    }
}

/// Says so and returns true once the channel needs no more watching: settled, or gone on the
/// evidence [`GoneEvidence`] asks for (one empty read from a lagging node is not enough).
async fn closed(
    ledger: &mut RpcLedger,
    address: &Address,
    gone: &mut GoneEvidence,
) -> Result<bool, paychan_node::ledger::LedgerError> {
    match gone.look(ledger, address).await? {
        Sighting::Gone => {
            println!("{address} is closed");
            Ok(true)
        }
        Sighting::Settled(_) => {
            println!("{address} is settled; an unclaimed share waits for `withdraw`");
            Ok(true)
        }
        Sighting::Live(_) | Sighting::Unseen => Ok(false),
    }
}

/// A third key guarding the channel: re-reads the tower file every tick, and the tower keeps
/// the newest state that the channel's keys on-chain signed (a forged file changes nothing),
/// disputes a stale registration and finalizes after the window.
async fn watch_as_tower(
    cluster: &Cluster,
    address: Address,
    file: &Path,
    interval: std::time::Duration,
) -> Result<(), String> {
    let (channel, _) = crate::tower::read(file)?;
    if channel.address != address {
        return Err(format!(
            "{} guards {}, not {address}",
            file.display(),
            channel.address
        ));
    }
    let mut tower = Watchtower::new(RpcLedger::new(cluster.url.clone()), cluster.keypair()?);
    loop {
        match crate::tower::read(file) {
            Ok((channel, state)) if channel.address == address => tower.watch(channel, state),
            Ok(_) => eprintln!(
                "warning: {} now names another channel; ignored",
                file.display()
            ),
            // Mid-rewrite or damaged: keep guarding with the newest state verified so far.
            Err(e) => eprintln!("warning: {e}"),
        }
        let report = tower.tick().await;
        for (_, request) in &report.submitted {
            println!("tower submitted {} for {address}", request_name(request));
        }
        for (_, error) in &report.errors {
            eprintln!("warning: {error}");
        }
        if report.released.contains(&address) {
            println!("{address} is closed or settled; nothing left to guard");
            return Ok(());
        }
        tokio::time::sleep(interval).await;
    }
}

fn request_name(request: &ChainRequest) -> &'static str {
    match request {
        ChainRequest::Dispute(_) => "a dispute",
        ChainRequest::Finalize => "the finalize",
        ChainRequest::StartClose(_) => "a close",
        ChainRequest::CloseCooperative(_) => "a cooperative close",
    }
}
