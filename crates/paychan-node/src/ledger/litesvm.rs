//! An embedded LiteSVM ledger with the paychan program loaded: no validator needed.

use litesvm::LiteSVM;
use paychan_interface::Address;
use solana_clock::Clock;
use solana_hash::Hash;
use solana_transaction::Transaction;

use super::{Landed, Ledger, LedgerError};

pub struct LiteSvmLedger {
    svm: LiteSVM,
}

impl std::fmt::Debug for LiteSvmLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiteSvmLedger").finish_non_exhaustive()
    }
}

impl LiteSvmLedger {
    /// A ledger with the Ed25519 precompile and `program` (the SBF binary) at `program_id`.
    pub fn new(program_id: Address, program: &[u8]) -> Result<Self, LedgerError> {
        let mut svm = LiteSVM::new();
        svm.add_program(program_id, program)
            .map_err(|e| LedgerError::Decode(format!("the program did not load: {e}")))?;
        Ok(Self { svm })
    }

    /// A ledger with the builtins and the Ed25519 precompile but no paychan program: for
    /// deploying it through the upgradeable loader.
    pub fn empty() -> Self {
        Self {
            svm: LiteSVM::new(),
        }
    }

    /// The underlying VM, for test setup (funding, clock).
    pub fn svm(&mut self) -> &mut LiteSVM {
        &mut self.svm
    }

    /// Starts a new slot with a fresh blockhash: LiteSVM stays in one slot unless told, and two
    /// identical transactions in one slot would be refused as duplicates.
    pub fn next_slot(&mut self) -> Hash {
        let mut clock: Clock = self.svm.get_sysvar();
        clock.slot = clock.slot.saturating_add(1);
        self.svm.set_sysvar(&clock);
        self.svm.expire_blockhash();
        self.svm.latest_blockhash()
    }

    /// Moves the clock; LiteSVM time only moves when told to.
    pub fn set_unix_timestamp(&mut self, unix_timestamp: i64) {
        let mut clock: Clock = self.svm.get_sysvar();
        clock.unix_timestamp = unix_timestamp;
        self.svm.set_sysvar(&clock);
    }
}

impl Ledger for LiteSvmLedger {
    async fn submit(&mut self, transaction: Transaction) -> Result<Landed, LedgerError> {
        match self.svm.send_transaction(transaction) {
            Ok(meta) => Ok(Landed {
                compute_units: Some(meta.compute_units_consumed),
                logs: meta.logs,
            }),
            Err(failed) => Err(failed.err.into()),
        }
    }

    async fn latest_blockhash(&mut self) -> Result<Hash, LedgerError> {
        Ok(self.next_slot())
    }

    async fn wait_for_next_slot(&mut self) -> Result<(), LedgerError> {
        self.next_slot();
        Ok(())
    }

    async fn account(
        &mut self,
        address: &Address,
    ) -> Result<Option<solana_account::Account>, LedgerError> {
        Ok(self.svm.get_account(address).filter(|a| a.lamports > 0))
    }

    async fn unix_timestamp(&mut self) -> Result<i64, LedgerError> {
        Ok(self.svm.get_sysvar::<Clock>().unix_timestamp)
    }

    async fn program_accounts(
        &mut self,
        program: &Address,
    ) -> Result<Vec<(Address, solana_account::Account)>, LedgerError> {
        Ok(self.svm.get_program_accounts(program))
    }
}
