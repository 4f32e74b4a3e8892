//! Frames on the wire: each Noise message is `u16 BE length ‖ ciphertext`; one application
//! message is a 4-byte BE length followed by its bytes, split over as many Noise messages as
//! it needs; length 0 with nothing after it is a keepalive. Lengths are checked before
//! anything is allocated.

use crate::TransportError;

/// Largest application message accepted (a round carries at most 4,096 operations).
pub const MAX_MESSAGE_LEN: usize = 1 << 20;
/// Noise's own limit on one message, tag included.
pub const NOISE_MAX: usize = 65_535;
pub const TAG_LEN: usize = 16;

/// `ciphertext` as one frame on the wire.
pub fn frame(ciphertext: &[u8]) -> Result<Vec<u8>, TransportError> {
    let len = u16::try_from(ciphertext.len())
        .map_err(|_| TransportError::FrameTooLarge(ciphertext.len()))?;
    let mut out = Vec::with_capacity(2 + ciphertext.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(ciphertext);
    Ok(out)
}

/// Bytes as they arrive (in any pieces: a WebSocket's messages need not follow frames), cut
/// into frames. Holds at most one frame plus what came with its end.
#[derive(Debug, Default)]
pub struct FrameBuffer {
    bytes: Vec<u8>,
}

impl FrameBuffer {
    pub fn push(&mut self, data: &[u8]) {
        self.bytes.extend_from_slice(data);
    }

    /// The next whole frame's ciphertext, if it has arrived.
    pub fn next_frame(&mut self) -> Option<Vec<u8>> {
        let len = usize::from(u16::from_be_bytes([
            *self.bytes.first()?,
            *self.bytes.get(1)?,
        ]));
        if self.bytes.len() < 2 + len {
            return None;
        }
        let ciphertext = self.bytes[2..2 + len].to_vec();
        self.bytes.drain(..2 + len);
        Some(ciphertext)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_come_out_whole_however_the_bytes_are_cut() {
        let wire: Vec<u8> = [
            frame(&[1, 2, 3]).unwrap(),
            frame(&[]).unwrap(),
            frame(&[9; 300]).unwrap(),
        ]
        .concat();
        for piece in [1, 2, 5, 64, wire.len()] {
            let mut buffer = FrameBuffer::default();
            let mut frames = Vec::new();
            for chunk in wire.chunks(piece) {
                buffer.push(chunk);
                while let Some(f) = buffer.next_frame() {
                    frames.push(f);
                }
            }
            assert_eq!(
                frames,
                vec![vec![1, 2, 3], vec![], vec![9; 300]],
                "pieces of {piece}"
            );
        }
        assert!(frame(&vec![0; 70_000]).is_err());
    }
}
