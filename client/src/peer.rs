//! Runs a channel node over a peer link: local inputs and the peer's messages go in, the
//! node's outbox goes out, events come back to the application. When the link drops, the node
//! is handed back intact; the next session starts with a resync (`Input::Connected`).

use tokio::{sync::mpsc, task::JoinHandle};

use crate::{
    engine::{Event, Input, PeerMessage},
    ledger::Ledger,
    node::{ChannelNode, NodeError},
    store::ChannelStore,
    transport::{LinkWriter, PeerLink, TransportError},
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
/// local task feeding a bounded queue; `recv` can then sit in any `select!`.
#[derive(Debug)]
pub struct Session {
    incoming: mpsc::Receiver<Result<PeerMessage, TransportError>>,
    writer: LinkWriter,
    reading: JoinHandle<()>,
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
        Self {
            incoming,
            writer,
            reading,
        }
    }

    /// The next message from the peer (cancel-safe).
    pub async fn recv(&mut self) -> Result<PeerMessage, TransportError> {
        self.incoming
            .recv()
            .await
            .unwrap_or(Err(TransportError::Closed))
    }

    /// Sends the node's outbox, in order.
    pub async fn send_all(&mut self, messages: Vec<PeerMessage>) -> Result<(), TransportError> {
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
            message = session.recv() => match message {
                Ok(message) => {
                    if let Err(e) = node.handle(Input::Peer(message)).await {
                        refuse(e)?;
                    }
                }
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
