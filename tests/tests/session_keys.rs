//! Session keys (protocol v2): Open names a state-signing key per party apart from its wallet.
//! States must carry exactly those keys; the wallets still fund, receive payouts and sign
//! cooperative closes; a signer key may register a close (and its party is accountable for it);
//! one key may never sign for both parties.

use paychan_interface::{
    channel::Party as Side,
    client::{self, sign_state, CoSignedState},
    error::PaychanError,
    state::{ChannelState, StateBinding},
    Address,
};
use paychan_tests::{
    backend::Backend,
    fixture::{assert_attack_fails, ChannelFixture, Party, PERIOD, WALLET},
    on_both_backends, SOL,
};

on_both_backends!(
    states_signed_by_session_keys_settle_to_the_wallets,
    a_session_key_registrant_is_accountable_and_punished,
    wallet_signatures_are_refused_once_session_keys_are_named,
    one_key_may_never_sign_for_both_parties,
);

/// A channel (A 10 SOL, B 5 SOL) whose states the session keys `sa`, `sb` sign.
fn opened_with_session_keys(backend: &mut dyn Backend) -> (ChannelFixture, Party, Party) {
    let f = ChannelFixture::new(backend);
    let (sa, sb) = (Party::new(), Party::new());
    let open =
        client::open_with_signers(&f.channel, 10 * SOL, PERIOD, &sa.address(), &sb.address());
    f.send(backend, &[open], &[&f.a.keypair]).expect("open");
    f.deposit(backend, &f.b, 5 * SOL).expect("deposit");
    let channel = f.account(backend).expect("open");
    assert_eq!(
        (channel.signer_a, channel.signer_b),
        (sa.address(), sb.address())
    );
    (f, sa, sb)
}

fn signed_by(keys: (&Party, &Party), binding: &StateBinding, state: ChannelState) -> CoSignedState {
    CoSignedState {
        binding: *binding,
        state,
        a: sign_state(&keys.0.signing_key(), &state, binding),
        b: sign_state(&keys.1.signing_key(), &state, binding),
    }
}

fn state(seq: u64, balance_a: u64) -> ChannelState {
    ChannelFixture::state(seq, (10 * SOL, 5 * SOL), (balance_a, 15 * SOL - balance_a))
}

fn states_signed_by_session_keys_settle_to_the_wallets(backend: &mut dyn Backend) {
    let (f, sa, sb) = opened_with_session_keys(backend);
    let binding = f.binding(backend);
    let older = signed_by((&sa, &sb), &binding, state(1, 9 * SOL));
    let newer = signed_by((&sa, &sb), &binding, state(2, 7 * SOL));
    // A's session key registers (no wallet signature), a watchtower brings the newer state.
    f.send(
        backend,
        &older.start_close(&f.channel, &sa.address()),
        &[&sa.keypair],
    )
    .expect("registered by the session key");
    assert_eq!(
        f.account(backend).expect("closing").accountable(),
        Some((Side::A, 1))
    );
    f.dispute(backend, &f.outsider, &newer).expect("replaced");
    backend.advance_time(PERIOD as i64 + 1);
    f.finalize(backend).expect("finalize");
    assert_eq!(
        backend.lamports(&f.a.address()),
        WALLET - 10 * SOL + 7 * SOL
    );
    assert_eq!(backend.lamports(&f.b.address()), WALLET - 5 * SOL + 8 * SOL);
    assert_eq!(
        backend.lamports(&sa.address()),
        0,
        "session keys are never paid"
    );
}

fn a_session_key_registrant_is_accountable_and_punished(backend: &mut dyn Backend) {
    let (f, sa, sb) = opened_with_session_keys(backend);
    let binding = f.binding(backend);
    let stale = signed_by((&sa, &sb), &binding, state(1, 12 * SOL));
    let newest = signed_by((&sa, &sb), &binding, state(3, 2 * SOL));
    f.send(
        backend,
        &stale.start_close(&f.channel, &sa.address()),
        &[&sa.keypair],
    )
    .expect("A's session key registers seq 1");
    f.dispute(backend, &f.b, &newest).expect("B's dispute");
    assert_eq!(
        backend.lamports(&f.b.address()),
        WALLET - 5 * SOL + 15 * SOL
    );
    assert_eq!(backend.account(&f.channel.address), None);
}

fn wallet_signatures_are_refused_once_session_keys_are_named(backend: &mut dyn Backend) {
    let (f, sa, _sb) = opened_with_session_keys(backend);
    let binding = f.binding(backend);
    let by_wallets = f.co_sign(&binding, state(1, 0));
    assert_attack_fails(backend, &f, 1, PaychanError::SignerKeysMismatch, |b| {
        f.start_close(b, &f.a, Some(&by_wallets))
    });
    // Half wallet, half session key: refused too.
    let mixed = signed_by((&sa, &f.b), &binding, state(1, 0));
    assert_attack_fails(backend, &f, 1, PaychanError::SignerKeysMismatch, |b| {
        f.start_close(b, &f.a, Some(&mixed))
    });
    // A key that is neither a wallet nor a signer cannot register.
    let ix = client::start_close(&f.channel, &f.outsider.address(), false);
    assert_attack_fails(backend, &f, 0, PaychanError::NotAParty, |b| {
        f.send(b, &[ix], &[&f.outsider.keypair])
    });
}

fn one_key_may_never_sign_for_both_parties(backend: &mut dyn Backend) {
    let f = ChannelFixture::new(backend);
    let (a, b, shared) = (f.a.address(), f.b.address(), Address::new_unique());
    for (signer_a, signer_b) in [(shared, shared), (b, b), (a, a), (shared, a), (b, shared)] {
        let ix = client::open_with_signers(&f.channel, SOL, PERIOD, &signer_a, &signer_b);
        assert_attack_fails(backend, &f, 0, PaychanError::SignerKeysOverlap, |bk| {
            f.send(bk, &[ix], &[&f.a.keypair])
        });
    }
}
