//! The `paychan` command line against a real solana-test-validator: two processes open a
//! channel, one listens, the other connects, pays 100 times and closes cooperatively.
//! Needs the validator and the built CLI (target/debug/paychan); scripts/test.sh runs it then.

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Command, Output, Stdio},
};

use paychan_client::ledger::Ledger;
use paychan_tests::{chain::RpcChain, SOL};
use solana_keypair::{write_keypair_file, Keypair};
use solana_program_test::tokio;
use solana_signer::Signer;

fn cli() -> PathBuf {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/debug/paychan"
    ));
    assert!(
        path.exists(),
        "build the CLI first: cargo build -p paychan-client --bin paychan"
    );
    path
}

fn run(args: &[&str]) -> Output {
    let output = Command::new(cli())
        .args(args)
        .output()
        .expect("the CLI runs");
    assert!(
        output.status.success(),
        "paychan {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
#[ignore = "needs solana-test-validator; scripts/test.sh runs it once scripts/setup-validator.sh built it"]
fn two_cli_processes_open_pay_and_close_over_a_validator() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let chain = RpcChain::start().await;
        let url = chain.validator.url.clone();
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b) = (Keypair::new(), Keypair::new());
        let (a_file, b_file) = (dir.path().join("a.json"), dir.path().join("b.json"));
        write_keypair_file(&a, &a_file).expect("write");
        write_keypair_file(&b, &b_file).expect("write");
        for key in [&a, &b] {
            chain.validator.airdrop(&key.pubkey(), 10 * SOL).await;
        }
        let (a_key, b_key) = (
            a_file.to_str().expect("path"),
            b_file.to_str().expect("path"),
        );
        let (a_store, b_store) = (dir.path().join("a.redb"), dir.path().join("b.redb"));
        let (a_store, b_store) = (
            a_store.to_str().expect("path"),
            b_store.to_str().expect("path"),
        );
        let b_pub = b.pubkey().to_string();

        let opened = run(&[
            "open",
            "--peer",
            &b_pub,
            "--deposit",
            "2",
            "--period",
            "4",
            "--allow-short-period",
            "-u",
            &url,
            "-k",
            a_key,
            "--output",
            "json",
        ]);
        let json: serde_json::Value = serde_json::from_slice(&opened.stdout).expect("json");
        let channel = json["channel"].as_str().expect("channel").to_string();
        run(&[
            "deposit", &channel, "--amount", "1", "-u", &url, "-k", b_key,
        ]);

        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let bind = format!("127.0.0.1:{port}");
        let mut listener = Command::new(cli())
            .args([
                "listen", &channel, "--bind", &bind, "-u", &url, "-k", b_key, "--store", b_store,
            ])
            .stderr(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("listen starts");
        let mut line = String::new();
        BufReader::new(listener.stderr.take().expect("stderr"))
            .read_line(&mut line)
            .expect("listening line");
        assert!(line.starts_with("listening on"), "{line}");

        run(&[
            "connect", &channel, "--peer", &bind, "--count", "100", "--amount", "0.001", "--close",
            "-u", &url, "-k", a_key, "--store", a_store,
        ]);
        let listened = listener.wait_with_output().expect("listen ends");
        assert!(listened.status.success());

        let mut ledger = chain.validator.ledger();
        let address: paychan_interface::Address = channel.parse().expect("address");
        // The close is countersigned and sent by the listener; wait for it to be visible.
        let started = std::time::Instant::now();
        while ledger.channel(&address).await.expect("ledger").is_some() {
            assert!(
                started.elapsed().as_secs() < 30,
                "the channel did not close"
            );
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        let b_balance = ledger
            .account(&b.pubkey())
            .await
            .expect("ledger")
            .expect("wallet")
            .lamports;
        // B: airdrop − 1 SOL deposit − its fee + the 1 SOL back + 0.1 SOL received (A, the
        // close's requester, paid its fees).
        assert_eq!(b_balance, 10 * SOL + SOL / 10 - 5_000);

        let history = run(&["history", &channel, "-k", a_key, "--store", a_store]);
        let receipts = String::from_utf8_lossy(&history.stdout);
        assert_eq!(receipts.matches("pay 0.001 SOL").count(), 100);
    });
}

#[test]
#[ignore = "needs solana-test-validator; scripts/test.sh runs it once scripts/setup-validator.sh built it"]
fn force_close_then_watch_finalizes_over_a_validator() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let chain = RpcChain::start().await;
        let url = chain.validator.url.clone();
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b) = (Keypair::new(), Keypair::new());
        let (a_file, b_file) = (dir.path().join("a.json"), dir.path().join("b.json"));
        write_keypair_file(&a, &a_file).expect("write");
        write_keypair_file(&b, &b_file).expect("write");
        for key in [&a, &b] {
            chain.validator.airdrop(&key.pubkey(), 10 * SOL).await;
        }
        let (a_key, b_key) = (
            a_file.to_str().expect("path"),
            b_file.to_str().expect("path"),
        );
        let (a_store, b_store) = (dir.path().join("a.redb"), dir.path().join("b.redb"));
        let (a_store, b_store) = (
            a_store.to_str().expect("path"),
            b_store.to_str().expect("path"),
        );
        let opened = run(&[
            "open",
            "--peer",
            &b.pubkey().to_string(),
            "--deposit",
            "2",
            "--period",
            "4",
            "--allow-short-period",
            "-u",
            &url,
            "-k",
            a_key,
            "--output",
            "json",
        ]);
        let json: serde_json::Value = serde_json::from_slice(&opened.stdout).expect("json");
        let channel = json["channel"].as_str().expect("channel").to_string();

        // Ten payments over the link, no cooperative close.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let bind = format!("127.0.0.1:{port}");
        let mut listener = Command::new(cli())
            .args([
                "listen", &channel, "--bind", &bind, "-u", &url, "-k", b_key, "--store", b_store,
            ])
            .stderr(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("listen starts");
        let mut line = String::new();
        BufReader::new(listener.stderr.take().expect("stderr"))
            .read_line(&mut line)
            .expect("listening line");
        run(&[
            "connect", &channel, "--peer", &bind, "--count", "10", "--amount", "0.01", "-u", &url,
            "-k", a_key, "--store", a_store,
        ]);
        assert!(listener.wait().expect("listen ends").success());

        // B is gone; A registers its newest state and watches until it can finalize.
        let closed = run(&[
            "force-close",
            &channel,
            "-u",
            &url,
            "-k",
            a_key,
            "--store",
            a_store,
        ]);
        assert!(String::from_utf8_lossy(&closed.stdout).contains("registered seq"));
        let watched = run(&[
            "watch",
            &channel,
            "--interval-ms",
            "500",
            "-u",
            &url,
            "-k",
            a_key,
            "--store",
            a_store,
        ]);
        assert!(String::from_utf8_lossy(&watched.stdout).contains("is closed"));
        let address: paychan_interface::Address = channel.parse().expect("address");
        let mut ledger = chain.validator.ledger();
        assert!(ledger.channel(&address).await.expect("ledger").is_none());
        // B was paid 0.1 SOL from A's 2 SOL deposit without taking part in the close.
        let b_balance = ledger
            .account(&b.pubkey())
            .await
            .expect("ledger")
            .expect("wallet")
            .lamports;
        assert_eq!(b_balance, 10 * SOL + SOL / 10);
    });
}
