//! The client end to end against the built program, on LiteSVM, on solana-program-test, on the
//! embedded ledger over JSON-RPC (`paychan ledger`) and (when built) on a real
//! solana-test-validator over JSON-RPC:
//! two nodes with real stores exchanging payments, closing cooperatively or unilaterally,
//! disputing stale states, and a watchtower guarding an offline party.

use paychan_node::{
    engine::Input,
    ledger::Ledger,
    store::{ChannelStore, RedbStore},
    watcher::ChainRequest,
    watchtower::Watchtower,
};
use paychan_tests::{
    chain::TestChain,
    pair::{
        deliver, join, join_in_memory, on_chain, open_channel, paid_rounds, payment, PaidRounds,
        FEE_PER_SIGNATURE, WALLET,
    },
    SOL,
};
use solana_keypair::Keypair;
use solana_signer::Signer;

paychan_tests::on_every_chain!(
    ten_thousand_payments_then_cooperative_close_in_three_transactions,
    silent_peer_unilateral_close_finalizes_after_the_window,
    stale_registration_two_behind_is_disputed_and_punished,
    stale_registration_one_behind_is_replaced,
    watchtower_disputes_for_an_offline_party,
    priority_fees_are_paid_on_the_nodes_own_transactions,
);

async fn lamports<L: Ledger>(ledger: &mut L, key: &Keypair) -> u64 {
    ledger
        .account(&key.pubkey())
        .await
        .expect("ledger")
        .map_or(0, |a| a.lamports)
}

async fn ten_thousand_payments_then_cooperative_close_in_three_transactions<C: TestChain>(
    mut chain: C,
) {
    let (a, b, channel) = open_channel(&mut chain, 10 * SOL, 5 * SOL).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = |name: &str| RedbStore::open(dir.path().join(name)).expect("redb");
    let mut alice = join(&chain, store("a.redb"), &a, channel)
        .await
        .expect("alice joins");
    let mut bob = join(&chain, store("b.redb"), &b, channel)
        .await
        .expect("bob joins");

    // 10,000 payments from Alice in bursts (batched into few rounds), 100 back from Bob
    let (mut to_bob, mut to_alice) = (0u64, 0u64);
    for burst in 0..20u64 {
        for i in 0..500u64 {
            let amount = 1_000 + (burst * 500 + i) % 997;
            alice.handle(payment(amount)).await.expect("pay");
            to_bob += amount;
        }
        for _ in 0..5 {
            bob.handle(payment(7_000)).await.expect("pay back");
            to_alice += 7_000;
        }
        deliver(&mut alice, &mut bob).await.expect("rounds");
    }
    let newest = alice.engine().newest_state();
    assert_eq!(newest, bob.engine().newest_state());
    assert_eq!(newest.balance_a, 10 * SOL - to_bob + to_alice);
    assert_eq!(newest.balance_b, 5 * SOL + to_bob - to_alice);
    assert!(
        newest.seq < 100,
        "payments were batched: {} rounds",
        newest.seq
    );
    let receipts = bob
        .store()
        .log(&channel.address, 1, usize::MAX)
        .await
        .expect("log");
    let ops: usize = receipts.iter().map(|e| e.ops.len()).sum();
    assert_eq!(ops, 10_100, "every payment has a receipt in the log");

    alice.handle(Input::Close).await.expect("close");
    deliver(&mut alice, &mut bob)
        .await
        .expect("close agreed and countersigned");
    let mut ledger = chain.ledger();
    assert_eq!(on_chain(&chain, &channel).await, None);
    // Open (A), deposit (B), close (paid by A, signed by both): three L1 transactions.
    assert_eq!(
        lamports(&mut ledger, &a).await,
        WALLET - 10 * SOL + newest.balance_a - 3 * FEE_PER_SIGNATURE
    );
    assert_eq!(
        lamports(&mut ledger, &b).await,
        WALLET - 5 * SOL + newest.balance_b - FEE_PER_SIGNATURE
    );
}

async fn silent_peer_unilateral_close_finalizes_after_the_window<C: TestChain>(mut chain: C) {
    let (a, b, channel) = open_channel(&mut chain, 10 * SOL, 0).await;
    let (mut alice, mut bob) = join_in_memory(&chain, &a, &b, channel).await;
    for _ in 0..3 {
        alice.handle(payment(SOL)).await.expect("pay");
        deliver(&mut alice, &mut bob).await.expect("round");
    }
    // Bob goes silent: Alice's next payment never completes
    alice.handle(payment(SOL)).await.expect("pay");
    alice.outbox.clear();
    alice
        .force_close()
        .await
        .expect("start close with the newest state");
    let registered = on_chain(&chain, &channel).await.expect("closing");
    assert_eq!(registered.registered.seq, 3);

    chain
        .advance_time(chain.challenge_period() as i64 + 1)
        .await;
    alice.sync_chain().await.expect("watcher finalizes");
    let mut ledger = chain.ledger();
    assert_eq!(on_chain(&chain, &channel).await, None);
    // Fees: open (1 signature), StartClose (1 + the 2 precompile signatures), Finalize (1).
    assert_eq!(
        lamports(&mut ledger, &a).await,
        WALLET - 3 * SOL - 5 * FEE_PER_SIGNATURE
    );
}

async fn stale_registration_two_behind_is_disputed_and_punished<C: TestChain>(mut chain: C) {
    let PaidRounds {
        mut alice,
        mut bob,
        states,
        ..
    } = paid_rounds(&mut chain, 5).await;
    let channel = *alice.channel();
    // Alice cheats: registers seq 3, when seq 5 (so also seq 4) is fully signed
    let me = alice.channel().party_a;
    alice
        .submit(&states[2].start_close(&channel, &me))
        .await
        .expect("stale start close lands");
    let bob_key = channel.party_b;
    let mut ledger = chain.ledger();
    let before = ledger
        .account(&bob_key)
        .await
        .expect("ledger")
        .map_or(0, |a| a.lamports);
    bob.sync_chain().await.expect("bob's watcher disputes");
    assert_eq!(on_chain(&chain, &channel).await, None, "closed at once");
    let after = ledger
        .account(&bob_key)
        .await
        .expect("ledger")
        .map_or(0, |a| a.lamports);
    // Bob's dispute costs its signature and the precompile's two.
    assert_eq!(
        after,
        before + 12 * SOL - 3 * FEE_PER_SIGNATURE,
        "Bob takes the whole channel"
    );
}

async fn stale_registration_one_behind_is_replaced<C: TestChain>(mut chain: C) {
    let PaidRounds {
        mut alice,
        mut bob,
        states,
        ..
    } = paid_rounds(&mut chain, 5).await;
    let channel = *alice.channel();
    let me = channel.party_a;
    alice
        .submit(&states[3].start_close(&channel, &me))
        .await
        .expect("seq 4 registered");
    bob.sync_chain().await.expect("bob disputes with seq 5");
    let registered = on_chain(&chain, &channel).await.expect("closing");
    assert_eq!(registered.registered.seq, 5);
    chain
        .advance_time(chain.challenge_period() as i64 + 1)
        .await;
    bob.sync_chain().await.expect("finalize");
    assert_eq!(on_chain(&chain, &channel).await, None);
}

async fn watchtower_disputes_for_an_offline_party<C: TestChain>(mut chain: C) {
    let PaidRounds {
        mut alice,
        bob,
        states,
        ..
    } = paid_rounds(&mut chain, 4).await;
    let channel = *alice.channel();
    let tower_key = Keypair::new();
    chain.fund(&tower_key.pubkey(), SOL).await;
    let mut tower = Watchtower::new(chain.ledger(), tower_key);
    tower.watch(
        channel,
        bob.engine().newest_co_signed().expect("bob's newest"),
    );
    drop(bob); // Bob goes offline

    let me = channel.party_a;
    alice
        .submit(&states[0].start_close(&channel, &me))
        .await
        .expect("stale seq 1");
    let report = tower.tick().await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(matches!(
        report.submitted[..],
        [(_, ChainRequest::Dispute(_))]
    ));
    // Seq 4 against seq 1 registered by Alice: Alice is punished
    assert_eq!(on_chain(&chain, &channel).await, None);
    let mut ledger = chain.ledger();
    let bob_balance = ledger
        .account(&channel.party_b)
        .await
        .expect("ledger")
        .map_or(0, |a| a.lamports);
    assert_eq!(bob_balance, WALLET - 2 * SOL + 12 * SOL - FEE_PER_SIGNATURE);
}

async fn priority_fees_are_paid_on_the_nodes_own_transactions<C: TestChain>(mut chain: C) {
    let PaidRounds {
        mut alice,
        mut bob,
        a: alice_key,
        ..
    } = paid_rounds(&mut chain, 2).await;
    let mut ledger = chain.ledger();
    let before = lamports(&mut ledger, &alice_key).await;
    let price = 1_000_000; // micro-lamports per compute unit
    alice.set_priority_fee(price);
    alice
        .force_close()
        .await
        .expect("start close with a priority fee");
    let fee = (u64::from(paychan_node::driver::COMPUTE_UNIT_LIMIT) * price).div_ceil(1_000_000);
    assert_eq!(
        lamports(&mut ledger, &alice_key).await,
        before - 3 * FEE_PER_SIGNATURE - fee,
        "signatures (the payer's and the precompile's two) plus limit × price"
    );
    let registered = on_chain(&chain, alice.channel()).await.expect("closing");
    assert_eq!(registered.registered.seq, 2);
    bob.sync_chain().await.expect("nothing to dispute");
}
