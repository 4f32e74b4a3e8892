//! Driving the real `paychan` binary: an embedded ledger process with a manual clock, parties
//! with their own HOME (keypair, stores, control sockets), daemons as child processes. Every
//! wait is bounded; nothing waits for time to pass (the clock moves with `paychan warp`).

#![allow(dead_code)] // each test file uses its own part

use std::{
    io::{BufRead, BufReader, Lines},
    path::{Path, PathBuf},
    process::{Child, ChildStdout, Command, Output, Stdio},
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

    /// Starts `paychan daemon` for `channel` with `link` (e.g. ["--listen", "127.0.0.1:0"]);
    /// returns once it is running, with the address it listens on, if it does.
    pub fn daemon(&self, channel: &str, link: &[&str]) -> Daemon {
        let mut args = vec!["daemon", channel, "--interval-ms", "100"];
        args.extend_from_slice(link);
        // Its log goes to a file in HOME (read it when a test fails).
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.home.path().join("daemon.log"))
            .expect("log file");
        let mut child = self
            .command(&args)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("daemon starts");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut listening = None;
        loop {
            let line = lines
                .next()
                .expect("the daemon is running")
                .expect("stdout");
            if let Some(address) = line.strip_prefix("listening on ") {
                listening = Some(address.to_string());
            }
            if line.starts_with("running ") {
                break;
            }
        }
        Daemon {
            child,
            lines,
            listening,
        }
    }

    /// The lamports in this party's wallet.
    pub fn balance(&self) -> u64 {
        let out = self.ok(&["balance", "--output", "json"]);
        let json: serde_json::Value = serde_json::from_str(&out).expect("json");
        json["lamports"].as_u64().expect("lamports")
    }

    /// This party's daemon listening on a fresh port, and `a`'s dialling it, each with its
    /// `extra` arguments: (`a`'s daemon, this one's).
    pub fn linked_daemons(
        &self,
        a: &Party,
        channel: &str,
        extra_a: &[&str],
        extra_b: &[&str],
    ) -> (Daemon, Daemon) {
        let b_daemon = self.daemon(channel, &[&["--listen", "127.0.0.1:0"], extra_b].concat());
        let b_address = b_daemon.listening.clone().expect("B listens");
        let a_daemon = a.daemon(
            channel,
            &[&["--connect", b_address.as_str()], extra_a].concat(),
        );
        (a_daemon, b_daemon)
    }

    pub fn daemon_log(&self) -> String {
        std::fs::read_to_string(self.home.path().join("daemon.log")).unwrap_or_default()
    }

    /// This party's store for `channel` (default path).
    pub fn store(&self, channel: &str) -> PathBuf {
        self.home
            .path()
            .join(".local/share/paychan")
            .join(&self.pubkey)
            .join(format!("{channel}.redb"))
    }
}

pub struct Daemon {
    pub child: Child,
    pub lines: Lines<BufReader<ChildStdout>>,
    pub listening: Option<String>,
}

impl Daemon {
    /// Waits for the daemon to exit by itself (the channel closed): its last stdout line.
    pub fn exits(mut self) -> String {
        let status = exit_within(&mut self.child, Duration::from_secs(30));
        assert!(status.success(), "the daemon failed: {status}");
        self.lines
            .by_ref()
            .map_while(Result::ok)
            .last()
            .unwrap_or_default()
    }

    /// A crash: no chance to clean up.
    pub fn kill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("wait");
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The channel as `paychan status --output json` shows it.
pub fn status(party: &Party, channel: &str) -> serde_json::Value {
    serde_json::from_str(&party.ok(&["status", channel, "--output", "json"])).expect("json")
}

/// The running daemon's view, as `paychan status --node --output json` shows it.
pub fn node_status(party: &Party, channel: &str) -> serde_json::Value {
    serde_json::from_str(&party.ok(&["status", channel, "--node", "--output", "json"]))
        .expect("json")
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
