//! Safety of a running channel (`Runtime`, what `paychan daemon` runs) against a hostile or
//! merely unlucky peer, over real TCP on the embedded LiteSVM ledger:
//! - a party that force-closed is never punished for its own registration, however the peer
//!   keeps paying;
//! - a peer that stops reading cannot stall the watcher: a stale registration is still
//!   disputed (and punished);
//! - a flood of idle connections is bounded and cannot keep the real peer out, even while
//!   500 connections a second keep arriving; refusals are logged a few times, not once each.
//!
//! Bounded: every wait has a deadline.

use paychan_interface::client::ChannelAddress;
use paychan_node::{
    driver::DriverError,
    engine::{EngineError, Event, PeerMessage},
    runtime::{Command, LinkState, Notice, RuntimeEnd, MAX_PENDING_HANDSHAKES},
    transport::{PeerLink, TransportError},
};
use paychan_tests::{
    chain::{SvmChain, TestChain},
    pair::{deliver, join_in_memory, lamports, on_chain, open_channel, payment, submit_as},
    running::{accepting, signing_key, start, start_dialing, Party, DEADLINE},
    SOL,
};
use solana_keypair::Keypair;
use solana_program_test::tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
    sync::{mpsc, oneshot, watch},
    task::spawn_local,
    time::timeout,
};
use solana_signer::Signer;

/// Bob accepts on a port, Alice dials it; both run.
async fn connected_pair(
    chain: &SvmChain,
    a: &Keypair,
    b: &Keypair,
    channel: ChannelAddress,
) -> (Party, Party) {
    let (alice_node, bob_node) = join_in_memory(chain, a, b, channel).await;
    let (notices, _) = mpsc::unbounded_channel();
    let (address, b_links) = accepting(a, b, &channel, notices.clone()).await;
    let bob = start(
        bob_node,
        b_links,
        notices.clone(),
        watch::channel(LinkState::default()),
    );
    let alice = start_dialing(alice_node, address, (a, b), &channel, notices);
    (alice, bob)
}

#[test]
fn a_party_that_force_closed_is_never_punished_for_it() {
    paychan_tests::block_on(async {
        let mut chain = SvmChain::new();
        let (a, b, channel) = open_channel(&mut chain, 10 * SOL, 5 * SOL).await;
        let (mut alice, mut bob) = connected_pair(&chain, &a, &b, channel).await;
        for _ in 0..3 {
            alice.input(payment(SOL)).await;
        }
        alice.settled(3, false).await;

        let (alice_before, bob_before) = (lamports(&chain, &a).await, lamports(&chain, &b).await);
        let (reply, answer) = oneshot::channel();
        alice
            .commands
            .send(Command::ForceClose(reply))
            .await
            .expect("runs");
        let registered = answer.await.expect("answered").expect("registered");
        assert_eq!(registered, alice.status().await.newest);

        // Bob has not necessarily seen the registration and keeps paying: every payment is
        // refused (once he has) or dropped when Alice refuses its round; none is made.
        let mut queued = 0;
        for _ in 0..5 {
            match bob.try_input(payment(SOL / 10)).await {
                Ok(()) => queued += 1,
                Err(DriverError::Engine(EngineError::ClosingOnChain)) => {}
                Err(e) => panic!("unexpected refusal: {e}"),
            }
        }
        let mut dropped = 0;
        while dropped < queued {
            match timeout(DEADLINE, bob.events.recv()).await.expect("in time") {
                Ok(Event::Dropped { payments, .. }) => dropped += payments.len(),
                Ok(Event::Paid { seq, .. }) => panic!("Bob's payment made it into seq {seq}"),
                Ok(_) => {}
                Err(e) => panic!("events: {e}"),
            }
        }
        assert_eq!(bob.status().await.newest, registered);

        // After the window either side finalizes: the registered balances, no punishment.
        chain
            .advance_time(chain.challenge_period() as i64 + 1)
            .await;
        assert_eq!(alice.ended().await, RuntimeEnd::ChannelClosed);
        assert_eq!(bob.ended().await, RuntimeEnd::ChannelClosed);
        assert!(on_chain(&chain, &channel).await.is_none());
        let fees = 100_000; // a few transactions' fees at most
        let alice_gain = lamports(&chain, &a).await + fees - alice_before;
        assert!(
            alice_gain >= registered.balance_a
                && alice_gain <= registered.balance_a + 2 * fees + SOL / 100,
            "Alice got {alice_gain}, her registered balance is {}",
            registered.balance_a
        );
        assert!(lamports(&chain, &b).await <= bob_before + registered.balance_b);
    });
}

#[test]
fn a_peer_that_stops_reading_cannot_stall_the_watcher() {
    paychan_tests::block_on(async {
        let mut chain = SvmChain::new();
        let (a, b, channel) = open_channel(&mut chain, 10 * SOL, 5 * SOL).await;
        let (mut alice, mut bob) = join_in_memory(&chain, &a, &b, channel).await;
        alice.handle(payment(SOL)).await.expect("pay");
        deliver(&mut alice, &mut bob).await.expect("round 1");
        let stale = alice.engine().newest_co_signed().expect("seq 1");
        // Then a round of 3,999 payments: each Hello Bob answers carries it (~100 KB).
        for _ in 0..4_000 {
            alice.handle(payment(1_000)).await.expect("pay");
        }
        deliver(&mut alice, &mut bob).await.expect("rounds 2 and 3");
        assert_eq!(bob.engine().newest_state().seq, 3);
        drop(alice);

        let id = channel.address.to_bytes();
        let (notices, mut notices_rx) = mpsc::unbounded_channel();
        let (address, links) = accepting(&a, &b, &channel, notices.clone()).await;
        let bob_before = lamports(&chain, &b).await;
        let bob = start(bob, links, notices, watch::channel(LinkState::default()));

        // Alice asks Bob to resync again and again and never reads an answer.
        let mut link = PeerLink::connect(address, &signing_key(&a), &b.pubkey().to_bytes(), id)
            .await
            .expect("connect");
        let flood = spawn_local(async move {
            for _ in 0..2_000 {
                let hello = PeerMessage::Hello {
                    newest: None,
                    pending: None,
                };
                if link.send(hello).await.is_err() {
                    return; // Bob hung up on the stalled link
                }
            }
            std::future::pending::<()>().await; // keeps the link open, unread
        });
        // Bob gives up on the link instead of waiting on it...
        loop {
            match timeout(DEADLINE, notices_rx.recv())
                .await
                .expect("Bob drops the stalled link in time")
            {
                // A repeated Hello ends the link at once (a resync is answered once per
                // session); a peer that floods anything else unread fills the queue.
                Some(Notice::LinkLost(
                    TransportError::RepeatedHello
                    | TransportError::Stalled(_)
                    | TransportError::WriteTimeout(_),
                )) => break,
                Some(_) => {}
                None => panic!("notices closed"),
            }
        }
        // ...so the stale registration Alice makes now is disputed, and she is punished.
        submit_as(
            &mut chain.ledger(),
            &a,
            &stale.start_close(&channel, &a.pubkey()),
        )
        .await
        .expect("Alice registers seq 1");
        assert_eq!(bob.ended().await, RuntimeEnd::ChannelClosed);
        flood.abort();
        assert!(on_chain(&chain, &channel).await.is_none());
        assert!(
            lamports(&chain, &b).await > bob_before + 14 * SOL,
            "Bob took the whole channel"
        );
    });
}

#[test]
fn a_flood_of_idle_connections_is_bounded_and_the_peer_still_gets_in() {
    paychan_tests::block_on(async {
        let mut chain = SvmChain::new();
        let (a, b, channel) = open_channel(&mut chain, 10 * SOL, 0).await;
        let id = channel.address.to_bytes();
        let (notices, _) = mpsc::unbounded_channel();
        let (address, mut links) = accepting(&a, &b, &channel, notices).await;

        let flood_size = 3 * MAX_PENDING_HANDSHAKES;
        let mut flood = Vec::with_capacity(flood_size);
        for _ in 0..flood_size {
            flood.push(TcpStream::connect(address).await.expect("connect"));
        }
        // The real peer still gets an authenticated link at once.
        let dialed = timeout(
            DEADLINE,
            PeerLink::connect(address, &signing_key(&a), &b.pubkey().to_bytes(), id),
        )
        .await
        .expect("in time")
        .expect("the peer's handshake succeeds");
        drop(dialed);
        timeout(DEADLINE, links.recv())
            .await
            .expect("in time")
            .expect("Bob's side hands the link on");

        // Only the newest MAX_PENDING_HANDSHAKES idle connections were kept: the older ones
        // were closed as soon as newer ones came (not after the 10 s handshake timeout).
        let evicted = flood_size - MAX_PENDING_HANDSHAKES;
        for (i, stream) in flood.iter_mut().take(evicted).enumerate() {
            let mut byte = [0u8; 1];
            let read = timeout(std::time::Duration::from_secs(2), stream.read(&mut byte))
                .await
                .unwrap_or_else(|_| panic!("flood connection {i} is still held open"));
            assert!(matches!(read, Ok(0) | Err(_)), "connection {i}: {read:?}");
        }
    });
}

/// From another address, 500 connections a second arrive for two seconds, half of them idle,
/// half sending garbage. Midway, the real peer dials: it links at once. The garbage is refused
/// and reported about once a second, with a count of what was left out, not once each.
#[test]
fn the_peer_links_while_500_connections_per_second_arrive() {
    paychan_tests::block_on(async {
        let mut chain = SvmChain::new();
        let (a, b, channel) = open_channel(&mut chain, 10 * SOL, 0).await;
        let id = channel.address.to_bytes();
        let (notices, mut notices_rx) = mpsc::unbounded_channel();
        let (address, mut links) = accepting(&a, &b, &channel, notices).await;

        let (midway_tx, midway) = oneshot::channel();
        let flood = spawn_local(async move {
            let mut midway_tx = Some(midway_tx);
            let mut pace =
                solana_program_test::tokio::time::interval(std::time::Duration::from_millis(2));
            let mut held = Vec::new();
            for i in 0..1_000u32 {
                pace.tick().await;
                let socket = TcpSocket::new_v4().expect("socket");
                socket
                    .bind("127.0.0.2:0".parse().expect("address"))
                    .expect("bind");
                let Ok(mut stream) = socket.connect(address).await else {
                    continue;
                };
                if i % 2 == 1 {
                    // A 3-byte Noise frame where a 32-byte key belongs: refused at once.
                    let _ = stream.write_all(&[0, 3, 0xAB, 0xAB, 0xAB]).await;
                }
                held.push(stream);
                if i == 250 {
                    midway_tx.take().map(|tx| tx.send(()));
                }
            }
            held.len()
        });
        midway.await.expect("the flood is under way");
        let dialed = timeout(
            DEADLINE,
            PeerLink::connect(address, &signing_key(&a), &b.pubkey().to_bytes(), id),
        )
        .await
        .expect("in time")
        .expect("the peer's handshake succeeds mid-flood");
        timeout(DEADLINE, links.recv())
            .await
            .expect("in time")
            .expect("Bob's side hands the link on");
        drop(dialed);
        let sent = timeout(DEADLINE, flood)
            .await
            .expect("in time")
            .expect("flood");
        assert!(sent > 900, "the flood connected {sent} times");

        let mut refusals = Vec::new();
        while let Ok(notice) = notices_rx.try_recv() {
            if let Notice::Refused(why) = notice {
                refusals.push(why);
            }
        }
        assert!(
            (1..=5).contains(&refusals.len()),
            "{} refusal notices for ~500 refused connections: {refusals:?}",
            refusals.len()
        );
        assert!(
            refusals
                .iter()
                .any(|why| why.contains("more since the last report")),
            "{refusals:?}"
        );
    });
}

/// A channel closed and opened again at the same address (same parties and nonce) is a new
/// incarnation: a store that served the first never transacts on the second.
#[test]
fn a_store_never_serves_a_channel_reopened_at_its_address() {
    paychan_tests::block_on(async {
        let mut chain = SvmChain::new();
        let (a, b, channel) = open_channel(&mut chain, 2 * SOL, 0).await;
        let mut alice = paychan_node::driver::ChannelDriver::join(
            paychan_node::store::MemoryStore::new(),
            chain.ledger(),
            a.insecure_clone(),
            channel,
        )
        .await
        .expect("A joins");
        alice.force_close().await.expect("registered");
        chain
            .advance_time(chain.challenge_period() as i64 + 1)
            .await;
        alice.sync_chain().await.expect("finalized");
        assert!(on_chain(&chain, &channel).await.is_none());

        submit_as(
            &mut chain.ledger(),
            &a,
            &[paychan_interface::client::open(
                &channel,
                SOL,
                chain.challenge_period(),
            )],
        )
        .await
        .expect("reopened at the same address");
        let (store, _) = alice.into_parts();
        let rejoined = paychan_node::driver::ChannelDriver::join(
            store,
            chain.ledger(),
            a.insecure_clone(),
            channel,
        )
        .await;
        assert!(
            matches!(rejoined, Err(DriverError::Reincarnated(address)) if address == channel.address),
            "{rejoined:?}"
        );
        // A key that is neither party cannot join at all.
        let stranger = Keypair::new();
        let joined = paychan_node::driver::ChannelDriver::join(
            paychan_node::store::MemoryStore::new(),
            chain.ledger(),
            stranger,
            channel,
        )
        .await;
        assert!(
            matches!(joined, Err(DriverError::NotAParty { .. })),
            "{joined:?}"
        );
        let _ = b;
    });
}

/// Many honest peers behind one address (a NAT, or a node's payers coming back after its
/// restart) dial one listener at once: every handshake completes on the first try. A handshake
/// under way is never cancelled for a newcomer from its own address; only silent connections
/// count against the per-address limit.
#[test]
fn many_honest_peers_behind_one_address_all_link_at_once() {
    paychan_tests::block_on(async {
        const PEERS: u8 = 40;
        let node = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
        let routes = paychan_node::runtime::LinkRoutes::default();
        let (links_tx, mut links) = mpsc::channel(PEERS as usize);
        let peers: Vec<_> = (1..=PEERS)
            .map(|n| ed25519_dalek::SigningKey::from_bytes(&[n; 32]))
            .collect();
        for (n, peer) in (1..=PEERS).zip(&peers) {
            routes.add([n; 32], peer.verifying_key().to_bytes(), links_tx.clone());
        }
        let listener = paychan_node::runtime::listen("127.0.0.1:0")
            .await
            .expect("listen");
        let address = listener.local_addr().expect("address");
        let (notices, _) = mpsc::unbounded_channel();
        spawn_local(paychan_node::runtime::accept_forever_for(
            listener,
            node.clone(),
            routes,
            notices,
        ));
        let node_key = node.verifying_key().to_bytes();
        let dials = (1..=PEERS)
            .zip(&peers)
            .map(|(n, peer)| PeerLink::connect(address, peer, &node_key, [n; 32]));
        let dialed = timeout(DEADLINE, futures_util::future::join_all(dials))
            .await
            .expect("in time");
        for (n, result) in dialed.into_iter().enumerate() {
            result.unwrap_or_else(|e| panic!("peer {n} was cut off: {e}"));
        }
        for _ in 0..PEERS {
            timeout(DEADLINE, links.recv())
                .await
                .expect("in time")
                .expect("every link is handed on");
        }
    });
}
