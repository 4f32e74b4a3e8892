//! One node serves many payers over one listener, on the embedded LiteSVM ledger: it finds
//! each channel opened to its key while it runs (no restart), refuses one that is below its
//! minimum deposit, routes every payer's link to its own channel, reports each payment per
//! channel, pays back, lists receipts, and closes one channel while the others run on.
//! Bounded: every wait has a deadline.

use std::collections::HashMap;

use paychan_interface::Address;
use paychan_node::{
    engine::Event,
    node::{InboundPolicy, NodeError, NodeEvent},
    runtime::RuntimeEnd,
    store::MemoryStore,
};
use paychan_tests::{
    chain::SvmChain,
    pair::{join, open_channel_to, payment},
    running::{start_dialing, DEADLINE},
    serving::serve,
    SOL,
};
use solana_program_test::tokio::sync::mpsc;

#[test]
fn one_node_serves_many_payers_and_applies_its_policy() {
    paychan_tests::block_on(async {
        let mut chain = SvmChain::new();
        let policy = InboundPolicy {
            min_deposit: SOL,
            max_channels: 100,
            ..InboundPolicy::default()
        };
        let (service, mut node) = serve(&mut chain, policy).await;
        let (handle, address) = (node.handle.clone(), node.peers);

        // Payers open channels while the node runs; one locks less than the node asks.
        const PAYERS: u64 = 3;
        let mut opened = Vec::new();
        for _ in 0..PAYERS {
            opened.push(open_channel_to(&mut chain, &service, 2 * SOL, 0).await);
        }
        let (_, small) = open_channel_to(&mut chain, &service, SOL / 2, 0).await;
        let mut started = Vec::new();
        let refused = node
            .next(|event| match event {
                NodeEvent::Started { channel, .. } => {
                    started.push(channel);
                    None
                }
                NodeEvent::Refused { channel, reason } => Some((channel, reason)),
                _ => None,
            })
            .await;
        assert_eq!(refused.0, small.address);
        assert!(refused.1.contains("below the minimum"), "{}", refused.1);
        while started.len() < PAYERS as usize {
            started.push(
                node.next(|event| match event {
                    NodeEvent::Started { channel, .. } => Some(channel),
                    _ => None,
                })
                .await,
            );
        }
        started.sort();
        let mut expected: Vec<Address> = opened.iter().map(|(_, c)| c.address).collect();
        expected.sort();
        assert_eq!(
            started, expected,
            "every channel that meets the policy runs"
        );
        assert!(!handle.is_running(&small.address));

        // Each payer dials the node's one listener and pays its own amount 100 times.
        let (notices, _notices) = mpsc::unbounded_channel();
        let mut payers = Vec::new();
        for (index, (payer, channel)) in opened.iter().enumerate() {
            let driver = join(&chain, MemoryStore::new(), payer, *channel)
                .await
                .expect("the payer joins");
            let party = start_dialing(driver, address, (payer, &service), channel, notices.clone());
            let amount = 1_000 * (index as u64 + 1);
            for _ in 0..100 {
                party.input(payment(amount)).await;
            }
            payers.push((party, *channel, amount));
        }
        let mut received: HashMap<Address, (u64, u64)> = HashMap::new();
        while received.values().map(|(count, _)| count).sum::<u64>() < 100 * PAYERS {
            let (channel, payments) = node
                .next(|event| match event {
                    NodeEvent::Channel {
                        channel,
                        event: Event::Received { payments, .. },
                    } => Some((channel, payments)),
                    _ => None,
                })
                .await;
            let entry = received.entry(channel).or_default();
            entry.0 += payments.len() as u64;
            entry.1 += payments.iter().map(|p| p.amount).sum::<u64>();
        }
        for (_, channel, amount) in &payers {
            assert_eq!(
                received[&channel.address],
                (100, 100 * amount),
                "each channel's payments reach it"
            );
            let status = handle.status(&channel.address).await.expect("status");
            assert_eq!(status.newest.balance_b, 100 * amount);
        }

        // The node pays back through its handle; the payer sees it final.
        let (channel, amount) = (payers[0].1, payers[0].2);
        let paid = handle
            .pay(&channel.address, 7, 1, DEADLINE, |_, _| {})
            .await
            .expect("the node pays");
        assert_eq!(paid.balance_b, 100 * amount - 7);
        payers[0].0.settled(1, true).await;

        // Bad requests change nothing, each with its own error.
        let before = handle.status(&channel.address).await.expect("status");
        assert!(matches!(
            handle.pay(&small.address, 1, 1, DEADLINE, |_, _| {}).await,
            Err(NodeError::UnknownChannel(a)) if a == small.address
        ));
        assert!(matches!(
            handle
                .pay(&channel.address, 100 * SOL, 1, DEADLINE, |_, _| {})
                .await,
            Err(NodeError::Refused(_))
        ));
        assert_eq!(
            handle.status(&channel.address).await.expect("status"),
            before
        );

        // The receipts: every fully signed state, the newest matching the status.
        let history = handle
            .history(&channel.address, 0, usize::MAX)
            .await
            .expect("history");
        let newest = history.last().expect("states were signed");
        assert_eq!(newest.state, before.newest);
        let ops: usize = history.iter().map(|entry| entry.ops.len()).sum();
        assert_eq!(ops, 101, "100 payments in, one out");

        // The node closes one channel; it ends there and at the payer, the others run on.
        let closed = handle
            .close(&channel.address, false, DEADLINE)
            .await
            .expect("close");
        assert!(closed.cooperative);
        let (first, _, _) = payers.remove(0);
        assert_eq!(first.ended().await, RuntimeEnd::ChannelClosed);
        node.next(|event| match event {
            NodeEvent::Ended { channel: ended, .. } if ended == channel.address => Some(()),
            _ => None,
        })
        .await;
        assert!(!handle.is_running(&channel.address));
        assert_eq!(handle.running(), PAYERS as usize - 1);
        for (party, channel, _) in &payers {
            party.input(payment(1)).await;
            assert!(handle.is_running(&channel.address));
        }
    });
}

#[test]
fn a_payer_pays_over_a_websocket_link_as_a_browser_would() {
    paychan_tests::block_on(async {
        let mut chain = SvmChain::new();
        let (service, mut node) = serve(&mut chain, InboundPolicy::default()).await;
        let (payer, channel) = open_channel_to(&mut chain, &service, 2 * SOL, 0).await;
        node.next(|event| match event {
            NodeEvent::Started { channel: c, .. } if c == channel.address => Some(()),
            _ => None,
        })
        .await;
        let driver = join(&chain, MemoryStore::new(), &payer, channel)
            .await
            .expect("the payer joins");
        let (notices, _notices) = mpsc::unbounded_channel();
        let party = paychan_tests::running::start_over_websocket(
            driver,
            node.websocket.clone(),
            (&payer, &service),
            &channel,
            notices,
        );
        for _ in 0..100 {
            party.input(payment(1_000)).await;
        }
        let mut received = 0;
        while received < 100 {
            received += node
                .next(|event| match event {
                    NodeEvent::Channel {
                        channel: c,
                        event: Event::Received { payments, .. },
                    } if c == channel.address => Some(payments.len()),
                    _ => None,
                })
                .await;
        }
        let status = node.handle.status(&channel.address).await.expect("status");
        assert_eq!(
            status.newest.balance_b,
            100 * 1_000,
            "every payment over the WebSocket"
        );
    });
}
