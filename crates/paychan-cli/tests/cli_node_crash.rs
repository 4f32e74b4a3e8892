//! `kill -9` of a node under load from many payers: a service's `paychan node` (a real
//! process, its redb store committing many channels' rounds together) is killed three times
//! while twelve payers pay it as fast as they can, and started again on the same port. Every
//! payment a payer saw final is in the node's history afterwards, every channel's newest
//! co-signed state is the same on both sides, and no payer ever met a second state for a seq
//! (its engine would stop the channel). The payers run in this process, over the library,
//! against the same embedded ledger.

mod support;

use std::{collections::HashSet, time::Duration};

use paychan_interface::client::{self, ChannelAddress};
use paychan_node::{
    driver::{ChannelDriver, JoinPolicy},
    engine::{Event, Input, Payment},
    ledger::{sign_and_submit, RpcLedger},
    runtime::{dial_forever, Command, LinkState, Runtime, Status},
    store::MemoryStore,
};
use solana_keypair::Keypair;
use solana_signer::Signer;
use support::{until, Ledger, Party, SOL};
use tokio::{
    sync::{broadcast, mpsc, oneshot, watch},
    task::spawn_local,
};

const PAYERS: usize = 12;
const KILLS: usize = 3;

struct Payer {
    channel: ChannelAddress,
    commands: mpsc::Sender<Command>,
    /// Ids of this payer's payments that are final (co-signed, stored on both sides).
    paid: std::rc::Rc<std::cell::RefCell<HashSet<[u8; 16]>>>,
    done: tokio::task::JoinHandle<()>,
    /// Its runtime: only a store failure or a peer that signed a second state for a seq
    /// would end it.
    runtime: tokio::task::JoinHandle<()>,
}

async fn status(payer: &Payer) -> Status {
    let (reply, answer) = oneshot::channel();
    payer
        .commands
        .send(Command::Status(reply))
        .await
        .expect("the payer's channel runs");
    answer.await.expect("answered")
}

/// Opens a channel to `service`, joins it with a memory store, dials the node, and keeps up
/// to 8 payments of its own in flight until `stop` turns true.
async fn payer(
    url: &str,
    service: &Keypair,
    node_at: &str,
    index: u64,
    stop: watch::Receiver<bool>,
) -> Payer {
    let key = Keypair::new();
    let mut ledger = RpcLedger::new(url);
    ledger
        .airdrop(&key.pubkey(), 10 * SOL)
        .await
        .expect("airdrop");
    let channel =
        ChannelAddress::new_random(&paychan_interface::ID, &key.pubkey(), &service.pubkey());
    sign_and_submit(
        &mut ledger,
        &[client::open(&channel, 2 * SOL, 86_400)],
        &[&key],
    )
    .await
    .expect("open");
    let signer = ed25519_dalek::SigningKey::from_bytes(key.secret_bytes());
    let driver = ChannelDriver::join_with_policy(
        MemoryStore::new(),
        ledger,
        key.insecure_clone(),
        signer.clone(),
        channel,
        JoinPolicy::default(),
    )
    .await
    .expect("the payer joins");
    let (links_tx, mut links) = mpsc::channel(4);
    let (link_tx, link_rx) = watch::channel(LinkState::default());
    let (notices, mut dropped) = mpsc::unbounded_channel();
    spawn_local(async move { while dropped.recv().await.is_some() {} });
    spawn_local(dial_forever(
        node_at.to_string(),
        signer,
        service.pubkey().to_bytes(),
        channel.address.to_bytes(),
        links_tx,
        link_rx,
        notices.clone(),
    ));
    let (events_tx, mut events) = broadcast::channel(4_096);
    let (commands, mut commands_rx) = mpsc::channel(64);
    let mut runtime = Runtime::new(driver, events_tx, notices, link_tx);
    let runtime = spawn_local(async move {
        let end = runtime
            .run(&mut commands_rx, &mut links, Duration::from_millis(200))
            .await;
        panic!("a payer's channel ended: {end:?}");
    });
    let paid = std::rc::Rc::new(std::cell::RefCell::new(HashSet::new()));
    let (sender, seen) = (commands.clone(), std::rc::Rc::clone(&paid));
    let done = spawn_local(async move {
        let mut next = 0u64;
        let mut in_flight = 0usize;
        loop {
            while in_flight < 8 && !*stop.borrow() {
                let mut id = [0u8; 16];
                id[..8].copy_from_slice(&index.to_le_bytes());
                id[8..].copy_from_slice(&next.to_le_bytes());
                next += 1;
                let (reply, answer) = oneshot::channel();
                let input = Input::Pay(Payment { id, amount: 1_000 });
                sender
                    .send(Command::Input { input, reply })
                    .await
                    .expect("the payer's channel runs");
                answer
                    .await
                    .expect("answered")
                    .expect("the payment is queued");
                in_flight += 1;
            }
            if *stop.borrow() && in_flight == 0 {
                return;
            }
            match events.recv().await {
                Ok(Event::Paid { payments, .. }) => {
                    in_flight -= payments.len();
                    seen.borrow_mut().extend(payments.iter().map(|p| p.id));
                }
                Ok(Event::Dropped { payments, reason }) => {
                    panic!("{} payments dropped: {reason:?}", payments.len())
                }
                Ok(_) => {}
                Err(e) => panic!("payer events: {e}"),
            }
        }
    });
    Payer {
        channel,
        commands,
        paid,
        done,
        runtime,
    }
}

#[test]
fn a_node_killed_under_load_from_many_payers_loses_nothing_it_signed() {
    let ledger = Ledger::start();
    let service = Party::new(&ledger);
    let service_key =
        solana_keypair::read_keypair_file(service.home().join(".config/solana/id.json"))
            .expect("the service's keypair");
    let mut node = service.node(&["--listen", "127.0.0.1:0"]);
    let node_at = node.listening.clone().expect("the node listens");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    tokio::task::LocalSet::new().block_on(&runtime, async {
        let (stop_tx, stop) = watch::channel(false);
        let mut payers = Vec::new();
        for index in 0..PAYERS {
            payers.push(
                payer(
                    &ledger.url,
                    &service_key,
                    &node_at,
                    index as u64,
                    stop.clone(),
                )
                .await,
            );
        }
        let total = |payers: &[Payer]| payers.iter().map(|p| p.paid.borrow().len()).sum::<usize>();

        // Kill the node while payments flow; start it again on the same port each time.
        for kill in 0..KILLS {
            let target = total(&payers) + 300 * (kill + 1);
            while total(&payers) < target {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            node.kill();
            node = service.node(&["--listen", &node_at]);
        }
        let target = total(&payers) + 300;
        while total(&payers) < target {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        stop_tx.send(true).expect("stop");
        for payer in &mut payers {
            tokio::time::timeout(Duration::from_secs(60), &mut payer.done)
                .await
                .expect("every payment in flight becomes final")
                .expect("the payer's loop");
        }

        // Every payment a payer saw final is in the node's history, and both sides hold the
        // same newest co-signed state.
        for payer in &payers {
            assert!(!payer.runtime.is_finished(), "a payer's channel stopped");
            let channel = payer.channel.address.to_string();
            let history = service.ok(&["history", &channel]);
            let stored = history.matches("pay 0.000001 SOL").count();
            let paid = payer.paid.borrow().len();
            assert!(paid > 0);
            assert_eq!(
                stored, paid,
                "{channel}: the node holds every payment made final"
            );
            let mine = status(payer).await.co_signed.expect("co-signed").state;
            let mut theirs = serde_json::Value::Null;
            until("the node's view of the channel", || {
                theirs = support::node_status(&service, &channel);
                theirs["co_signed_seq"] == mine.seq
            });
            assert_eq!(theirs["balance_b"], mine.balance_b);
        }
        assert!(total(&payers) >= 4 * 300);
        drop(node);
    });
}
