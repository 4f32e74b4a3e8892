//! The validator's PubSub websocket, served beside the JSON-RPC port (on port + 1, as
//! `solana-test-validator` does), so `@solana/web3.js`' `confirmTransaction` and
//! `sendAndConfirmTransaction`, and account or slot listeners, work against `paychan ledger`.
//!
//! `signatureSubscribe`, `accountSubscribe` and `slotSubscribe` (and their unsubscribes).
//! The ledger's revision moves when a transaction lands or the slot moves; on each move a
//! connection re-checks its subscriptions and notifies what changed. Notification shapes are the validator's; account
//! values come from the same code as `getAccountInfo`.

use std::{cell::RefCell, collections::HashMap, rc::Rc};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use solana_signature::Signature;
use tokio::{net::TcpListener, sync::watch};
use tokio_tungstenite::tungstenite::Message;

use super::{methods, state::EmbeddedLedger};

/// What one connection listens to, by subscription id.
enum Subscription {
    /// Once: notified when the transaction has landed, then dropped.
    Signature(Signature),
    /// The account's value (as `getAccountInfo` gives it) whenever it changes.
    Account {
        request: Value,
        last: Value,
    },
    Slot {
        last: u64,
    },
}

/// Serves the websocket on `listener` until dropped; `changes` follows the ledger's revision.
pub async fn serve(
    listener: TcpListener,
    ledger: Rc<RefCell<EmbeddedLedger>>,
    changes: watch::Receiver<(u64, usize)>,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        let (ledger, changes) = (ledger.clone(), changes.clone());
        tokio::task::spawn_local(async move {
            if let Ok(socket) = tokio_tungstenite::accept_async(stream).await {
                connection(socket, ledger, changes).await;
            }
        });
    }
}

async fn connection(
    socket: tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
    ledger: Rc<RefCell<EmbeddedLedger>>,
    mut changes: watch::Receiver<(u64, usize)>,
) {
    let (mut sink, mut stream) = socket.split();
    let mut subscriptions: HashMap<u64, Subscription> = HashMap::new();
    let mut next_id = 0u64;
    loop {
        let outgoing = tokio::select! {
            message = stream.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    let mut ledger = ledger.borrow_mut();
                    let mut out = vec![request(&mut ledger, &text, &mut subscriptions, &mut next_id)];
                    out.extend(notifications(&mut ledger, &mut subscriptions));
                    out
                }
                Some(Ok(Message::Ping(data))) => {
                    if sink.send(Message::Pong(data)).await.is_err() {
                        return;
                    }
                    continue;
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return,
            },
            changed = changes.changed() => {
                if changed.is_err() {
                    return;
                }
                notifications(&mut ledger.borrow_mut(), &mut subscriptions)
            }
        };
        for message in outgoing {
            if sink.send(Message::text(message.to_string())).await.is_err() {
                return;
            }
        }
    }
}

/// Answers one subscribe or unsubscribe request.
fn request(
    ledger: &mut EmbeddedLedger,
    text: &str,
    subscriptions: &mut HashMap<u64, Subscription>,
    next_id: &mut u64,
) -> Value {
    let Ok(request) = serde_json::from_str::<Value>(text) else {
        return json!({"jsonrpc": "2.0", "id": null,
                      "error": {"code": -32700, "message": "Parse error"}});
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let params = request.get("params").cloned().unwrap_or(json!([]));
    let first = params.get(0).cloned().unwrap_or(Value::Null);
    let method = request.get("method").and_then(Value::as_str).unwrap_or("");
    let subscription = match method {
        "signatureSubscribe" => first
            .as_str()
            .and_then(|s| s.parse().ok())
            .map(Subscription::Signature),
        "accountSubscribe" => first.as_str().map(|address| {
            let config = params.get(1).cloned().unwrap_or(json!({}));
            let encoding = config.get("encoding").cloned().unwrap_or(json!("base64"));
            let request = json!({"jsonrpc": "2.0", "id": 0, "method": "getAccountInfo",
                                 "params": [address, {"encoding": encoding}]});
            let last = account_value(ledger, &request);
            Subscription::Account { request, last }
        }),
        "slotSubscribe" => Some(Subscription::Slot {
            last: ledger.slot(),
        }),
        unsubscribe if unsubscribe.ends_with("Unsubscribe") => {
            let removed = first
                .as_u64()
                .is_some_and(|sub| subscriptions.remove(&sub).is_some());
            return json!({"jsonrpc": "2.0", "id": id, "result": removed});
        }
        other => {
            return json!({"jsonrpc": "2.0", "id": id,
                          "error": {"code": -32601, "message": format!("Method not found: {other}")}});
        }
    };
    match subscription {
        Some(subscription) => {
            *next_id += 1;
            subscriptions.insert(*next_id, subscription);
            json!({"jsonrpc": "2.0", "id": id, "result": *next_id})
        }
        None => json!({"jsonrpc": "2.0", "id": id,
                       "error": {"code": -32602, "message": "Invalid params"}}),
    }
}

/// What the subscriptions have to say since they last spoke.
fn notifications(
    ledger: &mut EmbeddedLedger,
    subscriptions: &mut HashMap<u64, Subscription>,
) -> Vec<Value> {
    let slot = ledger.slot();
    let mut out = Vec::new();
    let mut done = Vec::new();
    for (id, subscription) in subscriptions.iter_mut() {
        let (method, result) = match subscription {
            Subscription::Signature(signature) => match ledger.landed(signature) {
                Some(landed) => {
                    done.push(*id);
                    let (err, _) = methods::outcome(&landed.err);
                    (
                        "signatureNotification",
                        json!({"context": {"slot": landed.slot}, "value": {"err": err}}),
                    )
                }
                None => continue,
            },
            Subscription::Account { request, last } => {
                let value = account_value(ledger, request);
                if value == *last {
                    continue;
                }
                *last = value.clone();
                (
                    "accountNotification",
                    json!({"context": {"slot": slot}, "value": value}),
                )
            }
            Subscription::Slot { last } => {
                if slot == *last {
                    continue;
                }
                *last = slot;
                (
                    "slotNotification",
                    json!({"parent": slot.saturating_sub(1), "root": slot, "slot": slot}),
                )
            }
        };
        out.push(json!({"jsonrpc": "2.0", "method": method,
                        "params": {"result": result, "subscription": id}}));
    }
    for id in done {
        subscriptions.remove(&id);
    }
    out
}

/// The account as `getAccountInfo` answers it (null if it does not exist).
fn account_value(ledger: &mut EmbeddedLedger, request: &Value) -> Value {
    let answer = methods::handle(ledger, request.to_string().as_bytes());
    serde_json::from_slice::<Value>(&answer)
        .ok()
        .and_then(|v| v.pointer("/result/value").cloned())
        .unwrap_or(Value::Null)
}
