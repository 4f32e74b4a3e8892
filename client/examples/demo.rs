//! The quick-start demo: Alice and Bob each run a channel node (engine + redb store) against an
//! embedded LiteSVM ledger running the real `paychan.so`. Alice opens with 10 SOL, Bob deposits
//! 5 SOL, Alice makes 10,000 payments (and Bob a few back), and they close cooperatively.

use std::time::Instant;

use futures::executor::block_on;
use paychan_client::{
    engine::{Input, Payment},
    ledger::{Ledger, LiteSvmLedger, SharedLedger},
    node::ChannelNode,
    store::RedbStore,
};
use paychan_interface::client::{self, ChannelAddress};
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction::Transaction;

const SOL: u64 = 1_000_000_000;
const PAYMENTS: u64 = 10_000;
const PROGRAM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/deploy/paychan.so");

type Node = ChannelNode<RedbStore, SharedLedger<LiteSvmLedger>>;

fn sol(lamports: u64) -> String {
    format!("{:.6} SOL", lamports as f64 / SOL as f64)
}

async fn submit(
    ledger: &mut SharedLedger<LiteSvmLedger>,
    payer: &Keypair,
    ix: solana_instruction::Instruction,
) {
    let blockhash = ledger.latest_blockhash().await.expect("blockhash");
    let tx = Transaction::new_signed_with_payer(&[ix], Some(&payer.pubkey()), &[payer], blockhash);
    ledger.submit(tx).await.expect("transaction lands");
}

async fn deliver(alice: &mut Node, bob: &mut Node) {
    while !alice.outbox.is_empty() || !bob.outbox.is_empty() {
        for message in std::mem::take(&mut alice.outbox) {
            bob.handle(Input::Peer(message)).await.expect("bob accepts");
        }
        for message in std::mem::take(&mut bob.outbox) {
            alice
                .handle(Input::Peer(message))
                .await
                .expect("alice accepts");
        }
    }
}

async fn balance(ledger: &mut SharedLedger<LiteSvmLedger>, key: &Keypair) -> u64 {
    ledger
        .account(&key.pubkey())
        .await
        .expect("ledger")
        .map_or(0, |a| a.lamports)
}

async fn demo() {
    let program = std::fs::read(PROGRAM).expect("build the program first: scripts/build-sbf.sh");
    let mut ledger =
        SharedLedger::new(LiteSvmLedger::new(paychan_interface::ID, &program).expect("load"));
    let (alice_key, bob_key) = (Keypair::new(), Keypair::new());
    for key in [&alice_key, &bob_key] {
        let airdrop = ledger.with(|l| l.svm().airdrop(&key.pubkey(), 20 * SOL).map_err(|e| e.err));
        airdrop.expect("airdrop");
    }
    let start = [
        balance(&mut ledger, &alice_key).await,
        balance(&mut ledger, &bob_key).await,
    ];
    let channel = ChannelAddress::new_random(
        &paychan_interface::ID,
        &alice_key.pubkey(),
        &bob_key.pubkey(),
    );
    println!(
        "paychan demo: embedded LiteSVM running target/deploy/paychan.so ({})",
        paychan_interface::ID
    );
    println!("  channel {}", channel.address);

    submit(
        &mut ledger,
        &alice_key,
        client::open(&channel, 10 * SOL, 86_400),
    )
    .await;
    println!("  L1 tx 1: Alice opens the channel with 10 SOL");
    submit(
        &mut ledger,
        &bob_key,
        client::deposit(&channel, &bob_key.pubkey(), 5 * SOL),
    )
    .await;
    println!("  L1 tx 2: Bob deposits 5 SOL");

    let dir = tempfile::tempdir().expect("tempdir");
    let store = |name: &str| RedbStore::open(dir.path().join(name)).expect("redb store");
    let mut alice = ChannelNode::join(
        store("alice.redb"),
        ledger.clone(),
        alice_key.insecure_clone(),
        channel,
    )
    .await
    .expect("alice joins");
    let mut bob = ChannelNode::join(
        store("bob.redb"),
        ledger.clone(),
        bob_key.insecure_clone(),
        channel,
    )
    .await
    .expect("bob joins");

    let started = Instant::now();
    for i in 0..PAYMENTS {
        let id = (i as u128).to_le_bytes();
        alice
            .handle(Input::Pay(Payment { id, amount: 1_000 }))
            .await
            .expect("alice pays");
        if i % 100 == 99 {
            bob.handle(Input::Pay(Payment { id, amount: 50_000 }))
                .await
                .expect("bob pays");
            deliver(&mut alice, &mut bob).await;
        }
    }
    deliver(&mut alice, &mut bob).await;
    let elapsed = started.elapsed();
    let newest = alice.engine().newest_state();
    println!(
        "  off-chain: {} payments in {} co-signed rounds, {:.2} s ({:.0} payments/s, redb stores with fsync)",
        PAYMENTS + PAYMENTS / 100,
        newest.seq,
        elapsed.as_secs_f64(),
        (PAYMENTS + PAYMENTS / 100) as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  newest state: seq {}, Alice {}, Bob {}",
        newest.seq,
        sol(newest.balance_a),
        sol(newest.balance_b)
    );

    alice.handle(Input::Close).await.expect("close");
    deliver(&mut alice, &mut bob).await;
    println!(
        "  L1 tx 3: cooperative close, built and signed by Alice, countersigned and sent by Bob"
    );
    let gone = ledger
        .channel(&channel.address)
        .await
        .expect("ledger")
        .is_none();
    println!("  channel account closed: {gone}");
    let end = [
        balance(&mut ledger, &alice_key).await,
        balance(&mut ledger, &bob_key).await,
    ];
    for (name, (before, after)) in ["Alice", "Bob"].iter().zip(start.iter().zip(end)) {
        println!(
            "  {name:<5} {} -> {} (net {:+.6} SOL, fees included)",
            sol(*before),
            sol(after),
            (after as f64 - *before as f64) / SOL as f64
        );
    }
    println!(
        "  {} payments settled with 3 L1 transactions",
        PAYMENTS + PAYMENTS / 100
    );
}

fn main() {
    block_on(demo());
}
