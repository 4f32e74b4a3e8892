//! A state the client accepts must always pass the precompile, and the other way round: the
//! client's check (`CoSignedState::verify`, what the engine runs on every peer signature) and
//! the Ed25519 precompile agree on edge-case keys and signatures. A state the client accepted
//! but the chain refused could never be registered or disputed with: its receipts would be
//! worthless. Each case opens a channel that names the edge-case key as A's state signer, has
//! the client check the co-signed state, then submits it with StartClose.

use curve25519_dalek::{
    constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION},
    edwards::EdwardsPoint,
    scalar::Scalar,
    traits::Identity,
};
use paychan_interface::{client, ed25519::PartySignature, Address};
use paychan_tests::{
    backend::Backend,
    fixture::{ChannelFixture, PERIOD},
    on_both_backends, SOL,
};
use sha2::{Digest, Sha512};

on_both_backends!(
    a_canonical_signature_is_accepted_by_both,
    an_unreduced_scalar_is_refused_by_both,
    a_small_order_key_is_refused_by_both,
    a_small_order_commitment_is_refused_by_both,
    a_mixed_order_key_is_judged_alike_by_both,
);

/// A's state-signing key as a curve point, and the scalar that signs for it.
struct EdgeKey {
    point: EdwardsPoint,
    secret: Scalar,
}

impl EdgeKey {
    fn random() -> Self {
        let secret = Scalar::from_bytes_mod_order(rand::random());
        Self {
            point: secret * ED25519_BASEPOINT_POINT,
            secret,
        }
    }

    fn address(&self) -> Address {
        Address::new_from_array(self.point.compress().to_bytes())
    }
}

/// RFC 8032's challenge k = H(R || A || M) mod L.
fn challenge(r: &[u8; 32], a: &[u8; 32], message: &[u8]) -> Scalar {
    let hash = Sha512::new()
        .chain_update(r)
        .chain_update(a)
        .chain_update(message)
        .finalize();
    Scalar::from_bytes_mod_order_wide(&hash.into())
}

fn signature(r: &EdwardsPoint, s: [u8; 32]) -> [u8; 64] {
    let mut bytes = [0; 64];
    bytes[..32].copy_from_slice(&r.compress().to_bytes());
    bytes[32..].copy_from_slice(&s);
    bytes
}

/// An ordinary signature by `key`, re-drawn until `accept(k)` holds for its challenge.
fn sign(key: &EdgeKey, message: &[u8], accept: impl Fn(&Scalar) -> bool) -> ([u8; 64], Scalar) {
    loop {
        let r = Scalar::from_bytes_mod_order(rand::random());
        let commitment = r * ED25519_BASEPOINT_POINT;
        let k = challenge(
            &commitment.compress().to_bytes(),
            &key.point.compress().to_bytes(),
            message,
        );
        if accept(&k) {
            let s = r + k * key.secret;
            return (signature(&commitment, s.to_bytes()), s);
        }
    }
}

/// Opens a channel naming `signer_a` as A's state signer, co-signs seq 1 with A's `make`
/// signature (B signs normally), and returns (client accepts, chain accepts).
fn judge(
    backend: &mut dyn Backend,
    signer_a: Address,
    make: impl FnOnce(&[u8]) -> [u8; 64],
) -> (bool, bool) {
    let f = ChannelFixture::new(backend);
    f.send(
        backend,
        &[client::open_with_signers(
            &f.channel,
            2 * SOL,
            PERIOD,
            &signer_a,
            &f.b.address(),
        )],
        &[&f.a.keypair],
    )
    .expect("the program stores any 32 bytes as a signer key");
    let binding = f.binding(backend);
    let mut state = f.co_sign(&binding, ChannelFixture::state(1, (2 * SOL, 0), (SOL, SOL)));
    let message = state.state.message(&binding);
    state.a = PartySignature {
        pubkey: signer_a.to_bytes(),
        signature: make(&message),
    };
    let client_accepts = state.verify(&signer_a, &f.b.address()).is_ok();
    let chain_accepts = f.start_close(backend, &f.a, Some(&state)).is_ok();
    (client_accepts, chain_accepts)
}

fn a_canonical_signature_is_accepted_by_both(backend: &mut dyn Backend) {
    let key = EdgeKey::random();
    let judged = judge(backend, key.address(), |m| sign(&key, m, |_| true).0);
    assert_eq!(judged, (true, true));
}

/// S + L verifies the same equation, but is not the canonical encoding: a malleated copy.
fn an_unreduced_scalar_is_refused_by_both(backend: &mut dyn Backend) {
    let key = EdgeKey::random();
    let judged = judge(backend, key.address(), |m| {
        let (mut bytes, s) = sign(&key, m, |_| true);
        bytes[32..].copy_from_slice(&add_group_order(s.to_bytes()));
        bytes
    });
    assert_eq!(judged, (false, false));
}

/// The identity as a key with R = identity and S = 0 satisfies the cofactorless equation for
/// every message: a key that "signs" anything.
fn a_small_order_key_is_refused_by_both(backend: &mut dyn Backend) {
    let identity = EdwardsPoint::identity();
    let key = Address::new_from_array(identity.compress().to_bytes());
    let judged = judge(backend, key, |_| signature(&identity, [0; 32]));
    assert_eq!(judged, (false, false));
}

/// A commitment R of small order, with S = k·a: the equation holds, the form is refused.
fn a_small_order_commitment_is_refused_by_both(backend: &mut dyn Backend) {
    let key = EdgeKey::random();
    let judged = judge(backend, key.address(), |m| {
        let identity = EdwardsPoint::identity();
        let k = challenge(
            &identity.compress().to_bytes(),
            &key.point.compress().to_bytes(),
            m,
        );
        signature(&identity, (k * key.secret).to_bytes())
    });
    assert_eq!(judged, (false, false));
}

/// A key with a torsion part (a·B + T, T of order 8): a signature verifies exactly when its
/// challenge cancels the torsion (8 divides k), for the client and the chain alike.
fn a_mixed_order_key_is_judged_alike_by_both(backend: &mut dyn Backend) {
    let honest = EdgeKey::random();
    let key = EdgeKey {
        point: honest.point + EIGHT_TORSION[1],
        secret: honest.secret,
    };
    let cancels = |k: &Scalar| k.to_bytes()[0].is_multiple_of(8);
    let judged = judge(backend, key.address(), |m| sign(&key, m, cancels).0);
    assert_eq!(judged, (true, true), "the torsion cancels");
    let judged = judge(backend, key.address(), |m| sign(&key, m, |k| !cancels(k)).0);
    assert_eq!(judged, (false, false));
}

/// `s` + L, little-endian (S < L < 2^253, so the sum fits in 32 bytes).
fn add_group_order(s: [u8; 32]) -> [u8; 32] {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut out = [0; 32];
    let mut carry = 0u16;
    for ((out, s), l) in out.iter_mut().zip(s).zip(L) {
        let sum = u16::from(s) + u16::from(l) + carry;
        *out = sum as u8;
        carry = sum >> 8;
    }
    out
}
