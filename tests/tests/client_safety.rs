//! Safety, round 2: what a hostile opener, a forged tower hand-off or a flaky RPC node could
//! cost an honest party before, each shown failing to, on the embedded LiteSVM ledger.
//! - a joining party refuses a channel whose challenge period is below its minimum;
//! - a watchtower verifies every state against the channel's keys on-chain, keeps the best
//!   verified one, and checks each channel on its own;
//! - an empty or failed read ends no guard: only evidence (reads in a row, and `finalized`)
//!   says a channel is gone;
//! - a peer cannot make us read the chain at its pace.

use paychan_interface::{
    client::{self, ChannelAddress, CoSignedState},
    ed25519::PartySignature,
};
use paychan_node::{
    driver::{ChannelDriver, DriverError, JoinPolicy},
    engine::{ChainView, Input},
    ledger::GONE_AFTER_READS,
    runtime::{LinkState, RuntimeEnd},
    store::{ChannelStore, MemoryStore},
    watcher::ChainRequest,
    watchtower::{TowerError, Watchtower},
};
use paychan_tests::{
    chain::{SvmChain, TestChain},
    flaky::{Fault, FaultPlan, FlakyLedger},
    pair::{
        deliver, join_in_memory, lamports, on_chain, open_channel, paid_rounds, payment, submit_as,
        PaidRounds, FEE_PER_SIGNATURE, WALLET,
    },
    running::{start, DEADLINE},
    SOL,
};
use solana_keypair::Keypair;
use solana_program_test::tokio::{
    sync::{mpsc, watch},
    time::timeout,
};
use solana_signer::Signer;

/// Alice registers `state` (a stale one, in these tests).
async fn register(chain: &SvmChain, a: &Keypair, channel: &ChannelAddress, state: &CoSignedState) {
    submit_as(
        &mut chain.ledger(),
        a,
        &state.start_close(channel, &a.pubkey()),
    )
    .await
    .expect("the registration lands");
}

type Lagging = FlakyLedger<<SvmChain as TestChain>::Ledger>;

/// A watchtower with a funded key of its own, reading through a node with the faults `plan`
/// plans (none, unless a test plans some).
async fn tower(chain: &mut SvmChain, plan: &FaultPlan) -> Watchtower<Lagging> {
    let key = Keypair::new();
    chain.fund(&key.pubkey(), SOL).await;
    Watchtower::new(FlakyLedger::new(chain.ledger(), plan.clone()), key)
}

#[test]
fn a_party_refuses_to_join_a_channel_with_a_one_second_challenge_period() {
    paychan_tests::block_on(async {
        let mut chain = SvmChain::new();
        let (a, b) = (Keypair::new(), Keypair::new());
        chain.fund(&a.pubkey(), WALLET).await;
        let channel = ChannelAddress::new_random(&paychan_interface::ID, &a.pubkey(), &b.pubkey());
        submit_as(&mut chain.ledger(), &a, &[client::open(&channel, SOL, 1)])
            .await
            .expect("the program accepts a 1-second period");

        let store = MemoryStore::new();
        let refused =
            ChannelDriver::join(store.clone(), chain.ledger(), b.insecure_clone(), channel)
                .await
                .expect_err("Bob refuses the channel");
        assert!(
            matches!(
                refused,
                DriverError::ChallengePeriodTooShort {
                    period: 1,
                    min: 86_400
                }
            ),
            "{refused}"
        );
        assert!(
            store.channels().await.expect("store").is_empty(),
            "nothing stored, nothing signed"
        );

        let local_test = JoinPolicy {
            min_challenge_period_secs: 1,
        };
        let signer = ed25519_dalek::SigningKey::from_bytes(b.secret_bytes());
        ChannelDriver::join_with_policy(
            store,
            chain.ledger(),
            b.insecure_clone(),
            signer,
            channel,
            local_test,
        )
        .await
        .expect("an explicit local-test policy joins");
    });
}

/// A tower file rewritten by an attacker: a higher seq signed by keys of its own choosing,
/// with the keys named in the hand-off. The tower refuses it, keeps the verified seq 3, and
/// still punishes Alice's stale registration with it.
#[test]
fn a_forged_tower_hand_off_never_displaces_the_verified_state() {
    paychan_tests::block_on(async {
        let mut chain = SvmChain::new();
        let paid = paid_rounds(&mut chain, 3).await;
        let (channel, states) = (paid.channel(), &paid.states);
        let mut tower = tower(&mut chain, &FaultPlan::default()).await;
        tower.watch(channel, states[2]);
        assert!(tower.tick().await.errors.is_empty());

        let forger = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let mut forged = states[2];
        forged.state.seq = 9;
        let signature: PartySignature = client::sign_state(&forger, &forged.state, &forged.binding);
        (forged.a, forged.b) = (signature, signature);
        tower.watch(channel, forged);
        let report = tower.tick().await;
        assert!(
            matches!(report.errors[..], [(_, TowerError::Unverified { seq: 9 })]),
            "{:?}",
            report.errors
        );
        assert_eq!(tower.best(&channel.address), Some(&states[2]));

        register(&chain, &paid.a, &channel, &states[0]).await;
        let report = tower.tick().await;
        assert!(matches!(
            report.submitted[..],
            [(_, ChainRequest::Dispute(state))] if state == states[2]
        ));
        assert_eq!(on_chain(&chain, &channel).await, None, "Alice is punished");
    });
}

/// Two guarded channels; reads of the first fail. The second is still disputed.
#[test]
fn one_channel_the_tower_cannot_read_does_not_starve_the_others() {
    paychan_tests::block_on(async {
        let mut chain = SvmChain::new();
        let other = paid_rounds(&mut chain, 1).await;
        let paid = paid_rounds(&mut chain, 3).await;
        let (unreadable, channel) = (other.channel(), paid.channel());
        let plan = FaultPlan::default();
        plan.plan(unreadable.address, Fault::Failing, u32::MAX);
        let mut tower = tower(&mut chain, &plan).await;
        tower.watch(unreadable, other.states[0]);
        tower.watch(channel, paid.states[2]);
        register(&chain, &paid.a, &channel, &paid.states[0]).await;

        let report = tower.tick().await;
        assert!(matches!(
            report.errors[..],
            [(address, TowerError::Ledger(_))] if address == unreadable.address
        ));
        assert!(matches!(
            report.submitted[..],
            [(address, ChainRequest::Dispute(_))] if address == channel.address
        ));
        assert!(tower.guards(&unreadable.address), "still guarded");
    });
}

/// A lagging RPC node shows no channel for a few reads while `finalized` still has it: the
/// tower keeps guarding, and disputes what Alice registers next.
#[test]
fn empty_reads_from_a_lagging_node_do_not_end_the_towers_guard() {
    paychan_tests::block_on(async {
        let mut chain = SvmChain::new();
        let paid = paid_rounds(&mut chain, 3).await;
        let channel = paid.channel();
        let plan = FaultPlan::default();
        let mut tower = tower(&mut chain, &plan).await;
        tower.watch(channel, paid.states[2]);
        plan.plan(channel.address, Fault::Missing, 2 * GONE_AFTER_READS);
        for _ in 0..2 * GONE_AFTER_READS {
            let report = tower.tick().await;
            assert!(report.released.is_empty(), "one empty read proves nothing");
        }
        register(&chain, &paid.a, &channel, &paid.states[0]).await;
        let report = tower.tick().await;
        assert!(matches!(
            report.submitted[..],
            [(_, ChainRequest::Dispute(_))]
        ));
        // Gone for good now: the tower lets go after the reads the evidence asks for.
        for _ in 1..GONE_AFTER_READS {
            assert!(tower.tick().await.released.is_empty());
        }
        assert_eq!(tower.tick().await.released, vec![channel.address]);
    });
}

/// Bob's running channel reads through a node that shows no channel account for a while:
/// his runtime keeps guarding (it used to conclude "closed" at the first empty read), and
/// when Alice then registers a stale state, Bob's watcher takes the whole channel.
#[test]
fn a_runtime_whose_rpc_node_lags_keeps_guarding_and_punishes_a_stale_close() {
    paychan_tests::block_on(async {
        let mut chain = SvmChain::new();
        let PaidRounds {
            bob, states, a, b, ..
        } = paid_rounds(&mut chain, 3).await;
        let channel = *bob.channel();
        let plan = FaultPlan::default();
        plan.plan(channel.address, Fault::Missing, 3 * GONE_AFTER_READS);
        let (store, _) = bob.into_parts();
        let lagging = FlakyLedger::new(chain.ledger(), plan.clone());
        let bob = ChannelDriver::join(store, lagging, b.insecure_clone(), channel)
            .await
            .expect("Bob resumes from his store");
        let (notices, _) = mpsc::unbounded_channel();
        let (_links, links) = mpsc::channel(1);
        let bob = start(bob, links, notices, watch::channel(LinkState::default()));
        // Bounded wait until the lagging node has served every planned empty read.
        timeout(DEADLINE, async {
            while plan.pending() > 0 {
                solana_program_test::tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the runtime keeps reading the chain");
        assert!(!bob.done.is_finished(), "empty reads ended the guard");

        let before = lamports(&chain, &b).await;
        register(&chain, &a, &channel, &states[0]).await;
        assert_eq!(bob.ended().await, RuntimeEnd::ChannelClosed);
        assert_eq!(on_chain(&chain, &channel).await, None);
        let gained = lamports(&chain, &b).await - before;
        assert!(
            gained > 11 * SOL,
            "Bob takes the whole channel (12 SOL less fees), not his 5 SOL: {gained}"
        );
    });
}

/// While a proposal waits for a deposit Bob's chain does not show, the peer sending it 50
/// times makes Bob read the chain once, not 50 times; each of Bob's own ticks allows one more.
#[test]
fn a_peer_cannot_drive_our_rpc_reads_while_a_message_waits_for_a_deposit() {
    paychan_tests::block_on(async {
        let mut chain = SvmChain::new();
        let (a, b, channel) = open_channel(&mut chain, 10 * SOL, 2 * SOL).await;
        let (mut alice, _) = join_in_memory(&chain, &a, &b, channel).await;
        let plan = FaultPlan::default();
        let ledger = FlakyLedger::new(chain.ledger(), plan.clone());
        let mut bob = ChannelDriver::join(MemoryStore::new(), ledger, b.insecure_clone(), channel)
            .await
            .expect("Bob joins");
        // Alice counts a deposit the chain never shows.
        alice
            .handle(Input::Chain(ChainView {
                deposited_a: 12 * SOL,
                deposited_b: 2 * SOL,
                ..ChainView::default()
            }))
            .await
            .expect("a view");
        alice.handle(payment(11 * SOL)).await.expect("A proposes");
        let proposal = alice.outbox.remove(0);

        let reads = || plan.reads(&channel.address);
        let before = reads();
        for _ in 0..50 {
            bob.handle(Input::Peer(proposal.clone()))
                .await
                .expect("parked");
        }
        assert!(bob.engine().waits_for_chain());
        assert_eq!(reads() - before, 1, "one look for 50 messages");
        bob.sync_chain().await.expect("Bob's tick");
        bob.handle(Input::Peer(proposal)).await.expect("parked");
        assert_eq!(reads() - before, 3, "the tick, and one look after it");
    });
}

/// A cooperative close: Bob checks Alice's transaction and sends back only his signature, so
/// he never submits a transaction whose blockhash Alice chose, nor waits on the chain for it;
/// Alice completes it and lands it with the blockhash she fetched.
#[test]
fn the_countersigner_only_signs_and_the_requester_lands_the_close() {
    paychan_tests::block_on(async {
        let mut chain = SvmChain::new();
        let (a, b, channel) = open_channel(&mut chain, 10 * SOL, 2 * SOL).await;
        let (mut alice, mut bob) = join_in_memory(&chain, &a, &b, channel).await;
        alice.handle(payment(SOL)).await.expect("pay");
        deliver(&mut alice, &mut bob).await.expect("round");
        alice.handle(Input::Close).await.expect("close");
        deliver(&mut alice, &mut bob)
            .await
            .expect("close agreed and signed");
        assert_eq!(on_chain(&chain, &channel).await, None, "closed");
        assert_eq!((alice.landed.len(), bob.landed.len()), (1, 0));
        assert_eq!(
            lamports(&chain, &b).await,
            WALLET - 2 * SOL - FEE_PER_SIGNATURE + 3 * SOL,
            "Bob paid his deposit's fee only"
        );
    });
}
