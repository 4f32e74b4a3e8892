//! Commands the running `paychan node` answers over its HTTP API: `pay`, `close`, `dispute`,
//! `status --node`.

use paychan_interface::{channel::ChannelStatus, Address};
use paychan_node::{
    api::wire::{ChannelInfo, CloseRequest, Closed, EventBody, Paid, PayRequest, Settled},
    ledger::RpcLedger,
};

use crate::{
    cluster::unit_of,
    cluster::{address, Cluster},
    node::client::{ClientError, NodeArg, NodeClient},
    progress,
    store::StoreArg,
};

/// The running node for this key (or the one `--node` names).
fn client(cluster: &Cluster, node: &NodeArg, store: &StoreArg) -> Result<NodeClient, ClientError> {
    let me = cluster.keypair().map_err(ClientError::Failed)?;
    NodeClient::find(node, store, &me)
}

fn channel_path(channel: &Address) -> String {
    format!("/v1/channels/{channel}")
}

#[derive(clap::Args, Debug)]
pub struct Pay {
    /// The channel address.
    channel: String,
    /// SOL per payment (tokens, in the mint's decimals, on a token channel).
    #[arg(long, allow_negative_numbers = true)]
    amount: String,
    /// How many payments.
    #[arg(long, default_value_t = 1)]
    count: u64,
    /// Seconds to wait without progress (the payments stay queued after that).
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    #[command(flatten)]
    node: NodeArg,
    #[command(flatten)]
    store: StoreArg,
}

pub async fn pay(cluster: &Cluster, args: Pay) -> Result<(), String> {
    let channel = address(&args.channel)?;
    let unit = unit_of(cluster, &channel).await?;
    let amount = unit.parse(&args.amount)?;
    if args.count == 0 {
        return Err("--count must be at least 1".into());
    }
    let node = client(cluster, &args.node, &args.store)?;
    let bar = progress::payments(args.count);
    let request = PayRequest {
        amount,
        count: Some(args.count),
        timeout_ms: Some(args.timeout.saturating_mul(1_000)),
    };
    // The bar follows this channel's payments on the event stream while the request runs.
    let shown = channel.to_string();
    let follow = node.follow(|event| {
        if matches!(&event, EventBody::PaymentSent { channel, .. } if *channel == shown) {
            bar.inc(1);
        }
        true
    });
    let path = format!("{}/pay", channel_path(&channel));
    let post = node.post::<Paid>(&path, &request);
    tokio::pin!(post, follow);
    let mut following = true;
    let paid = loop {
        tokio::select! {
            paid = &mut post => break paid,
            // The bar is a courtesy: a stream that ends leaves the payments going.
            _ = &mut follow, if following => following = false,
        }
    };
    bar.finish_and_clear();
    let paid = paid?;
    cluster.print(
        format!(
            "paid {} × {} (ids {}-0 … {}-{}); state seq {}: A {}, B {}",
            paid.count,
            unit.show(amount),
            paid.batch,
            paid.batch,
            paid.count - 1,
            paid.seq,
            unit.show(paid.balance_a),
            unit.show(paid.balance_b)
        ),
        serde_json::json!({"paid": paid.count, "batch": paid.batch, "first_id": paid.first_id,
                           "seq": paid.seq, "balance_a": paid.balance_a, "balance_b": paid.balance_b}),
    );
    Ok(())
}

#[derive(clap::Args, Debug)]
pub struct Close {
    /// The channel address.
    channel: String,
    /// Seconds to wait for the peer's agreement, and then for the cooperative close to land,
    /// before closing unilaterally.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
    /// Do not ask the peer: register the newest co-signed state now (the node signs nothing
    /// more and finalizes after the challenge period).
    #[arg(long, conflicts_with = "timeout")]
    unilateral: bool,
    /// After a unilateral close, wait out the challenge period until the channel is paid out.
    #[arg(long)]
    wait: bool,
    #[command(flatten)]
    node: NodeArg,
    #[command(flatten)]
    store: StoreArg,
}

pub async fn close(cluster: &Cluster, args: Close) -> Result<(), String> {
    let channel = address(&args.channel)?;
    let node = client(cluster, &args.node, &args.store)?;
    // Read before closing: a cooperative close removes the account.
    let unit = unit_of(cluster, &channel)
        .await
        .unwrap_or(crate::amount::Unit::Sol);
    let path = format!("{}/close", channel_path(&channel));
    let request = CloseRequest {
        unilateral: args.unilateral,
        timeout_ms: Some(args.timeout.saturating_mul(1_000)),
    };
    let mut closed: Closed = node.post(&path, &request).await?;
    let mut ledger = RpcLedger::new(cluster.url.clone());
    let mut why = if args.unilateral {
        "as asked".to_string()
    } else {
        format!("the peer did not agree within {} s", args.timeout)
    };
    if closed.cooperative {
        // Both signed: the transaction lands in seconds. If it does not (the peer agreed but
        // never countersigned), close unilaterally rather than wait forever.
        let patience = std::time::Duration::from_secs(args.timeout);
        match progress::until_paid_out(&mut ledger, &channel, Some(patience)).await? {
            Some(now) if now.status == ChannelStatus::Open => {
                let unilateral = CloseRequest {
                    unilateral: true,
                    timeout_ms: None,
                };
                closed = node.post(&path, &unilateral).await?;
                why = format!(
                    "the peer agreed, but the cooperative close did not land within {} s",
                    args.timeout
                );
            }
            Some(now) if now.status == ChannelStatus::Closing => {
                closed = Closed {
                    cooperative: false,
                    seq: now.registered.seq,
                    balance_a: now.registered.balance_a,
                    balance_b: now.registered.balance_b,
                };
                why = "the cooperative close did not land; a unilateral close is registered".into();
            }
            _ => {}
        }
    }
    let Closed {
        cooperative,
        seq,
        balance_a,
        balance_b,
    } = closed;
    let (a, b) = (unit.show(balance_a), unit.show(balance_b));
    let human = if cooperative {
        format!("closed {channel} cooperatively at seq {seq}: A got {a}, B got {b}")
    } else if args.wait {
        progress::until_paid_out(&mut ledger, &channel, None).await?;
        format!("{why}: closed {channel} unilaterally at seq {seq} and paid out after the challenge period: A {a}, B {b}")
    } else if seq == 0 {
        format!("{why}: registered the opening state unilaterally (each deposit goes back); the node finalizes {channel} after the challenge period")
    } else {
        format!("{why}: registered seq {seq} (A {a}, B {b}) unilaterally; the node finalizes {channel} after the challenge period")
    };
    cluster.print(
        human,
        serde_json::json!({"channel": channel.to_string(), "cooperative": cooperative, "seq": seq,
                           "balance_a": balance_a, "balance_b": balance_b,
                           "paid_out": cooperative || args.wait}),
    );
    Ok(())
}

#[derive(clap::Args, Debug)]
pub struct Dispute {
    /// The channel address.
    channel: String,
    #[command(flatten)]
    node: NodeArg,
    #[command(flatten)]
    store: StoreArg,
}

/// Disputes a stale registration now: through the node if one runs, else from the store.
pub async fn dispute(cluster: &Cluster, args: Dispute) -> Result<(), String> {
    let channel = address(&args.channel)?;
    let asked = match client(cluster, &args.node, &args.store) {
        Ok(node) => node
            .post::<Settled>(&format!("{}/settle", channel_path(&channel)), &())
            .await
            .map(|settled| settled.landed),
        Err(e) => Err(e),
    };
    let submitted = match asked {
        Ok(landed) => landed,
        Err(ClientError::NoNode(_)) => {
            // Joining looks at the chain, and the watcher disputes what is stale.
            let node = crate::session::node(cluster, &args.store, &args.channel, None).await?;
            node.landed.len()
        }
        Err(e) => return Err(e.into()),
    };
    cluster.print(
        match submitted {
            0 => format!("nothing to dispute on {channel}: no stale state is registered"),
            n => format!("the watcher submitted {n} transaction(s) for {channel} (the dispute, or the finalize once the window is over)"),
        },
        serde_json::json!({"channel": channel.to_string(), "submitted": submitted}),
    );
    Ok(())
}

/// The node's view of the channel.
pub async fn node_status(
    cluster: &Cluster,
    channel: &str,
    node: &NodeArg,
    store: &StoreArg,
) -> Result<(), String> {
    let channel = address(channel)?;
    let info: ChannelInfo = client(cluster, node, store)?
        .get(&channel_path(&channel))
        .await?;
    let unit = unit_of(cluster, &channel)
        .await
        .unwrap_or(crate::amount::Unit::Sol);
    cluster.print(
        format!(
            "{channel} (node): peer {}; newest seq {}: A {}, B {}; co-signed up to {}; {} payments queued{}",
            if info.connected { "connected" } else { "offline" },
            info.seq,
            unit.show(info.balance_a),
            unit.show(info.balance_b),
            info.co_signed_seq.map_or("none".to_string(), |s| format!("seq {s}")),
            info.queued,
            if info.closing { "; closing" } else { "" },
        ),
        serde_json::to_value(&info).unwrap_or_default(),
    );
    Ok(())
}
