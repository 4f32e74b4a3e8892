//! Ledgers for end-to-end tests of the client: the client's own LiteSVM and BanksClient
//! backends, with the test-only controls (funding, the clock) next to them.

use paychan_client::ledger::{BanksLedger, Ledger, LiteSvmLedger, SharedLedger};
use paychan_interface::Address;
use solana_account::AccountSharedData;

use crate::backend::wallet;
use solana_clock::Clock;
use solana_program_test::{ProgramTest, ProgramTestContext};

pub trait TestChain {
    type Ledger: Ledger + Clone;

    fn name(&self) -> &'static str;

    /// A handle for one more node.
    fn ledger(&self) -> Self::Ledger;

    fn fund(&mut self, address: &Address, lamports: u64);

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

    fn fund(&mut self, address: &Address, lamports: u64) {
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

    fn fund(&mut self, address: &Address, lamports: u64) {
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
