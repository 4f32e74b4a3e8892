//! The versioned wrapper around every peer message.

use borsh::{BorshDeserialize, BorshSerialize};

use crate::TransportError;
use paychan_engine::engine::PeerMessage;

pub const PROTOCOL_VERSION: u8 = 1;

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Envelope {
    pub version: u8,
    /// The channel the message is about (one link may later carry several channels).
    pub channel: [u8; 32],
    pub message: PeerMessage,
}

impl Envelope {
    pub fn encode(&self) -> Vec<u8> {
        borsh::to_vec(self).unwrap_or_default()
    }

    /// Decodes exactly one envelope; trailing bytes, unknown versions and garbage are errors.
    pub fn decode(bytes: &[u8]) -> Result<Self, TransportError> {
        let version = *bytes
            .first()
            .ok_or_else(|| TransportError::Malformed("empty".into()))?;
        if version != PROTOCOL_VERSION {
            return Err(TransportError::Version(version));
        }
        borsh::from_slice(bytes).map_err(|e| TransportError::Malformed(e.to_string()))
    }
}
