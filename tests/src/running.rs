//! Runtimes (what `paychan daemon` runs) in a test: start one for a node, drive it with
//! commands and follow its events. Every wait has a deadline.

use std::time::Duration;

use ed25519_dalek::SigningKey;
use paychan_interface::client::ChannelAddress;
use paychan_node::{
    driver::{ChannelDriver, DriverError},
    engine::{Event, Input},
    runtime::{
        accept_forever, dial_forever, Command, LinkState, Notice, Runtime, RuntimeEnd, Status,
    },
    store::MemoryStore,
    transport::PeerLink,
};
use solana_keypair::Keypair;
use solana_program_test::tokio::{
    self,
    net::TcpListener,
    sync::{broadcast, mpsc, oneshot, watch},
    task::spawn_local,
    time::timeout,
};
use solana_signer::Signer;

use crate::chain::{SvmChain, TestChain};

/// The bound on every wait: far above what any step takes, so only a hang trips it.
pub const DEADLINE: Duration = Duration::from_secs(60);
/// How often each runtime looks at the chain.
pub const TICK: Duration = Duration::from_millis(20);

pub fn signing_key(keypair: &Keypair) -> SigningKey {
    SigningKey::from_bytes(keypair.secret_bytes())
}

pub type Node = ChannelDriver<MemoryStore, <SvmChain as TestChain>::Ledger>;

/// One party's running channel and the handles the application keeps.
pub struct Party {
    pub commands: mpsc::Sender<Command>,
    pub events: broadcast::Receiver<Event>,
    pub link: watch::Receiver<LinkState>,
    pub done: tokio::task::JoinHandle<Result<RuntimeEnd, DriverError>>,
}

impl Party {
    /// Feeds the engine; the result says whether it took the input.
    pub async fn try_input(&self, input: Input) -> Result<(), DriverError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Input { input, reply })
            .await
            .expect("the runtime runs");
        answer.await.expect("answered")
    }

    pub async fn input(&self, input: Input) {
        self.try_input(input).await.expect("the engine takes it");
    }

    pub async fn status(&self) -> Status {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Status(reply))
            .await
            .expect("the runtime runs");
        answer.await.expect("answered")
    }

    /// Waits for the runtime to end on its own (the chain shows nothing left to guard).
    pub async fn ended(self) -> RuntimeEnd {
        timeout(DEADLINE, self.done)
            .await
            .expect("the runtime ends in time")
            .expect("task")
            .expect("no failure")
    }

    /// Waits until `count` payments are final (co-signed and stored) for this party: its own
    /// (`Paid`), or the peer's to it (`Received`) when `from_peer`.
    pub async fn settled(&mut self, count: usize, from_peer: bool) {
        let mut seen = 0;
        while seen < count {
            match timeout(DEADLINE, self.events.recv())
                .await
                .expect("in time")
            {
                Ok(Event::Paid { payments, .. }) if !from_peer => seen += payments.len(),
                Ok(Event::Received { payments, .. }) if from_peer => seen += payments.len(),
                Ok(_) => {}
                Err(e) => panic!("events: {e} after {seen} payments"),
            }
        }
    }
}

/// Starts a runtime for `node`; its authenticated links arrive on `links`.
pub fn start<L: paychan_node::ledger::Ledger + 'static>(
    node: ChannelDriver<MemoryStore, L>,
    mut links: mpsc::Receiver<PeerLink>,
    notices: mpsc::UnboundedSender<Notice>,
    (link, link_state): (watch::Sender<LinkState>, watch::Receiver<LinkState>),
) -> Party {
    let (events, subscribed) = broadcast::channel(4_096);
    let (commands, mut commands_rx) = mpsc::channel(64);
    let mut runtime = Runtime::new(node, events, notices, link);
    let done = spawn_local(async move { runtime.run(&mut commands_rx, &mut links, TICK).await });
    Party {
        commands,
        events: subscribed,
        link: link_state,
        done,
    }
}

/// `b` accepts links from `a` for `channel` on a fresh port: the port and the links.
pub async fn accepting(
    a: &Keypair,
    b: &Keypair,
    channel: &ChannelAddress,
    notices: mpsc::UnboundedSender<Notice>,
) -> (std::net::SocketAddr, mpsc::Receiver<PeerLink>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let (links_tx, links) = mpsc::channel(4);
    spawn_local(accept_forever(
        listener,
        signing_key(b),
        a.pubkey().to_bytes(),
        channel.address.to_bytes(),
        links_tx,
        notices,
    ));
    (address, links)
}

/// Starts `a`'s runtime for `node`, dialling `b` at `address` (and redialling) for `channel`.
/// As [`start_dialing`], over one WebSocket link to `url`, as a browser's page dials.
pub fn start_over_websocket(
    node: Node,
    url: String,
    (a, b): (&Keypair, &Keypair),
    channel: &ChannelAddress,
    notices: mpsc::UnboundedSender<Notice>,
) -> Party {
    let (links_tx, links) = mpsc::channel(4);
    let link = watch::channel(LinkState::default());
    let (me, peer, channel_id) = (
        signing_key(a),
        b.pubkey().to_bytes(),
        channel.address.to_bytes(),
    );
    spawn_local(async move {
        let stream = paychan_node::transport::websocket::connect(&url)
            .await
            .expect("the WebSocket opens");
        let link = paychan_node::transport::PeerLink::dial_over(stream, &me, &peer, channel_id)
            .await
            .expect("the link authenticates over the WebSocket");
        let _ = links_tx.send(link).await;
    });
    start(node, links, notices, link)
}

pub fn start_dialing(
    node: Node,
    address: std::net::SocketAddr,
    (a, b): (&Keypair, &Keypair),
    channel: &ChannelAddress,
    notices: mpsc::UnboundedSender<Notice>,
) -> Party {
    let (links_tx, links) = mpsc::channel(4);
    let link = watch::channel(LinkState::default());
    spawn_local(dial_forever(
        address.to_string(),
        signing_key(a),
        b.pubkey().to_bytes(),
        channel.address.to_bytes(),
        links_tx,
        link.1.clone(),
        notices.clone(),
    ));
    start(node, links, notices, link)
}
