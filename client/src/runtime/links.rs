//! Where a running channel's links come from: one side accepts, the other dials, and both keep
//! doing so for as long as the channel runs. Only authenticated links reach the runtime; a
//! connection that fails the handshake (garbage, a wrong key, a replay) is refused and logged.

use std::time::Duration;

use ed25519_dalek::SigningKey;
use tokio::{
    net::TcpListener,
    sync::{mpsc, watch},
};

use super::{LinkState, Notice};
use crate::transport::PeerLink;

/// Backoff between dial attempts: quick at first, then every few seconds.
const FIRST_RETRY: Duration = Duration::from_millis(100);
const LAST_RETRY: Duration = Duration::from_secs(5);

/// Accepts connections on `listener` and hands each authenticated one to the runtime. Each
/// handshake runs as its own task, so a slow or hostile client cannot hold up the peer.
pub async fn accept_forever(
    listener: TcpListener,
    me: SigningKey,
    peer: [u8; 32],
    channel: [u8; 32],
    links: mpsc::Sender<PeerLink>,
    notices: mpsc::UnboundedSender<Notice>,
) {
    loop {
        let (stream, from) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                let _ = notices.send(Notice::Refused(format!("accept failed: {e}")));
                tokio::time::sleep(FIRST_RETRY).await;
                continue;
            }
        };
        let (me, links, notices) = (me.clone(), links.clone(), notices.clone());
        tokio::task::spawn_local(async move {
            match PeerLink::accept(stream, &me, &peer, channel).await {
                Ok(link) => {
                    let _ = links.send(link).await;
                }
                Err(e) => {
                    let _ = notices.send(Notice::Refused(format!("{from}: {e}")));
                }
            }
        });
    }
}

/// Dials `address` whenever the runtime has no link, backing off while the peer is away.
pub async fn dial_forever(
    address: String,
    me: SigningKey,
    peer: [u8; 32],
    channel: [u8; 32],
    links: mpsc::Sender<PeerLink>,
    mut link: watch::Receiver<LinkState>,
    notices: mpsc::UnboundedSender<Notice>,
) {
    let mut retry = FIRST_RETRY;
    loop {
        if link.wait_for(|state| !state.connected).await.is_err() {
            return;
        }
        let sessions = link.borrow().sessions;
        match PeerLink::connect(address.as_str(), &me, &peer, channel).await {
            Ok(established) => {
                retry = FIRST_RETRY;
                if links.send(established).await.is_err() {
                    return;
                }
                // Wait until the runtime has started serving it before looking again.
                if link
                    .wait_for(|state| state.sessions > sessions)
                    .await
                    .is_err()
                {
                    return;
                }
            }
            Err(e) => {
                let _ = notices.send(Notice::PeerUnreachable(format!("{address}: {e}")));
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(LAST_RETRY);
            }
        }
    }
}
