//! The link over a WebSocket, for peers that cannot open TCP sockets (a browser's page): the
//! same bytes as over TCP — Noise handshake, key proofs, frames — carried in binary WebSocket
//! messages, whose boundaries mean nothing (the frames inside say where each message ends).
//! A pump task moves bytes between the WebSocket and one end of an in-memory pipe; the link
//! runs on the other end, exactly as on a socket, with the same limits and timeouts.

use futures_util::{SinkExt, StreamExt};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt, DuplexStream},
    net::TcpStream,
};
use tokio_tungstenite::{
    tungstenite::{protocol::WebSocketConfig, Message},
    WebSocketStream,
};

use paychan_link::NOISE_MAX;

use super::TransportError;

/// Bytes buffered between the WebSocket and the link, each way: a few Noise frames.
const PIPE_BYTES: usize = 4 * (NOISE_MAX + 2);

/// The largest WebSocket message accepted: what one read of the pipe sends, with room for a
/// peer that packs a whole frame and its length in one message.
const MAX_WS_MESSAGE: usize = NOISE_MAX + 2;

fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(MAX_WS_MESSAGE))
        .max_frame_size(Some(MAX_WS_MESSAGE))
}

/// Completes the WebSocket upgrade of an accepted connection and returns the stream the link
/// runs over (hand it to `PeerLink::accept_any`).
pub async fn accept(stream: TcpStream) -> Result<DuplexStream, TransportError> {
    stream.set_nodelay(true)?;
    let socket = tokio_tungstenite::accept_async_with_config(stream, Some(config()))
        .await
        .map_err(|e| TransportError::Malformed(format!("not a WebSocket upgrade: {e}")))?;
    Ok(pump(socket))
}

/// Dials `url` (`ws://host:port/`) and returns the stream a link runs over (hand it to
/// `PeerLink::dial_over`): what a browser does, for tests and for Rust peers behind proxies.
pub async fn connect(url: &str) -> Result<DuplexStream, TransportError> {
    let host = url
        .strip_prefix("ws://")
        .and_then(|rest| rest.split('/').next())
        .ok_or_else(|| TransportError::Malformed(format!("{url} is not a ws:// URL")))?;
    let stream = TcpStream::connect(host).await?;
    stream.set_nodelay(true)?;
    let (socket, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(config()))
        .await
        .map_err(|e| TransportError::Malformed(format!("the WebSocket upgrade failed: {e}")))?;
    Ok(pump(socket))
}

/// Moves bytes both ways until either side ends; dropping the link ends the pump.
fn pump(socket: WebSocketStream<TcpStream>) -> DuplexStream {
    let (link_end, pump_end) = tokio::io::duplex(PIPE_BYTES);
    tokio::spawn(async move {
        let (mut outgoing, mut incoming) = socket.split();
        let (mut from_link, mut to_link) = tokio::io::split(pump_end);
        let inbound = async {
            while let Some(Ok(message)) = incoming.next().await {
                match message {
                    Message::Binary(bytes) => {
                        if to_link.write_all(&bytes).await.is_err() {
                            break;
                        }
                    }
                    Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
                    // Text has no place in the link, and Close ends it.
                    Message::Text(_) | Message::Close(_) => break,
                }
            }
        };
        let outbound = async {
            let mut buffer = vec![0u8; MAX_WS_MESSAGE];
            loop {
                match from_link.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let message = Message::Binary(buffer[..n].to_vec().into());
                        if outgoing.send(message).await.is_err() {
                            break;
                        }
                    }
                }
            }
            let _ = outgoing.close().await;
        };
        tokio::select! {
            () = inbound => {}
            () = outbound => {}
        }
    });
    link_end
}
