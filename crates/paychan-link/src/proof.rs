//! Noise NN gives an encrypted session with forward secrecy; each side then proves it holds
//! its Ed25519 channel key by signing the session's handshake hash (bound to its role and the
//! channel), so a man in the middle or a replayed recording is refused.
//!
//! The dialer proves first, and its proof names the channel in the clear (inside the Noise
//! session): an acceptor serving many channels learns from it which channel, hence which key
//! to expect, before it proves anything itself.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use crate::TransportError;

pub const NOISE_PATTERN: &str = "Noise_NN_25519_ChaChaPoly_BLAKE2s";
const PROOF_DOMAIN: &[u8] = b"paychan/link/v2";

/// `pubkey ‖ channel ‖ signature`: who this side is, for which channel, in this session.
pub const PROOF_LEN: usize = 32 + 32 + 64;

fn proof_message(handshake_hash: &[u8], initiator: bool, channel: &[u8; 32]) -> Vec<u8> {
    let mut message = PROOF_DOMAIN.to_vec();
    message.extend_from_slice(handshake_hash);
    message.push(u8::from(initiator));
    message.extend_from_slice(channel);
    message
}

pub fn proof(
    key: &SigningKey,
    handshake_hash: &[u8],
    initiator: bool,
    channel: &[u8; 32],
) -> [u8; PROOF_LEN] {
    let mut out = [0u8; PROOF_LEN];
    out[..32].copy_from_slice(key.verifying_key().as_bytes());
    out[32..64].copy_from_slice(channel);
    out[64..].copy_from_slice(
        &key.sign(&proof_message(handshake_hash, initiator, channel))
            .to_bytes(),
    );
    out
}

/// The channel a proof names (checked by [`verify_proof`], not here).
pub fn proof_channel(proof: &[u8]) -> Result<[u8; 32], TransportError> {
    proof
        .get(32..64)
        .filter(|_| proof.len() == PROOF_LEN)
        .and_then(|c| c.try_into().ok())
        .ok_or(TransportError::BadProof)
}

/// Checks the peer's proof: it must be by `expected` and for this session, role and channel.
pub fn verify_proof(
    proof: &[u8],
    expected: &[u8; 32],
    handshake_hash: &[u8],
    peer_is_initiator: bool,
    channel: &[u8; 32],
) -> Result<(), TransportError> {
    if proof.len() != PROOF_LEN {
        return Err(TransportError::BadProof);
    }
    let (pubkey, rest) = proof.split_at(32);
    let (named, signature) = rest.split_at(32);
    if pubkey != expected {
        return Err(TransportError::WrongPeer);
    }
    if named != channel {
        return Err(TransportError::WrongChannel);
    }
    let key = VerifyingKey::from_bytes(expected).map_err(|_| TransportError::BadProof)?;
    let signature = Signature::from_slice(signature).map_err(|_| TransportError::BadProof)?;
    key.verify_strict(
        &proof_message(handshake_hash, peer_is_initiator, channel),
        &signature,
    )
    .map_err(|_| TransportError::BadProof)
}
