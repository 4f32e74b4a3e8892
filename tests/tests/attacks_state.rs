//! protocol §7 state and timing attacks: stale or equal seqs, late disputes, early or repeated
//! finalization, repeated StartClose, deposits while closing, bad sums, unseen deposits,
//! overflowing values, states from an earlier channel at the same address, bad withdrawals.

use paychan_interface::{channel::Party as Side, client, error::PaychanError};
use paychan_tests::{
    backend::Backend,
    fixture::{assert_attack_fails, ChannelFixture, Party, PERIOD},
    on_both_backends, SOL,
};

on_both_backends!(
    dispute_with_an_equal_or_older_seq_is_refused,
    dispute_after_the_deadline_is_refused,
    dispute_while_open_is_refused,
    finalize_before_the_deadline_is_refused,
    finalize_twice_is_refused,
    start_close_twice_is_refused,
    deposit_while_closing_is_refused,
    balances_that_do_not_sum_are_refused,
    deposit_counters_above_the_chains_are_refused,
    overflowing_values_are_refused,
    state_of_an_earlier_channel_at_the_same_address_is_refused,
    withdraw_before_settlement_or_of_nothing_is_refused,
    withdraw_to_the_channel_itself_is_refused,
    a_second_key_replacing_first_does_not_launder_the_punishment,
    a_self_replacement_does_not_launder_the_punishment,
    a_channel_cannot_settle_in_its_opening_slot,
);

fn closing_on_seq(backend: &mut dyn Backend, seq: u64) -> ChannelFixture {
    let f = ChannelFixture::opened(backend, 2 * SOL, SOL);
    let binding = f.binding(backend);
    let state = f.co_sign(
        &binding,
        ChannelFixture::state(seq, (2 * SOL, SOL), (SOL, 2 * SOL)),
    );
    f.start_close(backend, &f.a, Some(&state))
        .expect("start close");
    f
}

fn dispute_with_an_equal_or_older_seq_is_refused(backend: &mut dyn Backend) {
    let f = closing_on_seq(backend, 5);
    let binding = f.binding(backend);
    for seq in [5, 4, 1] {
        let state = f.co_sign(
            &binding,
            ChannelFixture::state(seq, (2 * SOL, SOL), (3 * SOL, 0)),
        );
        assert_attack_fails(backend, &f, 1, PaychanError::StaleState, |b| {
            f.dispute(b, &f.b, &state)
        });
    }
}

fn dispute_after_the_deadline_is_refused(backend: &mut dyn Backend) {
    let f = closing_on_seq(backend, 1);
    let binding = f.binding(backend);
    let deadline = f.account(backend).expect("closing").deadline;
    let newer = f.co_sign(
        &binding,
        ChannelFixture::state(9, (2 * SOL, SOL), (0, 3 * SOL)),
    );
    backend.set_unix_timestamp(deadline + 1);
    assert_attack_fails(backend, &f, 1, PaychanError::ChallengePeriodOver, |b| {
        f.dispute(b, &f.b, &newer)
    });
    // At the deadline itself the dispute still lands
    backend.set_unix_timestamp(deadline);
    f.dispute(backend, &f.b, &newer)
        .expect("dispute at the deadline");
}

fn dispute_while_open_is_refused(backend: &mut dyn Backend) {
    let f = ChannelFixture::opened(backend, 2 * SOL, SOL);
    let binding = f.binding(backend);
    let state = f.co_sign(
        &binding,
        ChannelFixture::state(3, (2 * SOL, SOL), (0, 3 * SOL)),
    );
    assert_attack_fails(backend, &f, 1, PaychanError::ChannelNotClosing, |b| {
        f.dispute(b, &f.b, &state)
    });
}

fn finalize_before_the_deadline_is_refused(backend: &mut dyn Backend) {
    let f = closing_on_seq(backend, 1);
    assert_attack_fails(backend, &f, 0, PaychanError::ChallengePeriodActive, |b| {
        f.finalize(b)
    });
    let f = ChannelFixture::opened(backend, SOL, 0);
    assert_attack_fails(backend, &f, 0, PaychanError::ChannelNotClosing, |b| {
        f.finalize(b)
    });
}

fn finalize_twice_is_refused(backend: &mut dyn Backend) {
    let f = closing_on_seq(backend, 1);
    backend.advance_time(PERIOD as i64 + 1);
    f.finalize(backend).expect("first finalize");
    assert_attack_fails(backend, &f, 0, PaychanError::ChannelNotFound, |b| {
        f.finalize(b)
    });
}

fn start_close_twice_is_refused(backend: &mut dyn Backend) {
    let f = closing_on_seq(backend, 2);
    assert_attack_fails(backend, &f, 0, PaychanError::ChannelNotOpen, |b| {
        f.start_close(b, &f.b, None)
    });
}

fn deposit_while_closing_is_refused(backend: &mut dyn Backend) {
    let f = closing_on_seq(backend, 2);
    assert_attack_fails(backend, &f, 0, PaychanError::ChannelNotOpen, |b| {
        f.deposit(b, &f.b, SOL)
    });
}

fn balances_that_do_not_sum_are_refused(backend: &mut dyn Backend) {
    let f = ChannelFixture::opened(backend, 2 * SOL, SOL);
    let binding = f.binding(backend);
    let inflated = f.co_sign(
        &binding,
        ChannelFixture::state(1, (2 * SOL, SOL), (2 * SOL, 2 * SOL)),
    );
    assert_attack_fails(
        backend,
        &f,
        1,
        PaychanError::BalancesDoNotSumToDeposits,
        |b| f.start_close(b, &f.a, Some(&inflated)),
    );
    assert_attack_fails(
        backend,
        &f,
        0,
        PaychanError::BalancesDoNotSumToDeposits,
        |b| f.close_cooperative(b, 2 * SOL, 2 * SOL),
    );
    let f = closing_on_seq(backend, 1);
    let binding = f.binding(backend);
    let deflated = f.co_sign(
        &binding,
        ChannelFixture::state(2, (2 * SOL, SOL), (SOL, SOL)),
    );
    assert_attack_fails(
        backend,
        &f,
        1,
        PaychanError::BalancesDoNotSumToDeposits,
        |b| f.dispute(b, &f.b, &deflated),
    );
}

fn deposit_counters_above_the_chains_are_refused(backend: &mut dyn Backend) {
    let f = ChannelFixture::opened(backend, 2 * SOL, SOL);
    let binding = f.binding(backend);
    let unseen = f.co_sign(
        &binding,
        ChannelFixture::state(1, (2 * SOL, 5 * SOL), (0, 7 * SOL)),
    );
    assert_attack_fails(backend, &f, 1, PaychanError::DepositsExceedChain, |b| {
        f.start_close(b, &f.b, Some(&unseen))
    });
}

fn overflowing_values_are_refused(backend: &mut dyn Backend) {
    let f = ChannelFixture::opened(backend, 2 * SOL, SOL);
    let binding = f.binding(backend);
    let wraps = f.co_sign(
        &binding,
        ChannelFixture::state(1, (2 * SOL, SOL), (u64::MAX, 3 * SOL + 1)),
    );
    assert_attack_fails(backend, &f, 1, PaychanError::ArithmeticOverflow, |b| {
        f.start_close(b, &f.a, Some(&wraps))
    });
    assert_attack_fails(backend, &f, 0, PaychanError::ArithmeticOverflow, |b| {
        f.close_cooperative(b, u64::MAX, 3 * SOL + 1)
    });
    assert_attack_fails(backend, &f, 0, PaychanError::ArithmeticOverflow, |b| {
        f.deposit(b, &f.a, u64::MAX)
    });
}

fn state_of_an_earlier_channel_at_the_same_address_is_refused(backend: &mut dyn Backend) {
    // A channel at this address was used and closed...
    let f = ChannelFixture::opened(backend, 2 * SOL, 0);
    let first = f.binding(backend);
    let old = f.co_sign(
        &first,
        ChannelFixture::state(40, (2 * SOL, 0), (0, 2 * SOL)),
    );
    f.close_cooperative(backend, 2 * SOL, 0).expect("close");
    // ...and re-opened with the same nonce: same address, new incarnation
    f.open(backend, 2 * SOL).expect("reopen");
    assert_ne!(f.binding(backend).opened_slot, first.opened_slot);
    assert_attack_fails(backend, &f, 1, PaychanError::StateFromEarlierChannel, |b| {
        f.start_close(b, &f.b, Some(&old))
    });
}

fn withdraw_before_settlement_or_of_nothing_is_refused(backend: &mut dyn Backend) {
    let f = ChannelFixture::opened(backend, 2 * SOL, SOL);
    let dest = f.outsider.address();
    assert_attack_fails(backend, &f, 0, PaychanError::ChannelNotSettled, |b| {
        f.withdraw(b, &f.a, &dest)
    });

    // Settled with B's share unclaimed (B's wallet is empty and the share is below rent)
    let f = ChannelFixture::settled_with_unclaimed_b(backend, 2 * SOL, 10);
    let dest = f.outsider.address();
    assert_attack_fails(backend, &f, 0, PaychanError::NothingToWithdraw, |b| {
        f.withdraw(b, &f.a, &dest)
    });
    let thief = Party::new();
    let ix = client::withdraw(&f.channel, &thief.address(), &dest);
    assert_attack_fails(backend, &f, 0, PaychanError::NotAParty, |b| {
        f.send(b, &[ix], &[&thief.keypair])
    });
}

fn withdraw_to_the_channel_itself_is_refused(backend: &mut dyn Backend) {
    let f = ChannelFixture::settled_with_unclaimed_b(backend, 2 * SOL, 10);
    let channel = f.channel.address;
    assert_attack_fails(backend, &f, 0, PaychanError::DestinationIsChannel, |b| {
        f.withdraw(b, &f.b, &channel)
    });
}

/// Deposits (10, 5) SOL; co-signed states for `seqs`, each moving a little more to B.
fn opened_with_states(
    backend: &mut dyn Backend,
    seqs: [u64; 3],
) -> (
    ChannelFixture,
    [paychan_interface::client::CoSignedState; 3],
) {
    let f = ChannelFixture::opened(backend, 10 * SOL, 5 * SOL);
    let binding = f.binding(backend);
    let states = seqs.map(|seq| {
        f.co_sign(
            &binding,
            ChannelFixture::state(seq, (10 * SOL, 5 * SOL), (10 * SOL - seq, 5 * SOL + seq)),
        )
    });
    (f, states)
}

/// A registers stale seq 3 and, in the same transaction, a second key of hers disputes with
/// seq 4 (v1 then forgot who registered). B's seq 5 still proves A registered knowingly stale.
fn a_second_key_replacing_first_does_not_launder_the_punishment(backend: &mut dyn Backend) {
    let (f, [stale, next, newest]) = opened_with_states(backend, [3, 4, 5]);
    let mut laundering = stale.start_close(&f.channel, &f.a.address()).to_vec();
    laundering.extend(next.dispute(&f.channel, &f.outsider.address()));
    f.send(backend, &laundering, &[&f.a.keypair, &f.outsider.keypair])
        .expect("register and replace at once");
    let channel = f.account(backend).expect("closing");
    assert_eq!(channel.registered.seq, 4);
    assert_eq!(channel.accountable(), Some((Side::A, 3)));

    let b_before = backend.lamports(&f.b.address());
    f.dispute(backend, &f.b, &newest).expect("B's dispute");
    assert_eq!(
        backend.lamports(&f.b.address()),
        b_before + 15 * SOL,
        "B takes the whole channel"
    );
    assert_eq!(backend.account(&f.channel.address), None);
}

/// A registers stale seq 3 and replaces it with seq 4 herself: B's seq 5 punishes A (v1
/// measured from the replacement and only replaced).
fn a_self_replacement_does_not_launder_the_punishment(backend: &mut dyn Backend) {
    let (f, [stale, next, newest]) = opened_with_states(backend, [3, 4, 5]);
    f.start_close(backend, &f.a, Some(&stale))
        .expect("A registers seq 3");
    f.dispute(backend, &f.a, &next)
        .expect("A replaces with seq 4");
    let b_before = backend.lamports(&f.b.address());
    f.dispute(backend, &f.b, &newest).expect("B's dispute");
    assert_eq!(backend.lamports(&f.b.address()), b_before + 15 * SOL);
    assert_eq!(backend.account(&f.channel.address), None);
}

/// Opening, settling and re-opening within one slot would give two incarnations the same
/// opened_slot, so states of the first would be valid for the second. No settlement (which
/// may close the account) runs in the opening slot: not a cooperative close, not a punishment.
fn a_channel_cannot_settle_in_its_opening_slot(backend: &mut dyn Backend) {
    let f = ChannelFixture::new(backend);
    let open = client::open(&f.channel, 2 * SOL, PERIOD);
    let close = client::close_cooperative(&f.channel, SOL, SOL);
    assert_attack_fails(backend, &f, 1, PaychanError::ChannelOpenedThisSlot, |b| {
        f.send(
            b,
            &[open.clone(), close.clone(), open.clone()],
            &[&f.a.keypair, &f.b.keypair],
        )
    });

    // From the next slot on, the same close settles.
    f.open(backend, 2 * SOL).expect("open");
    f.close_cooperative(backend, SOL, SOL)
        .expect("close in a later slot");
    assert_eq!(backend.account(&f.channel.address), None);
}
