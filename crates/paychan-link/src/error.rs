//! Why a link failed. Every one of these closes the link; none touches channel state.

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("the peer closed the connection")]
    Closed,
    #[error("the peer was silent for {0:?} (not even a keepalive)")]
    Idle(std::time::Duration),
    #[error("the peer stopped reading: {0} batches of messages wait for it")]
    Stalled(usize),
    #[error("the peer took no data for {0:?}")]
    WriteTimeout(std::time::Duration),
    #[error("the handshake did not finish within {0:?}")]
    HandshakeTimeout(std::time::Duration),
    #[error("encryption failed: {0}")]
    Noise(String),
    #[error("the peer is not the expected channel party")]
    WrongPeer,
    #[error("the peer's key proof does not verify")]
    BadProof,
    #[error("frame of {0} bytes exceeds the limit")]
    FrameTooLarge(usize),
    #[error("malformed frame: {0}")]
    Malformed(String),
    #[error("unsupported protocol version {0}")]
    Version(u8),
    #[error("message for another channel")]
    WrongChannel,
    #[error(
        "the peer asked to resynchronise twice in one session (it says Hello once, on connecting)"
    )]
    RepeatedHello,
}

impl From<snow::Error> for TransportError {
    fn from(e: snow::Error) -> Self {
        Self::Noise(e.to_string())
    }
}
