//! Runs a channel node over a peer link: local inputs and the peer's messages go in, the
//! node's outbox goes out, events come back to the application. When the link drops, the node
//! is handed back intact; the next session starts with a resync (`Input::Connected`).

use tokio::{
    sync::mpsc,
    task::JoinHandle,
    time::{interval_at, Instant, Interval, MissedTickBehavior},
};

use crate::{
    engine::{Event, Input, PeerMessage},
    ledger::Ledger,
    node::{ChannelNode, NodeError},
    store::ChannelStore,
    transport::{LinkWriter, PeerLink, TransportError, KEEPALIVE_INTERVAL},
};

/// Why a session ended.
#[derive(Debug)]
pub enum SessionEnd {
    /// The application closed its input channel.
    Stopped,
    /// The link failed or the peer went away; reconnect and serve again.
    LinkLost(TransportError),
}

/// A link being served. Reading is not cancel-safe mid-frame, so the reader runs as its own
/// local task feeding a bounded queue; `next` can then sit in any `select!`. A quiet session
/// still sends a keepalive every [`KEEPALIVE_INTERVAL`], so the peer does not take it for dead
/// (the reader gives up after the link's idle timeout).
#[derive(Debug)]
pub struct Session {
    incoming: mpsc::Receiver<Result<PeerMessage, TransportError>>,
    writer: LinkWriter,
    reading: JoinHandle<()>,
    keepalive: Interval,
    /// A keepalive is owed: the next `send_all` sends one if it has nothing else to send.
    keepalive_due: bool,
}

impl Session {
    /// Starts reading `link` (needs a `LocalSet`).
    pub fn start(link: PeerLink) -> Self {
        let (mut reader, writer) = link.split();
        let (incoming_tx, incoming) = mpsc::channel(64);
        let reading = tokio::task::spawn_local(async move {
            loop {
                let message = reader.recv().await;
                let failed = message.is_err();
                if incoming_tx.send(message).await.is_err() || failed {
                    return;
                }
            }
        });
        let mut keepalive = interval_at(Instant::now() + KEEPALIVE_INTERVAL, KEEPALIVE_INTERVAL);
        keepalive.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Self {
            incoming,
            writer,
            reading,
            keepalive,
            keepalive_due: false,
        }
    }

    /// The next message from the peer; `None` when a keepalive has come due, which the next
    /// [`Session::send_all`] sends. Cancel-safe.
    pub async fn next(&mut self) -> Result<Option<PeerMessage>, TransportError> {
        tokio::select! {
            message = self.incoming.recv() => message.unwrap_or(Err(TransportError::Closed)).map(Some),
            _ = self.keepalive.tick() => {
                self.keepalive_due = true;
                Ok(None)
            }
        }
    }

    /// Sends the node's outbox, in order, or the keepalive owed if there is nothing to send.
    pub async fn send_all(&mut self, messages: Vec<PeerMessage>) -> Result<(), TransportError> {
        if std::mem::take(&mut self.keepalive_due) && messages.is_empty() {
            self.writer.keepalive().await?;
        }
        for message in messages {
            self.writer.send(message).await?;
        }
        Ok(())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.reading.abort();
    }
}

/// Serves one session of `link` until the link drops or `inputs` closes. Invalid peer messages
/// are refused by the engine and counted in `refused`; storage or ledger failures end the
/// session with an error (the process should restart from its store).
pub async fn serve<S: ChannelStore, L: Ledger>(
    node: &mut ChannelNode<S, L>,
    link: PeerLink,
    inputs: &mut mpsc::UnboundedReceiver<Input>,
    events: &mpsc::UnboundedSender<Event>,
) -> Result<SessionEnd, NodeError> {
    let mut session = Session::start(link);
    node.handle(Input::Connected).await?;
    if let Err(e) = flush(node, &mut session, events).await {
        return Ok(SessionEnd::LinkLost(e));
    }
    loop {
        tokio::select! {
            input = inputs.recv() => match input {
                Some(input) => {
                    // A refused local command (e.g. too large a payment) is the caller's to see.
                    if let Err(e) = node.handle(input).await {
                        refuse(e)?;
                    }
                }
                None => return Ok(SessionEnd::Stopped),
            },
            incoming = session.next() => match incoming {
                Ok(Some(message)) => {
                    if let Err(e) = node.handle(Input::Peer(message)).await {
                        refuse(e)?;
                    }
                }
                Ok(None) => {} // a keepalive is due: the flush below sends it
                Err(e) => return Ok(SessionEnd::LinkLost(e)),
            },
        }
        if let Err(e) = flush(node, &mut session, events).await {
            return Ok(SessionEnd::LinkLost(e));
        }
    }
}

/// Engine refusals leave the channel untouched and the session running; anything else stops.
fn refuse(error: NodeError) -> Result<(), NodeError> {
    match error {
        NodeError::Engine(_) | NodeError::Cosign(_) => Ok(()),
        other => Err(other),
    }
}

async fn flush<S: ChannelStore, L: Ledger>(
    node: &mut ChannelNode<S, L>,
    session: &mut Session,
    events: &mpsc::UnboundedSender<Event>,
) -> Result<(), TransportError> {
    for event in node.events.drain(..) {
        // The application may have stopped listening; the channel goes on.
        let _ = events.send(event);
    }
    session.send_all(std::mem::take(&mut node.outbox)).await
}
