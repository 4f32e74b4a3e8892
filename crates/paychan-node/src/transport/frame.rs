//! Noise messages on a tokio stream: `u16 BE length ‖ ciphertext` (see `paychan_link::frame`).

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::TransportError;

/// Writes wire bytes (framed already by `paychan_link`).
pub async fn write_wire<W: AsyncWrite + Unpin>(
    writer: &mut W,
    wire: &[u8],
) -> Result<(), TransportError> {
    writer.write_all(wire).await?;
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
