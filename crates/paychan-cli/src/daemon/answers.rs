//! What the daemon answers on its control socket. Each answer drives the running channel
//! through [`Command`]s and follows it through its events.

use std::{collections::HashSet, time::Duration};

use paychan_node::{
    engine::{Event, Input, Payment},
    runtime::{Command, Status},
};
use tokio::{
    io::AsyncWrite,
    sync::{
        broadcast::{self, error::RecvError},
        mpsc, oneshot,
    },
};

use super::write_line;
use crate::control::Reply;

const STOPPED: &str = "the channel stopped (see the daemon's log)";

/// Sends a command to the running channel and waits for its reply.
pub async fn ask<T>(
    commands: &mpsc::Sender<Command>,
    command: impl FnOnce(oneshot::Sender<T>) -> Command,
) -> Result<T, String> {
    let (reply, answer) = oneshot::channel();
    commands
        .send(command(reply))
        .await
        .map_err(|_| STOPPED.to_string())?;
    answer.await.map_err(|_| STOPPED.to_string())
}

async fn input(commands: &mpsc::Sender<Command>, input: Input) -> Result<(), String> {
    ask(commands, |reply| Command::Input { input, reply })
        .await?
        .map_err(|e| e.to_string())
}

/// Queues `count` payments and reports progress until all are final (fully signed and stored)
/// or failed. Their ids are `batch-0` … `batch-(count − 1)` (see [`crate::payment_ids`]).
pub async fn pay<W: AsyncWrite + Unpin>(
    commands: &mpsc::Sender<Command>,
    events: &broadcast::Sender<Event>,
    amount: u64,
    count: u64,
    patience: Duration,
    out: &mut W,
) -> Reply {
    if count == 0 || amount == 0 {
        return Reply::Error("nothing to pay: amount and count must be positive".into());
    }
    let batch: [u8; 8] = rand::random();
    let label = crate::tower::hex(&batch);
    let mut seen = events.subscribe();
    let mut pending = HashSet::new();
    for index in 0..count {
        let id = crate::payment_ids::payment_id(batch, index);
        if let Err(e) = input(commands, Input::Pay(Payment { id, amount })).await {
            return Reply::Error(match pending.len() {
                0 => format!("payment refused: {e}"),
                queued => format!(
                    "{queued} payments are queued (ids {label}-0 … {label}-{}); the next was refused: {e}",
                    queued - 1
                ),
            });
        }
        pending.insert(id);
    }
    let (mut done, mut failed) = (0u64, 0u64);
    let mut refusal = None;
    while !pending.is_empty() {
        match tokio::time::timeout(patience, seen.recv()).await {
            Err(_) => {
                let why = refusal.map_or(String::new(), |r| {
                    format!(" (the peer refused a round: {r:?})")
                });
                return Reply::Error(format!(
                    "{} of {count} payments (batch {label}) are not final after {} s without progress{why}: is the peer connected? They stay queued in the daemon and go out when it is; if the daemon stops first, payments not yet co-signed are dropped, never half-made",
                    pending.len(),
                    patience.as_secs()
                ));
            }
            Ok(Ok(Event::Paid { payments, .. })) => {
                done += remove_all(&mut pending, &payments);
                if write_line(out, &Reply::Progress { done, of: count })
                    .await
                    .is_err()
                {
                    // The caller left; the payments go on regardless.
                    return Reply::Error("the caller left".into());
                }
            }
            Ok(Ok(Event::Dropped { payments, reason })) => {
                failed += remove_all(&mut pending, &payments);
                refusal = Some(reason);
            }
            Ok(Ok(Event::ProposalRejected { reason, .. })) => refusal = Some(reason),
            Ok(Ok(_)) => {}
            Ok(Err(RecvError::Lagged(missed))) => {
                return Reply::Error(format!(
                    "lost track after {done} of {count} payments (batch {label}): the daemon's events ran {missed} ahead of this command. The rest go on; `paychan history` shows which are final"
                ))
            }
            Ok(Err(RecvError::Closed)) => return Reply::Error(STOPPED.into()),
        }
    }
    if failed > 0 {
        let why = refusal.map_or(String::new(), |r| format!(": {r:?}"));
        return Reply::Error(format!(
            "{failed} of {count} payments (batch {label}) failed and were not made{why}; {done} are final"
        ));
    }
    match ask(commands, Command::Status).await {
        Ok(status) => Reply::Paid {
            count,
            batch: label,
            seq: status.newest.seq,
            balance_a: status.newest.balance_a,
            balance_b: status.newest.balance_b,
        },
        Err(e) => Reply::Error(e),
    }
}

/// Removes `payments` from `pending`, returning how many were there.
fn remove_all(pending: &mut HashSet<[u8; 16]>, payments: &[Payment]) -> u64 {
    payments.iter().filter(|p| pending.remove(&p.id)).count() as u64
}

/// Asks the peer to close; without its agreement within `patience`, closes unilaterally with
/// the newest co-signed state (the daemon finalizes after the challenge period).
pub async fn close(
    commands: &mpsc::Sender<Command>,
    events: &broadcast::Sender<Event>,
    patience: Duration,
) -> Reply {
    let mut seen = events.subscribe();
    if let Err(e) = input(commands, Input::Close).await {
        return Reply::Error(format!("cannot close: {e}"));
    }
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        match tokio::time::timeout_at(deadline, seen.recv()).await {
            Ok(Ok(Event::CloseAgreed(terms))) => {
                return Reply::Closed {
                    cooperative: true,
                    seq: terms.seq,
                    balance_a: terms.balance_a,
                    balance_b: terms.balance_b,
                }
            }
            Ok(Ok(_)) | Ok(Err(RecvError::Lagged(_))) => {}
            Ok(Err(RecvError::Closed)) => return Reply::Error(STOPPED.into()),
            Err(_) => break,
        }
    }
    match force_close(commands).await {
        Reply::Error(e) => Reply::Error(format!(
            "the peer did not agree to close within {} s, and {e}",
            patience.as_secs()
        )),
        closed => closed,
    }
}

/// Registers the newest co-signed state now; the channel signs nothing new from here on.
pub async fn force_close(commands: &mpsc::Sender<Command>) -> Reply {
    match ask(commands, Command::ForceClose).await {
        Ok(Ok(registered)) => Reply::Closed {
            cooperative: false,
            seq: registered.seq,
            balance_a: registered.balance_a,
            balance_b: registered.balance_b,
        },
        Ok(Err(e)) => Reply::Error(format!("the unilateral close failed: {e}")),
        Err(e) => Reply::Error(e),
    }
}

/// Looks at the chain now: a stale registration is disputed on the spot.
pub async fn dispute(commands: &mpsc::Sender<Command>) -> Reply {
    match ask(commands, Command::SyncChain).await {
        Ok(Ok(submitted)) => Reply::Disputed { submitted },
        Ok(Err(e)) => Reply::Error(format!("could not act on the chain: {e}")),
        Err(e) => Reply::Error(e),
    }
}

pub async fn status(commands: &mpsc::Sender<Command>) -> Reply {
    match ask(commands, Command::Status).await {
        Ok(status) => status_reply(&status),
        Err(e) => Reply::Error(e),
    }
}

fn status_reply(status: &Status) -> Reply {
    Reply::Status {
        connected: status.connected,
        seq: status.newest.seq,
        balance_a: status.newest.balance_a,
        balance_b: status.newest.balance_b,
        co_signed_seq: status.co_signed.map(|s| s.state.seq),
        queued: status.queued,
        closing: status.closing.is_some(),
        landed: status.landed,
    }
}
