//! The embedded ledger over JSON-RPC, as `RpcClient` and a hostile client see it: program
//! errors come back decoded and move nothing, blockhashes live for 150 slots, duplicates are
//! refused, the clock moves only when told, and bad requests get errors without stopping it.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
};

use paychan_client::{
    ledger::{sign_and_submit, Ledger, LedgerError, RpcLedger},
    ledger_server::{spawn, EmbeddedLedger, RECENT_BLOCKHASHES},
};
use paychan_interface::{
    client::{self, ChannelAddress},
    error::PaychanError,
};
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
        &post(r#"{"jsonrpc":"2.0","id":1,"method":"getBlock","params":[1]}"#),
    );
    assert!(
        unknown.contains("-32601") && unknown.contains("getBlock"),
        "{unknown}"
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
