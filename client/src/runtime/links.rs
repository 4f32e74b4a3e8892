//! Where a running channel's links come from: one side accepts, the other dials, and both keep
//! doing so for as long as the channel runs. Only authenticated links reach the runtime; a
//! connection that fails the handshake (garbage, a wrong key, a replay) is refused and logged.

use std::{collections::VecDeque, time::Duration};

use ed25519_dalek::SigningKey;
use tokio::{
    net::TcpListener,
    sync::{mpsc, watch},
    task::AbortHandle,
};

use super::{LinkState, Notice};
use crate::transport::PeerLink;

/// Backoff between dial attempts: quick at first, then every few seconds.
const FIRST_RETRY: Duration = Duration::from_millis(100);
const LAST_RETRY: Duration = Duration::from_secs(5);

/// Unauthenticated connections in their handshake at once. Each holds a socket and buffers
/// (~128 KiB); beyond this the oldest is dropped, so a flood of idle connections costs a
/// bounded amount and cannot keep the real peer out: its handshake takes a millisecond, a
/// flooder's slot is the one that ages out.
pub const MAX_PENDING_HANDSHAKES: usize = 64;

/// Accepts connections on `listener` and hands each authenticated one to the runtime. Each
/// handshake runs as its own task (bounded by the handshake timeout), so a slow or hostile
/// client cannot hold up the peer; at most [`MAX_PENDING_HANDSHAKES`] run at once.
pub async fn accept_forever(
    listener: TcpListener,
    me: SigningKey,
    peer: [u8; 32],
    channel: [u8; 32],
    links: mpsc::Sender<PeerLink>,
    notices: mpsc::UnboundedSender<Notice>,
) {
    let mut pending: VecDeque<AbortHandle> = VecDeque::new();
    loop {
        let (stream, from) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                let _ = notices.send(Notice::Refused(format!("accept failed: {e}")));
                tokio::time::sleep(FIRST_RETRY).await;
                continue;
            }
        };
        pending.retain(|handshake| !handshake.is_finished());
        if pending.len() >= MAX_PENDING_HANDSHAKES {
            if let Some(oldest) = pending.pop_front() {
                oldest.abort(); // drops its socket and buffers
            }
        }
        let (me, links, notices) = (me.clone(), links.clone(), notices.clone());
        let handshake = tokio::task::spawn_local(async move {
            match PeerLink::accept(stream, &me, &peer, channel).await {
                Ok(link) => {
                    let _ = links.send(link).await;
                }
                Err(e) => {
                    let _ = notices.send(Notice::Refused(format!("{from}: {e}")));
                }
            }
        });
        pending.push_back(handshake.abort_handle());
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
