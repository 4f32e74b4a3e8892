//! One channel's session: the engine (the channel state machine), an in-memory mirror of its
//! store (what the caller persists, replayed on restart), and the link's handshake and codec.

use std::{
    future::Future,
    pin::pin,
    task::{Context, Poll, Waker},
};

use ed25519_dalek::SigningKey;
use paychan_engine::{
    chain::ChainView,
    engine::{Action, ChannelEngine, ChannelParams, Event, Input, Payment, Record},
    store::{ChannelStore, MemoryStore},
};
use paychan_interface::{
    channel::{Channel, Party},
    state::StateBinding,
    Address,
};
use paychan_link::{AwaitingAcceptorProof, Decoder, Dialer, Encoder, FrameBuffer};
use wasm_bindgen::prelude::*;

/// Runs a memory-store future, which never waits, to its end.
fn now<F: Future>(future: F) -> Result<F::Output, JsError> {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => Ok(output),
        Poll::Pending => Err(JsError::new("the in-memory store waited")),
    }
}

fn key32(bytes: &[u8], what: &str) -> Result<[u8; 32], JsError> {
    bytes
        .try_into()
        .map_err(|_| JsError::new(&format!("{what} must be 32 bytes, not {}", bytes.len())))
}

fn js(error: impl std::fmt::Display) -> JsError {
    JsError::new(&error.to_string())
}

/// What a session needs: the channel as the chain records it, this party's side and session
/// key, and the node's key (the channel's other state signer).
#[wasm_bindgen]
pub struct SessionConfig {
    program_id: [u8; 32],
    channel: [u8; 32],
    opened_slot: u64,
    signer_a: [u8; 32],
    signer_b: [u8; 32],
    me_is_a: bool,
    secret: [u8; 32],
}

#[wasm_bindgen]
impl SessionConfig {
    /// `secret`: the 32-byte seed of this party's state-signing key (its session key).
    #[wasm_bindgen(constructor)]
    pub fn new(
        program_id: &[u8],
        channel: &[u8],
        opened_slot: u64,
        signer_a: &[u8],
        signer_b: &[u8],
        me_is_a: bool,
        secret: &[u8],
    ) -> Result<SessionConfig, JsError> {
        Ok(Self {
            program_id: key32(program_id, "the program id")?,
            channel: key32(channel, "the channel")?,
            opened_slot,
            signer_a: key32(signer_a, "signer A")?,
            signer_b: key32(signer_b, "signer B")?,
            me_is_a,
            secret: key32(secret, "the session key")?,
        })
    }
}

/// What one call produced, in the order it must be carried out.
#[wasm_bindgen]
#[derive(Default)]
pub struct Step {
    persist: Vec<Vec<u8>>,
    send: Vec<u8>,
    events: Vec<String>,
}

#[wasm_bindgen]
impl Step {
    /// Records (borsh) to make durable, in order, before anything is sent.
    #[wasm_bindgen(getter)]
    pub fn persist(&self) -> js_sys::Array {
        self.persist
            .iter()
            .map(|r| JsValue::from(js_sys::Uint8Array::from(r.as_slice())))
            .collect()
    }

    /// Bytes for the WebSocket (empty: nothing to send).
    #[wasm_bindgen(getter)]
    pub fn send(&self) -> Vec<u8> {
        self.send.clone()
    }

    /// Events, each a JSON object (`{"type":"paid",…}`).
    #[wasm_bindgen(getter)]
    pub fn events(&self) -> Vec<String> {
        self.events.clone()
    }
}

enum Link {
    Down,
    // Boxed: a handshake in progress holds Noise's whole state; the other variants are small.
    AwaitingReply(Box<Dialer>),
    AwaitingProof(AwaitingAcceptorProof),
    Up { encoder: Encoder, decoder: Decoder },
}

#[wasm_bindgen]
pub struct Session {
    engine: ChannelEngine,
    store: MemoryStore,
    channel: Address,
    key: SigningKey,
    peer: [u8; 32],
    link: Link,
    frames: FrameBuffer,
}

#[wasm_bindgen]
impl Session {
    /// A session for `config`, continuing from `records` (every record an earlier session of
    /// this channel returned to persist, in order; empty for a new channel).
    #[wasm_bindgen(constructor)]
    pub fn new(
        config: SessionConfig,
        records: Vec<js_sys::Uint8Array>,
    ) -> Result<Session, JsError> {
        let channel = Address::new_from_array(config.channel);
        let params = ChannelParams {
            binding: StateBinding {
                program_id: Address::new_from_array(config.program_id),
                channel,
                opened_slot: config.opened_slot,
            },
            signer_a: Address::new_from_array(config.signer_a),
            signer_b: Address::new_from_array(config.signer_b),
            me: if config.me_is_a { Party::A } else { Party::B },
        };
        let key = SigningKey::from_bytes(&config.secret);
        if key.verifying_key().to_bytes() != params.key_of(params.me).to_bytes() {
            return Err(JsError::new(
                "the session key is not this party's state signer in the channel",
            ));
        }
        let peer = params.key_of(params.peer()).to_bytes();
        let mut store = MemoryStore::new();
        now(store.create_channel(&params))?.map_err(js)?;
        let replayed = records
            .iter()
            .map(|bytes| borsh::from_slice::<Record>(&bytes.to_vec()).map_err(js))
            .collect::<Result<Vec<_>, _>>()?;
        let engine = if replayed.is_empty() {
            ChannelEngine::new(params, key.clone())
        } else {
            now(store.persist(&channel, &replayed))?.map_err(js)?;
            let (params, recovered) = now(store.recover(&channel))?
                .map_err(js)?
                .ok_or_else(|| JsError::new("the replayed records hold no channel"))?;
            ChannelEngine::recover(params, key.clone(), recovered)
        };
        Ok(Self {
            engine,
            store,
            channel,
            key,
            peer,
            link: Link::Down,
            frames: FrameBuffer::default(),
        })
    }

    /// Starts the link's handshake on a freshly opened WebSocket: send what this returns.
    pub fn connect(&mut self) -> Result<Step, JsError> {
        let (dialer, hello) =
            Dialer::start(&self.key, self.peer, self.channel.to_bytes()).map_err(js)?;
        self.link = Link::AwaitingReply(Box::new(dialer));
        self.frames = FrameBuffer::default();
        Ok(Step {
            send: hello,
            ..Step::default()
        })
    }

    /// A keepalive for the link (call every ten seconds when nothing else was sent: the node
    /// gives up on a peer silent for thirty). Nothing while the link is down.
    pub fn keepalive(&mut self) -> Result<Step, JsError> {
        let mut step = Step::default();
        if let Link::Up { encoder, .. } = &mut self.link {
            step.send = encoder.keepalive().map_err(js)?;
        }
        Ok(step)
    }

    /// The WebSocket closed: payments wait for the next link (`connect`).
    pub fn disconnected(&mut self) {
        self.link = Link::Down;
    }

    /// Bytes that arrived on the WebSocket.
    pub fn receive(&mut self, bytes: &[u8]) -> Result<Step, JsError> {
        self.frames.push(bytes);
        let mut step = Step::default();
        while let Some(frame) = self.frames.next_frame() {
            match std::mem::replace(&mut self.link, Link::Down) {
                Link::Down => {
                    return Err(JsError::new("bytes arrived with no link: connect first"))
                }
                Link::AwaitingReply(dialer) => {
                    let (awaiting, proof) = dialer.on_reply(&frame).map_err(js)?;
                    step.send.extend(proof);
                    self.link = Link::AwaitingProof(awaiting);
                }
                Link::AwaitingProof(awaiting) => {
                    let (encoder, decoder) = awaiting.on_proof(&frame).map_err(js)?.split();
                    self.link = Link::Up { encoder, decoder };
                    step.events.push(r#"{"type":"connected"}"#.into());
                    self.handle(Input::Connected, &mut step)?;
                }
                Link::Up {
                    encoder,
                    mut decoder,
                } => {
                    let message = decoder.decrypt_frame(&frame);
                    self.link = Link::Up { encoder, decoder };
                    if let Some(message) = message.map_err(js)? {
                        self.handle(Input::Peer(message), &mut step)?;
                    }
                }
            }
        }
        Ok(step)
    }

    /// Pays the peer `amount` (lamports, or the mint's base units); `id`: 16 bytes naming it.
    pub fn pay(&mut self, amount: u64, id: &[u8]) -> Result<Step, JsError> {
        let id: [u8; 16] = id
            .try_into()
            .map_err(|_| JsError::new("a payment id is 16 bytes"))?;
        let mut step = Step::default();
        self.handle(Input::Pay(Payment { id, amount }), &mut step)?;
        Ok(step)
    }

    /// The channel account's bytes as the chain shows them, and the chain's unix time.
    pub fn chain(&mut self, account: &[u8], unix_timestamp: i64) -> Result<Step, JsError> {
        let account = Channel::unpack(account).map_err(js)?;
        let mut step = Step::default();
        self.handle(
            Input::Chain(ChainView::of(&account, unix_timestamp)),
            &mut step,
        )?;
        Ok(step)
    }

    /// The newest state: `[seq, balance_a, balance_b]`.
    pub fn newest(&self) -> Vec<u64> {
        let state = self.engine.newest_state();
        vec![state.seq, state.balance_a, state.balance_b]
    }

    /// The newest state both signed, as the 160 signed bytes then A's and B's signatures
    /// (what StartClose and Dispute prove; empty before the first payment).
    pub fn newest_co_signed(&self) -> Vec<u8> {
        self.engine
            .newest_co_signed()
            .map_or_else(Vec::new, |signed| {
                let mut out = signed.state.message(&signed.binding).to_vec();
                out.extend_from_slice(&signed.a.signature);
                out.extend_from_slice(&signed.b.signature);
                out
            })
    }

    /// Payments waiting for the current round.
    pub fn queued(&self) -> usize {
        self.engine.queued()
    }
}

impl Session {
    /// Runs `input` and carries out the engine's actions into `step`: records in order, then
    /// what to send; the caller persists before it sends.
    fn handle(&mut self, input: Input, step: &mut Step) -> Result<(), JsError> {
        let actions = self.engine.handle(input).map_err(js)?;
        for action in actions {
            match action {
                Action::Persist(record) => {
                    now(self
                        .store
                        .persist(&self.channel, std::slice::from_ref(&record)))?
                    .map_err(js)?;
                    step.persist.push(borsh::to_vec(&record).map_err(js)?);
                }
                Action::Send(message) => {
                    // Without a link the message is dropped: the next link's Hello resyncs.
                    if let Link::Up { encoder, .. } = &mut self.link {
                        step.send.extend(encoder.encode(message).map_err(js)?);
                    }
                }
                Action::Notify(event) => step.events.push(event_json(&event)),
                Action::Submit(request) => step.events.push(format!(
                    r#"{{"type":"chain_request","request":"{request:?}"}}"#
                )),
                Action::CountersignClose { .. } | Action::SubmitCooperativeClose { .. } => step
                    .events
                    .push(r#"{"type":"cooperative_close_unsupported"}"#.into()),
            }
        }
        Ok(())
    }
}

fn total(payments: &[Payment]) -> u64 {
    payments.iter().map(|p| p.amount).sum()
}

/// `"count":…,"amount":…,"ids":[…]` of `payments` (ids in hex: the caller matches its own).
fn payments_json(payments: &[Payment]) -> String {
    let ids: Vec<String> = payments
        .iter()
        .map(|p| {
            let hex: String = p.id.iter().map(|b| format!("{b:02x}")).collect();
            format!("\"{hex}\"")
        })
        .collect();
    format!(
        r#""count":{},"amount":{},"ids":[{}]"#,
        payments.len(),
        total(payments),
        ids.join(",")
    )
}

/// An engine event as a JSON object for JavaScript.
fn event_json(event: &Event) -> String {
    match event {
        Event::Paid { seq, payments } => {
            format!(
                r#"{{"type":"paid","seq":{seq},{}}}"#,
                payments_json(payments)
            )
        }
        Event::Received { seq, payments } => {
            format!(
                r#"{{"type":"received","seq":{seq},{}}}"#,
                payments_json(payments)
            )
        }
        Event::Dropped { payments, .. } => {
            format!(r#"{{"type":"dropped",{}}}"#, payments_json(payments))
        }
        other => format!(
            r#"{{"type":"other","event":{}}}"#,
            json_string(&format!("{other:?}"))
        ),
    }
}

/// `text` as a JSON string literal (Rust's `{:?}` escapes are not JSON's).
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_events_name_each_payment() {
        let event = Event::Paid {
            seq: 3,
            payments: vec![Payment {
                id: [0xab; 16],
                amount: 5,
            }],
        };
        assert_eq!(
            event_json(&event),
            format!(
                r#"{{"type":"paid","seq":3,"count":1,"amount":5,"ids":["{}"]}}"#,
                "ab".repeat(16)
            )
        );
    }

    #[test]
    fn event_text_is_valid_json_whatever_it_holds() {
        assert_eq!(json_string("a \"b\" \\ \n"), r#""a \"b\" \\ \u000a""#);
    }
}
