//! The properties every [`ChannelStore`] must have, as plain functions so that any crate's tests
//! can run them against any store. Each property opens fresh stores through a [`Harness`],
//! returns store errors it did not expect, and panics (assert) when a property does not hold.

pub mod fixtures;

use paychan_interface::{channel::Party, Address};

use super::{ChannelStore, StoreError};
use crate::engine::{Record, Recovered};
use fixtures::{address, entry, ops, params, signed, state, terms};

/// How a property gets stores: `open` a fresh empty one, `reopen` one as after a restart (for a
/// disk store: drop it and open the same file again; for a database: connect again).
// The suite runs on one thread: its futures need not be `Send`.
#[allow(async_fn_in_trait)]
pub trait Harness {
    type Store: ChannelStore;
    async fn open(&mut self) -> Self::Store;
    async fn reopen(&mut self, store: Self::Store) -> Self::Store;
}

/// A [`Harness`] from two plain functions, for stores that open without waiting.
pub struct Opener<O, R> {
    pub open: O,
    pub reopen: R,
}

impl<S: ChannelStore, O: FnMut() -> S, R: FnMut(S) -> S> Harness for Opener<O, R> {
    type Store = S;

    async fn open(&mut self) -> S {
        (self.open)()
    }

    async fn reopen(&mut self, store: S) -> S {
        (self.reopen)(store)
    }
}

/// Runs every property against the stores `harness` opens; panics naming the first that fails.
pub async fn check<H: Harness>(harness: &mut H) {
    macro_rules! properties {
        ($($property:ident),* $(,)?) => {$(
            if let Err(error) = $property(harness).await {
                panic!("store property {} failed: {error}", stringify!($property));
            }
        )*};
    }
    properties!(
        unknown_channel_is_none,
        create_channel_is_idempotent,
        signed_above_newest,
        closing_is_the_last,
        lower_seq_never_regresses,
        batch_applies_in_order,
        empty_persist_is_ok,
        survives_reopen,
        log_ranges,
        channels_are_isolated,
        channels_lists_all,
    );
}

/// [`check`] with stores from two plain functions.
pub async fn run_all<S: ChannelStore>(open: impl FnMut() -> S, reopen: impl FnMut(S) -> S) {
    check(&mut Opener { open, reopen }).await;
}

async fn recovered<S: ChannelStore>(store: &S, channel: &Address) -> Result<Recovered, StoreError> {
    let (_, recovered) = store
        .recover(channel)
        .await?
        .ok_or(StoreError::UnknownChannel(*channel))?;
    Ok(recovered)
}

fn seqs(entries: &[crate::engine::LogEntry]) -> Vec<u64> {
    entries.iter().map(|e| e.state.seq).collect()
}

pub async fn unknown_channel_is_none<H: Harness>(h: &mut H) -> Result<(), StoreError> {
    let store = h.open().await;
    assert!(store.recover(&address(1)).await?.is_none());
    assert!(store.channels().await?.is_empty());
    assert!(matches!(
        store.log(&address(1), 0, 10).await,
        Err(StoreError::UnknownChannel(_))
    ));
    Ok(())
}

pub async fn created_channel_recovers_empty<H: Harness>(h: &mut H) -> Result<(), StoreError> {
    let mut store = h.open().await;
    let p = params(1, Party::B);
    store.create_channel(&p).await?;
    assert_eq!(
        store.recover(&address(1)).await?,
        Some((p, Recovered::default()))
    );
    assert!(store.log(&address(1), 0, 10).await?.is_empty());
    Ok(())
}

pub async fn create_channel_is_idempotent<H: Harness>(h: &mut H) -> Result<(), StoreError> {
    let mut store = h.open().await;
    let p = params(1, Party::A);
    store.create_channel(&p).await?;
    store
        .persist(&address(1), &[Record::FullySigned(entry(1))])
        .await?;
    store.create_channel(&p).await?;
    let mut store = h.reopen(store).await;
    store.create_channel(&p).await?;
    assert_eq!(store.channels().await?, vec![address(1)]);
    assert_eq!(recovered(&store, &address(1)).await?.newest, Some(entry(1)));
    Ok(())
}

pub async fn conflicting_params_are_rejected<H: Harness>(h: &mut H) -> Result<(), StoreError> {
    let mut store = h.open().await;
    let p = params(1, Party::A);
    store.create_channel(&p).await?;
    let other_side = params(1, Party::B);
    let mut other_slot = p;
    other_slot.binding.opened_slot = 8;
    for conflicting in [other_side, other_slot] {
        assert!(matches!(
            store.create_channel(&conflicting).await,
            Err(StoreError::ParamsMismatch(a)) if a == address(1)
        ));
    }
    assert_eq!(store.recover(&address(1)).await?.map(|(p, _)| p), Some(p));
    Ok(())
}

pub async fn signed_above_newest<H: Harness>(h: &mut H) -> Result<(), StoreError> {
    let mut store = h.open().await;
    store.create_channel(&params(1, Party::B)).await?;
    store
        .persist(&address(1), &[Record::FullySigned(entry(1))])
        .await?;
    store
        .persist(&address(1), &[Record::Signed(signed(2, Party::B))])
        .await?;
    let r = recovered(&store, &address(1)).await?;
    assert_eq!(r.newest, Some(entry(1)));
    assert_eq!(r.signed, Some(signed(2, Party::B)));
    assert_eq!(r.closing, None);
    Ok(())
}

pub async fn fully_signed_supersedes_signed<H: Harness>(h: &mut H) -> Result<(), StoreError> {
    let mut store = h.open().await;
    for (channel, me) in [(1, Party::A), (2, Party::B)] {
        store.create_channel(&params(channel, me)).await?;
        store
            .persist(&address(channel), &[Record::Signed(signed(2, me))])
            .await?;
        // The own signature comes out of the entry, on this party's side.
        store
            .persist(&address(channel), &[Record::FullySigned(entry(3))])
            .await?;
        let r = recovered(&store, &address(channel)).await?;
        assert_eq!(r.newest, Some(entry(3)));
        assert_eq!(r.signed, Some(signed(3, me)));
    }
    Ok(())
}

pub async fn closing_is_the_last<H: Harness>(h: &mut H) -> Result<(), StoreError> {
    let mut store = h.open().await;
    store.create_channel(&params(1, Party::A)).await?;
    store
        .persist(&address(1), &[Record::Closing(terms(4))])
        .await?;
    store
        .persist(&address(1), &[Record::FullySigned(entry(1))])
        .await?;
    store
        .persist(&address(1), &[Record::Closing(terms(1))])
        .await?;
    let r = recovered(&store, &address(1)).await?;
    assert_eq!(r.closing, Some(terms(1)));
    assert_eq!(r.newest, Some(entry(1)));
    assert_eq!(r.signed, Some(signed(1, Party::A)));
    Ok(())
}

/// A unilateral close stays recorded, and a withdrawn proposal never comes back, across a
/// restart; withdrawing another seq's proposal leaves the stored one alone.
pub async fn unilateral_and_withdrawals_survive_reopen<H: Harness>(
    h: &mut H,
) -> Result<(), StoreError> {
    let proposed = |seq| {
        Record::Proposed(crate::engine::Proposed {
            state: state(seq),
            ops: ops(seq),
        })
    };
    let mut store = h.open().await;
    store.create_channel(&params(1, Party::A)).await?;
    store.persist(&address(1), &[proposed(2)]).await?;
    store
        .persist(&address(1), &[Record::ProposalWithdrawn { seq: 1 }])
        .await?;
    assert!(recovered(&store, &address(1)).await?.proposed.is_some());
    store
        .persist(
            &address(1),
            &[Record::ProposalWithdrawn { seq: 2 }, Record::Unilateral],
        )
        .await?;
    let store = h.reopen(store).await;
    let r = recovered(&store, &address(1)).await?;
    assert_eq!(r.proposed, None);
    assert!(r.unilateral);
    Ok(())
}

pub async fn lower_seq_never_regresses<H: Harness>(h: &mut H) -> Result<(), StoreError> {
    let mut store = h.open().await;
    store.create_channel(&params(1, Party::A)).await?;
    store
        .persist(&address(1), &[Record::FullySigned(entry(3))])
        .await?;
    store
        .persist(&address(1), &[Record::FullySigned(entry(2))])
        .await?;
    store
        .persist(&address(1), &[Record::Signed(signed(1, Party::A))])
        .await?;
    let r = recovered(&store, &address(1)).await?;
    assert_eq!(r.newest, Some(entry(3)));
    assert_eq!(r.signed, Some(signed(3, Party::A)));
    // The late entry is still a fully signed state of the log.
    assert_eq!(seqs(&store.log(&address(1), 0, 10).await?), vec![2, 3]);
    Ok(())
}

/// Two different fully signed states for one seq cannot both be genuine: refuse the second,
/// apply nothing of its batch, and keep the first. Writing the same entry again is fine.
pub async fn a_second_state_for_a_seq_is_refused<H: Harness>(h: &mut H) -> Result<(), StoreError> {
    let mut store = h.open().await;
    store.create_channel(&params(1, Party::A)).await?;
    store
        .persist(&address(1), &[Record::FullySigned(entry(3))])
        .await?;
    store
        .persist(&address(1), &[Record::FullySigned(entry(3))])
        .await?;
    let mut other = entry(3);
    other.state.balance_a -= 1;
    other.state.balance_b += 1;
    let refused = store
        .persist(
            &address(1),
            &[
                Record::FullySigned(entry(4)),
                Record::FullySigned(other.clone()),
            ],
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(3))),
        "{refused:?}"
    );
    let within_one_batch = store
        .persist(
            &address(1),
            &[
                Record::FullySigned(entry(5)),
                Record::FullySigned({
                    let mut e = entry(5);
                    e.ops.clear();
                    e
                }),
            ],
        )
        .await;
    assert!(
        matches!(within_one_batch, Err(StoreError::Conflict(5))),
        "{within_one_batch:?}"
    );
    let r = recovered(&store, &address(1)).await?;
    assert_eq!(r.newest, Some(entry(3)));
    assert_eq!(seqs(&store.log(&address(1), 0, 10).await?), vec![3]);
    Ok(())
}

pub async fn batch_applies_in_order<H: Harness>(h: &mut H) -> Result<(), StoreError> {
    let mut store = h.open().await;
    store.create_channel(&params(1, Party::B)).await?;
    let batch = [
        Record::Signed(signed(1, Party::B)),
        Record::FullySigned(entry(1)),
        Record::Signed(signed(2, Party::B)),
        Record::Closing(terms(1)),
    ];
    store.persist(&address(1), &batch).await?;
    let r = recovered(&store, &address(1)).await?;
    assert_eq!(r.newest, Some(entry(1)));
    assert_eq!(r.signed, Some(signed(2, Party::B)));
    assert_eq!(r.closing, Some(terms(1)));
    Ok(())
}

pub async fn empty_persist_is_ok<H: Harness>(h: &mut H) -> Result<(), StoreError> {
    let mut store = h.open().await;
    store.create_channel(&params(1, Party::A)).await?;
    store
        .persist(&address(1), &[Record::FullySigned(entry(1))])
        .await?;
    let before = store.recover(&address(1)).await?;
    store.persist(&address(1), &[]).await?;
    assert_eq!(store.recover(&address(1)).await?, before);
    Ok(())
}

pub async fn survives_reopen<H: Harness>(h: &mut H) -> Result<(), StoreError> {
    let mut store = h.open().await;
    store.create_channel(&params(1, Party::A)).await?;
    store.create_channel(&params(2, Party::B)).await?;
    store
        .persist(&address(1), &[Record::FullySigned(entry(1))])
        .await?;
    store
        .persist(&address(1), &[Record::Signed(signed(2, Party::A))])
        .await?;
    store
        .persist(&address(2), &[Record::Closing(terms(0))])
        .await?;
    let before = (
        store.recover(&address(1)).await?,
        store.recover(&address(2)).await?,
        store.log(&address(1), 0, 10).await?,
        store.channels().await?,
    );
    let store = h.reopen(store).await;
    let after = (
        store.recover(&address(1)).await?,
        store.recover(&address(2)).await?,
        store.log(&address(1), 0, 10).await?,
        store.channels().await?,
    );
    assert_eq!(after, before);
    let r = recovered(&store, &address(1)).await?;
    assert_eq!(r.newest, Some(entry(1)));
    assert_eq!(r.signed, Some(signed(2, Party::A)));
    assert_eq!(
        recovered(&store, &address(2)).await?.closing,
        Some(terms(0))
    );
    Ok(())
}

pub async fn log_ranges<H: Harness>(h: &mut H) -> Result<(), StoreError> {
    let mut store = h.open().await;
    store.create_channel(&params(1, Party::A)).await?;
    // Written out of order, with a Signed record that is not part of the log.
    store
        .persist(&address(1), &[Record::FullySigned(entry(5))])
        .await?;
    for seq in 1..=4 {
        store
            .persist(&address(1), &[Record::FullySigned(entry(seq))])
            .await?;
    }
    store
        .persist(&address(1), &[Record::Signed(signed(6, Party::A))])
        .await?;
    for (from, limit, expected) in [
        (0, 100, vec![1, 2, 3, 4, 5]),
        (3, 100, vec![3, 4, 5]),
        (2, 2, vec![2, 3]),
        (6, 10, vec![]),
        (0, 0, vec![]),
        (u64::MAX, 1, vec![]),
    ] {
        let seqs = seqs(&store.log(&address(1), from, limit).await?);
        assert_eq!(seqs, expected, "log from {from}, limit {limit}");
    }
    assert_eq!(store.log(&address(1), 4, 1).await?, vec![entry(4)]);
    Ok(())
}

pub async fn channels_are_isolated<H: Harness>(h: &mut H) -> Result<(), StoreError> {
    let mut store = h.open().await;
    store.create_channel(&params(1, Party::A)).await?;
    store.create_channel(&params(2, Party::A)).await?;
    store
        .persist(&address(1), &[Record::FullySigned(entry(1))])
        .await?;
    store
        .persist(&address(1), &[Record::Closing(terms(1))])
        .await?;
    store
        .persist(&address(2), &[Record::Signed(signed(1, Party::A))])
        .await?;
    let one = recovered(&store, &address(1)).await?;
    let two = recovered(&store, &address(2)).await?;
    assert_eq!(one.newest, Some(entry(1)));
    assert_eq!(two.newest, None);
    assert_eq!(two.closing, None);
    assert_eq!(two.signed, Some(signed(1, Party::A)));
    assert!(store.log(&address(2), 0, 10).await?.is_empty());
    assert_eq!(store.log(&address(1), 0, 10).await?, vec![entry(1)]);
    Ok(())
}

pub async fn channels_lists_all<H: Harness>(h: &mut H) -> Result<(), StoreError> {
    let mut store = h.open().await;
    for channel in [3, 1, 2] {
        store.create_channel(&params(channel, Party::A)).await?;
    }
    let mut channels = store.channels().await?;
    channels.sort_by_key(|a| a.to_bytes());
    assert_eq!(channels, vec![address(1), address(2), address(3)]);
    Ok(())
}

pub async fn unknown_channel_persist_applies_nothing<H: Harness>(
    h: &mut H,
) -> Result<(), StoreError> {
    let mut store = h.open().await;
    store.create_channel(&params(1, Party::A)).await?;
    let result = store
        .persist(&address(2), &[Record::FullySigned(entry(1))])
        .await;
    assert!(matches!(result, Err(StoreError::UnknownChannel(a)) if a == address(2)));
    assert!(matches!(
        store.persist(&address(2), &[]).await,
        Err(StoreError::UnknownChannel(_))
    ));
    assert_eq!(store.channels().await?, vec![address(1)]);
    assert!(store.recover(&address(2)).await?.is_none());
    assert!(store.log(&address(1), 0, 10).await?.is_empty());
    store.create_channel(&params(2, Party::A)).await?;
    assert_eq!(recovered(&store, &address(2)).await?, Recovered::default());
    assert!(store.log(&address(2), 0, 10).await?.is_empty());
    Ok(())
}
