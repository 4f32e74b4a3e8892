//! The properties every [`ChannelStore`] must have, as plain functions so that any crate's tests
//! can run them against any store. Each property opens fresh stores through a [`Harness`],
//! returns store errors it did not expect, and panics (assert) when a property does not hold.

pub mod fixtures;

use paychan_interface::{channel::Party, Address};

use super::{ChannelStore, StoreError};
use crate::engine::{Record, Recovered};
use fixtures::{address, entry, ops, params, signed, state, terms};

/// How a property gets stores: `open` a fresh empty one, `reopen` one as after a restart (for a
/// disk store: drop it and open the same file again).
pub struct Harness<'a, S> {
    pub open: &'a mut dyn FnMut() -> S,
    pub reopen: &'a mut dyn FnMut(S) -> S,
}

impl<S> Harness<'_, S> {
    fn open(&mut self) -> S {
        (self.open)()
    }

    fn reopen(&mut self, store: S) -> S {
        (self.reopen)(store)
    }
}

pub type Property<S> = fn(&mut Harness<'_, S>) -> Result<(), StoreError>;

/// Every property, by name.
pub fn properties<S: ChannelStore>() -> Vec<(&'static str, Property<S>)> {
    vec![
        ("unknown_channel_is_none", unknown_channel_is_none),
        (
            "created_channel_recovers_empty",
            created_channel_recovers_empty,
        ),
        ("create_channel_is_idempotent", create_channel_is_idempotent),
        (
            "conflicting_params_are_rejected",
            conflicting_params_are_rejected,
        ),
        ("signed_above_newest", signed_above_newest),
        (
            "fully_signed_supersedes_signed",
            fully_signed_supersedes_signed,
        ),
        ("closing_is_the_last", closing_is_the_last),
        (
            "unilateral_and_withdrawals_survive_reopen",
            unilateral_and_withdrawals_survive_reopen,
        ),
        ("lower_seq_never_regresses", lower_seq_never_regresses),
        (
            "a_second_state_for_a_seq_is_refused",
            a_second_state_for_a_seq_is_refused,
        ),
        ("batch_applies_in_order", batch_applies_in_order),
        ("empty_persist_is_ok", empty_persist_is_ok),
        ("survives_reopen", survives_reopen),
        ("log_ranges", log_ranges),
        ("channels_are_isolated", channels_are_isolated),
        ("channels_lists_all", channels_lists_all),
        (
            "unknown_channel_persist_applies_nothing",
            unknown_channel_persist_applies_nothing,
        ),
    ]
}

/// Runs every property; panics naming the first that fails.
pub fn run_all<S: ChannelStore>(mut open: impl FnMut() -> S, mut reopen: impl FnMut(S) -> S) {
    let mut harness = Harness {
        open: &mut open,
        reopen: &mut reopen,
    };
    for (name, property) in properties::<S>() {
        if let Err(error) = property(&mut harness) {
            panic!("store property {name} failed: {error}");
        }
    }
}

fn recovered<S: ChannelStore>(store: &S, channel: &Address) -> Result<Recovered, StoreError> {
    let (_, recovered) = store
        .recover(channel)?
        .ok_or(StoreError::UnknownChannel(*channel))?;
    Ok(recovered)
}

fn seqs(entries: &[crate::engine::LogEntry]) -> Vec<u64> {
    entries.iter().map(|e| e.state.seq).collect()
}

pub fn unknown_channel_is_none<S: ChannelStore>(h: &mut Harness<'_, S>) -> Result<(), StoreError> {
    let store = h.open();
    assert!(store.recover(&address(1))?.is_none());
    assert!(store.channels()?.is_empty());
    assert!(matches!(
        store.log(&address(1), 0, 10),
        Err(StoreError::UnknownChannel(_))
    ));
    Ok(())
}

pub fn created_channel_recovers_empty<S: ChannelStore>(
    h: &mut Harness<'_, S>,
) -> Result<(), StoreError> {
    let mut store = h.open();
    let p = params(1, Party::B);
    store.create_channel(&p)?;
    assert_eq!(store.recover(&address(1))?, Some((p, Recovered::default())));
    assert!(store.log(&address(1), 0, 10)?.is_empty());
    Ok(())
}

pub fn create_channel_is_idempotent<S: ChannelStore>(
    h: &mut Harness<'_, S>,
) -> Result<(), StoreError> {
    let mut store = h.open();
    let p = params(1, Party::A);
    store.create_channel(&p)?;
    store.persist(&address(1), &[Record::FullySigned(entry(1))])?;
    store.create_channel(&p)?;
    let mut store = h.reopen(store);
    store.create_channel(&p)?;
    assert_eq!(store.channels()?, vec![address(1)]);
    assert_eq!(recovered(&store, &address(1))?.newest, Some(entry(1)));
    Ok(())
}

pub fn conflicting_params_are_rejected<S: ChannelStore>(
    h: &mut Harness<'_, S>,
) -> Result<(), StoreError> {
    let mut store = h.open();
    let p = params(1, Party::A);
    store.create_channel(&p)?;
    let other_side = params(1, Party::B);
    let mut other_slot = p;
    other_slot.binding.opened_slot = 8;
    for conflicting in [other_side, other_slot] {
        assert!(matches!(
            store.create_channel(&conflicting),
            Err(StoreError::ParamsMismatch(a)) if a == address(1)
        ));
    }
    assert_eq!(store.recover(&address(1))?.map(|(p, _)| p), Some(p));
    Ok(())
}

pub fn signed_above_newest<S: ChannelStore>(h: &mut Harness<'_, S>) -> Result<(), StoreError> {
    let mut store = h.open();
    store.create_channel(&params(1, Party::B))?;
    store.persist(&address(1), &[Record::FullySigned(entry(1))])?;
    store.persist(&address(1), &[Record::Signed(signed(2, Party::B))])?;
    let r = recovered(&store, &address(1))?;
    assert_eq!(r.newest, Some(entry(1)));
    assert_eq!(r.signed, Some(signed(2, Party::B)));
    assert_eq!(r.closing, None);
    Ok(())
}

pub fn fully_signed_supersedes_signed<S: ChannelStore>(
    h: &mut Harness<'_, S>,
) -> Result<(), StoreError> {
    let mut store = h.open();
    for (channel, me) in [(1, Party::A), (2, Party::B)] {
        store.create_channel(&params(channel, me))?;
        store.persist(&address(channel), &[Record::Signed(signed(2, me))])?;
        // The own signature comes out of the entry, on this party's side.
        store.persist(&address(channel), &[Record::FullySigned(entry(3))])?;
        let r = recovered(&store, &address(channel))?;
        assert_eq!(r.newest, Some(entry(3)));
        assert_eq!(r.signed, Some(signed(3, me)));
    }
    Ok(())
}

pub fn closing_is_the_last<S: ChannelStore>(h: &mut Harness<'_, S>) -> Result<(), StoreError> {
    let mut store = h.open();
    store.create_channel(&params(1, Party::A))?;
    store.persist(&address(1), &[Record::Closing(terms(4))])?;
    store.persist(&address(1), &[Record::FullySigned(entry(1))])?;
    store.persist(&address(1), &[Record::Closing(terms(1))])?;
    let r = recovered(&store, &address(1))?;
    assert_eq!(r.closing, Some(terms(1)));
    assert_eq!(r.newest, Some(entry(1)));
    assert_eq!(r.signed, Some(signed(1, Party::A)));
    Ok(())
}

/// A unilateral close stays recorded, and a withdrawn proposal never comes back, across a
/// restart; withdrawing another seq's proposal leaves the stored one alone.
pub fn unilateral_and_withdrawals_survive_reopen<S: ChannelStore>(
    h: &mut Harness<'_, S>,
) -> Result<(), StoreError> {
    let proposed = |seq| {
        Record::Proposed(crate::engine::Proposed {
            state: state(seq),
            ops: ops(seq),
        })
    };
    let mut store = h.open();
    store.create_channel(&params(1, Party::A))?;
    store.persist(&address(1), &[proposed(2)])?;
    store.persist(&address(1), &[Record::ProposalWithdrawn { seq: 1 }])?;
    assert!(recovered(&store, &address(1))?.proposed.is_some());
    store.persist(
        &address(1),
        &[Record::ProposalWithdrawn { seq: 2 }, Record::Unilateral],
    )?;
    let store = h.reopen(store);
    let r = recovered(&store, &address(1))?;
    assert_eq!(r.proposed, None);
    assert!(r.unilateral);
    Ok(())
}

pub fn lower_seq_never_regresses<S: ChannelStore>(
    h: &mut Harness<'_, S>,
) -> Result<(), StoreError> {
    let mut store = h.open();
    store.create_channel(&params(1, Party::A))?;
    store.persist(&address(1), &[Record::FullySigned(entry(3))])?;
    store.persist(&address(1), &[Record::FullySigned(entry(2))])?;
    store.persist(&address(1), &[Record::Signed(signed(1, Party::A))])?;
    let r = recovered(&store, &address(1))?;
    assert_eq!(r.newest, Some(entry(3)));
    assert_eq!(r.signed, Some(signed(3, Party::A)));
    // The late entry is still a fully signed state of the log.
    assert_eq!(seqs(&store.log(&address(1), 0, 10)?), vec![2, 3]);
    Ok(())
}

/// Two different fully signed states for one seq cannot both be genuine: refuse the second,
/// apply nothing of its batch, and keep the first. Writing the same entry again is fine.
pub fn a_second_state_for_a_seq_is_refused<S: ChannelStore>(
    h: &mut Harness<'_, S>,
) -> Result<(), StoreError> {
    let mut store = h.open();
    store.create_channel(&params(1, Party::A))?;
    store.persist(&address(1), &[Record::FullySigned(entry(3))])?;
    store.persist(&address(1), &[Record::FullySigned(entry(3))])?;
    let mut other = entry(3);
    other.state.balance_a -= 1;
    other.state.balance_b += 1;
    let refused = store.persist(
        &address(1),
        &[
            Record::FullySigned(entry(4)),
            Record::FullySigned(other.clone()),
        ],
    );
    assert!(
        matches!(refused, Err(StoreError::Conflict(3))),
        "{refused:?}"
    );
    let within_one_batch = store.persist(
        &address(1),
        &[
            Record::FullySigned(entry(5)),
            Record::FullySigned({
                let mut e = entry(5);
                e.ops.clear();
                e
            }),
        ],
    );
    assert!(
        matches!(within_one_batch, Err(StoreError::Conflict(5))),
        "{within_one_batch:?}"
    );
    let r = recovered(&store, &address(1))?;
    assert_eq!(r.newest, Some(entry(3)));
    assert_eq!(seqs(&store.log(&address(1), 0, 10)?), vec![3]);
    Ok(())
}

pub fn batch_applies_in_order<S: ChannelStore>(h: &mut Harness<'_, S>) -> Result<(), StoreError> {
    let mut store = h.open();
    store.create_channel(&params(1, Party::B))?;
    let batch = [
        Record::Signed(signed(1, Party::B)),
        Record::FullySigned(entry(1)),
        Record::Signed(signed(2, Party::B)),
        Record::Closing(terms(1)),
    ];
    store.persist(&address(1), &batch)?;
    let r = recovered(&store, &address(1))?;
    assert_eq!(r.newest, Some(entry(1)));
    assert_eq!(r.signed, Some(signed(2, Party::B)));
    assert_eq!(r.closing, Some(terms(1)));
    Ok(())
}

pub fn empty_persist_is_ok<S: ChannelStore>(h: &mut Harness<'_, S>) -> Result<(), StoreError> {
    let mut store = h.open();
    store.create_channel(&params(1, Party::A))?;
    store.persist(&address(1), &[Record::FullySigned(entry(1))])?;
    let before = store.recover(&address(1))?;
    store.persist(&address(1), &[])?;
    assert_eq!(store.recover(&address(1))?, before);
    Ok(())
}

pub fn survives_reopen<S: ChannelStore>(h: &mut Harness<'_, S>) -> Result<(), StoreError> {
    let mut store = h.open();
    store.create_channel(&params(1, Party::A))?;
    store.create_channel(&params(2, Party::B))?;
    store.persist(&address(1), &[Record::FullySigned(entry(1))])?;
    store.persist(&address(1), &[Record::Signed(signed(2, Party::A))])?;
    store.persist(&address(2), &[Record::Closing(terms(0))])?;
    let before = (
        store.recover(&address(1))?,
        store.recover(&address(2))?,
        store.log(&address(1), 0, 10)?,
        store.channels()?,
    );
    let store = h.reopen(store);
    let after = (
        store.recover(&address(1))?,
        store.recover(&address(2))?,
        store.log(&address(1), 0, 10)?,
        store.channels()?,
    );
    assert_eq!(after, before);
    let r = recovered(&store, &address(1))?;
    assert_eq!(r.newest, Some(entry(1)));
    assert_eq!(r.signed, Some(signed(2, Party::A)));
    assert_eq!(recovered(&store, &address(2))?.closing, Some(terms(0)));
    Ok(())
}

pub fn log_ranges<S: ChannelStore>(h: &mut Harness<'_, S>) -> Result<(), StoreError> {
    let mut store = h.open();
    store.create_channel(&params(1, Party::A))?;
    // Written out of order, with a Signed record that is not part of the log.
    store.persist(&address(1), &[Record::FullySigned(entry(5))])?;
    for seq in 1..=4 {
        store.persist(&address(1), &[Record::FullySigned(entry(seq))])?;
    }
    store.persist(&address(1), &[Record::Signed(signed(6, Party::A))])?;
    let log = |from, limit| store.log(&address(1), from, limit).map(|l| seqs(&l));
    assert_eq!(log(0, 100)?, vec![1, 2, 3, 4, 5]);
    assert_eq!(log(3, 100)?, vec![3, 4, 5]);
    assert_eq!(log(2, 2)?, vec![2, 3]);
    assert_eq!(log(6, 10)?, Vec::<u64>::new());
    assert_eq!(log(0, 0)?, Vec::<u64>::new());
    assert_eq!(log(u64::MAX, 1)?, Vec::<u64>::new());
    assert_eq!(store.log(&address(1), 4, 1)?, vec![entry(4)]);
    Ok(())
}

pub fn channels_are_isolated<S: ChannelStore>(h: &mut Harness<'_, S>) -> Result<(), StoreError> {
    let mut store = h.open();
    store.create_channel(&params(1, Party::A))?;
    store.create_channel(&params(2, Party::A))?;
    store.persist(&address(1), &[Record::FullySigned(entry(1))])?;
    store.persist(&address(1), &[Record::Closing(terms(1))])?;
    store.persist(&address(2), &[Record::Signed(signed(1, Party::A))])?;
    let one = recovered(&store, &address(1))?;
    let two = recovered(&store, &address(2))?;
    assert_eq!(one.newest, Some(entry(1)));
    assert_eq!(two.newest, None);
    assert_eq!(two.closing, None);
    assert_eq!(two.signed, Some(signed(1, Party::A)));
    assert!(store.log(&address(2), 0, 10)?.is_empty());
    assert_eq!(store.log(&address(1), 0, 10)?, vec![entry(1)]);
    Ok(())
}

pub fn channels_lists_all<S: ChannelStore>(h: &mut Harness<'_, S>) -> Result<(), StoreError> {
    let mut store = h.open();
    for channel in [3, 1, 2] {
        store.create_channel(&params(channel, Party::A))?;
    }
    let mut channels = store.channels()?;
    channels.sort_by_key(|a| a.to_bytes());
    assert_eq!(channels, vec![address(1), address(2), address(3)]);
    Ok(())
}

pub fn unknown_channel_persist_applies_nothing<S: ChannelStore>(
    h: &mut Harness<'_, S>,
) -> Result<(), StoreError> {
    let mut store = h.open();
    store.create_channel(&params(1, Party::A))?;
    let result = store.persist(&address(2), &[Record::FullySigned(entry(1))]);
    assert!(matches!(result, Err(StoreError::UnknownChannel(a)) if a == address(2)));
    assert!(matches!(
        store.persist(&address(2), &[]),
        Err(StoreError::UnknownChannel(_))
    ));
    assert_eq!(store.channels()?, vec![address(1)]);
    assert!(store.recover(&address(2))?.is_none());
    assert!(store.log(&address(1), 0, 10)?.is_empty());
    store.create_channel(&params(2, Party::A))?;
    assert_eq!(recovered(&store, &address(2))?, Recovered::default());
    assert!(store.log(&address(2), 0, 10)?.is_empty());
    Ok(())
}
