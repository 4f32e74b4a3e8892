//! How the application reaches a node's channels: a cheap, `Send` handle (the HTTP API holds
//! one per request) that finds a channel's runtime, asks it, and follows the node's events.

use std::{
    collections::{BTreeMap, HashSet},
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use paychan_interface::{channel::Party, client::ChannelAddress, Address};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::{
    engine::{CloseTerms, Event, Input, LogEntry, Payment},
    runtime::{Command, Status},
    store::StoreError,
};

/// Node events buffered for the slowest subscriber before it lags.
const NODE_EVENTS: usize = 65_536;

/// What happens on a node, for its application (the HTTP API streams these).
#[derive(Clone, Debug)]
pub enum NodeEvent {
    /// A channel runs (joined now, or resumed from the store).
    Started { channel: Address, me: Party },
    /// Something happened to a channel: payments final either way, a close agreed, …
    Channel { channel: Address, event: Event },
    /// A channel opened to this node does not meet its policy; the node signs nothing for it.
    Refused { channel: Address, reason: String },
    /// A channel's runtime ended: settled on-chain, or stopped.
    Ended { channel: Address, reason: String },
    /// Worth logging (a lost link, a refused connection, a chain read that failed); with no
    /// channel, it concerns the node's listener.
    Notice {
        channel: Option<Address>,
        text: String,
    },
}

/// A running channel as the node lists it.
#[derive(Clone, Debug)]
pub struct ChannelEntry {
    /// The channel's address and the parameters it derives from.
    pub address: ChannelAddress,
    pub me: Party,
    /// The counterparty's wallet.
    pub peer: Address,
    pub commands: mpsc::Sender<Command>,
}

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("no channel {0} runs on this node (or is stored by it, for its history)")]
    UnknownChannel(Address),
    #[error("channel {0} has stopped")]
    ChannelStopped(Address),
    /// The engine refused the request and nothing changed (a payment beyond the balance, a
    /// closing channel, …).
    #[error("{0}")]
    Refused(String),
    #[error(
        "{pending} of {count} payments (batch {batch}) are not final after {secs} s without \
         progress (is the peer connected?); they stay queued and go out when it is"
    )]
    NotFinal {
        batch: String,
        pending: u64,
        count: u64,
        secs: u64,
    },
    #[error("{failed} of {count} payments (batch {batch}) were not made: {reason}")]
    Dropped {
        batch: String,
        failed: u64,
        count: u64,
        reason: String,
    },
    #[error("the chain: {0}")]
    Chain(String),
    #[error("the node stopped: {0}")]
    Stopped(String),
}

/// Payments that are final: co-signed by both parties and durable on both sides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentBatch {
    /// The payments' ids are [`payment_id`]`(batch, 0 … count − 1)`.
    pub batch: [u8; 8],
    pub count: u64,
    pub amount: u64,
    /// The newest co-signed state, which holds them all: their receipt.
    pub seq: u64,
    pub balance_a: u64,
    pub balance_b: u64,
}

/// A payment's id: its batch, then its index in the batch (little-endian), so the history
/// shows which request made each payment.
pub fn payment_id(batch: [u8; 8], index: u64) -> [u8; 16] {
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&batch);
    id[8..].copy_from_slice(&index.to_le_bytes());
    id
}

/// A payment id as people read it: its batch in hex, a dash, its index in the batch.
pub fn payment_label(id: &[u8; 16]) -> String {
    let (batch, index) = id.split_at(8);
    let mut le = [0u8; 8];
    le.copy_from_slice(index);
    format!("{}-{}", hex(batch), u64::from_le_bytes(le))
}

/// Removes `payments` from `pending`, returning how many were there.
fn remove_all(pending: &mut HashSet<[u8; 16]>, payments: &[Payment]) -> u64 {
    payments.iter().filter(|p| pending.remove(&p.id)).count() as u64
}

/// How a close went: agreed by both (the cooperative close lands), or registered alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseOutcome {
    pub cooperative: bool,
    pub terms: CloseTerms,
}

#[derive(Clone, Debug)]
pub struct NodeHandle(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    wallet: Address,
    signer: Address,
    channels: Mutex<BTreeMap<Address, ChannelEntry>>,
    events: broadcast::Sender<NodeEvent>,
    reads: mpsc::Sender<HistoryRead>,
}

/// A read of the store, answered on the node's thread (where the store lives): the history
/// of any channel the store holds, running or ended.
#[derive(Debug)]
pub(super) struct HistoryRead {
    pub channel: Address,
    pub from_seq: u64,
    pub limit: usize,
    pub reply: oneshot::Sender<Result<Vec<LogEntry>, StoreError>>,
}

impl NodeHandle {
    pub(super) fn new(wallet: Address, signer: Address, reads: mpsc::Sender<HistoryRead>) -> Self {
        let (events, _) = broadcast::channel(NODE_EVENTS);
        Self(Arc::new(Shared {
            wallet,
            signer,
            channels: Mutex::new(BTreeMap::new()),
            events,
            reads,
        }))
    }

    pub fn wallet(&self) -> Address {
        self.0.wallet
    }

    pub fn signer(&self) -> Address {
        self.0.signer
    }

    fn channels_locked(&self) -> MutexGuard<'_, BTreeMap<Address, ChannelEntry>> {
        // Nothing panics while holding the lock; a poisoned map is still consistent.
        self.0
            .channels
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every running channel, by address.
    pub fn channels(&self) -> Vec<(Address, ChannelEntry)> {
        let channels = self.channels_locked();
        channels.iter().map(|(a, e)| (*a, e.clone())).collect()
    }

    pub fn channel(&self, channel: &Address) -> Result<ChannelEntry, NodeError> {
        let channels = self.channels_locked();
        channels
            .get(channel)
            .cloned()
            .ok_or(NodeError::UnknownChannel(*channel))
    }

    pub fn is_running(&self, channel: &Address) -> bool {
        self.channels_locked().contains_key(channel)
    }

    /// How many channels run.
    pub fn running(&self) -> usize {
        self.channels_locked().len()
    }

    pub(super) fn insert(&self, channel: Address, entry: ChannelEntry) {
        self.channels_locked().insert(channel, entry);
    }

    pub(super) fn remove(&self, channel: &Address) {
        self.channels_locked().remove(channel);
    }

    pub(super) fn emit(&self, event: NodeEvent) {
        // Nobody may be subscribed; the node goes on.
        let _ = self.0.events.send(event);
    }

    /// Everything that happens from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<NodeEvent> {
        self.0.events.subscribe()
    }

    /// Sends a command to a channel's runtime and waits for its reply.
    pub async fn ask<T>(
        &self,
        channel: &Address,
        command: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, NodeError> {
        let entry = self.channel(channel)?;
        let (reply, answer) = oneshot::channel();
        let stopped = || NodeError::ChannelStopped(*channel);
        entry
            .commands
            .send(command(reply))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())
    }

    pub async fn status(&self, channel: &Address) -> Result<Status, NodeError> {
        self.ask(channel, Command::Status).await
    }

    async fn input(&self, channel: &Address, input: Input) -> Result<(), NodeError> {
        self.ask(channel, |reply| Command::Input { input, reply })
            .await?
            .map_err(|e| NodeError::Refused(e.to_string()))
    }

    /// Pays `amount` lamports `count` times and waits until every payment is final, giving
    /// up after `patience` without progress (the rest stay queued). Their ids are
    /// [`payment_id`]`(batch, 0 … count − 1)`; `progress` hears (final, count) as they come.
    pub async fn pay(
        &self,
        channel: &Address,
        amount: u64,
        count: u64,
        patience: Duration,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<PaymentBatch, NodeError> {
        let batch: [u8; 8] = rand::random();
        let label = hex(&batch);
        let mut seen = self.subscribe();
        let mut pending = HashSet::new();
        for index in 0..count {
            let id = payment_id(batch, index);
            if let Err(e) = self
                .input(channel, Input::Pay(Payment { id, amount }))
                .await
            {
                return Err(match (index, e) {
                    (0, NodeError::Refused(why)) => {
                        NodeError::Refused(format!("payment refused: {why}"))
                    }
                    (0, other) => other,
                    (queued, e) => NodeError::Refused(format!(
                        "{queued} payments are queued (batch {label}); the next was refused: {e}"
                    )),
                });
            }
            pending.insert(id);
        }
        let (mut done, mut failed, mut reason) = (0u64, 0u64, None);
        while !pending.is_empty() {
            let event = match tokio::time::timeout(patience, seen.recv()).await {
                Ok(Ok(NodeEvent::Channel { channel: from, event })) if from == *channel => event,
                Ok(Ok(_)) => continue,
                Ok(Err(broadcast::error::RecvError::Lagged(missed))) => {
                    return Err(NodeError::Stopped(format!(
                        "lost track of batch {label} after {done} of {count} payments: the node's \
                         events ran {missed} ahead; the rest go on, the history shows which are final"
                    )))
                }
                Ok(Err(broadcast::error::RecvError::Closed)) => {
                    return Err(NodeError::ChannelStopped(*channel))
                }
                Err(_) => {
                    return Err(NodeError::NotFinal {
                        batch: label,
                        pending: pending.len() as u64,
                        count,
                        secs: patience.as_secs(),
                    })
                }
            };
            match event {
                Event::Paid { payments, .. } => {
                    done += remove_all(&mut pending, &payments);
                    progress(done, count);
                }
                Event::Dropped {
                    payments,
                    reason: why,
                } => {
                    failed += remove_all(&mut pending, &payments);
                    reason = Some(why);
                }
                _ => {}
            }
        }
        if failed > 0 {
            return Err(NodeError::Dropped {
                batch: label,
                failed,
                count,
                reason: reason.map_or(String::new(), |r| format!("{r:?}")),
            });
        }
        // The newest co-signed state holds every payment of the batch.
        let status = self.status(channel).await?;
        let state = status.co_signed.map(|c| c.state).unwrap_or(status.newest);
        Ok(PaymentBatch {
            batch,
            count,
            amount,
            seq: state.seq,
            balance_a: state.balance_a,
            balance_b: state.balance_b,
        })
    }

    /// Closes cooperatively; without the peer's agreement within `patience` (or at once with
    /// `unilateral`), registers the newest co-signed state (the node finalizes after the
    /// challenge period).
    pub async fn close(
        &self,
        channel: &Address,
        unilateral: bool,
        patience: Duration,
    ) -> Result<CloseOutcome, NodeError> {
        if !unilateral {
            let mut seen = self.subscribe();
            self.input(channel, Input::Close).await?;
            let agreed = async {
                loop {
                    match seen.recv().await {
                        Ok(NodeEvent::Channel {
                            channel: from,
                            event: Event::CloseAgreed(terms),
                        }) if from == *channel => return Some(terms),
                        Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            };
            if let Ok(Some(terms)) = tokio::time::timeout(patience, agreed).await {
                return Ok(CloseOutcome {
                    cooperative: true,
                    terms,
                });
            }
        }
        let registered = self
            .ask(channel, Command::ForceClose)
            .await?
            .map_err(|e| NodeError::Chain(e.to_string()))?;
        Ok(CloseOutcome {
            cooperative: false,
            terms: CloseTerms {
                seq: registered.seq,
                balance_a: registered.balance_a,
                balance_b: registered.balance_b,
            },
        })
    }

    /// Looks at the chain now: disputes a stale registration, finalizes after the window.
    /// Returns how many transactions landed.
    pub async fn settle(&self, channel: &Address) -> Result<usize, NodeError> {
        self.ask(channel, Command::SyncChain)
            .await?
            .map_err(|e| NodeError::Chain(e.to_string()))
    }

    /// Fully signed states (each a receipt for the payments in it) from `from_seq` on, of any
    /// channel the node's store holds (running or ended).
    pub async fn history(
        &self,
        channel: &Address,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<LogEntry>, NodeError> {
        let (reply, answer) = oneshot::channel();
        let read = HistoryRead {
            channel: *channel,
            from_seq,
            limit,
            reply,
        };
        let stopped = || NodeError::Stopped("the node's store is closed".into());
        self.0.reads.send(read).await.map_err(|_| stopped())?;
        match answer.await.map_err(|_| stopped())? {
            Ok(entries) => Ok(entries),
            Err(StoreError::UnknownChannel(channel)) => Err(NodeError::UnknownChannel(channel)),
            Err(e) => Err(NodeError::Stopped(format!("storage failed: {e}"))),
        }
    }
}

/// Lower-case hex, as payment ids are shown.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_shows_the_batch_and_index_of_its_id() {
        let id = payment_id([0xab; 8], 9_999);
        assert_eq!(payment_label(&id), "abababababababab-9999");
    }
}
