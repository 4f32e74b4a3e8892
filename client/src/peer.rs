//! Runs a channel node over a peer link: local inputs and the peer's messages go in, the
//! node's outbox goes out, events come back to the application. When the link drops, the node
//! is handed back intact; the next session starts with a resync (`Input::Connected`).

use tokio::sync::mpsc;

use crate::{
    engine::{Event, Input},
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

/// Serves one session of `link` until the link drops or `inputs` closes. Invalid peer messages
/// are refused by the engine and counted in `refused`; storage or ledger failures end the
/// session with an error (the process should restart from its store).
pub async fn serve<S: ChannelStore, L: Ledger>(
    node: &mut ChannelNode<S, L>,
    link: PeerLink,
    inputs: &mut mpsc::UnboundedReceiver<Input>,
    events: &mpsc::UnboundedSender<Event>,
) -> Result<SessionEnd, NodeError> {
    let (mut reader, mut writer) = link.split();
    let (incoming_tx, mut incoming) = mpsc::channel(64);
    // Reading is not cancel-safe mid-frame, so it gets its own task and a bounded queue.
    let reading = tokio::task::spawn_local(async move {
        loop {
            let message = reader.recv().await;
            let failed = message.is_err();
            if incoming_tx.send(message).await.is_err() || failed {
                return;
            }
        }
    });
    let end = async {
        node.handle(Input::Connected).await?;
        if let Err(e) = flush(node, &mut writer, events).await {
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
                message = incoming.recv() => match message {
                    Some(Ok(message)) => {
                        if let Err(e) = node.handle(Input::Peer(message)).await {
                            refuse(e)?;
                        }
                    }
                    Some(Err(e)) => return Ok(SessionEnd::LinkLost(e)),
                    None => return Ok(SessionEnd::LinkLost(TransportError::Closed)),
                },
            }
            if let Err(e) = flush(node, &mut writer, events).await {
                return Ok(SessionEnd::LinkLost(e));
            }
        }
    }
    .await;
    reading.abort();
    end
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
    writer: &mut LinkWriter,
    events: &mpsc::UnboundedSender<Event>,
) -> Result<(), TransportError> {
    for event in node.events.drain(..) {
        // The application may have stopped listening; the channel goes on.
        let _ = events.send(event);
    }
    for message in std::mem::take(&mut node.outbox) {
        writer.send(message).await?;
    }
    Ok(())
}
