//! Driving the real `paychan` binary: an embedded ledger process with a manual clock, parties
//! with their own HOME (keypair, store, the node's API token), nodes as child processes. Every
//! wait is bounded; nothing waits for time to pass (the clock moves with `paychan warp`).

#![allow(dead_code)] // each test file uses its own part

pub mod payers;

use std::{
    io::{BufRead, BufReader, Lines},
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

pub const SOL: u64 = 1_000_000_000;
pub const FEE: u64 = 5_000;

pub fn paychan() -> Command {
    Command::new(env!("CARGO_BIN_EXE_paychan"))
}

/// Waits for a child to exit, at most `limit`.
pub fn exit_within(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        assert!(
            started.elapsed() < limit,
            "the process did not exit within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Reads lines (of stdout or stderr) until one starts with `prefix` (the reads block, so a
/// process that hangs without output is caught by the test harness's own timeout).
pub fn line_starting<R: std::io::BufRead>(lines: &mut Lines<R>, prefix: &str) -> String {
    for line in lines.by_ref() {
        let line = line.expect("output");
        if line.starts_with(prefix) {
            return line;
        }
    }
    panic!("the process ended before printing {prefix:?}");
}

/// `paychan ledger` on a free port, clock stopped at 1,700,000,000 until warped.
pub struct Ledger {
    child: Child,
    pub url: String,
}

impl Ledger {
    pub fn start() -> Self {
        Self::start_with("127.0.0.1:0", &[])
    }

    /// `paychan ledger` on `bind` with a manual clock and `extra` arguments.
    pub fn start_with(bind: &str, extra: &[&str]) -> Self {
        let mut child = paychan()
            .args(["ledger", "--bind", bind, "--manual-clock", "1700000000"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("paychan ledger starts");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let line = line_starting(&mut lines, "serving the embedded ledger on ");
        let url = line
            .trim_start_matches("serving the embedded ledger on ")
            .to_string();
        Self { child, url }
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One person: a HOME with a keypair at the default path, funded with 10 SOL.
pub struct Party {
    home: tempfile::TempDir,
    pub url: String,
    pub pubkey: String,
}

impl Party {
    pub fn new(ledger: &Ledger) -> Self {
        let home = tempfile::tempdir().expect("tempdir");
        let mut party = Self {
            home,
            url: ledger.url.clone(),
            pubkey: String::new(),
        };
        party.pubkey = party.ok(&["keygen"]).trim().to_string();
        party.ok(&["airdrop", "10"]);
        party
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// This party's wallet keypair (the file `keygen` wrote at the default path).
    pub fn keypair(&self) -> solana_keypair::Keypair {
        solana_keypair::read_keypair_file(self.home.path().join(".config/solana/id.json"))
            .expect("the party's keypair")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = paychan();
        command
            .env("HOME", self.home.path())
            .args(["-u", &self.url])
            .args(args);
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("paychan runs")
    }

    /// Runs a command that must succeed; returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "paychan {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("utf-8")
    }

    /// Runs a command that must fail the way a person can read: exit code 1 (2 for bad
    /// arguments), one line on stderr starting with "error: ", no panic. Returns that line.
    pub fn fails(&self, args: &[&str]) -> String {
        let output = self.run(args);
        let stderr = String::from_utf8(output.stderr).expect("utf-8");
        assert!(
            matches!(output.status.code(), Some(1 | 2)),
            "paychan {args:?}: {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(
            stderr.starts_with("error: ") && !stderr.contains("panicked"),
            "{stderr}"
        );
        stderr.trim_end().to_string()
    }

    /// Opens a channel to `peer` with `deposit` SOL; returns its address.
    pub fn open(&self, peer: &Party, deposit: &str) -> String {
        let out = self.ok(&[
            "open",
            "--peer",
            &peer.pubkey,
            "--deposit",
            deposit,
            "--output",
            "json",
        ]);
        let json: serde_json::Value = serde_json::from_str(&out).expect("json");
        json["channel"].as_str().expect("channel").to_string()
    }

    /// Starts `paychan node` with `extra` arguments (e.g. ["--listen", "127.0.0.1:0"]) and
    /// its API on a fresh port; returns once it runs.
    pub fn node(&self, extra: &[&str]) -> NodeProcess {
        let mut args = vec!["node", "--api", "127.0.0.1:0", "--discover-ms", "100"];
        if !extra.contains(&"--interval-ms") {
            args.extend(["--interval-ms", "100"]);
        }
        args.extend_from_slice(extra);
        // Its log goes to a file in HOME (read it when a test fails).
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.home.path().join("node.log"))
            .expect("log file");
        let mut child = self
            .command(&args)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("the node starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().expect("stdout");
        std::thread::spawn({
            let lines = Arc::clone(&lines);
            move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    lines.lock().expect("lines").push(line);
                }
            }
        });
        let mut node = NodeProcess {
            child,
            lines,
            listening: None,
            api: String::new(),
        };
        until("the node to start", || {
            if let Some(status) = node.child.try_wait().expect("try_wait") {
                panic!("the node exited ({status}): {}", self.node_log());
            }
            node.seen("running as ").is_some()
        });
        let api = node.line_starting("api on ");
        node.listening = node
            .seen("listening for peers on ")
            .map(|l| l.trim_start_matches("listening for peers on ").to_string());
        node.line_starting("running as ");
        node.api = api
            .trim_start_matches("api on ")
            .split(' ')
            .next()
            .expect("the API's address")
            .to_string();
        node
    }

    /// This party's node for `channel`, waiting until it runs the channel.
    pub fn node_running(&self, channel: &str, extra: &[&str]) -> NodeProcess {
        let node = self.node(extra);
        node.running(channel);
        node
    }

    /// The lamports in this party's wallet.
    pub fn balance(&self) -> u64 {
        let out = self.ok(&["balance", "--output", "json"]);
        let json: serde_json::Value = serde_json::from_str(&out).expect("json");
        json["lamports"].as_u64().expect("lamports")
    }

    /// This party's node listening on a fresh port, and `a`'s dialling it, each with its
    /// `extra` arguments, both running `channel`: (`a`'s node, this one's).
    pub fn linked_nodes(
        &self,
        a: &Party,
        channel: &str,
        extra_a: &[&str],
        extra_b: &[&str],
    ) -> (NodeProcess, NodeProcess) {
        let b_node = self.node_running(channel, &[&["--listen", "127.0.0.1:0"], extra_b].concat());
        let peer = format!(
            "{}={}",
            self.pubkey,
            b_node.listening.clone().expect("B listens")
        );
        let a_node = a.node_running(channel, &[&["--peer", peer.as_str()], extra_a].concat());
        (a_node, b_node)
    }

    pub fn node_log(&self) -> String {
        std::fs::read_to_string(self.home.path().join("node.log")).unwrap_or_default()
    }

    /// This party's store (default path): every channel of its key.
    pub fn store(&self) -> PathBuf {
        self.home
            .path()
            .join(".local/share/paychan")
            .join(&self.pubkey)
            .join("paychan.redb")
    }
}

/// A running `paychan node`: its stdout lines as they come.
pub struct NodeProcess {
    pub child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    /// Where it accepts peers' links, if it does.
    pub listening: Option<String>,
    /// Its HTTP API, e.g. `http://127.0.0.1:40123`.
    pub api: String,
}

impl NodeProcess {
    fn seen(&self, prefix: &str) -> Option<String> {
        let lines = self.lines.lock().expect("lines");
        lines.iter().find(|l| l.starts_with(prefix)).cloned()
    }

    /// How many stdout lines so far start with `prefix`.
    pub fn seen_count(&self, prefix: &str) -> usize {
        let lines = self.lines.lock().expect("lines");
        lines.iter().filter(|l| l.starts_with(prefix)).count()
    }

    /// Waits (at most 30 s) for a stdout line starting with `prefix`.
    pub fn line_starting(&self, prefix: &str) -> String {
        let mut found = None;
        until(&format!("the node to print {prefix:?}"), || {
            found = self.seen(prefix);
            found.is_some()
        });
        found.expect("seen")
    }

    /// Waits until the node runs `channel`.
    pub fn running(&self, channel: &str) {
        self.line_starting(&format!("channel {channel} running"));
    }

    /// Waits until `channel` ended on the node (closed on-chain): the reason it gives.
    pub fn ended(&self, channel: &str) -> String {
        let prefix = format!("channel {channel} ended: ");
        self.line_starting(&prefix)
            .trim_start_matches(&prefix)
            .to_string()
    }

    /// A crash: no chance to clean up.
    pub fn kill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("wait");
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The channel as `paychan status --output json` shows it.
pub fn status(party: &Party, channel: &str) -> serde_json::Value {
    serde_json::from_str(&party.ok(&["status", channel, "--output", "json"])).expect("json")
}

/// The running node's view, as `paychan status --node --output json` shows it.
pub fn node_status(party: &Party, channel: &str) -> serde_json::Value {
    serde_json::from_str(&party.ok(&["status", channel, "--node", "--output", "json"]))
        .expect("json")
}

/// Runs `body` on a single-threaded runtime with a `LocalSet` (in-process payers spawn local
/// tasks).
pub fn block_on_local<F: std::future::Future>(body: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    tokio::task::LocalSet::new().block_on(&runtime, body)
}

/// A fresh schema of the test server (`PAYCHAN_TEST_POSTGRES`, started by scripts/test.sh)
/// as a `--store` URL: each test sees only its own channels.
pub fn postgres_store(name: &str) -> String {
    let url = std::env::var("PAYCHAN_TEST_POSTGRES").expect("PAYCHAN_TEST_POSTGRES");
    format!("{url}?schema={name}_{:08x}", rand::random::<u32>())
}

/// Polls `done` (a few processes or file reads) until it holds, at most 30 s.
pub fn until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
