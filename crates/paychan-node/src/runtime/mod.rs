//! A channel kept running — what a node runs for each of its channels: the driver, a look at
//! the chain every tick (the engine's watcher disputes a stale registration and finalizes after the window),
//! and the peer link, replaced whenever the peer reconnects (each new link starts with a
//! resync). The application sends [`Command`]s and reads [`Event`]s and [`Notice`]s.

mod links;

use std::time::Duration;

use paychan_interface::{client::CoSignedState, state::ChannelState};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

pub use links::{
    accept_forever, accept_forever_for, accept_forever_over, dial_forever, listen, Carrier,
    LinkRoutes, LISTEN_BACKLOG, MAX_PENDING_HANDSHAKES,
};

use crate::{
    driver::{ChannelDriver, DriverError},
    engine::{CloseTerms, Event, Input},
    ledger::{view_of, GoneEvidence, Ledger, Sighting},
    peer::Session,
    store::ChannelStore,
    transport::{PeerLink, TransportError},
};

/// What the application asks of a running channel.
#[derive(Debug)]
pub enum Command {
    /// Feeds the engine (pay, close); the reply says whether it took the input.
    Input {
        input: Input,
        reply: oneshot::Sender<Result<(), DriverError>>,
    },
    /// Registers the newest co-signed state on-chain now; replies with that state (seq 0:
    /// the opening state, which returns each deposit).
    ForceClose(oneshot::Sender<Result<ChannelState, DriverError>>),
    /// Looks at the chain now; replies with how many transactions that landed.
    SyncChain(oneshot::Sender<Result<usize, DriverError>>),
    Status(oneshot::Sender<Status>),
}

/// A running channel at a glance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub connected: bool,
    pub newest: ChannelState,
    /// The newest state both parties signed (what a unilateral close registers).
    pub co_signed: Option<CoSignedState>,
    /// Payments waiting for the current round.
    pub queued: usize,
    pub closing: Option<CloseTerms>,
    /// Transactions this node landed.
    pub landed: usize,
}

/// Things worth logging; none of them stops the channel.
#[derive(Debug)]
pub enum Notice {
    Connected,
    LinkLost(TransportError),
    /// A connection failed before it was authenticated (garbage, a wrong key, a replay).
    Refused(String),
    /// Dialing the peer failed; the dialer tries again, backing off.
    PeerUnreachable(String),
    /// The engine refused something (from the peer or the application); nothing changed.
    Rejected(DriverError),
    /// The chain could not be read or a submission failed; the next tick tries again.
    Chain(DriverError),
    /// This node landed a transaction (the total so far).
    Landed(usize),
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Notice::Connected => write!(f, "peer connected"),
            Notice::LinkLost(e) => write!(f, "link lost: {e}"),
            Notice::Refused(why) => write!(f, "refused a connection: {why}"),
            Notice::PeerUnreachable(why) => write!(f, "peer unreachable: {why} (trying again)"),
            Notice::Rejected(e) => write!(f, "refused: {e}"),
            Notice::Chain(e) => write!(f, "chain: {e} (trying again next tick)"),
            Notice::Landed(total) => write!(f, "landed a transaction ({total} so far)"),
        }
    }
}

/// The link as the runtime sees it: a dialer watches it to know when to dial again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkState {
    pub connected: bool,
    /// Sessions started so far.
    pub sessions: u64,
}

/// Why [`Runtime::run`] returned.
#[derive(Debug, PartialEq, Eq)]
pub enum RuntimeEnd {
    /// The channel is settled on-chain, or gone on the evidence of [`GoneEvidence`]: nothing
    /// is left to guard.
    ChannelClosed,
    /// The application dropped its command sender.
    Stopped,
}

pub struct Runtime<S, L> {
    node: ChannelDriver<S, L>,
    session: Option<Session>,
    events: broadcast::Sender<Event>,
    notices: mpsc::UnboundedSender<Notice>,
    link: watch::Sender<LinkState>,
    gone: GoneEvidence,
}

impl<S: ChannelStore, L: Ledger> Runtime<S, L> {
    /// `link` follows the peer link, so a dialer knows when to dial again.
    pub fn new(
        node: ChannelDriver<S, L>,
        events: broadcast::Sender<Event>,
        notices: mpsc::UnboundedSender<Notice>,
        link: watch::Sender<LinkState>,
    ) -> Self {
        Self {
            node,
            session: None,
            events,
            notices,
            link,
            gone: GoneEvidence::default(),
        }
    }

    pub fn node(&self) -> &ChannelDriver<S, L> {
        &self.node
    }

    /// Runs until the channel is closed on-chain or `commands` closes. Only a storage failure
    /// (or a store found behind the peer) is an error: the process must stop.
    pub async fn run(
        &mut self,
        commands: &mut mpsc::Receiver<Command>,
        links: &mut mpsc::Receiver<PeerLink>,
        tick: Duration,
    ) -> Result<RuntimeEnd, DriverError> {
        let mut ticks = tokio::time::interval(tick);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => self.command(command).await?,
                    None => return Ok(RuntimeEnd::Stopped),
                },
                Some(link) = links.recv() => {
                    // A new authenticated link is the peer reconnecting: it replaces the old one.
                    self.session = Some(Session::start(link));
                    self.link.send_modify(|state| {
                        state.connected = true;
                        state.sessions += 1;
                    });
                    self.notify(Notice::Connected);
                    let result = self.node.handle(Input::Connected).await;
                    self.absorb(result)?;
                }
                incoming = next_incoming(&mut self.session) => match incoming {
                    Ok(message) => {
                        let result = self.node.handle(Input::Peer(message)).await;
                        self.absorb(result)?;
                    }
                    Err(e) => self.lose_link(e),
                },
                _ = ticks.tick() => {
                    if self.look_at_chain().await?.is_none() {
                        self.flush();
                        return Ok(RuntimeEnd::ChannelClosed);
                    }
                }
            }
            self.flush();
        }
    }

    async fn command(&mut self, command: Command) -> Result<(), DriverError> {
        match command {
            Command::Input { input, reply } => {
                let result = self.node.handle(input).await;
                let _ = reply.send(fatal_or(result)?);
            }
            Command::ForceClose(reply) => {
                let registered = self.node.engine().newest_state();
                let result = self.node.force_close().await.map(|()| registered);
                let _ = reply.send(fatal_or(result)?);
            }
            Command::SyncChain(reply) => {
                let before = self.node.landed.len();
                let result = self.node.sync_chain().await;
                let landed = self.node.landed.len() - before;
                let _ = reply.send(fatal_or(result)?.map(|()| landed));
            }
            Command::Status(reply) => {
                let engine = self.node.engine();
                let _ = reply.send(Status {
                    connected: self.session.is_some(),
                    newest: engine.newest_state(),
                    co_signed: engine.newest_co_signed(),
                    queued: engine.queued(),
                    closing: engine.closing(),
                    landed: self.node.landed.len(),
                });
            }
        }
        Ok(())
    }

    /// Reads the chain and lets the watcher act; None once there is nothing left to guard.
    async fn look_at_chain(&mut self) -> Result<Option<()>, DriverError> {
        let address = self.node.channel().address;
        let account = match self.gone.look(self.node.ledger(), &address).await {
            Ok(Sighting::Live(account)) => account,
            Ok(Sighting::Unseen) => return Ok(Some(())),
            Ok(Sighting::Settled(_) | Sighting::Gone) => return Ok(None),
            Err(e) => {
                self.notify(Notice::Chain(e.into()));
                return Ok(Some(()));
            }
        };
        let view = match self.node.ledger().unix_timestamp().await {
            Ok(now) => view_of(&account, now),
            Err(e) => {
                self.notify(Notice::Chain(e.into()));
                return Ok(Some(()));
            }
        };
        let before = self.node.landed.len();
        let result = self.node.handle(Input::Chain(view)).await;
        if self.node.landed.len() > before {
            self.notify(Notice::Landed(self.node.landed.len()));
        }
        match result {
            Err(DriverError::Ledger(e)) => self.notify(Notice::Chain(DriverError::Ledger(e))),
            other => self.absorb(other)?,
        }
        Ok(Some(()))
    }

    /// Keeps the channel running through refusals; only a storage failure stops it.
    fn absorb(&mut self, result: Result<(), DriverError>) -> Result<(), DriverError> {
        if let Err(e) = fatal_or(result)? {
            self.notify(Notice::Rejected(e));
        }
        Ok(())
    }

    fn lose_link(&mut self, error: TransportError) {
        self.session = None;
        self.link.send_modify(|state| state.connected = false);
        self.notify(Notice::LinkLost(error));
    }

    fn notify(&self, notice: Notice) {
        let _ = self.notices.send(notice);
    }

    /// Hands events to the application and the outbox to the link's writer: neither waits.
    fn flush(&mut self) {
        for event in self.node.events.drain(..) {
            // Nobody may be subscribed; the channel goes on.
            let _ = self.events.send(event);
        }
        let outbox = std::mem::take(&mut self.node.outbox);
        // Offline, the outbox is dropped: the resync on reconnect sends what is still pending.
        if let Some(session) = &mut self.session {
            if let Err(e) = session.send_all(outbox) {
                self.lose_link(e);
            }
        }
    }
}

async fn next_incoming(
    session: &mut Option<Session>,
) -> Result<crate::engine::PeerMessage, TransportError> {
    match session {
        Some(session) => session.next().await,
        None => std::future::pending().await,
    }
}

/// Splits what must stop the channel ([`DriverError::must_stop`]) from everything else.
fn fatal_or<T>(result: Result<T, DriverError>) -> Result<Result<T, DriverError>, DriverError> {
    match result {
        Err(e) if e.must_stop() => Err(e),
        other => Ok(other),
    }
}
