//! Where a running channel's links come from: one side accepts, the other dials, and both keep
//! doing so for as long as the channel runs. Only authenticated links reach the runtime; a
//! connection that fails the handshake (garbage, a wrong key, a replay) is refused and logged.

use std::{
    cell::{Cell, RefCell},
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
use crate::transport::{websocket, PeerLink, TransportError, HANDSHAKE_TIMEOUT};

/// Backoff between dial attempts: quick at first, then every few seconds.
const FIRST_RETRY: Duration = Duration::from_millis(100);
const LAST_RETRY: Duration = Duration::from_secs(5);

/// Unauthenticated connections in their handshake at once. Each holds a socket and buffers
/// (~128 KiB); beyond this the oldest of the busiest address is dropped, so a flood of idle
/// connections costs a bounded amount.
pub const MAX_PENDING_HANDSHAKES: usize = 64;

/// Idle connections (silent past [`SILENT_GRACE`]) one IP address may hold at once. A
/// flooder (from any number of ports) thus holds a few slots and can never evict the real
/// peer's handshake from another address.
pub const MAX_PENDING_PER_ADDRESS: usize = 4;

/// How long a new connection may stay silent before it counts as idle: its dialer's first
/// message is on the way (it speaks first), the handshake task has not run yet.
pub const SILENT_GRACE: Duration = Duration::from_millis(250);

/// At most one refusal notice per this long; the next one counts those left out, so a flood
/// of bad connections never floods the log.
pub const REFUSAL_NOTICE_INTERVAL: Duration = Duration::from_secs(1);

/// Connections the kernel queues for `accept` (capped by `net.core.somaxconn`). Tokio's default
/// of 1,024 drops the SYNs of a crowd coming back at once (a node's payers after its restart),
/// and each dropped SYN costs its dialer a one-second retransmit, then three, then seven.
pub const LISTEN_BACKLOG: u32 = 4_096;

/// A listener for peers' links on `address` with a backlog of [`LISTEN_BACKLOG`].
pub async fn listen(address: &str) -> std::io::Result<TcpListener> {
    let mut last = None;
    for address in tokio::net::lookup_host(address).await? {
        let socket = if address.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        match socket.bind(address) {
            Ok(()) => return socket.listen(LISTEN_BACKLOG),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other(format!("{address} names no address"))))
}

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

/// How accepted connections carry the link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carrier {
    /// The link's bytes straight on the TCP connection.
    Tcp,
    /// The same bytes in binary WebSocket messages, after the upgrade (browsers' pages).
    WebSocket,
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
    accept_forever_over(listener, Carrier::Tcp, me, routes, notices).await
}

/// [`accept_forever_for`] with links carried by `carrier`: a WebSocket listener has the same
/// limits (its upgrade counts as part of the handshake, and its timeout).
pub async fn accept_forever_over(
    listener: TcpListener,
    carrier: Carrier,
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
        if !pending.make_room_for(from.ip()) {
            refusals.borrow_mut().refused(format!(
                "{from}: {MAX_PENDING_HANDSHAKES} handshakes are in progress, the most from this address"
            ));
            continue; // drops the connection; the dialer tries again
        }
        let _ = stream.set_nodelay(true);
        let (me, routes, refusals) = (me.clone(), routes.clone(), Rc::clone(&refusals));
        let active = Rc::new(Cell::new(false));
        let started = Rc::clone(&active);
        let handshake = tokio::task::spawn_local(async move {
            // The dialer speaks first: once its bytes arrive, this handshake is under way.
            if stream.peek(&mut [0u8; 1]).await.is_ok_and(|n| n > 0) {
                started.set(true);
            }
            let mut route = None;
            let peer_of = |channel: &[u8; 32]| {
                route = routes.route(channel);
                route.as_ref().map(|r| r.peer)
            };
            let linked = match carrier {
                Carrier::Tcp => PeerLink::accept_any(stream, &me, peer_of).await,
                Carrier::WebSocket => {
                    let upgraded =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, websocket::accept(stream))
                            .await
                            .map_err(|_| TransportError::HandshakeTimeout(HANDSHAKE_TIMEOUT))
                            .and_then(|upgraded| upgraded);
                    match upgraded {
                        Ok(stream) => PeerLink::accept_any(stream, &me, peer_of).await,
                        Err(e) => Err(e),
                    }
                }
            };
            match linked {
                Ok(link) => {
                    if let Some(route) = route {
                        let _ = route.links.send(link).await;
                    }
                }
                Err(e) => refusals.borrow_mut().refused(format!("{from}: {e}")),
            }
        });
        pending.push(from.ip(), active, handshake.abort_handle());
    }
}

/// Handshakes in progress, oldest first: the address each came from, whether its dialer has
/// spoken yet, and the task.
#[derive(Default)]
struct PendingHandshakes(VecDeque<Pending>);

struct Pending {
    from: IpAddr,
    since: Instant,
    /// The dialer has sent its first message: an honest peer's handshake under way.
    active: Rc<Cell<bool>>,
    task: AbortHandle,
}

impl PendingHandshakes {
    /// Makes room for a connection from `from`, or says to refuse it. Connections silent past
    /// [`SILENT_GRACE`] count against their address's limit, and its oldest such one makes
    /// room: a flood of idle connections is cut short. A handshake under way, or one just
    /// accepted, is never cancelled for a newcomer of its own address, so many honest peers
    /// behind one address (a NAT, a node's payers coming back after its restart) get in without
    /// cancelling each other. At the global limit, the address holding the most gives up its
    /// oldest (silent first), unless that is the newcomer's own address with every handshake
    /// under way: then the newcomer is refused and redials.
    fn make_room_for(&mut self, from: IpAddr) -> bool {
        self.0.retain(|p| !p.task.is_finished());
        let idle = |p: &Pending| !p.active.get() && p.since.elapsed() >= SILENT_GRACE;
        let idle_held = self.0.iter().filter(|p| p.from == from && idle(p)).count();
        let victim = if idle_held >= MAX_PENDING_PER_ADDRESS {
            self.0.iter().position(|p| p.from == from && idle(p))
        } else if self.0.len() >= MAX_PENDING_HANDSHAKES {
            let held_by = |ip: IpAddr| self.0.iter().filter(|p| p.from == ip).count();
            let Some(busiest) = self.0.iter().map(|p| p.from).max_by_key(|ip| held_by(*ip)) else {
                return true;
            };
            let silent = self
                .0
                .iter()
                .position(|p| p.from == busiest && !p.active.get());
            match silent {
                Some(at) => Some(at),
                None if busiest == from => return false,
                None => self.0.iter().position(|p| p.from == busiest),
            }
        } else {
            None
        };
        if let Some(oldest) = victim.and_then(|at| self.0.remove(at)) {
            oldest.task.abort(); // drops its socket and buffers
        }
        true
    }

    fn push(&mut self, from: IpAddr, active: Rc<Cell<bool>>, task: AbortHandle) {
        self.0.push_back(Pending {
            from,
            since: Instant::now(),
            active,
            task,
        });
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
