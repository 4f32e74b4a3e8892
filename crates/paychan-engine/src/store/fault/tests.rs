use paychan_interface::channel::Party;

use super::{FaultPoint, FaultyStore};
use crate::engine::Record;
use crate::store::{
    block_on,
    conformance::{
        self,
        fixtures::{address, entry, params, signed},
    },
    ChannelStore, MemoryStore, StoreError,
};

/// Creates channel 1 and persists three records, one per call, stopping at the first error.
async fn scenario(store: &mut impl ChannelStore) -> Result<(), StoreError> {
    store.create_channel(&params(1, Party::A)).await?;
    store
        .persist(&address(1), &[Record::FullySigned(entry(1))])
        .await?;
    store
        .persist(&address(1), &[Record::Signed(signed(2, Party::A))])
        .await?;
    store
        .persist(&address(1), &[Record::FullySigned(entry(2))])
        .await?;
    Ok(())
}

async fn assert_dead(store: &mut FaultyStore<MemoryStore>) {
    assert!(store.is_dead());
    let injected = |r: Result<(), StoreError>| matches!(r, Err(StoreError::Injected));
    assert!(injected(store.persist(&address(1), &[]).await));
    assert!(injected(store.create_channel(&params(1, Party::A)).await));
    assert!(injected(store.recover(&address(1)).await.map(drop)));
    assert!(injected(store.log(&address(1), 0, 10).await.map(drop)));
    assert!(injected(store.channels().await.map(drop)));
}

#[test]
fn a_fault_free_wrapper_conforms() {
    block_on(async move {
        conformance::run_all(|| FaultyStore::new(MemoryStore::new()), |store| store).await;
    })
}

#[test]
fn counts_persist_calls() {
    block_on(async move {
        let mut store = FaultyStore::new(MemoryStore::new());
        assert!(scenario(&mut store).await.is_ok());
        assert_eq!(store.persist_calls(), 3);
        assert!(!store.is_dead());
    })
}

#[test]
fn before_write_applies_nothing_and_stays_dead() {
    block_on(async move {
        let mut store = FaultyStore::failing_at(MemoryStore::new(), 2, FaultPoint::BeforeWrite);
        assert!(matches!(
            scenario(&mut store).await,
            Err(StoreError::Injected)
        ));
        assert_eq!(store.persist_calls(), 2);
        assert_dead(&mut store).await;
        let restarted = store.into_inner();
        let (_, r) = restarted
            .recover(&address(1))
            .await
            .expect("memory store")
            .expect("channel created");
        assert_eq!(r.newest, Some(entry(1)));
        assert_eq!(r.signed, Some(signed(1, Party::A)));
    })
}

#[test]
fn after_write_applies_the_failing_call_and_stays_dead() {
    block_on(async move {
        let mut store = FaultyStore::failing_at(MemoryStore::new(), 2, FaultPoint::AfterWrite);
        assert!(matches!(
            scenario(&mut store).await,
            Err(StoreError::Injected)
        ));
        assert_dead(&mut store).await;
        let restarted = store.into_inner();
        let (_, r) = restarted
            .recover(&address(1))
            .await
            .expect("memory store")
            .expect("channel created");
        assert_eq!(r.newest, Some(entry(1)));
        assert_eq!(r.signed, Some(signed(2, Party::A)));
    })
}

#[test]
fn a_failed_inner_write_is_reported_as_is() {
    block_on(async move {
        let mut store = FaultyStore::failing_at(MemoryStore::new(), 1, FaultPoint::AfterWrite);
        let result = store
            .persist(&address(9), &[Record::FullySigned(entry(1))])
            .await;
        assert!(matches!(result, Err(StoreError::UnknownChannel(_))));
        assert!(store.is_dead());
    })
}
