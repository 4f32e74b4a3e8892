//! A node (what `paychan node` runs) in a test: every channel opened to one service key, one
//! peer listener, a real redb store, and optionally its HTTP API.

use std::{collections::HashMap, net::SocketAddr};

use paychan_node::{
    node::{InboundPolicy, Node, NodeConfig, NodeEvent, NodeHandle},
    store::RedbStore,
};
use solana_keypair::Keypair;
use solana_program_test::tokio::{
    net::TcpListener,
    sync::broadcast,
    task::{spawn_local, JoinHandle},
    time::timeout,
};

use solana_signer::Signer;

use crate::{
    chain::{SvmChain, TestChain},
    http::Api,
    pair::WALLET,
    running::{signing_key, DEADLINE, TICK},
};

pub struct Serving {
    pub handle: NodeHandle,
    /// Where payers dial.
    pub peers: SocketAddr,
    /// Where browsers dial: the same links over WebSockets (`ws://…/`).
    pub websocket: String,
    pub events: broadcast::Receiver<NodeEvent>,
    pub store: RedbStore,
    pub task: JoinHandle<Result<(), paychan_node::node::NodeError>>,
    _dir: tempfile::TempDir,
}

/// A funded service key, and a node for it on `chain` with `policy` (the chain's challenge
/// period).
pub async fn serve(chain: &mut SvmChain, policy: InboundPolicy) -> (Keypair, Serving) {
    let service = Keypair::new();
    chain.fund(&service.pubkey(), WALLET).await;
    let serving = serve_as(chain, &service, policy).await;
    (service, serving)
}

/// A node for `service` on `chain` with `policy` (the chain's challenge period).
pub async fn serve_as(chain: &SvmChain, service: &Keypair, policy: InboundPolicy) -> Serving {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let store = RedbStore::open(dir.path().join("node.redb")).expect("store");
    let config = NodeConfig {
        wallet: service.insecure_clone(),
        signer: signing_key(service),
        program_id: paychan_interface::ID,
        policy: InboundPolicy {
            join: chain.join_policy(),
            ..policy
        },
        peers: HashMap::new(),
        tick: TICK,
        discover_every: TICK,
    };
    let node = Node::new(config, store.clone(), chain.ledger());
    let handle = node.handle();
    let events = handle.subscribe();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let peers = listener.local_addr().expect("address");
    let websocket_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let websocket = format!(
        "ws://{}/",
        websocket_listener.local_addr().expect("address")
    );
    let task = spawn_local(node.run_listening(Some(listener), Some(websocket_listener)));
    Serving {
        handle,
        peers,
        websocket,
        events,
        store,
        task,
        _dir: dir,
    }
}

impl Serving {
    /// Serves the HTTP API on a fresh port with `token`.
    pub async fn api(&self, token: &str) -> Api {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        spawn_local(paychan_node::api::serve(
            listener,
            self.handle.clone(),
            token.to_string(),
        ));
        Api {
            address,
            token: Some(token.to_string()),
        }
    }

    /// Waits for the first node event `pick` takes.
    pub async fn next<T>(&mut self, mut pick: impl FnMut(NodeEvent) -> Option<T>) -> T {
        timeout(DEADLINE, async {
            loop {
                if let Some(found) = pick(self.events.recv().await.expect("node events")) {
                    return found;
                }
            }
        })
        .await
        .expect("the node reports it in time")
    }
}
