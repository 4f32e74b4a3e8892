//! Payers in the test's own process, over the library: each opens a channel to a service on
//! the embedded ledger, joins it with a memory store, dials the service's node (and redials),
//! and keeps payments in flight, recording which became final.

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
use tokio::{
    sync::{broadcast, mpsc, oneshot, watch},
    task::spawn_local,
};

use super::SOL;

pub struct Payer {
    pub channel: ChannelAddress,
    pub commands: mpsc::Sender<Command>,
    /// Ids of this payer's payments that are final (co-signed, stored on both sides).
    pub paid: std::rc::Rc<std::cell::RefCell<HashSet<[u8; 16]>>>,
    pub done: tokio::task::JoinHandle<()>,
    /// Its runtime: only a store failure or a peer that signed a second state for a seq
    /// would end it.
    pub runtime: tokio::task::JoinHandle<()>,
}

pub async fn status(payer: &Payer) -> Status {
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
pub async fn payer(
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

/// Payments made final so far, by all payers.
pub fn total(payers: &[Payer]) -> usize {
    payers.iter().map(|p| p.paid.borrow().len()).sum()
}

/// Lets the payers pay (this task yields) until each has made a payment and `more` more have
/// become final in all: the load a fault is injected under.
pub async fn paying(payers: &[Payer], more: usize) {
    let target = total(payers) + more;
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if total(payers) >= target && payers.iter().all(|p| !p.paid.borrow().is_empty()) {
            return;
        }
    }
}

/// Stops the payers and waits until every payment they had in flight is final.
pub async fn stop_paying(payers: &mut [Payer], stop: &watch::Sender<bool>) {
    stop.send(true).expect("stop");
    for payer in payers {
        tokio::time::timeout(Duration::from_secs(60), &mut payer.done)
            .await
            .expect("every payment in flight becomes final")
            .expect("the payer's loop");
    }
}
