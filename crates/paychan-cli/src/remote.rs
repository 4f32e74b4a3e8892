//! Commands a running `paychan daemon` answers: `pay`, `close`, `dispute`.

use paychan_interface::{channel::ChannelStatus, Address};
use paychan_node::ledger::RpcLedger;
use solana_keypair::Keypair;

use crate::{
    amount::{lamports, Sol},
    cluster::{address, Cluster},
    control::{call, CallError, Reply, Request},
    progress,
    store::StoreArg,
};

fn unexpected(reply: Reply) -> String {
    format!("the daemon answered something unexpected: {reply:?}")
}

#[derive(clap::Args, Debug)]
pub struct Pay {
    /// The channel address.
    channel: String,
    /// SOL per payment.
    #[arg(long, allow_negative_numbers = true)]
    amount: String,
    /// How many payments.
    #[arg(long, default_value_t = 1)]
    count: u64,
    /// Seconds to wait without progress (the payments stay queued after that).
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    #[command(flatten)]
    store: StoreArg,
}

fn party(cluster: &Cluster, channel: &str) -> Result<(Keypair, Address), String> {
    Ok((cluster.keypair()?, address(channel)?))
}

pub async fn pay(cluster: &Cluster, args: Pay) -> Result<(), String> {
    let amount = lamports(&args.amount)?;
    let (me, channel) = party(cluster, &args.channel)?;
    if args.count == 0 {
        return Err("--count must be at least 1".into());
    }
    let socket = args.store.socket(&me, &channel)?;
    let bar = progress::payments(args.count);
    let request = Request::Pay {
        amount,
        count: args.count,
        timeout_ms: args.timeout.saturating_mul(1_000),
    };
    let reply = call(&socket, &request, |done, _| bar.set_position(done)).await;
    bar.finish_and_clear();
    match reply? {
        Reply::Paid {
            count,
            batch,
            seq,
            balance_a,
            balance_b,
        } => {
            cluster.print(
                format!(
                    "paid {count} × {} SOL (ids {batch}-0 … {batch}-{}); state seq {seq}: A {} SOL, B {} SOL",
                    Sol(amount),
                    count - 1,
                    Sol(balance_a),
                    Sol(balance_b)
                ),
                serde_json::json!({"paid": count, "batch": batch, "seq": seq, "balance_a": balance_a, "balance_b": balance_b}),
            );
            Ok(())
        }
        other => Err(unexpected(other)),
    }
}

#[derive(clap::Args, Debug)]
pub struct Close {
    /// The channel address.
    channel: String,
    /// Seconds to wait for the peer's agreement, and then for the cooperative close to land,
    /// before closing unilaterally.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
    /// Do not ask the peer: register the newest co-signed state now (the daemon signs nothing
    /// more and finalizes after the challenge period).
    #[arg(long, conflicts_with = "timeout")]
    unilateral: bool,
    /// After a unilateral close, wait out the challenge period until the channel is paid out.
    #[arg(long)]
    wait: bool,
    #[command(flatten)]
    store: StoreArg,
}

pub async fn close(cluster: &Cluster, args: Close) -> Result<(), String> {
    let (me, channel) = party(cluster, &args.channel)?;
    let socket = args.store.socket(&me, &channel)?;
    let request = Request::Close {
        timeout_ms: args.timeout.saturating_mul(1_000),
        unilateral: args.unilateral,
    };
    let mut closed = call(&socket, &request, |_, _| {}).await?;
    let mut ledger = RpcLedger::new(cluster.url.clone());
    let mut why = if args.unilateral {
        "as asked".to_string()
    } else {
        format!("the peer did not agree within {} s", args.timeout)
    };
    if matches!(
        closed,
        Reply::Closed {
            cooperative: true,
            ..
        }
    ) {
        // Both signed: the transaction lands in seconds. If it does not (the peer agreed but
        // never countersigned), close unilaterally rather than wait forever.
        let patience = std::time::Duration::from_secs(args.timeout);
        match progress::until_paid_out(&mut ledger, &channel, Some(patience)).await? {
            Some(now) if now.status == ChannelStatus::Open => {
                let unilateral = Request::Close {
                    timeout_ms: 0,
                    unilateral: true,
                };
                closed = call(&socket, &unilateral, |_, _| {}).await?;
                why = format!(
                    "the peer agreed, but the cooperative close did not land within {} s",
                    args.timeout
                );
            }
            Some(now) if now.status == ChannelStatus::Closing => {
                closed = Reply::Closed {
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
    let Reply::Closed {
        cooperative,
        seq,
        balance_a,
        balance_b,
    } = closed
    else {
        return Err(unexpected(closed));
    };
    let (a, b) = (Sol(balance_a), Sol(balance_b));
    let human = if cooperative {
        format!("closed {channel} cooperatively at seq {seq}: A got {a} SOL, B got {b} SOL")
    } else if args.wait {
        progress::until_paid_out(&mut ledger, &channel, None).await?;
        format!("{why}: closed {channel} unilaterally at seq {seq} and paid out after the challenge period: A {a} SOL, B {b} SOL")
    } else if seq == 0 {
        format!("{why}: registered the opening state unilaterally (each deposit goes back); the daemon finalizes {channel} after the challenge period")
    } else {
        format!("{why}: registered seq {seq} (A {a} SOL, B {b} SOL) unilaterally; the daemon finalizes {channel} after the challenge period")
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
    store: StoreArg,
}

/// Disputes a stale registration now: through the daemon if one runs, else from the store.
pub async fn dispute(cluster: &Cluster, args: Dispute) -> Result<(), String> {
    let (me, channel) = party(cluster, &args.channel)?;
    let socket = args.store.socket(&me, &channel)?;
    let submitted = match call(&socket, &Request::Dispute, |_, _| {}).await {
        Ok(Reply::Disputed { submitted }) => submitted,
        Ok(other) => return Err(unexpected(other)),
        Err(CallError::NoDaemon(_)) => {
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

/// The daemon's view of the channel.
pub async fn node_status(cluster: &Cluster, channel: &str, store: &StoreArg) -> Result<(), String> {
    let (me, channel) = party(cluster, channel)?;
    let socket = store.socket(&me, &channel)?;
    let Reply::Status {
        connected,
        seq,
        balance_a,
        balance_b,
        co_signed_seq,
        queued,
        closing,
        landed,
    } = call(&socket, &Request::Status, |_, _| {}).await?
    else {
        return Err("the daemon answered something unexpected".into());
    };
    cluster.print(
        format!(
            "{channel} (daemon): peer {}; newest seq {seq}: A {} SOL, B {} SOL; co-signed up to {}; {queued} payments queued{}; {landed} transactions landed",
            if connected { "connected" } else { "offline" },
            Sol(balance_a),
            Sol(balance_b),
            co_signed_seq.map_or("none".to_string(), |s| format!("seq {s}")),
            if closing { "; closing" } else { "" },
        ),
        serde_json::json!({"channel": channel.to_string(), "connected": connected, "seq": seq,
                           "balance_a": balance_a, "balance_b": balance_b, "co_signed_seq": co_signed_seq,
                           "queued": queued, "closing": closing, "landed": landed}),
    );
    Ok(())
}
