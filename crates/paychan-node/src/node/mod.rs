//! A node: one process runs every channel of one key — each channel's runtime (driver,
//! watcher ticks, peer link), one listener for all their inbound links (the dialer's proof
//! names the channel), a dialer per channel whose counterparty has a known address, and one
//! store shared by all (so their commits are grouped). It looks at the chain for channels
//! naming its key and starts each new one that meets its [`InboundPolicy`] without a
//! restart. The application drives channels through a [`NodeHandle`].

pub(crate) mod handle;
mod policy;

use std::{
    collections::{HashMap, HashSet},
    rc::Rc,
    time::Duration,
};

use ed25519_dalek::SigningKey;
use paychan_interface::{
    channel::{Channel, ChannelStatus, Party},
    client::ChannelAddress,
    Address,
};
use solana_keypair::Keypair;
use solana_signer::Signer;
use tokio::{
    net::TcpListener,
    sync::{broadcast, mpsc, watch},
    task::spawn_local,
};

use handle::HistoryRead;
pub use handle::{
    hex, payment_id, payment_label, ChannelEntry, CloseOutcome, NodeError, NodeEvent, NodeHandle,
    PaymentBatch,
};
pub use policy::{require_polling, InboundPolicy, Refusal, LOOKS_PER_PERIOD};

use crate::{
    driver::{ChannelDriver, DriverError},
    engine::Event,
    ledger::{Ledger, LedgerError},
    runtime::{accept_forever_over, dial_forever, Carrier, LinkRoutes, LinkState, Notice, Runtime},
    store::{ChannelStore, StoreError},
};

/// What a node is and how it behaves.
#[derive(Debug)]
pub struct NodeConfig {
    /// The party's wallet: it pays fees and signs transactions.
    pub wallet: Keypair,
    /// Signs every state and authenticates every link (the wallet's key, or a session key
    /// each channel names).
    pub signer: SigningKey,
    pub program_id: Address,
    pub policy: InboundPolicy,
    /// Where to dial counterparties, by wallet: the node keeps a link up for every channel
    /// with them. A channel whose counterparty is not here waits for it to dial in.
    pub peers: HashMap<Address, String>,
    /// How often each channel looks at the chain.
    pub tick: Duration,
    /// How often the node looks for new channels naming its key.
    pub discover_every: Duration,
}

/// Events each channel buffers for the application before the slowest reader lags.
const EVENTS_PER_CHANNEL: usize = 4_096;
/// Commands queued per channel (payments, closes) before a caller waits.
const COMMANDS_PER_CHANNEL: usize = 1_024;

pub struct Node<S, L> {
    config: Rc<NodeConfig>,
    store: S,
    /// A ledger for each channel (clones may share a connection).
    ledger: L,
    handle: NodeHandle,
    routes: LinkRoutes,
    /// Channels whose runtime ended: nothing left to guard (or the node must stop).
    ended: mpsc::UnboundedReceiver<(Address, Result<(), DriverError>)>,
    ended_tx: mpsc::UnboundedSender<(Address, Result<(), DriverError>)>,
    /// The application's reads of the store, answered from [`Node::run`].
    reads: Option<mpsc::Receiver<HistoryRead>>,
    finished: HashSet<Address>,
    /// Channels refused by policy, reported once each.
    refused: HashSet<Address>,
}

impl<S, L> Node<S, L>
where
    S: ChannelStore + Clone + 'static,
    L: Ledger + Clone + 'static,
{
    pub fn new(config: NodeConfig, store: S, ledger: L) -> Self {
        let (reads_tx, reads) = mpsc::channel(64);
        let handle = NodeHandle::new(
            Address::new_from_array(config.wallet.pubkey().to_bytes()),
            Address::new_from_array(config.signer.verifying_key().to_bytes()),
            reads_tx,
        );
        let (ended_tx, ended) = mpsc::unbounded_channel();
        Self {
            config: Rc::new(config),
            store,
            ledger,
            handle,
            routes: LinkRoutes::default(),
            ended,
            ended_tx,
            reads: Some(reads),
            finished: HashSet::new(),
            refused: HashSet::new(),
        }
    }

    /// What the application drives the node's channels through.
    pub fn handle(&self) -> NodeHandle {
        self.handle.clone()
    }

    /// Runs until a channel's store fails (restart the node: it resumes from the store).
    /// Inbound links arrive on `listener`, if any.
    pub async fn run(self, listener: Option<TcpListener>) -> Result<(), NodeError> {
        self.run_listening(listener, None).await
    }

    /// [`Node::run`], with inbound links also arriving over WebSockets on `websocket` (from
    /// browsers' pages: the same handshake, proofs, frames and limits as TCP).
    pub async fn run_listening(
        mut self,
        listener: Option<TcpListener>,
        websocket: Option<TcpListener>,
    ) -> Result<(), NodeError> {
        if let Some(reads) = self.reads.take() {
            spawn_local(answer_reads(self.store.clone(), reads));
        }
        for (listener, carrier) in [(listener, Carrier::Tcp), (websocket, Carrier::WebSocket)] {
            let Some(listener) = listener else { continue };
            let (notices, received) = mpsc::unbounded_channel();
            spawn_local(forward(None, None, received, self.handle.clone()));
            spawn_local(accept_forever_over(
                listener,
                carrier,
                self.config.signer.clone(),
                self.routes.clone(),
                notices,
            ));
        }
        let mut looks = tokio::time::interval(self.config.discover_every);
        looks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = looks.tick() => {
                    if let Err(e) = self.discover().await {
                        self.handle.emit(NodeEvent::Notice {
                            channel: None,
                            text: format!("looking for channels failed: {e} (trying again)"),
                        });
                    }
                }
                Some((channel, end)) = self.ended.recv() => {
                    self.finished.insert(channel);
                    end.map_err(|e| NodeError::Stopped(format!("channel {channel}: {e}")))?;
                }
            }
        }
    }

    /// One look at the chain: starts every channel naming this node's key that is not
    /// running yet — those its store holds (to guard them), and new open ones that meet
    /// the policy — and whose lease it holds or can take. Returns how many it started.
    pub async fn discover(&mut self) -> Result<usize, NodeError> {
        let program = self.config.program_id;
        let wallet = self.config.wallet.pubkey();
        let accounts = self.ledger.channels_of(&program, &wallet).await?;
        let new: Vec<(Address, Channel, Party)> = accounts
            .into_iter()
            .filter(|(address, _)| {
                !self.finished.contains(address) && !self.handle.is_running(address)
            })
            // An account this build cannot read is no channel of ours (the deploy check
            // refuses upgrades that strand them).
            .filter_map(|(address, account)| {
                Channel::unpack(&account.data).ok().map(|c| (address, c))
            })
            .filter_map(|(address, channel)| {
                channel.party_of(&wallet).map(|me| (address, channel, me))
            })
            .collect();
        if new.is_empty() {
            return Ok(0); // every channel runs: the store need not be read
        }
        let stored: HashSet<Address> = self.store.channels().await?.into_iter().collect();
        let tick_ms = u64::try_from(self.config.tick.as_millis()).unwrap_or(u64::MAX);
        let mut candidates = Vec::new();
        for (address, channel, me) in new {
            if !stored.contains(&address) {
                if channel.status != ChannelStatus::Open {
                    continue; // closing before we ever signed: nothing of ours to guard
                }
                let running = self.handle.running() + candidates.len();
                let check = match me {
                    Party::A => self.config.policy.check_own(&channel, running),
                    Party::B => self.config.policy.check(&channel, running),
                }
                .and_then(|()| require_polling(channel.challenge_period_secs, tick_ms));
                if let Err(refusal) = check {
                    if self.refused.insert(address) {
                        self.handle.emit(NodeEvent::Refused {
                            channel: address,
                            reason: refusal.to_string(),
                        });
                    }
                    continue;
                }
            }
            candidates.push((address, channel));
        }
        if candidates.is_empty() {
            return Ok(0);
        }
        // Only the lease holder runs a channel: another node on a shared store may hold some.
        let wanted: Vec<Address> = candidates.iter().map(|(address, _)| *address).collect();
        let claimed: HashSet<Address> = self.store.claim(&wanted).await?.into_iter().collect();
        let mut started = 0;
        for (address, channel) in candidates {
            if !claimed.contains(&address) {
                continue;
            }
            match self.start(address, &channel).await {
                Ok(()) => started += 1,
                Err(e) if e.must_stop() => return Err(NodeError::Stopped(e.to_string())),
                Err(e) => self.handle.emit(NodeEvent::Notice {
                    channel: Some(address),
                    text: format!("cannot start: {e}"),
                }),
            }
        }
        Ok(started)
    }

    /// Joins `address` (resuming from the store) and runs it: its route on the listener, a
    /// dialer if the counterparty's address is known, its runtime.
    async fn start(&mut self, address: Address, channel: &Channel) -> Result<(), DriverError> {
        let config = &self.config;
        let at = ChannelAddress::of_account(&config.program_id, &address, channel);
        let driver = ChannelDriver::join_with_policy(
            self.store.clone(),
            self.ledger.clone(),
            config.wallet.insecure_clone(),
            config.signer.clone(),
            at,
            config.policy.join,
        )
        .await?;
        let params = *driver.engine().params();
        let peer_signer = params.key_of(params.peer()).to_bytes();
        let peer_wallet = match params.me {
            Party::A => channel.party_b,
            Party::B => channel.party_a,
        };
        let id = address.to_bytes();
        let (links_tx, mut links) = mpsc::channel(4);
        let (link_tx, link_rx) = watch::channel(LinkState::default());
        let (notices_tx, notices) = mpsc::unbounded_channel();
        self.routes.add(id, peer_signer, links_tx.clone());
        let dialer = config.peers.get(&peer_wallet).map(|peer| {
            spawn_local(dial_forever(
                peer.clone(),
                config.signer.clone(),
                peer_signer,
                id,
                links_tx,
                link_rx,
                notices_tx.clone(),
            ))
            .abort_handle()
        });
        let (events_tx, events) = broadcast::channel::<Event>(EVENTS_PER_CHANNEL);
        spawn_local(forward(
            Some(address),
            Some(events),
            notices,
            self.handle.clone(),
        ));
        let (commands, mut commands_rx) = mpsc::channel(COMMANDS_PER_CHANNEL);
        self.handle.insert(
            address,
            ChannelEntry {
                address: at,
                me: params.me,
                peer: peer_wallet,
                commands,
            },
        );
        self.handle.emit(NodeEvent::Started {
            channel: address,
            me: params.me,
        });
        let mut runtime = Runtime::new(driver, events_tx, notices_tx, link_tx);
        let (handle, routes, ended, tick) = (
            self.handle.clone(),
            self.routes.clone(),
            self.ended_tx.clone(),
            config.tick,
        );
        spawn_local(async move {
            let end = runtime.run(&mut commands_rx, &mut links, tick).await;
            routes.remove(&id);
            if let Some(dialer) = dialer {
                dialer.abort();
            }
            handle.remove(&address);
            handle.emit(NodeEvent::Ended {
                channel: address,
                reason: match &end {
                    Ok(end) => format!("{end:?}"),
                    Err(e) => format!("stopped: {e}"),
                },
            });
            let _ = ended.send((address, end.map(drop)));
        });
        Ok(())
    }
}

/// Answers the application's reads of the store, one at a time.
async fn answer_reads<S: ChannelStore>(store: S, mut reads: mpsc::Receiver<HistoryRead>) {
    while let Some(read) = reads.recv().await {
        let entries = store.log(&read.channel, read.from_seq, read.limit).await;
        let _ = read.reply.send(entries);
    }
}

/// Hands one channel's events and notices (or the listener's, with no channel) to the
/// node's subscribers.
async fn forward(
    channel: Option<Address>,
    mut events: Option<broadcast::Receiver<Event>>,
    mut notices: mpsc::UnboundedReceiver<Notice>,
    handle: NodeHandle,
) {
    loop {
        tokio::select! {
            event = next_event(&mut events) => match (event, channel) {
                (Some(event), Some(channel)) => handle.emit(NodeEvent::Channel { channel, event }),
                _ => events = None,
            },
            notice = notices.recv() => match notice {
                Some(notice) => handle.emit(NodeEvent::Notice { channel, text: notice.to_string() }),
                None => return,
            },
        }
    }
}

/// The next event, skipping over a lag (the node's own subscribers report theirs).
async fn next_event(events: &mut Option<broadcast::Receiver<Event>>) -> Option<Event> {
    let Some(receiver) = events else {
        return std::future::pending().await;
    };
    loop {
        match receiver.recv().await {
            Ok(event) => return Some(event),
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => return None,
        }
    }
}

impl From<StoreError> for NodeError {
    fn from(error: StoreError) -> Self {
        NodeError::Stopped(format!("storage failed: {error}"))
    }
}

impl From<LedgerError> for NodeError {
    fn from(error: LedgerError) -> Self {
        NodeError::Chain(error.to_string())
    }
}
