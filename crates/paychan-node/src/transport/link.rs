//! An established, authenticated link to the other channel party.

use std::time::Duration;

use ed25519_dalek::SigningKey;
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::{TcpStream, ToSocketAddrs},
};

use paychan_link::{Acceptor, Decoder, Dialer, Encoder};

use super::{
    frame::{read_noise, write_wire},
    TransportError,
};

/// What a dialer's role carries in place of an acceptor's lookup (it never calls it).
type NoLookup = fn(&[u8; 32]) -> Option<[u8; 32]>;

/// Which side of the handshake this is, with what it knows before it starts.
enum Role<'a, F> {
    /// Dials `peer` for `channel`.
    Dialer {
        peer: &'a [u8; 32],
        channel: [u8; 32],
    },
    /// Accepts whichever channel the dialer names, expecting the key this gives for it.
    Acceptor(F),
}
use crate::engine::PeerMessage;

/// How long a peer may take to complete the handshake and key proof.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a session sends a keepalive (see `peer::Session`).
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
/// A write the peer does not take within this long (it stopped reading, its buffers are
/// full) fails the link rather than wait on it.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// A peer silent this long (three keepalives missed) is gone, even if TCP has not noticed: a
/// half-open connection would otherwise stall the channel until the next write failed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Both directions of an authenticated link; [`PeerLink::split`] separates them so one task can
/// read while another writes.
#[derive(Debug)]
pub struct PeerLink {
    reader: LinkReader,
    writer: LinkWriter,
}

/// A link's byte stream, either direction: a TCP socket's half, or a WebSocket's (see
/// `transport::websocket`), which carries the very same bytes.
type ReadHalf = Box<dyn AsyncRead + Send + Unpin>;
type WriteHalf = Box<dyn AsyncWrite + Send + Unpin>;

/// A stream a link can run over, and how it splits into its two halves.
pub trait LinkStream: AsyncRead + AsyncWrite + Unpin + Send + 'static {
    fn into_halves(self) -> (ReadHalf, WriteHalf);
}

impl LinkStream for TcpStream {
    fn into_halves(self) -> (ReadHalf, WriteHalf) {
        let (read, write) = self.into_split();
        (Box::new(read), Box::new(write))
    }
}

impl LinkStream for tokio::io::DuplexStream {
    fn into_halves(self) -> (ReadHalf, WriteHalf) {
        let (read, write) = tokio::io::split(self);
        (Box::new(read), Box::new(write))
    }
}

/// The receiving half. Each direction keeps its own Noise nonce.
pub struct LinkReader {
    stream: ReadHalf,
    decoder: Decoder,
    idle_timeout: Duration,
}

/// The sending half.
pub struct LinkWriter {
    stream: WriteHalf,
    encoder: Encoder,
}

impl std::fmt::Debug for LinkReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkReader").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for LinkWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkWriter").finish_non_exhaustive()
    }
}

impl PeerLink {
    /// Dials the peer and authenticates both sides for `channel`.
    pub async fn connect(
        address: impl ToSocketAddrs,
        me: &SigningKey,
        peer: &[u8; 32],
        channel: [u8; 32],
    ) -> Result<Self, TransportError> {
        let stream = TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        Self::dial_over(stream, me, peer, channel).await
    }

    /// Authenticates both sides for `channel` over an open stream this side dialed (a
    /// WebSocket's, say).
    pub async fn dial_over(
        stream: impl LinkStream,
        me: &SigningKey,
        peer: &[u8; 32],
        channel: [u8; 32],
    ) -> Result<Self, TransportError> {
        let role: Role<'_, NoLookup> = Role::Dialer { peer, channel };
        Self::establish(stream, role, me).await
    }

    /// Authenticates an accepted connection for `channel`.
    pub async fn accept(
        stream: TcpStream,
        me: &SigningKey,
        peer: &[u8; 32],
        channel: [u8; 32],
    ) -> Result<Self, TransportError> {
        stream.set_nodelay(true)?;
        let expected = |named: &[u8; 32]| (*named == channel).then_some(*peer);
        Self::accept_any(stream, me, expected).await
    }

    /// Authenticates an accepted connection for whichever channel the dialer names, with the
    /// key `peer_of` gives for it (None: not a channel served here, [`TransportError::WrongChannel`]).
    /// One listener thus serves every channel of a node.
    pub async fn accept_any(
        stream: impl LinkStream,
        me: &SigningKey,
        peer_of: impl FnOnce(&[u8; 32]) -> Option<[u8; 32]>,
    ) -> Result<Self, TransportError> {
        Self::establish(stream, Role::Acceptor(peer_of), me).await
    }

    async fn establish<S: LinkStream, F: FnOnce(&[u8; 32]) -> Option<[u8; 32]>>(
        mut stream: S,
        role: Role<'_, F>,
        me: &SigningKey,
    ) -> Result<Self, TransportError> {
        // The steps are `paychan_link`'s (see its session module); here they meet the stream.
        let handshake = async {
            match role {
                Role::Dialer { peer, channel } => {
                    let (dialer, hello) = Dialer::start(me, *peer, channel)?;
                    write_wire(&mut stream, &hello).await?;
                    let reply = read_noise(&mut stream).await?;
                    let (awaiting, mine) = dialer.on_reply(&reply)?;
                    write_wire(&mut stream, &mine).await?;
                    awaiting.on_proof(&read_noise(&mut stream).await?)
                }
                Role::Acceptor(peer_of) => {
                    let hello = read_noise(&mut stream).await?;
                    let (awaiting, reply) = Acceptor::on_hello(&hello)?;
                    write_wire(&mut stream, &reply).await?;
                    // The dialer's proof first: it names the channel, hence the key to expect.
                    let named = awaiting.on_proof(&read_noise(&mut stream).await?)?;
                    let peer = peer_of(&named.channel()).ok_or(TransportError::WrongChannel)?;
                    let (session, mine) = named.accept(me, &peer)?;
                    write_wire(&mut stream, &mine).await?;
                    Ok(session)
                }
            }
        };
        let session = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake)
            .await
            .map_err(|_| TransportError::HandshakeTimeout(HANDSHAKE_TIMEOUT))??;
        let (encoder, decoder) = session.split();
        let (read, write) = stream.into_halves();
        Ok(Self {
            reader: LinkReader {
                stream: read,
                decoder,
                idle_timeout: IDLE_TIMEOUT,
            },
            writer: LinkWriter {
                stream: write,
                encoder,
            },
        })
    }

    /// How long the peer may stay silent before `recv` gives up on it (default
    /// [`IDLE_TIMEOUT`]).
    pub fn set_idle_timeout(&mut self, timeout: Duration) {
        self.reader.idle_timeout = timeout;
    }

    pub fn split(self) -> (LinkReader, LinkWriter) {
        (self.reader, self.writer)
    }

    pub async fn send(&mut self, message: PeerMessage) -> Result<(), TransportError> {
        self.writer.send(message).await
    }

    pub async fn recv(&mut self) -> Result<PeerMessage, TransportError> {
        self.reader.recv().await
    }

    pub async fn keepalive(&mut self) -> Result<(), TransportError> {
        self.writer.keepalive().await
    }

    #[cfg(test)]
    pub(super) async fn send_plaintext(&mut self, plaintext: &[u8]) -> Result<(), TransportError> {
        self.writer.send_plaintext(plaintext).await
    }
}

impl LinkWriter {
    /// Encrypts and sends plaintext, chunked into Noise messages (tests send malformed ones).
    #[cfg(test)]
    async fn send_plaintext(&mut self, plaintext: &[u8]) -> Result<(), TransportError> {
        let wire = self.encoder.seal(plaintext)?;
        write_wire(&mut self.stream, &wire).await
    }

    /// A message of length zero: it carries nothing and tells the peer this side is alive.
    pub async fn keepalive(&mut self) -> Result<(), TransportError> {
        let wire = self.encoder.keepalive()?;
        write_wire(&mut self.stream, &wire).await
    }

    pub async fn send(&mut self, message: PeerMessage) -> Result<(), TransportError> {
        let wire = self.encoder.encode(message)?;
        write_wire(&mut self.stream, &wire).await
    }
}

impl LinkReader {
    /// Reads one Noise message, giving up on a peer silent for the idle timeout.
    async fn read_within_idle(&mut self) -> Result<Vec<u8>, TransportError> {
        tokio::time::timeout(self.idle_timeout, read_noise(&mut self.stream))
            .await
            .map_err(|_| TransportError::Idle(self.idle_timeout))?
    }

    /// The next message, past any keepalives. A malformed, oversized or foreign message, or a
    /// peer silent for the idle timeout, is an error: the caller drops the link (and
    /// reconnects), the channel state is untouched.
    pub async fn recv(&mut self) -> Result<PeerMessage, TransportError> {
        loop {
            let frame = self.read_within_idle().await?;
            if let Some(message) = self.decoder.decrypt_frame(&frame)? {
                return Ok(message);
            }
        }
    }
}
