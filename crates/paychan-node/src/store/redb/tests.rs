use paychan_interface::channel::Party;
use tempfile::TempDir;

use super::RedbStore;
use crate::engine::Record;
use crate::store::{
    block_on,
    conformance::{
        self,
        fixtures::{address, entry, params, signed},
    },
    ChannelStore, FaultPoint, FaultyStore,
};

/// Drops the store (closing the file) and opens the same file again, as a restart would.
fn reopen(store: RedbStore) -> RedbStore {
    let path = store.path().to_path_buf();
    drop(store);
    RedbStore::open(path).expect("reopen the store file")
}

#[test]
fn conformance() {
    block_on(async move {
        let dir = TempDir::new().expect("temp dir");
        let mut files = 0u32;
        let open = || {
            files += 1;
            RedbStore::open(dir.path().join(format!("store-{files}.redb"))).expect("open store")
        };
        conformance::run_all(open, reopen).await;
    })
}

#[test]
fn a_write_committed_before_the_crash_is_on_disk() {
    block_on(async move {
        let dir = TempDir::new().expect("temp dir");
        let path = dir.path().join("store.redb");
        let mut store = RedbStore::open(&path).expect("open store");
        store
            .create_channel(&params(1, Party::B))
            .await
            .expect("create");
        let mut faulty = FaultyStore::failing_at(store, 2, FaultPoint::AfterWrite);
        faulty
            .persist(&address(1), &[Record::FullySigned(entry(1))])
            .await
            .expect("first persist");
        assert!(faulty
            .persist(&address(1), &[Record::Signed(signed(2, Party::B))])
            .await
            .is_err());
        let restarted = reopen(faulty.into_inner());
        let (p, r) = restarted
            .recover(&address(1))
            .await
            .expect("recover")
            .expect("channel known");
        assert_eq!(p, params(1, Party::B));
        assert_eq!(r.newest, Some(entry(1)));
        assert_eq!(r.signed, Some(signed(2, Party::B)));
    })
}

#[test]
fn a_rejected_batch_leaves_no_trace() {
    block_on(async move {
        let dir = TempDir::new().expect("temp dir");
        let mut store = RedbStore::open(dir.path().join("store.redb")).expect("open store");
        assert!(store
            .persist(&address(1), &[Record::FullySigned(entry(1))])
            .await
            .is_err());
        store
            .create_channel(&params(1, Party::A))
            .await
            .expect("create");
        let store = reopen(store);
        assert!(store.log(&address(1), 0, 10).await.expect("log").is_empty());
    })
}

/// Many channels writing at once share commits (one fsync each), and every write is durable:
/// after a restart each channel recovers its newest state.
#[test]
fn concurrent_channels_share_commits() {
    const CHANNELS: u8 = 64;
    const ROUNDS: u64 = 20;
    let dir = TempDir::new().expect("temp dir");
    let store = RedbStore::open(dir.path().join("store.redb")).expect("open store");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let channels = (1..=CHANNELS).map(|n| {
            let mut store = store.clone();
            async move {
                store.create_channel(&params(n, Party::A)).await?;
                for seq in 1..=ROUNDS {
                    let records = [Record::FullySigned(entry(seq))];
                    store.persist(&address(n), &records).await?;
                }
                Ok::<_, crate::store::StoreError>(())
            }
        });
        for result in futures_util::future::join_all(channels).await {
            result.expect("every write is accepted");
        }
    });
    let stats = store.commit_stats();
    let writes = u64::from(CHANNELS) * (ROUNDS + 1);
    assert_eq!(stats.writes(), writes);
    assert!(
        stats.commits() * 4 <= writes,
        "{} commits for {writes} writes: concurrent writes were not grouped",
        stats.commits()
    );
    let store = reopen(store);
    for n in 1..=CHANNELS {
        let (_, recovered) = block_on(store.recover(&address(n)))
            .expect("recover")
            .expect("channel known");
        assert_eq!(recovered.newest, Some(entry(ROUNDS)));
    }
}

/// A write refused inside a shared commit fails alone and changes nothing; the others land.
#[test]
fn a_refused_write_fails_alone_in_its_group() {
    let dir = TempDir::new().expect("temp dir");
    let store = RedbStore::open(dir.path().join("store.redb")).expect("open store");
    let (mut one, mut two) = (store.clone(), store.clone());
    block_on(async {
        one.create_channel(&params(1, Party::A))
            .await
            .expect("create");
        two.create_channel(&params(2, Party::A))
            .await
            .expect("create");
        one.persist(&address(1), &[Record::FullySigned(entry(1))])
            .await
            .expect("persist");
        let mut other = entry(1);
        other.state.balance_a += 1;
        let conflicting = [Record::FullySigned(entry(2)), Record::FullySigned(other)];
        let good = [Record::FullySigned(entry(1))];
        let (refused, accepted) = futures_util::future::join(
            one.persist(&address(1), &conflicting),
            two.persist(&address(2), &good),
        )
        .await;
        assert!(matches!(
            refused,
            Err(crate::store::StoreError::Conflict(1))
        ));
        accepted.expect("the other channel's write lands");
        assert_eq!(seqs(&one.log(&address(1), 0, 10).await.expect("log")), [1]);
        assert_eq!(seqs(&two.log(&address(2), 0, 10).await.expect("log")), [1]);
    });
}

fn seqs(entries: &[crate::engine::LogEntry]) -> Vec<u64> {
    entries.iter().map(|e| e.state.seq).collect()
}
