//! Ledgers for end-to-end tests of the client: the client's own LiteSVM and BanksClient
//! backends, with the test-only controls (funding, the clock) next to them.

use paychan_interface::Address;
use paychan_node::ledger::{BanksLedger, Ledger, LiteSvmLedger, SharedLedger};
use solana_account::AccountSharedData;

use crate::backend::wallet;
use solana_clock::Clock;
use solana_program_test::{ProgramTest, ProgramTestContext};

pub trait TestChain {
    type Ledger: Ledger;

    fn name(&self) -> &'static str;

    /// The challenge period channels open with: a day, or seconds on a real validator whose
    /// clock cannot be moved.
    fn challenge_period(&self) -> u64 {
        86_400
    }

    /// What the parties require of a channel: the challenge period this chain's channels
    /// open with.
    fn join_policy(&self) -> paychan_node::driver::JoinPolicy {
        paychan_node::driver::JoinPolicy {
            min_challenge_period_secs: self.challenge_period(),
        }
    }

    /// A handle for one more node.
    fn ledger(&self) -> Self::Ledger;

    #[allow(async_fn_in_trait)]
    async fn fund(&mut self, address: &Address, lamports: u64);

    /// Moves the Clock forward (never waits on the wall clock).
    #[allow(async_fn_in_trait)]
    async fn advance_time(&mut self, secs: i64);
}

/// The client's embedded LiteSVM ledger, shared by every node of a test.
pub struct SvmChain {
    ledger: SharedLedger<LiteSvmLedger>,
}

impl SvmChain {
    pub fn new() -> Self {
        let program = std::fs::read(crate::PROGRAM_SO).expect("run scripts/build-sbf.sh first");
        let mut ledger =
            LiteSvmLedger::new(paychan_interface::ID, &program).expect("program loads");
        ledger.set_unix_timestamp(1_700_000_000);
        Self {
            ledger: SharedLedger::new(ledger),
        }
    }
}

impl Default for SvmChain {
    fn default() -> Self {
        Self::new()
    }
}

impl TestChain for SvmChain {
    type Ledger = SharedLedger<LiteSvmLedger>;

    fn name(&self) -> &'static str {
        "litesvm"
    }

    fn ledger(&self) -> Self::Ledger {
        self.ledger.clone()
    }

    async fn fund(&mut self, address: &Address, lamports: u64) {
        self.ledger.with(|l| {
            l.svm()
                .set_account(*address, wallet(lamports))
                .expect("fund")
        });
    }

    async fn advance_time(&mut self, secs: i64) {
        self.ledger.with(|l| {
            let now = l.svm().get_sysvar::<Clock>().unix_timestamp;
            l.set_unix_timestamp(now + secs);
        });
    }
}

/// solana-program-test's Bank behind the client's BanksClient ledger.
pub struct BanksChain {
    context: ProgramTestContext,
    slot: u64,
}

impl BanksChain {
    pub async fn start() -> Self {
        // $SBF_OUT_DIR (.cargo/config.toml) points at target/deploy, where paychan.so is.
        let mut program_test = ProgramTest::default();
        program_test.prefer_bpf(true);
        program_test.add_program("paychan", paychan_interface::ID, None);
        let context = program_test.start_with_context().await;
        Self { context, slot: 1 }
    }
}

impl TestChain for BanksChain {
    type Ledger = BanksLedger;

    fn name(&self) -> &'static str {
        "program-test"
    }

    fn ledger(&self) -> Self::Ledger {
        BanksLedger::new(self.context.banks_client.clone())
    }

    async fn fund(&mut self, address: &Address, lamports: u64) {
        self.context
            .set_account(address, &AccountSharedData::from(wallet(lamports)));
    }

    async fn advance_time(&mut self, secs: i64) {
        // A new slot (and blockhash), with the clock moved by `secs`.
        let before: Clock = self.context.banks_client.get_sysvar().await.expect("clock");
        self.slot += 1;
        self.context.warp_to_slot(self.slot).expect("warp");
        let mut clock: Clock = self.context.banks_client.get_sysvar().await.expect("clock");
        clock.unix_timestamp = before.unix_timestamp + secs;
        self.context.set_sysvar(&clock);
    }
}

/// A real `solana-test-validator` over JSON-RPC. Time is the validator's: advancing it waits
/// until its Clock has moved, so tests use challenge periods of a few seconds.
pub struct RpcChain {
    pub validator: crate::validator::Validator,
}

impl RpcChain {
    /// Starts a validator and deploys the built program through the upgradeable loader, as
    /// a user's deploy does.
    pub async fn start() -> Self {
        let validator = crate::validator::Validator::start().await;
        let payer = solana_keypair::Keypair::new();
        validator
            .airdrop(&solana_signer::Signer::pubkey(&payer), 100 * crate::SOL)
            .await;
        let program = solana_keypair::read_keypair_file(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../programs/paychan/keys/paychan-dev-keypair.json"
        ))
        .expect("dev keypair");
        let elf = std::fs::read(crate::PROGRAM_SO).expect("run scripts/build-sbf.sh first");
        paychan_migrations::deploy(&mut validator.ledger(), &payer, &program, &elf)
            .await
            .expect("deploy");
        Self { validator }
    }
}

impl TestChain for RpcChain {
    type Ledger = paychan_node::ledger::RpcLedger;

    fn name(&self) -> &'static str {
        "solana-test-validator"
    }

    fn challenge_period(&self) -> u64 {
        4
    }

    fn ledger(&self) -> Self::Ledger {
        self.validator.ledger()
    }

    async fn fund(&mut self, address: &Address, lamports: u64) {
        self.validator.airdrop(address, lamports).await;
    }

    async fn advance_time(&mut self, secs: i64) {
        let mut ledger = self.ledger();
        // At least into the next slot, as the bank-backed chains do.
        ledger
            .wait_for_next_slot()
            .await
            .expect("the validator makes slots");
        let target = ledger.unix_timestamp().await.expect("clock") + secs;
        let started = std::time::Instant::now();
        while ledger.unix_timestamp().await.expect("clock") < target {
            assert!(
                started.elapsed().as_secs() < u64::try_from(secs).unwrap_or(0) + 30,
                "the validator clock does not advance"
            );
            solana_program_test::tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }
}

/// The embedded ledger (`paychan ledger`) over real JSON-RPC, served from its own thread with
/// a manual clock: the client's RpcLedger cannot tell it from a validator, and time moves only
/// when a test says so.
pub struct EmbeddedRpcChain {
    url: String,
}

impl EmbeddedRpcChain {
    pub fn start() -> Self {
        let program = std::fs::read(crate::PROGRAM_SO).expect("run scripts/build-sbf.sh first");
        let ledger = paychan_ledger_server::EmbeddedLedger::new(paychan_interface::ID, &program)
            .expect("program loads")
            .with_manual_clock(1_700_000_000);
        let address = paychan_ledger_server::spawn(ledger, ([127, 0, 0, 1], 0).into())
            .expect("the ledger serves");
        Self {
            url: format!("http://{address}"),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

impl TestChain for EmbeddedRpcChain {
    type Ledger = paychan_node::ledger::RpcLedger;

    fn name(&self) -> &'static str {
        "embedded ledger over JSON-RPC"
    }

    fn ledger(&self) -> Self::Ledger {
        paychan_node::ledger::RpcLedger::new(self.url.clone())
    }

    async fn fund(&mut self, address: &Address, lamports: u64) {
        self.ledger()
            .airdrop(address, lamports)
            .await
            .expect("airdrop");
    }

    async fn advance_time(&mut self, secs: i64) {
        let secs = u64::try_from(secs).expect("time only moves forward");
        self.ledger().warp_clock(secs).await.expect("warp");
    }
}
