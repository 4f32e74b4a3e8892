//! Two nodes over real TCP on 127.0.0.1 with the encrypted, authenticated link, on the
//! embedded LiteSVM ledger: payments flow, the connection drops mid-stream, both sides resync on
//! the next session, and the channel closes cooperatively. Bounded: every wait has a deadline.

use std::time::Duration;

use ed25519_dalek::SigningKey;
use paychan_node::{
    driver::ChannelDriver,
    engine::{Event, Input},
    ledger::Ledger,
    peer::{serve, SessionEnd},
    store::MemoryStore,
    transport::PeerLink,
};
use paychan_tests::{
    chain::{SvmChain, TestChain},
    pair::{join_in_memory, open_channel, payment},
    SOL,
};
use solana_keypair::Keypair;
use solana_program_test::tokio::{
    self,
    net::TcpListener,
    sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender},
    time::timeout,
};
use solana_signer::Signer;

type Node = ChannelDriver<MemoryStore, <SvmChain as TestChain>::Ledger>;
const DEADLINE: Duration = Duration::from_secs(60);

fn signing_key(keypair: &Keypair) -> SigningKey {
    SigningKey::from_bytes(keypair.secret_bytes())
}

/// One party's side of a session: serves until its inputs close or the link drops.
async fn session(
    mut node: Node,
    link: PeerLink,
    mut inputs: UnboundedReceiver<Input>,
    events: UnboundedSender<Event>,
) -> (Node, SessionEnd) {
    let end = serve(&mut node, link, &mut inputs, &events)
        .await
        .expect("no storage or ledger failure");
    (node, end)
}

/// Dials and accepts one authenticated link between A and B.
async fn links(a: &Keypair, b: &Keypair, channel: [u8; 32]) -> (PeerLink, PeerLink) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let (a_key, b_key) = (signing_key(a), signing_key(b));
    let accept = async {
        let (stream, _) = listener.accept().await.expect("accept");
        PeerLink::accept(stream, &b_key, &a.pubkey().to_bytes(), channel).await
    };
    let b_pub = b.pubkey().to_bytes();
    let dial = PeerLink::connect(address, &a_key, &b_pub, channel);
    let (dialed, accepted) = tokio::join!(dial, accept);
    (dialed.expect("A's link"), accepted.expect("B's link"))
}

/// Waits until `count` payments were confirmed to the payer.
async fn paid(events: &mut UnboundedReceiver<Event>, count: usize) {
    let mut seen = 0;
    while seen < count {
        match timeout(DEADLINE, events.recv()).await.expect("in time") {
            Some(Event::Paid { payments, .. }) => seen += payments.len(),
            Some(_) => {}
            None => panic!("events closed after {seen} payments"),
        }
    }
}

#[test]
fn payments_survive_a_dropped_connection_and_the_channel_closes() {
    paychan_tests::block_on(async {
        let mut chain = SvmChain::new();
        let (a, b, channel) = open_channel(&mut chain, 10 * SOL, 5 * SOL).await;
        let (alice, bob) = join_in_memory(&chain, &a, &b, channel).await;
        let channel_bytes = channel.address.to_bytes();

        // Session 1: 1,000 payments from Alice, then the connection drops.
        let (a_link, b_link) = links(&a, &b, channel_bytes).await;
        let (a_inputs, a_in) = unbounded_channel();
        let (_b_inputs, b_in) = unbounded_channel::<Input>();
        let (a_events_tx, mut a_events) = unbounded_channel();
        let (b_events_tx, _b_events) = unbounded_channel();
        let alice_task =
            tokio::task::spawn_local(session(alice, a_link, a_in, a_events_tx.clone()));
        let bob_task = tokio::task::spawn_local(session(bob, b_link, b_in, b_events_tx.clone()));
        for _ in 0..1_000 {
            a_inputs.send(payment(1_000)).expect("alice listens");
        }
        paid(&mut a_events, 1_000).await;
        // One more payment in flight when Alice's side of the link goes away.
        a_inputs.send(payment(1_000)).expect("alice listens");
        drop(a_inputs);
        let (alice, end) = timeout(DEADLINE, alice_task)
            .await
            .expect("in time")
            .expect("task");
        assert!(matches!(end, SessionEnd::Stopped));
        let (bob, end) = timeout(DEADLINE, bob_task)
            .await
            .expect("in time")
            .expect("task");
        assert!(matches!(end, SessionEnd::LinkLost(_)), "{end:?}");

        // Session 2: a new link, resync, more payments both ways, then a cooperative close.
        let (a_link, b_link) = links(&a, &b, channel_bytes).await;
        let (a_inputs, a_in) = unbounded_channel();
        let (b_inputs, b_in) = unbounded_channel();
        let alice_task = tokio::task::spawn_local(session(alice, a_link, a_in, a_events_tx));
        let bob_task = tokio::task::spawn_local(session(bob, b_link, b_in, b_events_tx));
        for _ in 0..500 {
            a_inputs.send(payment(2_000)).expect("alice listens");
        }
        b_inputs.send(payment(SOL)).expect("bob listens");
        paid(&mut a_events, 500).await;
        a_inputs.send(Input::Close).expect("alice listens");

        let mut ledger = chain.ledger();
        let closed = timeout(DEADLINE, async {
            loop {
                if ledger
                    .channel(&channel.address)
                    .await
                    .expect("ledger")
                    .is_none()
                {
                    return;
                }
                tokio::task::yield_now().await;
            }
        })
        .await;
        assert!(closed.is_ok(), "the cooperative close landed");
        drop((a_inputs, b_inputs));
        let (alice, _) = timeout(DEADLINE, alice_task)
            .await
            .expect("in time")
            .expect("task");
        let (bob, _) = timeout(DEADLINE, bob_task)
            .await
            .expect("in time")
            .expect("task");
        let newest = alice.engine().newest_state();
        assert_eq!(newest, bob.engine().newest_state());
        assert!(newest.balance_b >= 5 * SOL + 1_500 * 1_000 - SOL);
        assert_eq!(newest.balance_a + newest.balance_b, 15 * SOL);
    });
}
