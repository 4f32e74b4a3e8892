//! Crash injection: a party's store "crashes" at every persistence point of a run of rounds,
//! before or after its write commits. The party restarts from its redb file on disk, both
//! sides resynchronise, and the channel goes on. Whatever the crash point, both parties end
//! with exactly the balances of the final co-signed state, which is never older than the
//! newest state either held fully signed before the crash.

use paychan_interface::client::ChannelAddress;
use paychan_node::{
    driver::{ChannelDriver, DriverError},
    engine::Input,
    ledger::{Ledger, LiteSvmLedger, SharedLedger},
    store::{ChannelStore, FaultPoint, FaultyStore, RedbStore, StoreError},
};
use paychan_tests::{
    chain::{SvmChain, TestChain},
    pair::{open_channel, payment},
    SOL,
};
use solana_keypair::Keypair;

type Node = ChannelDriver<FaultyStore<RedbStore>, SharedLedger<LiteSvmLedger>>;

/// Payments of the run: (payer is A, amount).
const SCRIPT: [(bool, u64); 6] = [
    (true, 3 * SOL),
    (true, SOL),
    (false, 2 * SOL),
    (true, SOL / 2),
    (false, SOL / 4),
    (true, 7),
];

struct Party {
    node: Option<Node>,
    keypair: Keypair,
    path: std::path::PathBuf,
    newest_seen: u64,
}

fn is_crash(error: &DriverError) -> bool {
    matches!(error, DriverError::Store(StoreError::Injected))
}

impl Party {
    fn node(&mut self) -> &mut Node {
        self.node.as_mut().expect("running")
    }

    /// The process died: keep only what is on disk, and come back from it.
    async fn restart(&mut self, chain: &SvmChain, channel: ChannelAddress) {
        let node = self.node.take().expect("running");
        let (store, _) = node.into_parts();
        drop(store.into_inner());
        let store = RedbStore::open(&self.path).expect("reopen redb");
        let recovered = store
            .recover(&channel.address)
            .await
            .expect("recover")
            .expect("known");
        let newest = recovered.1.newest.map_or(0, |e| e.state.seq);
        assert!(
            newest >= self.newest_seen,
            "restart lost a fully signed state: had {}, recovered {newest}",
            self.newest_seen
        );
        let node = ChannelDriver::join(
            FaultyStore::new(store),
            chain.ledger(),
            self.keypair.insecure_clone(),
            channel,
        )
        .await
        .expect("rejoin");
        self.node = Some(node);
    }

    fn note_progress(&mut self) {
        if let Some(node) = &self.node {
            self.newest_seen = self.newest_seen.max(node.engine().newest_state().seq);
        }
    }
}

/// Feeds `input` to `party`; on a crash, restarts it and reconnects both sides.
async fn feed(
    parties: &mut [Party; 2],
    who: usize,
    input: Input,
    chain: &SvmChain,
    channel: ChannelAddress,
) {
    let result = parties[who].node().handle(input).await;
    match result {
        Ok(()) => parties[who].note_progress(),
        Err(error) if is_crash(&error) => {
            parties[who].restart(chain, channel).await;
            for p in parties.iter_mut() {
                p.node().outbox.clear(); // the link dropped with the crash
            }
            for p in parties.iter_mut() {
                Box::pin(p.node().handle(Input::Connected))
                    .await
                    .expect("hello");
            }
        }
        Err(error) => panic!("unexpected failure: {error}"),
    }
}

/// Delivers messages until quiet, restarting whoever crashes on the way.
async fn deliver(parties: &mut [Party; 2], chain: &SvmChain, channel: ChannelAddress) {
    for _ in 0..1_000 {
        let mut quiet = true;
        for from in 0..2 {
            let messages = std::mem::take(&mut parties[from].node().outbox);
            for message in messages {
                quiet = false;
                Box::pin(feed(
                    parties,
                    1 - from,
                    Input::Peer(message),
                    chain,
                    channel,
                ))
                .await;
            }
        }
        if quiet {
            return;
        }
    }
    panic!("no quiescence");
}

/// Runs the script with `victim`'s store failing at `fault`; returns how many persist calls
/// each party made (counted with no fault) and checks the outcome.
async fn run(victim: usize, fault: Option<(u64, FaultPoint)>) -> [u64; 2] {
    let mut chain = SvmChain::new();
    let (a, b, channel) = open_channel(&mut chain, 10 * SOL, 5 * SOL).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut parties = Vec::new();
    for (index, keypair) in [a, b].into_iter().enumerate() {
        let path = dir.path().join(format!("{index}.redb"));
        let inner = RedbStore::open(&path).expect("redb");
        let store = match fault {
            Some((call, point)) if index == victim => FaultyStore::failing_at(inner, call, point),
            _ => FaultyStore::new(inner),
        };
        let node = ChannelDriver::join(store, chain.ledger(), keypair.insecure_clone(), channel)
            .await
            .expect("join");
        parties.push(Party {
            node: Some(node),
            keypair,
            path,
            newest_seen: 0,
        });
    }
    let mut parties: [Party; 2] = parties.try_into().map_err(|_| ()).expect("two");
    let calls_before = [0, 1].map(|i| {
        parties[i]
            .node
            .as_ref()
            .expect("node")
            .store()
            .persist_calls()
    });

    for (a_pays, amount) in SCRIPT {
        let who = usize::from(!a_pays);
        feed(&mut parties, who, payment(amount), &chain, channel).await;
        deliver(&mut parties, &chain, channel).await;
    }
    // A payment lost to a crash is simply not made; the channel must still agree and close.
    let calls = [0, 1].map(|i| {
        parties[i]
            .node
            .as_ref()
            .expect("node")
            .store()
            .persist_calls()
            - calls_before[i]
    });
    let newest = parties[0].node().engine().newest_state();
    assert_eq!(
        newest,
        parties[1].node().engine().newest_state(),
        "both sides agree"
    );
    assert!(newest.seq >= parties[0].newest_seen.max(parties[1].newest_seen));
    assert!(
        newest.seq >= SCRIPT.len() as u64 - 1,
        "at most the crashed payment is lost"
    );
    assert_eq!(newest.balance_a + newest.balance_b, 15 * SOL);

    // Close cooperatively and check the chain pays exactly the final state.
    feed(&mut parties, 0, Input::Close, &chain, channel).await;
    deliver(&mut parties, &chain, channel).await;
    let mut ledger = chain.ledger();
    if ledger
        .channel(&channel.address)
        .await
        .expect("ledger")
        .is_some()
    {
        // A crash interrupted the cooperative close: A closes unilaterally instead.
        parties[0].node().force_close().await.expect("force close");
        chain.advance_time(86_401).await;
        parties[0].node().sync_chain().await.expect("finalize");
    }
    assert_eq!(
        ledger.channel(&channel.address).await.expect("ledger"),
        None
    );
    let wallet_b = ledger
        .account(&channel.party_b)
        .await
        .expect("ledger")
        .map_or(0, |a| a.lamports);
    let fees_b = 5_000; // B's deposit
    assert_eq!(
        wallet_b,
        paychan_tests::pair::WALLET - 5 * SOL - fees_b + newest.balance_b,
        "B is paid exactly its newest balance"
    );
    calls
}

#[test]
fn a_crash_at_any_persistence_point_costs_no_one_money() {
    paychan_tests::block_on(async {
        let clean = run(0, None).await;
        println!(
            "persist calls without faults: A {}, B {}",
            clean[0], clean[1]
        );
        let mut crashes = 0;
        for (victim, calls) in clean.into_iter().enumerate() {
            for call in 1..=calls {
                for point in [FaultPoint::BeforeWrite, FaultPoint::AfterWrite] {
                    run(victim, Some((call, point))).await;
                    crashes += 1;
                }
            }
        }
        println!("{crashes} crash points survived");
        assert!(
            crashes >= 20,
            "the run has enough persistence points to be meaningful"
        );
    });
}
