//! Runs a channel node over a peer link: local inputs and the peer's messages go in, the
//! node's outbox goes out, events come back to the application. When the link drops, the node
//! is handed back intact; the next session starts with a resync (`Input::Connected`).

use tokio::{sync::mpsc, task::JoinHandle, time::timeout};

use crate::{
    driver::{ChannelDriver, DriverError},
    engine::{Event, Input, PeerMessage},
    ledger::Ledger,
    store::ChannelStore,
    transport::{LinkWriter, PeerLink, TransportError, KEEPALIVE_INTERVAL, WRITE_TIMEOUT},
};

/// Outbox batches a session holds for its writer before it calls the peer stalled.
pub const OUTGOING_BATCHES: usize = 256;

/// Why a session ended.
#[derive(Debug)]
pub enum SessionEnd {
    /// The application closed its input channel.
    Stopped,
    /// The link failed or the peer went away; reconnect and serve again.
    LinkLost(TransportError),
}

/// A link being served, with nothing that waits on the peer: a reader task feeds a bounded
/// queue (reading is not cancel-safe mid-frame, so `next` can then sit in any `select!`), and
/// a writer task drains another, each write bounded by [`WRITE_TIMEOUT`]. A peer that stops
/// reading fills the queue and `send_all` reports it at once: the caller's loop (the watcher,
/// the chain ticks, the API) never blocks on the peer. The writer sends a keepalive
/// after [`KEEPALIVE_INTERVAL`] without traffic, so the peer does not take the link for dead.
#[derive(Debug)]
pub struct Session {
    incoming: mpsc::Receiver<Result<PeerMessage, TransportError>>,
    /// The peer's Hello arrived: a second one ends the link. A resync costs this side a full
    /// answer, so a peer repeating it could make the node work for nothing.
    greeted: bool,
    outgoing: mpsc::Sender<Vec<PeerMessage>>,
    reading: JoinHandle<()>,
    writing: JoinHandle<()>,
}

impl Session {
    /// Starts reading and writing `link` (needs a `LocalSet`).
    pub fn start(link: PeerLink) -> Self {
        let (mut reader, writer) = link.split();
        let (incoming_tx, incoming) = mpsc::channel(64);
        let (outgoing, outgoing_rx) = mpsc::channel(OUTGOING_BATCHES);
        let failures = incoming_tx.clone();
        let reading = tokio::task::spawn_local(async move {
            loop {
                let message = reader.recv().await;
                let failed = message.is_err();
                if incoming_tx.send(message).await.is_err() || failed {
                    return;
                }
            }
        });
        let writing = tokio::task::spawn_local(async move {
            if let Err(e) = write_all(writer, outgoing_rx).await {
                // `next` reports it; a full queue means the session is being dropped anyway.
                let _ = failures.try_send(Err(e));
            }
        });
        Self {
            incoming,
            greeted: false,
            outgoing,
            reading,
            writing,
        }
    }

    /// The next message from the peer, or why the link failed (reading or writing).
    /// Cancel-safe.
    pub async fn next(&mut self) -> Result<PeerMessage, TransportError> {
        let message = self
            .incoming
            .recv()
            .await
            .unwrap_or(Err(TransportError::Closed))?;
        if matches!(message, PeerMessage::Hello { .. }) {
            if self.greeted {
                return Err(TransportError::RepeatedHello);
            }
            self.greeted = true;
        }
        Ok(message)
    }

    /// Hands the node's outbox to the writer, in order, without waiting for the peer. A peer
    /// that stopped reading while [`OUTGOING_BATCHES`] batches piled up is `Stalled`.
    pub fn send_all(&mut self, messages: Vec<PeerMessage>) -> Result<(), TransportError> {
        if messages.is_empty() {
            return Ok(());
        }
        self.outgoing.try_send(messages).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => TransportError::Stalled(OUTGOING_BATCHES),
            mpsc::error::TrySendError::Closed(_) => TransportError::Closed,
        })
    }
}

/// The writer task: sends batches in order, a keepalive when quiet; gives up on a write the
/// peer does not take within [`WRITE_TIMEOUT`].
async fn write_all(
    mut writer: LinkWriter,
    mut batches: mpsc::Receiver<Vec<PeerMessage>>,
) -> Result<(), TransportError> {
    let stalled = || TransportError::WriteTimeout(WRITE_TIMEOUT);
    loop {
        match timeout(KEEPALIVE_INTERVAL, batches.recv()).await {
            Ok(Some(batch)) => {
                for message in batch {
                    timeout(WRITE_TIMEOUT, writer.send(message))
                        .await
                        .map_err(|_| stalled())??;
                }
            }
            Ok(None) => return Ok(()), // the session was dropped
            Err(_) => timeout(WRITE_TIMEOUT, writer.keepalive())
                .await
                .map_err(|_| stalled())??,
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.reading.abort();
        self.writing.abort();
    }
}

/// Serves one session of `link` until the link drops or `inputs` closes. Invalid peer messages
/// are refused by the engine and counted in `refused`; storage or ledger failures end the
/// session with an error (the process should restart from its store).
pub async fn serve<S: ChannelStore, L: Ledger>(
    node: &mut ChannelDriver<S, L>,
    link: PeerLink,
    inputs: &mut mpsc::UnboundedReceiver<Input>,
    events: &mpsc::UnboundedSender<Event>,
) -> Result<SessionEnd, DriverError> {
    let mut session = Session::start(link);
    node.handle(Input::Connected).await?;
    if let Err(e) = flush(node, &mut session, events) {
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
                Ok(message) => {
                    if let Err(e) = node.handle(Input::Peer(message)).await {
                        refuse(e)?;
                    }
                }
                Err(e) => return Ok(SessionEnd::LinkLost(e)),
            },
        }
        if let Err(e) = flush(node, &mut session, events) {
            return Ok(SessionEnd::LinkLost(e));
        }
    }
}

/// Engine refusals leave the channel untouched and the session running; anything else, and
/// an engine error that [`DriverError::must_stop`], stops.
fn refuse(error: DriverError) -> Result<(), DriverError> {
    match error {
        e if e.must_stop() => Err(e),
        DriverError::Engine(_) | DriverError::Cosign(_) => Ok(()),
        other => Err(other),
    }
}

fn flush<S: ChannelStore, L: Ledger>(
    node: &mut ChannelDriver<S, L>,
    session: &mut Session,
    events: &mpsc::UnboundedSender<Event>,
) -> Result<(), TransportError> {
    for event in node.events.drain(..) {
        // The application may have stopped listening; the channel goes on.
        let _ = events.send(event);
    }
    session.send_all(std::mem::take(&mut node.outbox))
}
