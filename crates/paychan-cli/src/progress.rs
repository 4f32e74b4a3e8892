//! Progress bars on stderr for long runs and for waiting out a challenge window. indicatif
//! hides them when stderr is not a terminal, so scripts and tests see only the results.

use indicatif::{ProgressBar, ProgressStyle};
use paychan_interface::{
    channel::{Channel, ChannelStatus},
    Address,
};
use paychan_node::ledger::{Ledger, RpcLedger};

fn bar(length: u64, template: &str) -> ProgressBar {
    let bar = ProgressBar::new(length);
    bar.set_style(
        ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

/// Payments made so far out of `total`.
pub fn payments(total: u64) -> ProgressBar {
    bar(
        total,
        "paying    [{bar:40}] {pos}/{len} payments ({per_sec}, eta {eta})",
    )
}

/// A bar whose message says which step runs (`set_message`).
pub fn steps(total: u64) -> ProgressBar {
    bar(
        total,
        "{msg:14} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})",
    )
}

/// Polls the chain until the channel is paid out (gone, or settled with a share left for
/// `withdraw`) or `limit`, if any, passes; returns the channel as it then stands (None: gone).
/// Shows the challenge window running out while the channel is closing.
pub async fn until_paid_out(
    ledger: &mut RpcLedger,
    address: &Address,
    limit: Option<std::time::Duration>,
) -> Result<Option<Channel>, String> {
    let deadline = limit.map(|limit| tokio::time::Instant::now() + limit);
    let window = bar(0, "challenge [{bar:40}] {pos}/{len} s ({msg})");
    let outcome = loop {
        let channel = ledger.channel(address).await.map_err(|e| e.to_string())?;
        match channel {
            None => break None,
            Some(channel) if channel.status == ChannelStatus::Settled => break Some(channel),
            Some(channel) if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) => {
                break Some(channel)
            }
            Some(channel) if channel.status == ChannelStatus::Closing => {
                let now = ledger.unix_timestamp().await.map_err(|e| e.to_string())?;
                let period = channel.challenge_period_secs;
                let left = channel.deadline.saturating_sub(now).max(0) as u64;
                window.set_length(period);
                window.set_position(period.saturating_sub(left));
                window.set_message(if left > 0 {
                    format!("{left} s left to dispute")
                } else {
                    "waiting for finalize".to_string()
                });
            }
            Some(_) => {}
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    };
    window.finish_and_clear();
    Ok(outcome)
}
