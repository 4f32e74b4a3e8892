//! The peer link's bytes, without any I/O: a Noise NN handshake (X25519, ChaCha20-Poly1305,
//! BLAKE2s) so nobody can read or inject messages; then each side signs the handshake hash
//! with its Ed25519 channel key, proving it holds that key for this very session (a recorded
//! session cannot be replayed: the other side's ephemeral key differs); then versioned borsh
//! envelopes in bounded frames. Callers move the bytes: `paychan-node` over TCP or a
//! WebSocket with tokio, a browser over its WebSocket. Anything malformed or oversized is an
//! error that closes the link and touches no channel state.

mod envelope;
mod error;
mod frame;
mod proof;
mod session;

pub use envelope::{Envelope, PROTOCOL_VERSION};
pub use error::TransportError;
pub use frame::{frame, FrameBuffer, MAX_MESSAGE_LEN, NOISE_MAX, TAG_LEN};
pub use proof::{proof, proof_channel, verify_proof, NOISE_PATTERN, PROOF_LEN};
pub use session::{
    Acceptor, AwaitingAcceptorProof, AwaitingDialerProof, Decoder, Dialer, Encoder, Named, Session,
};
