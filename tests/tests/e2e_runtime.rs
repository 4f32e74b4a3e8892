//! Two `Runtime`s (what `paychan daemon` runs) over real TCP on 127.0.0.1, on the embedded
//! LiteSVM ledger: Bob accepts, Alice dials through a relay that cuts every connection mid-run
//! as a network would. Alice's dialer notices, redials, and the new session resyncs; payments
//! flow both ways, and a cooperative close ends both runtimes once the chain shows it.
//! Bounded: every wait has a deadline.

use std::net::SocketAddr;

use paychan_node::{
    engine::Input,
    runtime::{LinkState, Notice, RuntimeEnd},
};
use paychan_tests::{
    chain::SvmChain,
    pair::{join_in_memory, on_chain, open_channel, payment},
    running::{accepting, start, start_dialing, DEADLINE},
    SOL,
};
use solana_program_test::tokio::{
    self,
    io::copy_bidirectional,
    net::{TcpListener, TcpStream},
    sync::{mpsc, watch},
    task::spawn_local,
    time::timeout,
};

/// A TCP relay in front of `target`; sending on the returned watch cuts every connection
/// through it at once (new ones are relayed again).
async fn relay(target: SocketAddr) -> (SocketAddr, watch::Sender<u64>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let (cut, _) = watch::channel(0u64);
    let cuts = cut.clone();
    spawn_local(async move {
        loop {
            let (mut inbound, _) = listener.accept().await.expect("accept");
            let mut cut = cuts.subscribe();
            spawn_local(async move {
                let Ok(mut outbound) = TcpStream::connect(target).await else {
                    return;
                };
                tokio::select! {
                    _ = copy_bidirectional(&mut inbound, &mut outbound) => {}
                    _ = cut.changed() => {} // both streams drop: the connection is gone
                }
            });
        }
    });
    (address, cut)
}

#[test]
fn runtimes_redial_after_a_cut_connection_resync_and_close_cooperatively() {
    paychan_tests::block_on(async {
        let mut chain = SvmChain::new();
        let (a, b, channel) = open_channel(&mut chain, 10 * SOL, 5 * SOL).await;
        let (alice_node, bob_node) = join_in_memory(&chain, &a, &b, channel).await;
        let (notices, mut notices_rx) = mpsc::unbounded_channel();

        // Bob accepts on a port; Alice dials him through the relay.
        let (address, b_links) = accepting(&a, &b, &channel, notices.clone()).await;
        let (relay_address, cut) = relay(address).await;
        let bob = start(
            bob_node,
            b_links,
            notices.clone(),
            watch::channel(LinkState::default()),
        );
        let mut alice = start_dialing(alice_node, relay_address, (&a, &b), &channel, notices);

        // Session 1: 300 payments, all final.
        for _ in 0..300 {
            alice.input(payment(1_000)).await;
        }
        alice.settled(300, false).await;
        assert_eq!(alice.link.borrow().sessions, 1);

        // The network cuts the connection; with payments queued behind it, Alice redials.
        cut.send_modify(|n| *n += 1);
        for _ in 0..200 {
            alice.input(payment(2_000)).await;
        }
        timeout(
            DEADLINE,
            alice.link.wait_for(|s| s.connected && s.sessions >= 2),
        )
        .await
        .expect("Alice redials in time")
        .expect("link state");
        alice.settled(200, false).await;
        bob.input(payment(SOL)).await;
        alice.settled(1, true).await;

        // Both hold the same newest co-signed state: the resync lost nothing.
        let (a_status, b_status) = (alice.status().await, bob.status().await);
        assert_eq!(a_status.co_signed, b_status.co_signed);
        assert_eq!(a_status.newest, b_status.newest);
        assert_eq!(a_status.queued, 0);
        let newest = a_status.newest;
        assert_eq!(newest.balance_a, 10 * SOL - 700_000 + SOL);
        assert_eq!(newest.balance_b, 5 * SOL + 700_000 - SOL);

        // A cooperative close ends both runtimes: the chain shows nothing left to guard.
        alice.input(Input::Close).await;
        assert_eq!(alice.ended().await, RuntimeEnd::ChannelClosed);
        assert_eq!(bob.ended().await, RuntimeEnd::ChannelClosed);
        assert!(
            on_chain(&chain, &channel).await.is_none(),
            "the channel is closed"
        );

        // The cut was seen and logged as a lost link, never as a refused peer.
        let mut lost = 0;
        while let Ok(notice) = notices_rx.try_recv() {
            match notice {
                Notice::LinkLost(_) => lost += 1,
                Notice::Refused(why) => panic!("refused: {why}"),
                _ => {}
            }
        }
        assert!(lost >= 1, "the cut connection was noticed");
    });
}

/// One listener serves two channels of Bob's, each with its own payer: the dialer's proof names
/// the channel, the listener hands each link to that channel's runtime, and both payers' payments
/// arrive. A dialer for a channel the listener does not serve (or serves no more) is refused.
#[test]
fn one_listener_serves_two_channels_each_paid_by_its_own_payer() {
    paychan_tests::block_on(async {
        use paychan_node::{
            runtime::{accept_forever_for, LinkRoutes},
            store::MemoryStore,
            transport::{PeerLink, TransportError},
        };
        use paychan_tests::{
            chain::TestChain,
            pair::{join, submit_as, WALLET},
            running::signing_key,
        };
        use solana_keypair::Keypair;
        use solana_signer::Signer;

        let mut chain = SvmChain::new();
        let bob = Keypair::new();
        let payers = [Keypair::new(), Keypair::new()];
        for key in [&bob, &payers[0], &payers[1]] {
            chain.fund(&key.pubkey(), WALLET).await;
        }
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let routes = LinkRoutes::default();
        let (notices, _) = mpsc::unbounded_channel();
        let mut bobs = Vec::new();
        let mut dialers = Vec::new();
        let mut channels = Vec::new();
        for payer in &payers {
            let channel = paychan_interface::client::ChannelAddress::new_random(
                &paychan_interface::ID,
                &payer.pubkey(),
                &bob.pubkey(),
            );
            let open = paychan_interface::client::open(&channel, 5 * SOL, chain.challenge_period());
            submit_as(&mut chain.ledger(), payer, &[open])
                .await
                .expect("open");
            chain.advance_time(0).await;
            channels.push(channel.address.to_bytes());
            let (links_tx, links) = mpsc::channel(4);
            routes.add(
                channel.address.to_bytes(),
                payer.pubkey().to_bytes(),
                links_tx,
            );
            let bob_node = join(&chain, MemoryStore::new(), &bob, channel)
                .await
                .expect("Bob");
            let link = watch::channel(LinkState::default());
            bobs.push(start(bob_node, links, notices.clone(), link));
            let node = join(&chain, MemoryStore::new(), payer, channel)
                .await
                .expect("payer");
            dialers.push(start_dialing(
                node,
                address,
                (payer, &bob),
                &channel,
                notices.clone(),
            ));
        }
        spawn_local(accept_forever_for(
            listener,
            signing_key(&bob),
            routes.clone(),
            notices,
        ));

        for (dialer, amount) in dialers.iter().zip([SOL, 2 * SOL]) {
            dialer.input(payment(amount)).await;
        }
        for (bob, amount) in bobs.iter_mut().zip([SOL, 2 * SOL]) {
            bob.settled(1, true).await;
            assert_eq!(bob.status().await.newest.balance_b, amount);
        }

        // A channel the listener does not serve, or no longer serves, is refused.
        routes.remove(&channels[0]);
        let (key, bob_key) = (signing_key(&payers[0]), bob.pubkey().to_bytes());
        for channel in [[7; 32], channels[0]] {
            let dial = PeerLink::connect(address, &key, &bob_key, channel);
            let refused = timeout(DEADLINE, dial).await.expect("in time");
            assert!(
                matches!(refused, Err(TransportError::Closed | TransportError::Io(_))),
                "a channel the listener does not serve: {refused:?}"
            );
        }
    });
}
