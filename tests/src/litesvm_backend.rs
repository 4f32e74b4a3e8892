//! LiteSVM running the built `paychan.so`, with the Ed25519 precompile enabled.

use litesvm::LiteSVM;
use paychan_node::ledger::LiteSvmLedger;
use solana_account::Account;
use solana_address::Address;
use solana_clock::Clock;
use solana_instruction::Instruction;
use solana_keypair::Keypair;

use crate::backend::{signed_transaction, Backend, Landed, Rejected, SendResult};

/// The client's LiteSVM ledger, with raw access for test setup and full failure metadata.
pub struct LiteSvmBackend {
    ledger: LiteSvmLedger,
}

impl LiteSvmBackend {
    pub fn new() -> Self {
        let program = std::fs::read(crate::PROGRAM_SO).unwrap_or_else(|e| {
            panic!("read {}: {e} (run scripts/build-sbf.sh)", crate::PROGRAM_SO)
        });
        let ledger = LiteSvmLedger::new(paychan_interface::ID, &program).expect("program loads");
        let mut backend = Self { ledger };
        backend.set_unix_timestamp(1_700_000_000);
        backend
    }

    pub fn svm(&mut self) -> &mut LiteSVM {
        self.ledger.svm()
    }
}

impl Default for LiteSvmBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl Backend for LiteSvmBackend {
    fn name(&self) -> &'static str {
        "litesvm"
    }

    fn send(
        &mut self,
        instructions: &[Instruction],
        payer: &Keypair,
        signers: &[&Keypair],
    ) -> SendResult {
        let blockhash = self.ledger.next_slot();
        let (tx, tx_size) = signed_transaction(instructions, payer, signers, blockhash);
        match self.svm().send_transaction(tx) {
            Ok(meta) => Ok(Landed {
                compute_units: meta.compute_units_consumed,
                tx_size,
                logs: meta.logs,
            }),
            Err(failed) => Err(Rejected {
                error: failed.err,
                logs: failed.meta.logs,
            }),
        }
    }

    fn account(&mut self, address: &Address) -> Option<Account> {
        self.svm().get_account(address).filter(|a| a.lamports > 0)
    }

    fn set_account(&mut self, address: &Address, account: Account) {
        self.svm()
            .set_account(*address, account)
            .expect("set_account");
    }

    fn deploy_program_at(&mut self, address: &Address) {
        self.svm()
            .add_program_from_file(*address, crate::PROGRAM_SO)
            .expect("deploy a program");
    }

    fn unix_timestamp(&mut self) -> i64 {
        self.svm().get_sysvar::<Clock>().unix_timestamp
    }

    fn set_unix_timestamp(&mut self, unix_timestamp: i64) {
        self.ledger.set_unix_timestamp(unix_timestamp);
    }

    fn minimum_balance(&mut self, data_len: usize) -> u64 {
        self.svm().minimum_balance_for_rent_exemption(data_len)
    }
}
