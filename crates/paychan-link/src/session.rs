//! A link session as steps on bytes, with no I/O: each step takes what the peer sent (one
//! frame's ciphertext, cut by [`FrameBuffer`](crate::FrameBuffer)) and returns what to send
//! (wire bytes, already framed). The handshake is Noise NN, then the key proofs, encrypted at
//! nonce 0 each way: the dialer proves first and its proof names the channel, so an acceptor
//! serving many channels learns which key to expect before it proves anything itself.
//!
//! ```text
//! dialer                               acceptor
//! Dialer::start        -- e -->        Acceptor::on_hello
//! Dialer::on_reply     <-- e, ee --
//!                      -- proof -->    AwaitingDialerProof::on_proof → Named (the channel)
//! AwaitingAcceptorProof::on_proof  <-- proof --   Named::accept(expected key)
//! ```

use std::sync::Arc;

use ed25519_dalek::SigningKey;
use paychan_engine::engine::PeerMessage;
use snow::{HandshakeState, StatelessTransportState};

use crate::{
    envelope::{Envelope, PROTOCOL_VERSION},
    frame::{frame, MAX_MESSAGE_LEN, NOISE_MAX, TAG_LEN},
    proof::{proof, proof_channel, verify_proof, NOISE_PATTERN},
    TransportError,
};

/// Plaintext per Noise message.
const CHUNK: usize = NOISE_MAX - TAG_LEN;

fn builder() -> Result<snow::Builder<'static>, TransportError> {
    Ok(snow::Builder::new(NOISE_PATTERN.parse()?))
}

fn buffer() -> Vec<u8> {
    vec![0u8; NOISE_MAX]
}

/// The dialer, before the acceptor answered.
pub struct Dialer {
    state: HandshakeState,
    me: SigningKey,
    peer: [u8; 32],
    channel: [u8; 32],
}

impl Dialer {
    /// Starts a session with `peer` for `channel`; returns the first bytes to send.
    pub fn start(
        me: &SigningKey,
        peer: [u8; 32],
        channel: [u8; 32],
    ) -> Result<(Self, Vec<u8>), TransportError> {
        let mut state = builder()?.build_initiator()?;
        let mut out = buffer();
        let n = state.write_message(&[], &mut out)?;
        let dialer = Self {
            state,
            me: me.clone(),
            peer,
            channel,
        };
        Ok((dialer, frame(&out[..n])?))
    }

    /// The acceptor's reply; returns this side's key proof to send.
    pub fn on_reply(
        mut self,
        reply: &[u8],
    ) -> Result<(AwaitingAcceptorProof, Vec<u8>), TransportError> {
        let mut out = buffer();
        self.state.read_message(reply, &mut out)?;
        let hash = self.state.get_handshake_hash().to_vec();
        let noise = self.state.into_stateless_transport_mode()?;
        let mine = proof(&self.me, &hash, true, &self.channel);
        let n = noise.write_message(0, &mine, &mut out)?;
        let next = AwaitingAcceptorProof {
            noise,
            hash,
            peer: self.peer,
            channel: self.channel,
        };
        Ok((next, frame(&out[..n])?))
    }
}

/// The dialer, waiting for the acceptor's proof.
pub struct AwaitingAcceptorProof {
    noise: StatelessTransportState,
    hash: Vec<u8>,
    peer: [u8; 32],
    channel: [u8; 32],
}

impl AwaitingAcceptorProof {
    /// The acceptor's proof: by the expected key, for this session, role and channel.
    pub fn on_proof(self, ciphertext: &[u8]) -> Result<Session, TransportError> {
        let mut out = buffer();
        let n = self.noise.read_message(0, ciphertext, &mut out)?;
        verify_proof(&out[..n], &self.peer, &self.hash, false, &self.channel)?;
        Ok(Session::new(self.noise, self.channel))
    }
}

/// The accepting side's first step.
pub struct Acceptor;

impl Acceptor {
    /// The dialer's first message; returns the reply to send.
    pub fn on_hello(hello: &[u8]) -> Result<(AwaitingDialerProof, Vec<u8>), TransportError> {
        let mut state = builder()?.build_responder()?;
        let mut out = buffer();
        state.read_message(hello, &mut out)?;
        let n = state.write_message(&[], &mut out)?;
        let hash = state.get_handshake_hash().to_vec();
        let noise = state.into_stateless_transport_mode()?;
        Ok((AwaitingDialerProof { noise, hash }, frame(&out[..n])?))
    }
}

/// The acceptor, waiting for the dialer's proof.
pub struct AwaitingDialerProof {
    noise: StatelessTransportState,
    hash: Vec<u8>,
}

impl AwaitingDialerProof {
    /// The dialer's proof, not yet checked: it names the channel, hence the key to expect.
    pub fn on_proof(self, ciphertext: &[u8]) -> Result<Named, TransportError> {
        let mut out = buffer();
        let n = self.noise.read_message(0, ciphertext, &mut out)?;
        let proof = out[..n].to_vec();
        let channel = proof_channel(&proof)?;
        Ok(Named {
            noise: self.noise,
            hash: self.hash,
            proof,
            channel,
        })
    }
}

/// The acceptor, once the dialer named its channel.
pub struct Named {
    noise: StatelessTransportState,
    hash: Vec<u8>,
    proof: Vec<u8>,
    channel: [u8; 32],
}

impl Named {
    /// The channel the dialer's proof names.
    pub fn channel(&self) -> [u8; 32] {
        self.channel
    }

    /// Checks the dialer's proof against `peer`, the key expected for the named channel;
    /// returns the session and this side's proof to send.
    pub fn accept(
        self,
        me: &SigningKey,
        peer: &[u8; 32],
    ) -> Result<(Session, Vec<u8>), TransportError> {
        verify_proof(&self.proof, peer, &self.hash, true, &self.channel)?;
        let mine = proof(me, &self.hash, false, &self.channel);
        let mut out = buffer();
        let n = self.noise.write_message(0, &mine, &mut out)?;
        Ok((Session::new(self.noise, self.channel), frame(&out[..n])?))
    }
}

/// An authenticated session for one channel; [`Session::split`] gives each direction its own
/// half (and Noise nonce), so one task can read while another writes.
pub struct Session {
    noise: Arc<StatelessTransportState>,
    channel: [u8; 32],
}

impl Session {
    fn new(noise: StatelessTransportState, channel: [u8; 32]) -> Self {
        Self {
            noise: Arc::new(noise),
            channel,
        }
    }

    pub fn channel(&self) -> [u8; 32] {
        self.channel
    }

    pub fn split(self) -> (Encoder, Decoder) {
        (
            Encoder {
                noise: Arc::clone(&self.noise),
                nonce: 1,
                channel: self.channel,
            },
            Decoder {
                noise: self.noise,
                nonce: 1,
                channel: self.channel,
                pending: None,
            },
        )
    }
}

/// The sending half: messages in, wire bytes out.
pub struct Encoder {
    noise: Arc<StatelessTransportState>,
    nonce: u64,
    channel: [u8; 32],
}

impl Encoder {
    /// Encrypts `plaintext`, chunked into framed Noise messages.
    pub fn seal(&mut self, plaintext: &[u8]) -> Result<Vec<u8>, TransportError> {
        let mut wire = Vec::with_capacity(plaintext.len() + plaintext.len() / CHUNK * 18 + 18);
        let mut out = buffer();
        for chunk in plaintext.chunks(CHUNK) {
            let n = self.noise.write_message(self.nonce, chunk, &mut out)?;
            self.nonce = self.nonce.checked_add(1).ok_or(TransportError::Closed)?;
            wire.extend_from_slice(&frame(&out[..n])?);
        }
        Ok(wire)
    }

    /// A message of length zero: it carries nothing and tells the peer this side is alive.
    pub fn keepalive(&mut self) -> Result<Vec<u8>, TransportError> {
        self.seal(&0u32.to_be_bytes())
    }

    /// `message` in this session's channel envelope, as wire bytes.
    pub fn encode(&mut self, message: PeerMessage) -> Result<Vec<u8>, TransportError> {
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
        self.seal(&plaintext)
    }
}

/// The receiving half: frames in, messages out.
pub struct Decoder {
    noise: Arc<StatelessTransportState>,
    nonce: u64,
    channel: [u8; 32],
    /// A message whose first frames arrived: its length and its bytes so far.
    pending: Option<(usize, Vec<u8>)>,
}

impl Decoder {
    /// One frame's ciphertext: the message it completes, or None (a keepalive, or a message
    /// with frames still to come). A malformed, oversized or foreign message is an error: the
    /// link is dropped (and redialled), the channel state is untouched.
    pub fn decrypt_frame(
        &mut self,
        ciphertext: &[u8],
    ) -> Result<Option<PeerMessage>, TransportError> {
        let mut out = buffer();
        let n = self.noise.read_message(self.nonce, ciphertext, &mut out)?;
        self.nonce = self.nonce.checked_add(1).ok_or(TransportError::Closed)?;
        let plaintext = &out[..n];
        let (total, mut body) = match self.pending.take() {
            Some((total, mut body)) => {
                body.extend_from_slice(plaintext);
                (total, body)
            }
            None => {
                let (len, rest) = plaintext
                    .split_first_chunk::<4>()
                    .ok_or_else(|| TransportError::Malformed("short header".into()))?;
                let total = u32::from_be_bytes(*len) as usize;
                match total {
                    0 if rest.is_empty() => return Ok(None), // a keepalive
                    0 => return Err(TransportError::Malformed("a keepalive with a body".into())),
                    too_large if too_large > MAX_MESSAGE_LEN => {
                        return Err(TransportError::FrameTooLarge(too_large))
                    }
                    _ => {}
                }
                let mut body = Vec::with_capacity(total);
                body.extend_from_slice(rest);
                (total, body)
            }
        };
        if body.len() < total {
            self.pending = Some((total, body));
            return Ok(None);
        }
        if body.len() != total {
            return Err(TransportError::Malformed("length mismatch".into()));
        }
        let envelope = Envelope::decode(&std::mem::take(&mut body))?;
        if envelope.channel != self.channel {
            return Err(TransportError::WrongChannel);
        }
        Ok(Some(envelope.message))
    }
}

#[cfg(test)]
mod tests {
    use paychan_engine::engine::PeerMessage;

    use super::*;
    use crate::FrameBuffer;

    const CHANNEL: [u8; 32] = [9; 32];

    /// Feeds `wire` to `buffer` in `piece`-byte pieces, as a WebSocket may deliver it.
    fn frames(buffer: &mut FrameBuffer, wire: &[u8], piece: usize) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for chunk in wire.chunks(piece) {
            buffer.push(chunk);
            while let Some(frame) = buffer.next_frame() {
                out.push(frame);
            }
        }
        out
    }

    fn one(mut frames: Vec<Vec<u8>>) -> Vec<u8> {
        assert_eq!(frames.len(), 1);
        frames.remove(0)
    }

    /// A handshake in memory; `acceptor_expects` is the key the acceptor looks up.
    fn handshake(
        dialer_key: &SigningKey,
        acceptor_key: &SigningKey,
        acceptor_expects: [u8; 32],
        piece: usize,
    ) -> Result<(Session, Session), TransportError> {
        let (mut to_acceptor, mut to_dialer) = (FrameBuffer::default(), FrameBuffer::default());
        let acceptor_pub = acceptor_key.verifying_key().to_bytes();
        let (dialer, hello) = Dialer::start(dialer_key, acceptor_pub, CHANNEL)?;
        let (awaiting, reply) = Acceptor::on_hello(&one(frames(&mut to_acceptor, &hello, piece)))?;
        let (dialer, proof) = dialer.on_reply(&one(frames(&mut to_dialer, &reply, piece)))?;
        let named = awaiting.on_proof(&one(frames(&mut to_acceptor, &proof, piece)))?;
        assert_eq!(named.channel(), CHANNEL);
        let (accepted, proof) = named.accept(acceptor_key, &acceptor_expects)?;
        let dialed = dialer.on_proof(&one(frames(&mut to_dialer, &proof, piece)))?;
        Ok((dialed, accepted))
    }

    #[test]
    fn a_session_runs_on_bytes_cut_anyhow() {
        let (a, b) = (
            SigningKey::from_bytes(&[1; 32]),
            SigningKey::from_bytes(&[2; 32]),
        );
        for piece in [1, 7, 1_000, usize::MAX] {
            let (dialed, accepted) =
                handshake(&a, &b, a.verifying_key().to_bytes(), piece).expect("handshake");
            let ((mut encoder, _), (_, mut decoder)) = (dialed.split(), accepted.split());
            let message = PeerMessage::Accept {
                seq: 7,
                signature: [3; 64],
            };
            let mut wire = encoder.keepalive().expect("keepalive");
            wire.extend(encoder.encode(message.clone()).expect("encode"));
            let mut buffer = FrameBuffer::default();
            let received: Vec<_> = frames(&mut buffer, &wire, piece)
                .iter()
                .filter_map(|f| decoder.decrypt_frame(f).expect("decrypts"))
                .collect();
            assert_eq!(received, vec![message], "pieces of {piece}");
        }
    }

    #[test]
    fn the_acceptor_refuses_a_dialer_with_another_key() {
        let (a, b) = (
            SigningKey::from_bytes(&[1; 32]),
            SigningKey::from_bytes(&[2; 32]),
        );
        let impostor = SigningKey::from_bytes(&[3; 32]);
        let refused = handshake(&impostor, &b, a.verifying_key().to_bytes(), usize::MAX);
        assert!(matches!(refused, Err(TransportError::WrongPeer)));
    }
}
