//! The `paychan` command line against a real solana-test-validator, a process per party: one
//! listens, the other connects and pays, then a cooperative close; a force-close and `watch`
//! until it finalizes; and two nodes paying both ways until one dies and `close --wait`
//! falls back to a unilateral close. Needs the validator and the built CLI
//! (target/debug/paychan); scripts/test.sh runs these then.

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Output, Stdio},
};

use paychan_interface::Address;
use paychan_node::ledger::Ledger;
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
        "build the CLI first: cargo build -p paychan-cli"
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

/// A validator with the program deployed, and two funded parties with keypair and store files.
struct Parties {
    chain: RpcChain,
    url: String,
    b: Keypair,
    a_key: String,
    b_key: String,
    a_store: String,
    b_store: String,
    _dir: tempfile::TempDir,
}

impl Parties {
    async fn start() -> Self {
        let chain = RpcChain::start().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = |name: &str| dir.path().join(name).to_str().expect("path").to_string();
        let (a, b) = (Keypair::new(), Keypair::new());
        for (key, file) in [(&a, path("a.json")), (&b, path("b.json"))] {
            write_keypair_file(key, &file).expect("write");
            chain.validator.airdrop(&key.pubkey(), 10 * SOL).await;
        }
        Self {
            url: chain.validator.url.clone(),
            a_key: path("a.json"),
            b_key: path("b.json"),
            a_store: path("a.redb"),
            b_store: path("b.redb"),
            chain,
            b,
            _dir: dir,
        }
    }

    /// A opens a 2 SOL channel to B with a 4-second window; returns its address.
    fn open(&self) -> String {
        let opened = run(&[
            "open",
            "--peer",
            &self.b.pubkey().to_string(),
            "--deposit",
            "2",
            "--period",
            "4",
            "--allow-short-period",
            "-u",
            &self.url,
            "-k",
            &self.a_key,
            "--output",
            "json",
        ]);
        let json: serde_json::Value = serde_json::from_slice(&opened.stdout).expect("json");
        json["channel"].as_str().expect("channel").to_string()
    }

    /// B listens for A on a free port; returns the process and the address to dial.
    fn listen(&self, channel: &str) -> (Child, String) {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let bind = format!("127.0.0.1:{port}");
        let mut listener = Command::new(cli())
            .args(self.as_party(
                &self.b_key,
                &self.b_store,
                &["listen", channel, "--bind", &bind],
            ))
            .stderr(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("listen starts");
        let mut line = String::new();
        BufReader::new(listener.stderr.take().expect("stderr"))
            .read_line(&mut line)
            .expect("listening line");
        assert!(line.starts_with("listening on"), "{line}");
        (listener, bind)
    }

    /// A party's command line: `args` with the url, its keypair and its store, accepting the
    /// channel's 4-second window.
    fn as_party<'a>(&'a self, key: &'a str, store: &'a str, args: &[&'a str]) -> Vec<&'a str> {
        let mut all = args.to_vec();
        all.extend([
            "-u",
            &self.url,
            "-k",
            key,
            "--store",
            store,
            "--allow-short-period",
        ]);
        all
    }

    fn as_a<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        self.as_party(&self.a_key, &self.a_store, args)
    }

    /// Starts a party's node and waits until it runs `channel`; returns it and, for a
    /// listener, the address it listens on. Its API is found beside its store.
    fn node(&self, key: &str, store: &str, channel: &str, link: &[&str]) -> (Node, Option<String>) {
        let mut args = self.as_party(key, store, &["node"]);
        args.extend(link);
        args.extend([
            "--api",
            "127.0.0.1:0",
            "--interval-ms",
            "300",
            "--discover-ms",
            "300",
        ]);
        let mut child = Command::new(cli())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the node starts");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut listening = None;
        let running = format!("channel {channel} running");
        for line in lines.by_ref() {
            let line = line.expect("a line");
            if let Some(address) = line.strip_prefix("listening for peers on ") {
                listening = Some(address.to_string());
            } else if line.starts_with(&running) {
                break;
            }
        }
        // Keep draining stdout so the node never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        (Node(child), listening)
    }

    async fn b_balance(&self) -> u64 {
        self.chain
            .validator
            .ledger()
            .account(&self.b.pubkey())
            .await
            .expect("ledger")
            .expect("wallet")
            .lamports
    }

    /// Waits until the channel account is gone (a close sent by another process).
    async fn wait_closed(&self, channel: &str) {
        let address: Address = channel.parse().expect("address");
        let mut ledger = self.chain.validator.ledger();
        let started = std::time::Instant::now();
        while ledger.channel(&address).await.expect("ledger").is_some() {
            assert!(
                started.elapsed().as_secs() < 30,
                "the channel did not close"
            );
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }
}

#[test]
#[ignore = "needs solana-test-validator; scripts/test.sh runs it once scripts/setup-validator.sh built it"]
fn two_cli_processes_open_pay_and_close_over_a_validator() {
    paychan_tests::block_on(async {
        let p = Parties::start().await;
        let channel = p.open();
        run(&[
            "deposit",
            &channel,
            "--amount",
            "1",
            "-u",
            &p.url,
            "-k",
            &p.b_key,
            "--allow-short-period",
        ]);
        let (listener, bind) = p.listen(&channel);
        run(&p.as_a(&[
            "connect", &channel, "--peer", &bind, "--count", "100", "--amount", "0.001", "--close",
        ]));
        let listened = listener.wait_with_output().expect("listen ends");
        assert!(listened.status.success());

        // The close is countersigned and sent by the listener.
        p.wait_closed(&channel).await;
        // B: airdrop − 1 SOL deposit − its fee + the 1 SOL back + 0.1 SOL received (A, the
        // close's requester, paid its fees).
        assert_eq!(p.b_balance().await, 10 * SOL + SOL / 10 - 5_000);

        let history = run(&p.as_a(&["history", &channel]));
        let receipts = String::from_utf8_lossy(&history.stdout);
        assert_eq!(receipts.matches("pay 0.001 SOL").count(), 100);
    });
}

#[test]
#[ignore = "needs solana-test-validator; scripts/test.sh runs it once scripts/setup-validator.sh built it"]
fn force_close_then_watch_finalizes_over_a_validator() {
    paychan_tests::block_on(async {
        let p = Parties::start().await;
        let channel = p.open();
        // Ten payments over the link, no cooperative close.
        let (mut listener, bind) = p.listen(&channel);
        run(&p.as_a(&[
            "connect", &channel, "--peer", &bind, "--count", "10", "--amount", "0.01",
        ]));
        assert!(listener.wait().expect("listen ends").success());

        // B is gone; A registers its newest state and watches until it can finalize.
        let closed = run(&p.as_a(&["force-close", &channel]));
        assert!(String::from_utf8_lossy(&closed.stdout).contains("registered seq"));
        let watched = run(&p.as_a(&["watch", &channel, "--interval-ms", "500"]));
        assert!(String::from_utf8_lossy(&watched.stdout).contains("is closed"));
        p.wait_closed(&channel).await;
        // B was paid 0.1 SOL from A's 2 SOL deposit without taking part in the close.
        assert_eq!(p.b_balance().await, 10 * SOL + SOL / 10);
    });
}

/// A `paychan node` child for one party; killed when dropped.
struct Node(Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
#[ignore = "needs solana-test-validator; scripts/test.sh runs it once scripts/setup-validator.sh built it"]
fn nodes_pay_both_ways_then_close_falls_back_to_unilateral_over_a_validator() {
    paychan_tests::block_on(async {
        let p = Parties::start().await;
        let channel = p.open();
        let (b_node, b_address) =
            p.node(&p.b_key, &p.b_store, &channel, &["--listen", "127.0.0.1:0"]);
        let peer = format!("{}={}", p.b.pubkey(), b_address.expect("B listens"));
        let (_a_node, _) = p.node(&p.a_key, &p.a_store, &channel, &["--peer", &peer]);
        let pay = |key: &str, store: &str, count: &str, amount: &str| {
            run(&p.as_party(
                key,
                store,
                &["pay", &channel, "--amount", amount, "--count", count],
            ))
        };
        pay(&p.a_key, &p.a_store, "100", "0.001");
        let paid = pay(&p.b_key, &p.b_store, "5", "0.01");
        assert!(
            String::from_utf8_lossy(&paid.stdout).contains("A 1.95 SOL, B 0.05 SOL"),
            "{}",
            String::from_utf8_lossy(&paid.stdout)
        );

        // B goes away: A's close gets no answer, registers the newest state and waits out the
        // 4-second window on the validator's own clock.
        drop(b_node);
        let closed = run(&p.as_a(&["close", &channel, "--timeout", "1", "--wait"]));
        let out = String::from_utf8_lossy(&closed.stdout);
        assert!(
            out.contains("unilaterally") && out.contains("paid out"),
            "{out}"
        );
        p.wait_closed(&channel).await;
        // B got its 0.05 SOL net without taking part in the close.
        assert_eq!(p.b_balance().await, 10 * SOL + SOL / 20);
    });
}
