//! Real TCP on 127.0.0.1, every test bounded by the handshake timeout or less.

use std::time::Duration;

use ed25519_dalek::SigningKey;
use paychan_interface::{client::log::Op, state::ChannelState};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

use super::*;
use crate::engine::{PeerMessage, RejectReason};

const CHANNEL: [u8; 32] = [9; 32];

fn keys() -> (SigningKey, SigningKey) {
    (
        SigningKey::from_bytes(&[1; 32]),
        SigningKey::from_bytes(&[2; 32]),
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// A connected pair: (A dialed, B accepted).
async fn pair() -> (PeerLink, PeerLink) {
    let (a, b) = keys();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let b_pub = b.verifying_key().to_bytes();
    let a_pub = a.verifying_key().to_bytes();
    let accept = async {
        let (stream, _) = listener.accept().await.expect("accept");
        PeerLink::accept(stream, &b, &a_pub, CHANNEL).await
    };
    let (dialed, accepted) = tokio::join!(PeerLink::connect(address, &a, &b_pub, CHANNEL), accept);
    (dialed.expect("A's side"), accepted.expect("B's side"))
}

fn small_accept() -> PeerMessage {
    PeerMessage::Accept {
        seq: 1,
        signature: [5; 64],
    }
}

fn big_proposal() -> PeerMessage {
    PeerMessage::Propose {
        seq: 1,
        ops: (0..4096u64)
            .map(|i| Op::Pay {
                amount: i + 1,
                payment_id: [i as u8; 16],
            })
            .collect(),
        state: ChannelState::default(),
    }
}

#[test]
fn messages_flow_both_ways_including_a_full_round_in_many_noise_frames() {
    runtime().block_on(async {
        let (mut a, mut b) = pair().await;
        a.send(big_proposal()).await.expect("send");
        assert_eq!(b.recv().await.expect("recv"), big_proposal());
        b.send(small_accept()).await.expect("send");
        assert_eq!(a.recv().await.expect("recv"), small_accept());
    });
}

#[test]
fn a_peer_with_another_key_is_refused() {
    runtime().block_on(async {
        let (a, b) = keys();
        let impostor = SigningKey::from_bytes(&[3; 32]);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let accept = async {
            let (stream, _) = listener.accept().await.expect("accept");
            PeerLink::accept(stream, &b, &a.verifying_key().to_bytes(), CHANNEL).await
        };
        let b_pub = b.verifying_key().to_bytes();
        let dial = PeerLink::connect(address, &impostor, &b_pub, CHANNEL);
        let (_, accepted) = tokio::join!(dial, accept);
        assert!(
            matches!(accepted, Err(TransportError::WrongPeer)),
            "{accepted:?}"
        );
    });
}

/// B serves two channels on one listener, each with another peer: the dialer's proof names its
/// channel, and B expects that channel's key; a dialer naming a channel B does not serve, or
/// using another channel's key, is refused.
#[test]
fn one_listener_serves_many_channels_each_with_its_own_peer() {
    runtime().block_on(async {
        let (a, b) = keys();
        let carol = SigningKey::from_bytes(&[4; 32]);
        const OTHER: [u8; 32] = [8; 32];
        let peers = [
            (CHANNEL, a.verifying_key().to_bytes()),
            (OTHER, carol.verifying_key().to_bytes()),
        ];
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let b_pub = b.verifying_key().to_bytes();
        let serve_one = || async {
            let (stream, _) = listener.accept().await.expect("accept");
            let peer_of = |channel: &[u8; 32]| {
                peers
                    .iter()
                    .find(|(c, _)| c == channel)
                    .map(|(_, key)| *key)
            };
            PeerLink::accept_any(stream, &b, peer_of).await
        };
        for (key, channel) in [(&a, CHANNEL), (&carol, OTHER)] {
            let (dialed, accepted) = tokio::join!(
                PeerLink::connect(address, key, &b_pub, channel),
                serve_one()
            );
            let (mut dialed, mut accepted) = (dialed.expect("dialer"), accepted.expect("B"));
            dialed.send(small_accept()).await.expect("send");
            assert_eq!(accepted.recv().await.expect("recv"), small_accept());
        }
        let unknown = PeerLink::connect(address, &a, &b_pub, [7; 32]);
        let (_, accepted) = tokio::join!(unknown, serve_one());
        assert!(
            matches!(accepted, Err(TransportError::WrongChannel)),
            "{accepted:?}"
        );
        let crossed = PeerLink::connect(address, &carol, &b_pub, CHANNEL);
        let (_, accepted) = tokio::join!(crossed, serve_one());
        assert!(
            matches!(accepted, Err(TransportError::WrongPeer)),
            "{accepted:?}"
        );
    });
}

#[test]
fn random_bytes_instead_of_a_handshake_are_refused() {
    runtime().block_on(async {
        let (a, b) = keys();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let garbage = async {
            let mut raw = TcpStream::connect(address).await.expect("connect");
            raw.write_all(&[0, 40]).await.expect("write");
            raw.write_all(&[0xAB; 40]).await.expect("write");
            // The peer may already have refused and closed.
            let _ = raw.shutdown().await;
        };
        let accept = async {
            let (stream, _) = listener.accept().await.expect("accept");
            PeerLink::accept(stream, &b, &a.verifying_key().to_bytes(), CHANNEL).await
        };
        let (_, accepted) = tokio::join!(garbage, accept);
        assert!(accepted.is_err());
    });
}

#[test]
fn a_recorded_session_cannot_be_replayed() {
    runtime().block_on(async {
        let (a, b) = keys();
        let (a_pub, b_pub) = (a.verifying_key().to_bytes(), b.verifying_key().to_bytes());
        // Record what A sends through a relay during a real session.
        let server = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let relay = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (server_address, relay_address) = (
            server.local_addr().expect("address"),
            relay.local_addr().expect("address"),
        );
        let recording = async {
            let (mut from_a, _) = relay.accept().await.expect("accept");
            let mut to_b = TcpStream::connect(server_address).await.expect("connect");
            let (mut a_read, mut a_write) = from_a.split();
            let (mut b_read, mut b_write) = to_b.split();
            let mut recorded = Vec::new();
            let a_to_b = async {
                let mut buffer = [0u8; 4096];
                loop {
                    let n = a_read.read(&mut buffer).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    recorded.extend_from_slice(&buffer[..n]);
                    if b_write.write_all(&buffer[..n]).await.is_err() {
                        break;
                    }
                }
            };
            let b_to_a = tokio::io::copy(&mut b_read, &mut a_write);
            let _ = tokio::time::timeout(Duration::from_secs(2), async {
                tokio::join!(a_to_b, b_to_a)
            })
            .await;
            recorded
        };
        let session = async {
            let accept = async {
                let (stream, _) = server.accept().await.expect("accept");
                PeerLink::accept(stream, &b, &a_pub, CHANNEL).await
            };
            let dial = PeerLink::connect(relay_address, &a, &b_pub, CHANNEL);
            let (dialed, accepted) = tokio::join!(dial, accept);
            let (mut dialed, mut accepted) = (dialed.expect("A"), accepted.expect("B"));
            dialed.send(big_proposal()).await.expect("send");
            accepted.recv().await.expect("recv");
        };
        let (recorded, ()) = tokio::join!(recording, session);
        assert!(!recorded.is_empty());

        // Replaying A's bytes to B gets nowhere: B's new ephemeral key changes everything.
        let replay = async {
            let mut raw = TcpStream::connect(server_address).await.expect("connect");
            let _ = raw.write_all(&recorded).await;
        };
        let accept = async {
            let (stream, _) = server.accept().await.expect("accept");
            PeerLink::accept(stream, &b, &a_pub, CHANNEL).await
        };
        let (_, accepted) = tokio::join!(replay, accept);
        assert!(accepted.is_err(), "a replayed session was accepted");
    });
}

#[test]
fn oversized_malformed_foreign_or_future_messages_close_the_link_with_a_reason() {
    runtime().block_on(async {
        let valid = Envelope {
            version: PROTOCOL_VERSION,
            channel: CHANNEL,
            message: PeerMessage::Reject {
                seq: 1,
                log_root: [0; 32],
                reason: RejectReason::Invalid,
            },
        }
        .encode();
        let framed = |body: &[u8]| {
            let mut plaintext = (body.len() as u32).to_be_bytes().to_vec();
            plaintext.extend_from_slice(body);
            plaintext
        };
        let mut foreign = valid.clone();
        foreign[1] ^= 1; // another channel
        let mut future = valid.clone();
        future[0] = PROTOCOL_VERSION + 1;
        type IsExpected = fn(&TransportError) -> bool;
        let cases: Vec<(Vec<u8>, IsExpected)> = vec![
            ((MAX_MESSAGE_LEN as u32 + 1).to_be_bytes().to_vec(), |e| {
                matches!(e, TransportError::FrameTooLarge(_))
            }),
            (framed(&[PROTOCOL_VERSION, 0xFF, 0xFF]), |e| {
                matches!(e, TransportError::Malformed(_))
            }),
            (framed(&foreign), |e| {
                matches!(e, TransportError::WrongChannel)
            }),
            (framed(&future), |e| matches!(e, TransportError::Version(_))),
        ];
        for (plaintext, expected) in cases {
            let (mut a, mut b) = pair().await;
            a.send_plaintext(&plaintext).await.expect("send");
            let error = b.recv().await.expect_err("refused");
            assert!(expected(&error), "{error}");
        }
        let (mut a, mut b) = pair().await;
        a.send_plaintext(&framed(&valid)).await.expect("send");
        assert!(
            b.recv().await.is_ok(),
            "the well-formed control case is accepted"
        );
    });
}

#[test]
fn keepalives_are_invisible_and_a_silent_peer_is_given_up() {
    runtime().block_on(async {
        let (mut a, mut b) = pair().await;
        for _ in 0..3 {
            a.keepalive().await.expect("keepalive");
        }
        a.send(small_accept()).await.expect("send");
        assert_eq!(
            b.recv().await.expect("the message after the keepalives"),
            small_accept()
        );

        // Then A says nothing at all: B gives up after its idle timeout.
        let patience = Duration::from_millis(200);
        b.set_idle_timeout(patience);
        assert!(matches!(b.recv().await, Err(TransportError::Idle(d)) if d == patience));
    });
}

#[test]
fn a_keepalive_with_a_body_is_malformed() {
    runtime().block_on(async {
        let (mut a, mut b) = pair().await;
        a.send_plaintext(&[0, 0, 0, 0, 7]).await.expect("send");
        assert!(matches!(b.recv().await, Err(TransportError::Malformed(_))));
    });
}

fn hello() -> PeerMessage {
    PeerMessage::Hello {
        newest: None,
        pending: None,
    }
}

/// A resync costs the answering side a full reply: a peer says Hello once per session, and a
/// second one ends the link.
#[test]
fn a_second_hello_in_one_session_ends_the_link() {
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime(), async {
        let (mut a, b) = pair().await;
        let mut session = crate::peer::Session::start(b);
        a.send(hello()).await.expect("send");
        a.send(hello()).await.expect("send");
        assert!(matches!(
            session.next().await,
            Ok(PeerMessage::Hello { .. })
        ));
        assert!(matches!(
            session.next().await,
            Err(TransportError::RepeatedHello)
        ));
    });
}

/// A peer that stops reading fills the session's queue: sending reports it at once instead of
/// waiting on the peer.
#[test]
fn a_peer_that_stops_reading_is_reported_stalled() {
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime(), async {
        let (_a, b) = pair().await; // A never reads
        let mut session = crate::peer::Session::start(b);
        let mut sent = 0;
        let stalled = loop {
            match session.send_all(vec![big_proposal()]) {
                Ok(()) => sent += 1,
                Err(e) => break e,
            }
            assert!(sent < 100_000, "the session never reported the stall");
            tokio::task::yield_now().await;
        };
        assert!(
            matches!(
                stalled,
                TransportError::Stalled(_) | TransportError::WriteTimeout(_)
            ),
            "{stalled:?}"
        );
    });
}

/// The same links over a WebSocket (what a browser dials): a connected pair (A dialed, B
/// accepted after the upgrade).
mod over_websocket {
    use super::*;

    async fn listener() -> (TcpListener, String) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("ws://{}/", listener.local_addr().expect("address"));
        (listener, url)
    }

    async fn accept_one(
        listener: &TcpListener,
        me: &SigningKey,
        peer: [u8; 32],
    ) -> Result<PeerLink, TransportError> {
        let (stream, _) = listener.accept().await.expect("accept");
        let stream = websocket::accept(stream).await?;
        PeerLink::accept_any(stream, me, |c| (*c == CHANNEL).then_some(peer)).await
    }

    #[test]
    fn messages_flow_both_ways_including_a_full_round() {
        runtime().block_on(async {
            let (a, b) = keys();
            let (listener, url) = listener().await;
            let b_pub = b.verifying_key().to_bytes();
            let dial = async {
                let stream = websocket::connect(&url).await?;
                PeerLink::dial_over(stream, &a, &b_pub, CHANNEL).await
            };
            let accept = accept_one(&listener, &b, a.verifying_key().to_bytes());
            let (dialed, accepted) = tokio::join!(dial, accept);
            let (mut a_link, mut b_link) = (dialed.expect("A"), accepted.expect("B"));
            a_link.send(big_proposal()).await.expect("send");
            assert_eq!(b_link.recv().await.expect("recv"), big_proposal());
            b_link.send(small_accept()).await.expect("send");
            assert_eq!(a_link.recv().await.expect("recv"), small_accept());
        });
    }

    #[test]
    fn a_peer_with_another_key_is_refused() {
        runtime().block_on(async {
            let (a, b) = keys();
            let impostor = SigningKey::from_bytes(&[3; 32]);
            let (listener, url) = listener().await;
            let b_pub = b.verifying_key().to_bytes();
            let dial = async {
                let stream = websocket::connect(&url).await?;
                PeerLink::dial_over(stream, &impostor, &b_pub, CHANNEL).await
            };
            let accept = accept_one(&listener, &b, a.verifying_key().to_bytes());
            let (_, accepted) = tokio::join!(dial, accept);
            assert!(
                matches!(accepted, Err(TransportError::WrongPeer)),
                "{accepted:?}"
            );
        });
    }

    #[test]
    fn garbage_text_or_a_plain_socket_are_refused() {
        use futures_util::SinkExt;
        use tokio_tungstenite::tungstenite::Message;
        runtime().block_on(async {
            let (a, b) = keys();
            let a_pub = a.verifying_key().to_bytes();
            let (listener, url) = listener().await;
            // Random bytes after the upgrade, then text: neither is a handshake
            for message in [Message::Binary(vec![0, 40, 0xAB, 0xCD].into()), Message::text("hello")] {
                let hostile = async {
                    let stream = TcpStream::connect(url.trim_start_matches("ws://").trim_end_matches('/'))
                        .await
                        .expect("connect");
                    let (mut socket, _) = tokio_tungstenite::client_async(url.as_str(), stream)
                        .await
                        .expect("upgrade");
                    let _ = socket.send(message).await;
                    let _ = socket.close(None).await;
                };
                let (_, accepted) = tokio::join!(hostile, accept_one(&listener, &b, a_pub));
                assert!(accepted.is_err(), "{accepted:?}");
            }
            // A client that never upgrades (the link's TCP bytes straight away)
            let plain = async {
                let b_pub = b.verifying_key().to_bytes();
                let address = url.trim_start_matches("ws://").trim_end_matches('/').to_string();
                PeerLink::connect(address, &a, &b_pub, CHANNEL).await
            };
            let (_, accepted) = tokio::join!(plain, accept_one(&listener, &b, a_pub));
            assert!(
                matches!(&accepted, Err(TransportError::Malformed(why)) if why.contains("WebSocket")),
                "{accepted:?}"
            );
        });
    }

    #[test]
    fn a_websocket_message_beyond_the_limit_ends_the_link() {
        use futures_util::SinkExt;
        use tokio_tungstenite::tungstenite::Message;
        runtime().block_on(async {
            let (a, b) = keys();
            let a_pub = a.verifying_key().to_bytes();
            let (listener, url) = listener().await;
            let hostile = async {
                let stream =
                    TcpStream::connect(url.trim_start_matches("ws://").trim_end_matches('/'))
                        .await
                        .expect("connect");
                let (mut socket, _) = tokio_tungstenite::client_async(url.as_str(), stream)
                    .await
                    .expect("upgrade");
                let _ = socket
                    .send(Message::Binary(vec![0u8; 200_000].into()))
                    .await;
            };
            let (_, accepted) = tokio::join!(hostile, accept_one(&listener, &b, a_pub));
            assert!(accepted.is_err(), "{accepted:?}");
        });
    }
}
