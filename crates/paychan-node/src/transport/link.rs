//! An established, authenticated link to the other channel party.

use std::{sync::Arc, time::Duration};

use ed25519_dalek::SigningKey;
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::{TcpStream, ToSocketAddrs},
};

use super::{
    envelope::{Envelope, PROTOCOL_VERSION},
    frame::{read_noise, write_noise, MAX_MESSAGE_LEN, NOISE_MAX, TAG_LEN},
    handshake::{proof, proof_channel, verify_proof, NOISE_PATTERN},
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
const CHUNK: usize = NOISE_MAX - TAG_LEN;

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
    noise: Arc<snow::StatelessTransportState>,
    nonce: u64,
    channel: [u8; 32],
    idle_timeout: Duration,
}

/// The sending half.
pub struct LinkWriter {
    stream: WriteHalf,
    noise: Arc<snow::StatelessTransportState>,
    nonce: u64,
    channel: [u8; 32],
}

impl std::fmt::Debug for LinkReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkReader")
            .field("nonce", &self.nonce)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for LinkWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkWriter")
            .field("nonce", &self.nonce)
            .finish_non_exhaustive()
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
        let initiator = matches!(role, Role::Dialer { .. });
        let handshake = async {
            let builder = snow::Builder::new(
                NOISE_PATTERN
                    .parse()
                    .map_err(|e: snow::Error| TransportError::Noise(e.to_string()))?,
            );
            let mut state = if initiator {
                builder.build_initiator()?
            } else {
                builder.build_responder()?
            };
            let mut buffer = vec![0u8; NOISE_MAX];
            // NN: -> e ; <- e, ee
            if initiator {
                let n = state.write_message(&[], &mut buffer)?;
                write_noise(&mut stream, &buffer[..n]).await?;
                let reply = read_noise(&mut stream).await?;
                state.read_message(&reply, &mut buffer)?;
            } else {
                let hello = read_noise(&mut stream).await?;
                state.read_message(&hello, &mut buffer)?;
                let n = state.write_message(&[], &mut buffer)?;
                write_noise(&mut stream, &buffer[..n]).await?;
            }
            let hash = state.get_handshake_hash().to_vec();
            let noise = state.into_stateless_transport_mode()?;
            // Key proofs, encrypted (nonce 0 each way): each side signs this session's hash
            // for its role and the channel; the dialer goes first (see `handshake`).
            let channel = match role {
                Role::Dialer { peer, channel } => {
                    let mine = proof(me, &hash, true, &channel);
                    let n = noise.write_message(0, &mine, &mut buffer)?;
                    write_noise(&mut stream, &buffer[..n]).await?;
                    let theirs = read_noise(&mut stream).await?;
                    let n = noise.read_message(0, &theirs, &mut buffer)?;
                    verify_proof(&buffer[..n], peer, &hash, false, &channel)?;
                    channel
                }
                Role::Acceptor(peer_of) => {
                    // The dialer's proof first: it names the channel, hence the key to expect.
                    let theirs = read_noise(&mut stream).await?;
                    let n = noise.read_message(0, &theirs, &mut buffer)?;
                    let channel = proof_channel(&buffer[..n])?;
                    let peer = peer_of(&channel).ok_or(TransportError::WrongChannel)?;
                    verify_proof(&buffer[..n], &peer, &hash, true, &channel)?;
                    let mine = proof(me, &hash, false, &channel);
                    let n = noise.write_message(0, &mine, &mut buffer)?;
                    write_noise(&mut stream, &buffer[..n]).await?;
                    channel
                }
            };
            Ok::<_, TransportError>((noise, channel))
        };
        let (noise, channel) = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake)
            .await
            .map_err(|_| TransportError::HandshakeTimeout(HANDSHAKE_TIMEOUT))??;
        let noise = Arc::new(noise);
        let (read, write) = stream.into_halves();
        Ok(Self {
            reader: LinkReader {
                stream: read,
                noise: Arc::clone(&noise),
                nonce: 1,
                channel,
                idle_timeout: IDLE_TIMEOUT,
            },
            writer: LinkWriter {
                stream: write,
                noise,
                nonce: 1,
                channel,
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
    /// Encrypts and sends plaintext, chunked into Noise messages.
    async fn send_plaintext(&mut self, plaintext: &[u8]) -> Result<(), TransportError> {
        let mut buffer = vec![0u8; NOISE_MAX];
        for chunk in plaintext.chunks(CHUNK) {
            let n = self.noise.write_message(self.nonce, chunk, &mut buffer)?;
            self.nonce = self.nonce.checked_add(1).ok_or(TransportError::Closed)?;
            write_noise(&mut self.stream, &buffer[..n]).await?;
        }
        Ok(())
    }

    /// A message of length zero: it carries nothing and tells the peer this side is alive.
    pub async fn keepalive(&mut self) -> Result<(), TransportError> {
        self.send_plaintext(&0u32.to_be_bytes()).await
    }

    pub async fn send(&mut self, message: PeerMessage) -> Result<(), TransportError> {
        let envelope = Envelope {
            version: PROTOCOL_VERSION,
            channel: self.channel,
            message,
        }
        .encode();
        if envelope.len() > MAX_MESSAGE_LEN {
            return Err(TransportError::FrameTooLarge(envelope.len()));
        }
        let len = u32::try_from(envelope.len())
            .map_err(|_| TransportError::FrameTooLarge(envelope.len()))?;
        let mut plaintext = len.to_be_bytes().to_vec();
        plaintext.extend_from_slice(&envelope);
        self.send_plaintext(&plaintext).await
    }
}

impl LinkReader {
    fn decrypt(&mut self, ciphertext: &[u8], buffer: &mut [u8]) -> Result<usize, TransportError> {
        let n = self.noise.read_message(self.nonce, ciphertext, buffer)?;
        self.nonce = self.nonce.checked_add(1).ok_or(TransportError::Closed)?;
        Ok(n)
    }

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
        let mut buffer = vec![0u8; NOISE_MAX];
        let (total, first_len) = loop {
            let first = self.read_within_idle().await?;
            let n = self.decrypt(&first, &mut buffer)?;
            let (len, rest) = buffer[..n]
                .split_first_chunk::<4>()
                .ok_or_else(|| TransportError::Malformed("short header".into()))?;
            let total = u32::from_be_bytes(*len) as usize;
            match total {
                0 if rest.is_empty() => continue, // a keepalive
                0 => return Err(TransportError::Malformed("a keepalive with a body".into())),
                _ => break (total, n),
            }
        };
        if total > MAX_MESSAGE_LEN {
            return Err(TransportError::FrameTooLarge(total));
        }
        let mut plaintext = Vec::with_capacity(total);
        plaintext.extend_from_slice(&buffer[4..first_len]);
        while plaintext.len() < total {
            let next = self.read_within_idle().await?;
            let n = self.decrypt(&next, &mut buffer)?;
            plaintext.extend_from_slice(&buffer[..n]);
        }
        if plaintext.len() != total {
            return Err(TransportError::Malformed("length mismatch".into()));
        }
        let envelope = Envelope::decode(&plaintext)?;
        if envelope.channel != self.channel {
            return Err(TransportError::WrongChannel);
        }
        Ok(envelope.message)
    }
}
