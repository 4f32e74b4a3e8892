//! The embedded ledger over JSON-RPC, as `RpcClient` and a hostile client see it: program
//! errors come back decoded and move nothing, blockhashes live for 150 slots, duplicates are
//! refused, the clock moves only when told, and bad requests get errors without stopping it.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
};

use paychan_interface::{
    client::{self, ChannelAddress},
    error::PaychanError,
};
use paychan_ledger_server::{spawn, EmbeddedLedger, RECENT_BLOCKHASHES};
use paychan_node::ledger::{sign_and_submit, Ledger, LedgerError, RpcLedger};
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction::Transaction;

const PROGRAM: &str = concat!(env!("SBF_OUT_DIR"), "/paychan.so");
const START: i64 = 1_700_000_000;

fn start() -> (SocketAddr, RpcLedger) {
    let program = std::fs::read(PROGRAM).expect("run scripts/build-sbf.sh first");
    let ledger = EmbeddedLedger::new(paychan_interface::ID, &program)
        .expect("program loads")
        .with_manual_clock(START);
    let address = spawn(ledger, ([127, 0, 0, 1], 0).into()).expect("serves");
    (address, RpcLedger::new(format!("http://{address}")))
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

async fn funded(ledger: &RpcLedger) -> Keypair {
    let key = Keypair::new();
    ledger
        .airdrop(&key.pubkey(), 1_000_000_000)
        .await
        .expect("airdrop");
    key
}

async fn balance(ledger: &mut RpcLedger, key: &Keypair) -> u64 {
    ledger
        .account(&key.pubkey())
        .await
        .expect("ledger")
        .map_or(0, |a| a.lamports)
}

#[test]
fn a_refused_transaction_comes_back_as_the_program_error_and_moves_nothing() {
    block_on(async {
        let (_, mut ledger) = start();
        let alice = funded(&ledger).await;
        let channel =
            ChannelAddress::new_random(&paychan_interface::ID, &alice.pubkey(), &alice.pubkey());
        let error = sign_and_submit(&mut ledger, &[client::open(&channel, 1, 86_400)], &[&alice])
            .await
            .expect_err("a channel with oneself");
        assert_eq!(error.paychan_error(), Some(PaychanError::PartiesEqual));
        // Like a failed preflight: no fee, no account.
        assert_eq!(balance(&mut ledger, &alice).await, 1_000_000_000);
        assert!(ledger
            .channel(&channel.address)
            .await
            .expect("ledger")
            .is_none());
    });
}

#[test]
fn blockhashes_stay_valid_for_150_slots_and_duplicates_are_refused() {
    block_on(async {
        let (_, mut ledger) = start();
        let alice = funded(&ledger).await;
        let bob = Keypair::new();
        let transfer = |blockhash| {
            Transaction::new_signed_with_payer(
                &[solana_system_interface::instruction::transfer(
                    &alice.pubkey(),
                    &bob.pubkey(),
                    1_000_000,
                )],
                Some(&alice.pubkey()),
                &[&alice],
                blockhash,
            )
        };
        let old = ledger.latest_blockhash().await.expect("blockhash");
        for _ in 1..RECENT_BLOCKHASHES {
            ledger.latest_blockhash().await.expect("blockhash");
        }
        // Another client took 149 newer blockhashes: the old one still lands, once.
        ledger.submit(transfer(old)).await.expect("still valid");
        let duplicate = ledger.submit(transfer(old)).await.expect_err("duplicate");
        assert!(
            matches!(
                duplicate,
                LedgerError::Transaction(
                    solana_transaction_error::TransactionError::AlreadyProcessed
                )
            ),
            "{duplicate}"
        );
        ledger.latest_blockhash().await.expect("blockhash");
        let expired = ledger.submit(transfer(old)).await.expect_err("expired");
        assert!(
            matches!(
                expired,
                LedgerError::Transaction(
                    solana_transaction_error::TransactionError::BlockhashNotFound
                )
            ),
            "{expired}"
        );
        assert_eq!(balance(&mut ledger, &bob).await, 1_000_000);
    });
}

#[test]
fn the_manual_clock_moves_only_with_warp() {
    block_on(async {
        let (_, mut ledger) = start();
        assert_eq!(ledger.unix_timestamp().await.expect("clock"), START);
        ledger.latest_blockhash().await.expect("a new slot");
        assert_eq!(ledger.unix_timestamp().await.expect("clock"), START);
        assert_eq!(
            ledger.warp_clock(86_400).await.expect("warp"),
            START + 86_400
        );
        assert_eq!(
            ledger.unix_timestamp().await.expect("clock"),
            START + 86_400
        );
    });
}

/// One raw HTTP exchange; returns the response.
fn raw(address: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(address).expect("connect");
    // The server may answer a malformed request and close before it has read all of it.
    let _ = stream.write_all(request);
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    String::from_utf8_lossy(&response).into_owned()
}

fn post(body: &str) -> Vec<u8> {
    format!(
        "POST / HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[test]
fn bad_requests_get_errors_and_the_ledger_keeps_serving() {
    let (address, ledger) = start();
    assert!(raw(address, b"GET / HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 400"));
    assert!(raw(
        address,
        b"POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n"
    )
    .contains("body too large"));
    assert!(raw(address, &[0xff; 20_000]).starts_with("HTTP/1.1 400"));
    assert!(raw(address, &post("{not json")).contains("-32700"));
    let unknown = raw(
        address,
        &post(r#"{"jsonrpc":"2.0","id":1,"method":"getLeaderSchedule","params":[]}"#),
    );
    assert!(
        unknown.contains("-32601") && unknown.contains("getLeaderSchedule"),
        "{unknown}"
    );
    // A page on another origin: the preflight is answered, and every answer allows it.
    let preflight = raw(
        address,
        b"OPTIONS / HTTP/1.1\r\nOrigin: http://127.0.0.1:5173\r\nAccess-Control-Request-Method: POST\r\n\r\n",
    );
    assert!(
        preflight.starts_with("HTTP/1.1 204")
            && preflight.contains("Access-Control-Allow-Methods: POST"),
        "{preflight}"
    );
    let block = raw(
        address,
        &post(r#"{"jsonrpc":"2.0","id":1,"method":"getBlock","params":[1]}"#),
    );
    assert!(
        block.contains("Access-Control-Allow-Origin: *") && block.contains("\"parentSlot\":0"),
        "{block}"
    );
    let bad = raw(
        address,
        &post(r#"{"jsonrpc":"2.0","id":2,"method":"getAccountInfo","params":["nope"]}"#),
    );
    assert!(
        bad.contains("-32602") && bad.contains("invalid address"),
        "{bad}"
    );
    let bad = raw(
        address,
        &post(
            r#"{"jsonrpc":"2.0","id":3,"method":"sendTransaction","params":["!!", {"encoding":"base64"}]}"#,
        ),
    );
    assert!(
        bad.contains("-32602") && bad.contains("not valid base64"),
        "{bad}"
    );
    // A batch is answered item by item.
    let batch = raw(
        address,
        &post(
            r#"[{"jsonrpc":"2.0","id":4,"method":"getHealth"},{"jsonrpc":"2.0","id":5,"method":"getSlot"}]"#,
        ),
    );
    assert!(
        batch.contains(r#""id":4"#) && batch.contains(r#""id":5"#),
        "{batch}"
    );
    block_on(async {
        assert_eq!(ledger.client().get_health().await.ok(), Some(()));
    });
}

/// The PubSub websocket on the next port, as web3.js uses it to confirm transactions: a
/// signature subscription is notified once the transaction has landed (at once if it already
/// has), an account subscription whenever the account changes, a slot subscription when the
/// slot moves.
#[test]
fn the_websocket_notifies_signatures_accounts_and_slots() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let (address, mut ledger) = start();
    block_on(async {
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", address.port() + 1))
            .await
            .expect("the websocket port answers");
        let (mut socket, _) = tokio_tungstenite::client_async(
            format!("ws://127.0.0.1:{}", address.port() + 1),
            stream,
        )
        .await
        .expect("websocket handshake");
        let payer = funded(&ledger).await;
        let recipient = Keypair::new();
        socket.send(Message::text(format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"accountSubscribe","params":["{}",{{"encoding":"base64"}}]}}"#,
            recipient.pubkey()
        ))).await.expect("sent");
        socket
            .send(Message::text(
                r#"{"jsonrpc":"2.0","id":2,"method":"slotSubscribe"}"#,
            ))
            .await
            .expect("sent");

        // Both subscriptions are in place before anything changes.
        for _ in 0..2 {
            let reply = tokio::time::timeout(std::time::Duration::from_secs(30), socket.next())
                .await
                .expect("a reply in time")
                .expect("open")
                .expect("a message");
            assert!(
                reply.to_text().expect("text").contains("\"result\""),
                "{reply}"
            );
        }
        let transfer = solana_system_interface::instruction::transfer(
            &payer.pubkey(),
            &recipient.pubkey(),
            5_000_000,
        );
        let blockhash = ledger.latest_blockhash().await.expect("blockhash");
        let transaction = Transaction::new_signed_with_payer(
            &[transfer],
            Some(&payer.pubkey()),
            &[&payer],
            blockhash,
        );
        let signature = transaction.signatures[0];
        ledger.submit(transaction).await.expect("transfer lands");
        socket.send(Message::text(format!(
            r#"{{"jsonrpc":"2.0","id":3,"method":"signatureSubscribe","params":["{signature}",{{"commitment":"confirmed"}}]}}"#
        ))).await.expect("sent");

        let (mut account, mut slot, mut confirmed) = (None, false, false);
        while account.is_none() || !slot || !confirmed {
            let message = tokio::time::timeout(std::time::Duration::from_secs(30), socket.next())
                .await
                .expect("a notification in time")
                .expect("open")
                .expect("a message");
            let value: serde_json::Value =
                serde_json::from_str(message.to_text().expect("text")).expect("json");
            match value["method"].as_str() {
                Some("accountNotification") => {
                    account = value["params"]["result"]["value"]["lamports"].as_u64()
                }
                Some("slotNotification") => slot = true,
                Some("signatureNotification") => {
                    assert_eq!(
                        value["params"]["result"]["value"]["err"],
                        serde_json::Value::Null
                    );
                    confirmed = true;
                }
                _ => assert!(value.get("result").is_some(), "a subscription id: {value}"),
            }
        }
        assert_eq!(account, Some(5_000_000));
    });
}
