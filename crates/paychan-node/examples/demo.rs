//! The quick-start demo: two peers on 127.0.0.1. Alice and Bob each run a channel node (engine +
//! redb store) against an embedded LiteSVM ledger running the real `paychan.so`, talking over the
//! Noise-encrypted, key-authenticated link. Alice opens with 10 SOL, Bob deposits 5 SOL, Alice
//! makes 10,000 payments (Bob 100 back), and they close cooperatively.

use std::time::Instant;

use ed25519_dalek::SigningKey;
use paychan_interface::client::{self, ChannelAddress};
use paychan_node::{
    driver::ChannelDriver,
    engine::{Event, Input, Payment},
    ledger::{Ledger, LiteSvmLedger, SharedLedger},
    peer::serve,
    store::RedbStore,
    transport::PeerLink,
};
use solana_keypair::Keypair;
use solana_signer::Signer;
use tokio::{net::TcpListener, sync::mpsc, task::LocalSet};

const SOL: u64 = 1_000_000_000;
const PAYMENTS: u64 = 10_000;
const PAYMENTS_BACK: u64 = 100;
const PROGRAM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../target/deploy/paychan.so"
);

type DemoLedger = SharedLedger<LiteSvmLedger>;
type Node = ChannelDriver<RedbStore, DemoLedger>;

fn sol(lamports: u64) -> String {
    format!("{:.6} SOL", lamports as f64 / SOL as f64)
}

async fn submit(ledger: &mut DemoLedger, payer: &Keypair, ix: solana_instruction::Instruction) {
    paychan_node::ledger::sign_and_submit(ledger, &[ix], &[payer])
        .await
        .expect("transaction lands");
}

async fn balance(ledger: &mut DemoLedger, key: &Keypair) -> u64 {
    ledger
        .account(&key.pubkey())
        .await
        .expect("ledger")
        .map_or(0, |a| a.lamports)
}

/// Counts the payments `events` confirms until `count` are in.
async fn confirmed(events: &mut mpsc::UnboundedReceiver<Event>, count: u64, paid: bool) {
    let mut seen = 0;
    while seen < count {
        match events.recv().await.expect("the session runs") {
            Event::Paid { payments, .. } if paid => seen += payments.len() as u64,
            Event::Received { payments, .. } if !paid => seen += payments.len() as u64,
            _ => {}
        }
    }
}

/// One peer's session over the link, handing its node back at the end.
async fn session(
    mut node: Node,
    link: PeerLink,
    mut inputs: mpsc::UnboundedReceiver<Input>,
    events: mpsc::UnboundedSender<Event>,
) -> Node {
    serve(&mut node, link, &mut inputs, &events)
        .await
        .expect("no storage or ledger failure");
    node
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

    // Each peer: its own redb store, joined to the channel on the ledger.
    let dir = tempfile::tempdir().expect("tempdir");
    let join = |key: &Keypair, file: &str| {
        let store = RedbStore::open(dir.path().join(file)).expect("redb store");
        ChannelDriver::join(store, ledger.clone(), key.insecure_clone(), channel)
    };
    let alice = join(&alice_key, "alice.redb").await.expect("alice joins");
    let bob = join(&bob_key, "bob.redb").await.expect("bob joins");

    // Bob listens on 127.0.0.1; Alice dials; both prove their channel keys.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    println!("  Bob listens on {address}; Alice connects (Noise + Ed25519 key proofs)");
    let (alice_signing, bob_signing) = (
        SigningKey::from_bytes(alice_key.secret_bytes()),
        SigningKey::from_bytes(bob_key.secret_bytes()),
    );
    let (alice_pub, bob_pub) = (alice_key.pubkey().to_bytes(), bob_key.pubkey().to_bytes());
    let channel_id = channel.address.to_bytes();
    let accept = async {
        let (stream, _) = listener.accept().await.expect("accept");
        PeerLink::accept(stream, &bob_signing, &alice_pub, channel_id).await
    };
    let dial = PeerLink::connect(address, &alice_signing, &bob_pub, channel_id);
    let (alice_link, bob_link) = tokio::join!(dial, accept);

    let (alice_inputs, alice_in) = mpsc::unbounded_channel();
    let (bob_inputs, bob_in) = mpsc::unbounded_channel();
    let (alice_events_tx, mut alice_events) = mpsc::unbounded_channel();
    let (bob_events_tx, mut bob_events) = mpsc::unbounded_channel();
    let alice_task = tokio::task::spawn_local(session(
        alice,
        alice_link.expect("alice's link"),
        alice_in,
        alice_events_tx,
    ));
    let bob_task = tokio::task::spawn_local(session(
        bob,
        bob_link.expect("bob's link"),
        bob_in,
        bob_events_tx,
    ));

    let started = Instant::now();
    for i in 0..PAYMENTS {
        let id = u128::from(i).to_le_bytes();
        alice_inputs
            .send(Input::Pay(Payment { id, amount: 1_000 }))
            .expect("alice runs");
        if i % (PAYMENTS / PAYMENTS_BACK) == 0 {
            let id = u128::from(i + PAYMENTS).to_le_bytes();
            bob_inputs
                .send(Input::Pay(Payment { id, amount: 50_000 }))
                .expect("bob runs");
        }
    }
    confirmed(&mut alice_events, PAYMENTS, true).await;
    confirmed(&mut bob_events, PAYMENTS_BACK, true).await;
    let elapsed = started.elapsed();
    let total = PAYMENTS + PAYMENTS_BACK;
    println!(
        "  off-chain: {total} payments confirmed in {:.2} s ({:.0} payments/s; every state fsynced by both)",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );

    alice_inputs.send(Input::Close).expect("alice runs");
    while ledger
        .channel(&channel.address)
        .await
        .expect("ledger")
        .is_some()
    {
        tokio::task::yield_now().await;
    }
    drop((alice_inputs, bob_inputs));
    let (alice, bob) = (
        alice_task.await.expect("alice's session"),
        bob_task.await.expect("bob's session"),
    );
    let newest = alice.engine().newest_state();
    println!(
        "  newest state: seq {} (rounds), Alice {}, Bob {}",
        newest.seq,
        sol(newest.balance_a),
        sol(newest.balance_b)
    );
    println!(
        "  L1 tx 3: cooperative close, built and signed by Alice, countersigned and sent by Bob"
    );
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
    // The two setup transactions, plus whatever the nodes landed themselves.
    let transactions = 2 + alice.landed.len() + bob.landed.len();
    println!("  {total} payments settled with {transactions} L1 transactions");
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    LocalSet::new().block_on(&runtime, demo());
}
