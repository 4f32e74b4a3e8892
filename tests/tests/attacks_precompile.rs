//! protocol §7 precompile attacks: the co-signed state must come from exactly one canonical Ed25519
//! instruction immediately before StartClose/Dispute, over this channel's state, by A then B.

use paychan_interface::client::CoSignedState;
use paychan_interface::{client, error::PaychanError, state::StateBinding, Address};
use paychan_tests::{
    backend::Backend,
    fixture::{assert_attack_fails, ChannelFixture},
    forge::{
        ed25519_any_layout, ed25519_indexed, ed25519_over, ed25519_pubkey_first, ed25519_swapped,
    },
    on_both_backends, SOL,
};
use solana_instruction::Instruction;

on_both_backends!(
    missing_precompile_is_refused,
    precompile_not_immediately_before_is_refused,
    precompile_with_zero_one_or_three_signatures_is_refused,
    precompile_with_offsets_elsewhere_is_refused,
    precompile_with_indices_pointing_elsewhere_is_refused,
    precompile_with_swapped_keys_is_refused,
    precompile_signed_by_a_third_key_is_refused,
    state_signed_for_another_channel_is_refused,
    state_signed_for_another_program_is_refused,
    message_with_a_foreign_domain_tag_is_refused,
    signed_seq_zero_is_refused,
);

/// An open channel (A 2 SOL, B 1 SOL) and a valid seq-1 state for it.
fn setup(backend: &mut dyn Backend) -> (ChannelFixture, CoSignedState) {
    let f = ChannelFixture::opened(backend, 2 * SOL, SOL);
    let binding = f.binding(backend);
    let state = f.co_sign(
        &binding,
        ChannelFixture::state(1, (2 * SOL, SOL), (SOL, 2 * SOL)),
    );
    (f, state)
}

fn start_close_with(f: &ChannelFixture, precompile: Instruction) -> [Instruction; 2] {
    [
        precompile,
        client::start_close(&f.channel, &f.a.address(), true),
    ]
}

fn missing_precompile_is_refused(backend: &mut dyn Backend) {
    let (f, _) = setup(backend);
    let ix = client::start_close(&f.channel, &f.a.address(), true);
    assert_attack_fails(
        backend,
        &f,
        0,
        PaychanError::MissingEd25519Instruction,
        |b| f.send(b, &[ix], &[&f.a.keypair]),
    );
}

fn precompile_not_immediately_before_is_refused(backend: &mut dyn Backend) {
    let (f, state) = setup(backend);
    let between = client::deposit(&f.channel, &f.a.address(), 1);
    let ixs = [
        state.ed25519_instruction(),
        between,
        client::start_close(&f.channel, &f.a.address(), true),
    ];
    assert_attack_fails(
        backend,
        &f,
        2,
        PaychanError::MissingEd25519Instruction,
        |b| f.send(b, &ixs, &[&f.a.keypair]),
    );
}

fn precompile_with_zero_one_or_three_signatures_is_refused(backend: &mut dyn Backend) {
    let (f, state) = setup(backend);
    let message = state.state.message(&state.binding);
    let (a, b) = (f.a.signing_key(), f.b.signing_key());
    let zero = Instruction {
        data: vec![0, 0],
        ..state.ed25519_instruction()
    };
    let one = ed25519_any_layout(&[(&a, &message)], u16::MAX);
    let three = ed25519_any_layout(&[(&a, &message), (&b, &message), (&b, &message)], u16::MAX);
    for precompile in [zero, one, three] {
        let ixs = start_close_with(&f, precompile);
        assert_attack_fails(backend, &f, 1, PaychanError::InvalidSignatureCount, |bk| {
            f.send(bk, &ixs, &[&f.a.keypair])
        });
    }
}

fn precompile_with_offsets_elsewhere_is_refused(backend: &mut dyn Backend) {
    let (f, state) = setup(backend);
    let message = state.state.message(&state.binding);
    let (a, b) = (f.a.signing_key(), f.b.signing_key());
    // Valid signatures by A and B over the right state, in another (pubkey-first) layout
    let ixs = start_close_with(&f, ed25519_pubkey_first(&a, &b, &message));
    assert_attack_fails(backend, &f, 1, PaychanError::InvalidEd25519Offsets, |bk| {
        f.send(bk, &ixs, &[&f.a.keypair])
    });
    // or one message per signature, which also changes the length
    let ixs = start_close_with(
        &f,
        ed25519_any_layout(&[(&a, &message), (&b, &message)], u16::MAX),
    );
    assert_attack_fails(backend, &f, 1, PaychanError::InvalidEd25519Layout, |bk| {
        f.send(bk, &ixs, &[&f.a.keypair])
    });
}

fn precompile_with_indices_pointing_elsewhere_is_refused(backend: &mut dyn Backend) {
    let (f, state) = setup(backend);
    // Index 0 is the precompile itself: the runtime verifies it, the program must not accept it
    let ixs = start_close_with(&f, ed25519_indexed(&state, 0));
    assert_attack_fails(backend, &f, 1, PaychanError::InvalidEd25519Offsets, |bk| {
        f.send(bk, &ixs, &[&f.a.keypair])
    });
}

fn precompile_with_swapped_keys_is_refused(backend: &mut dyn Backend) {
    let (f, state) = setup(backend);
    let ixs = start_close_with(&f, ed25519_swapped(&state));
    assert_attack_fails(backend, &f, 1, PaychanError::SignerKeysMismatch, |bk| {
        f.send(bk, &ixs, &[&f.a.keypair])
    });
}

fn precompile_signed_by_a_third_key_is_refused(backend: &mut dyn Backend) {
    let (f, state) = setup(backend);
    // A colludes with an outsider instead of B
    let message = state.state.message(&state.binding);
    let ixs = start_close_with(
        &f,
        ed25519_over(&f.a.signing_key(), &f.outsider.signing_key(), &message),
    );
    assert_attack_fails(backend, &f, 1, PaychanError::SignerKeysMismatch, |bk| {
        f.send(bk, &ixs, &[&f.a.keypair])
    });
}

fn state_signed_for_another_channel_is_refused(backend: &mut dyn Backend) {
    let (f, state) = setup(backend);
    // Same parties, same slot, another channel address (e.g. another nonce)
    let other = StateBinding {
        channel: Address::new_unique(),
        ..state.binding
    };
    let foreign = f.co_sign(&other, state.state);
    assert_attack_fails(backend, &f, 1, PaychanError::StateForOtherChannel, |bk| {
        f.start_close(bk, &f.a, Some(&foreign))
    });
}

fn state_signed_for_another_program_is_refused(backend: &mut dyn Backend) {
    let (f, state) = setup(backend);
    let other = StateBinding {
        program_id: Address::new_unique(),
        ..state.binding
    };
    let foreign = f.co_sign(&other, state.state);
    assert_attack_fails(backend, &f, 1, PaychanError::StateForOtherProgram, |bk| {
        f.start_close(bk, &f.a, Some(&foreign))
    });
}

fn message_with_a_foreign_domain_tag_is_refused(backend: &mut dyn Backend) {
    let (f, state) = setup(backend);
    let mut message = state.state.message(&state.binding);
    message[..16].copy_from_slice(b"otherapp/state/1");
    let ixs = start_close_with(
        &f,
        ed25519_over(&f.a.signing_key(), &f.b.signing_key(), &message),
    );
    assert_attack_fails(backend, &f, 1, PaychanError::WrongStateDomain, |bk| {
        f.send(bk, &ixs, &[&f.a.keypair])
    });
}

fn signed_seq_zero_is_refused(backend: &mut dyn Backend) {
    let (f, state) = setup(backend);
    let zero = f.co_sign(
        &state.binding,
        ChannelFixture::state(0, (2 * SOL, SOL), (0, 3 * SOL)),
    );
    assert_attack_fails(backend, &f, 1, PaychanError::SignedSeqZero, |bk| {
        f.start_close(bk, &f.a, Some(&zero))
    });
}
