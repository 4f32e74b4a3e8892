//! A real `solana-test-validator` for end-to-end tests over JSON-RPC: built once by
//! `scripts/setup-validator.sh`, started here on free loopback ports with a fresh ledger, and
//! stopped when dropped.

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use paychan_interface::Address;
use paychan_node::ledger::RpcLedger;

/// Where `scripts/setup-validator.sh` puts the binary.
pub fn binary() -> Option<PathBuf> {
    let cache = std::env::var_os("PAYCHAN_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/paychan")))?;
    let path = cache.join("agave-4.2.2/bin/solana-test-validator");
    path.exists().then_some(path)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

pub struct Validator {
    child: Child,
    pub url: String,
    _ledger: tempfile::TempDir,
}

impl Validator {
    /// Starts a validator with no programs (paychan is deployed by the migration) and waits
    /// until it answers `getHealth`.
    pub async fn start() -> Self {
        let binary = binary().expect("solana-test-validator is built (scripts/setup-validator.sh)");
        let ledger = tempfile::tempdir().expect("ledger dir");
        let (rpc, faucet, gossip) = (free_port(), free_port(), free_port());
        // The validator wants at least 26 ports for its services; a random block keeps runs
        // from colliding.
        let dynamic = 20_000 + (rand::random::<u16>() % 400) * 100;
        // The ledger must start out absent (the validator refuses a foreign non-empty dir).
        let log = std::fs::File::create(ledger.path().join("stderr.log")).expect("log file");
        let child = Command::new(binary)
            .arg("--ledger")
            .arg(ledger.path().join("ledger"))
            .args(["--bind-address", "127.0.0.1"])
            .args(["--rpc-port", &rpc.to_string()])
            .args(["--faucet-port", &faucet.to_string()])
            .args(["--gossip-port", &gossip.to_string()])
            .args([
                "--dynamic-port-range",
                &format!("{dynamic}-{}", dynamic + 64),
            ])
            .arg("--quiet")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("the validator starts");
        let mut validator = Self {
            child,
            url: format!("http://127.0.0.1:{rpc}"),
            _ledger: ledger,
        };
        validator.wait_healthy().await;
        validator
    }

    async fn wait_healthy(&mut self) {
        let ledger = self.ledger();
        let started = Instant::now();
        while ledger.client().get_health().await.is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = std::fs::read_to_string(self._ledger.path().join("stderr.log"))
                    .unwrap_or_default();
                panic!("the validator exited ({status}): {log}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the validator did not become healthy in 60 s"
            );
            solana_program_test::tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub fn ledger(&self) -> RpcLedger {
        RpcLedger::new(self.url.clone())
    }

    /// Funds `address` from the validator's faucet and waits for it to land.
    pub async fn airdrop(&self, address: &Address, lamports: u64) {
        self.ledger()
            .airdrop(address, lamports)
            .await
            .expect("airdrop");
    }
}

impl Drop for Validator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
