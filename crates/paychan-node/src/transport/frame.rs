//! Frames on the wire: each Noise message is `u16 BE length ‖ ciphertext`; one application
//! message is a 4-byte BE length followed by its bytes, split over as many Noise messages as
//! it needs; length 0 with nothing after it is a keepalive. Lengths are checked before
//! anything is allocated.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::TransportError;

/// Largest application message accepted (a round carries at most 4,096 operations).
pub const MAX_MESSAGE_LEN: usize = 1 << 20;
/// Noise's own limit on one message, tag included.
pub const NOISE_MAX: usize = 65_535;
pub const TAG_LEN: usize = 16;

/// Writes one Noise message.
pub async fn write_noise<W: AsyncWrite + Unpin>(
    writer: &mut W,
    ciphertext: &[u8],
) -> Result<(), TransportError> {
    let len = u16::try_from(ciphertext.len())
        .map_err(|_| TransportError::FrameTooLarge(ciphertext.len()))?;
    writer.write_all(&len.to_be_bytes()).await?;
    writer.write_all(ciphertext).await?;
    Ok(())
}

/// Reads one Noise message (at most 65,535 bytes by construction).
pub async fn read_noise<R: AsyncRead + Unpin>(reader: &mut R) -> Result<Vec<u8>, TransportError> {
    let mut len = [0u8; 2];
    match reader.read_exact(&mut len).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            return Err(TransportError::Closed)
        }
        Err(e) => return Err(e.into()),
    }
    let mut buffer = vec![0u8; usize::from(u16::from_be_bytes(len))];
    reader.read_exact(&mut buffer).await?;
    Ok(buffer)
}
