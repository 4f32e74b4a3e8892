//! The link between the two parties: TCP (or a WebSocket carrying the same bytes, for browsers), a Noise XX handshake (X25519, ChaCha20-Poly1305,
//! BLAKE2s) so nobody can read or inject messages, and then each side signs the handshake hash
//! with its Ed25519 channel key, proving it holds that key for this very session (a recorded
//! session cannot be replayed: the other side's ephemeral key differs). Messages are versioned
//! borsh envelopes in bounded frames; anything malformed or oversized closes the link with a
//! reason and touches no channel state. The bytes themselves are `paychan-link`'s (no I/O,
//! also built for WebAssembly); this module moves them over tokio streams.

mod frame;
mod link;
pub mod websocket;

#[cfg(test)]
mod tests;

pub use link::{
    LinkReader, LinkStream, LinkWriter, PeerLink, HANDSHAKE_TIMEOUT, IDLE_TIMEOUT,
    KEEPALIVE_INTERVAL, WRITE_TIMEOUT,
};
pub use paychan_link::{Envelope, TransportError, MAX_MESSAGE_LEN, PROTOCOL_VERSION};
