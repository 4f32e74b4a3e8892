//! Where a running channel's links come from: one side accepts, the other dials, and both keep
//! doing so for as long as the channel runs. Only authenticated links reach the runtime; a
//! connection that fails the handshake (garbage, a wrong key, a replay) is refused and logged.

use std::{
    cell::RefCell,
    collections::{HashMap, VecDeque},
    net::IpAddr,
    rc::Rc,
    time::Duration,
};

use ed25519_dalek::SigningKey;
use tokio::{
    net::TcpListener,
    sync::{mpsc, watch},
    task::AbortHandle,
    time::Instant,
};

use super::{LinkState, Notice};
use crate::transport::PeerLink;

/// Backoff between dial attempts: quick at first, then every few seconds.
const FIRST_RETRY: Duration = Duration::from_millis(100);
const LAST_RETRY: Duration = Duration::from_secs(5);

/// Unauthenticated connections in their handshake at once. Each holds a socket and buffers
/// (~128 KiB); beyond this the oldest of the busiest address is dropped, so a flood of idle
/// connections costs a bounded amount.
pub const MAX_PENDING_HANDSHAKES: usize = 64;

/// Handshakes one IP address may have in progress at once; a newer connection from it drops
/// its oldest. A flooder (from any number of ports) thus holds a few slots and can never
/// evict the real peer's handshake from another address.
pub const MAX_PENDING_PER_ADDRESS: usize = 4;

/// At most one refusal notice per this long; the next one counts those left out, so a flood
/// of bad connections never floods the log.
pub const REFUSAL_NOTICE_INTERVAL: Duration = Duration::from_secs(1);

/// Accepts connections on `listener` for one channel and hands each authenticated link to its
/// runtime (see [`accept_forever_for`]).
pub async fn accept_forever(
    listener: TcpListener,
    me: SigningKey,
    peer: [u8; 32],
    channel: [u8; 32],
    links: mpsc::Sender<PeerLink>,
    notices: mpsc::UnboundedSender<Notice>,
) {
    let routes = LinkRoutes::default();
    routes.add(channel, peer, links);
    accept_forever_for(listener, me, routes, notices).await
}

/// Where each channel served on one listener sends its authenticated links: the key its peer
/// proves with, and that channel's runtime. Channels come and go while the listener runs.
#[derive(Clone, Debug, Default)]
pub struct LinkRoutes(Rc<RefCell<HashMap<[u8; 32], Route>>>);

#[derive(Clone, Debug)]
struct Route {
    peer: [u8; 32],
    links: mpsc::Sender<PeerLink>,
}

impl LinkRoutes {
    /// Serves `channel` from now on: links authenticated by `peer` go to `links`.
    pub fn add(&self, channel: [u8; 32], peer: [u8; 32], links: mpsc::Sender<PeerLink>) {
        self.0.borrow_mut().insert(channel, Route { peer, links });
    }

    /// Stops serving `channel`: a dialer naming it is refused.
    pub fn remove(&self, channel: &[u8; 32]) {
        self.0.borrow_mut().remove(channel);
    }

    fn route(&self, channel: &[u8; 32]) -> Option<Route> {
        self.0.borrow().get(channel).cloned()
    }
}

/// Accepts connections on `listener` for every channel in `routes` and hands each
/// authenticated link to its channel's runtime: the dialer's proof names the channel. Each
/// handshake runs as its own task (bounded by the handshake timeout), so a slow or hostile
/// client cannot hold up a peer; at most [`MAX_PENDING_HANDSHAKES`] run at once, at most
/// [`MAX_PENDING_PER_ADDRESS`] per address.
pub async fn accept_forever_for(
    listener: TcpListener,
    me: SigningKey,
    routes: LinkRoutes,
    notices: mpsc::UnboundedSender<Notice>,
) {
    let mut pending = PendingHandshakes::default();
    let refusals = Rc::new(RefCell::new(RefusalNotices::new(notices)));
    loop {
        let (stream, from) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                refusals.borrow_mut().refused(format!("accept failed: {e}"));
                tokio::time::sleep(FIRST_RETRY).await;
                continue;
            }
        };
        pending.make_room_for(from.ip());
        let (me, routes, refusals) = (me.clone(), routes.clone(), Rc::clone(&refusals));
        let handshake = tokio::task::spawn_local(async move {
            let mut route = None;
            let peer_of = |channel: &[u8; 32]| {
                route = routes.route(channel);
                route.as_ref().map(|r| r.peer)
            };
            match PeerLink::accept_any(stream, &me, peer_of).await {
                Ok(link) => {
                    if let Some(route) = route {
                        let _ = route.links.send(link).await;
                    }
                }
                Err(e) => refusals.borrow_mut().refused(format!("{from}: {e}")),
            }
        });
        pending.push(from.ip(), handshake.abort_handle());
    }
}

/// Handshakes in progress, oldest first, with the address each came from.
#[derive(Default)]
struct PendingHandshakes(VecDeque<(IpAddr, AbortHandle)>);

impl PendingHandshakes {
    /// Drops what must go before a connection from `from` is served: the oldest of its own
    /// address at that address's limit, else, at the global limit, the oldest of the address
    /// holding the most.
    fn make_room_for(&mut self, from: IpAddr) {
        self.0.retain(|(_, handshake)| !handshake.is_finished());
        let held_by = |ip: IpAddr| self.0.iter().filter(|(a, _)| *a == ip).count();
        let victim = if held_by(from) >= MAX_PENDING_PER_ADDRESS {
            Some(from)
        } else if self.0.len() >= MAX_PENDING_HANDSHAKES {
            self.0
                .iter()
                .map(|(ip, _)| *ip)
                .max_by_key(|ip| held_by(*ip))
        } else {
            None
        };
        if let Some(ip) = victim {
            if let Some(at) = self.0.iter().position(|(a, _)| *a == ip) {
                if let Some((_, oldest)) = self.0.remove(at) {
                    oldest.abort(); // drops its socket and buffers
                }
            }
        }
    }

    fn push(&mut self, from: IpAddr, handshake: AbortHandle) {
        self.0.push_back((from, handshake));
    }
}

/// Refused connections, reported at most once per [`REFUSAL_NOTICE_INTERVAL`].
struct RefusalNotices {
    notices: mpsc::UnboundedSender<Notice>,
    last: Option<Instant>,
    left_out: u64,
}

impl RefusalNotices {
    fn new(notices: mpsc::UnboundedSender<Notice>) -> Self {
        Self {
            notices,
            last: None,
            left_out: 0,
        }
    }

    fn refused(&mut self, why: String) {
        let now = Instant::now();
        if self
            .last
            .is_some_and(|last| now.duration_since(last) < REFUSAL_NOTICE_INTERVAL)
        {
            self.left_out += 1;
            return;
        }
        let why = match std::mem::take(&mut self.left_out) {
            0 => why,
            n => format!("{why} (and {n} more since the last report)"),
        };
        self.last = Some(now);
        let _ = self.notices.send(Notice::Refused(why));
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
                tokio::time::sleep(spread(retry, &channel)).await;
                retry = (retry * 2).min(LAST_RETRY);
            }
        }
    }
}

/// `retry` stretched by 50–150 %, differently for each channel: the many payers of one node
/// that all lost it at once come back spread out instead of as one herd (the listener admits
/// only a few handshakes per address at a time).
fn spread(retry: Duration, channel: &[u8; 32]) -> Duration {
    let share = u32::from(channel[0]) * 256 + u32::from(channel[1]); // 0 ..= 65_535
    retry / 2 + retry.mul_f64(f64::from(share) / 65_535.0)
}
