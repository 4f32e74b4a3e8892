//! Just enough HTTP/1.1 for JSON-RPC on loopback: POST bodies with a Content-Length, keep-alive
//! responses, and CORS (a dApp's page on another origin calls the ledger as it calls a
//! validator's RPC, which allows any origin). Bounded, so a stray client cannot make the
//! ledger buffer without limit.

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

/// Larger than any JSON-RPC request a Solana client sends (a transaction is at most 1,232 bytes).
pub const MAX_BODY: usize = 1 << 20;
const MAX_HEADER_BYTES: usize = 16 << 10;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("connection closed")]
    Closed,
    #[error("malformed request: {0}")]
    Malformed(&'static str),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// What a client asked.
pub enum Request {
    /// A JSON-RPC body.
    Rpc(Vec<u8>),
    /// A browser's CORS preflight (`OPTIONS`): answered with what is allowed, no body.
    Preflight,
}

/// Reads one request; `Closed` when the client hung up between requests.
pub async fn read_request<R: tokio::io::AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
) -> Result<Request, HttpError> {
    let mut preflight = false;
    let mut header_bytes = 0;
    let mut content_length = None;
    let mut first = true;
    loop {
        let mut bytes = Vec::new();
        let n = (&mut *reader)
            .take((MAX_HEADER_BYTES - header_bytes) as u64)
            .read_until(b'\n', &mut bytes)
            .await?;
        if n == 0 {
            return Err(if first && header_bytes == 0 {
                HttpError::Closed
            } else {
                HttpError::Malformed("headers too long or cut short")
            });
        }
        header_bytes += n;
        let line =
            String::from_utf8(bytes).map_err(|_| HttpError::Malformed("headers are not text"))?;
        if first {
            first = false;
            preflight = line.starts_with("OPTIONS ");
            if !line.starts_with("POST ") && !preflight {
                return Err(HttpError::Malformed("only POST is served"));
            }
            continue;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                content_length = Some(
                    value
                        .trim()
                        .parse::<usize>()
                        .map_err(|_| HttpError::Malformed("bad Content-Length"))?,
                );
            }
        }
    }
    if preflight {
        return Ok(Request::Preflight);
    }
    let length = content_length.ok_or(HttpError::Malformed("no Content-Length"))?;
    if length > MAX_BODY {
        return Err(HttpError::Malformed("body too large"));
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await?;
    Ok(Request::Rpc(body))
}

pub async fn write_response<W: AsyncWrite + Unpin>(
    writer: &mut W,
    status: &str,
    body: &[u8],
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nAccess-Control-Allow-Origin: *\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    writer.write_all(head.as_bytes()).await?;
    writer.write_all(body).await?;
    writer.flush().await
}

/// The answer to a CORS preflight: any origin may POST JSON-RPC, with any headers.
pub async fn write_preflight<W: AsyncWrite + Unpin>(writer: &mut W) -> std::io::Result<()> {
    writer
        .write_all(
            b"HTTP/1.1 204 No Content\r\nAccess-Control-Allow-Origin: *\r\nAccess-Control-Allow-Methods: POST, OPTIONS\r\nAccess-Control-Allow-Headers: *\r\nAccess-Control-Max-Age: 86400\r\nContent-Length: 0\r\n\r\n",
        )
        .await?;
    writer.flush().await
}
