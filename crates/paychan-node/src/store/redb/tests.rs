use paychan_interface::channel::Party;
use tempfile::TempDir;

use super::RedbStore;
use crate::engine::Record;
use crate::store::{
    conformance::{
        self,
        fixtures::{address, entry, params, signed},
    },
    ready, ChannelStore, FaultPoint, FaultyStore,
};

/// Drops the store (closing the file) and opens the same file again, as a restart would.
fn reopen(store: RedbStore) -> RedbStore {
    let path = store.path().to_path_buf();
    drop(store);
    RedbStore::open(path).expect("reopen the store file")
}

#[test]
fn conformance() {
    ready(async move {
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
    ready(async move {
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
    ready(async move {
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
