//! solana-program-test (a real Bank behind BanksClient) running the built `paychan.so`.

use solana_account::{Account, AccountSharedData};
use solana_address::Address;
use solana_clock::Clock;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_program_test::{tokio::runtime::Runtime, ProgramTest, ProgramTestContext};

use crate::backend::{signed_transaction, Backend, Landed, Rejected, SendResult};

pub struct ProgramTestBackend {
    runtime: Runtime,
    context: ProgramTestContext,
    slot: u64,
    unix_timestamp: i64,
}

impl ProgramTestBackend {
    pub fn new() -> Self {
        // $SBF_OUT_DIR (.cargo/config.toml) points at target/deploy: program-test loads the real
        // paychan.so, not a native build of the program.
        let runtime = solana_program_test::tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let mut program_test = ProgramTest::default();
        program_test.prefer_bpf(true);
        program_test.add_program("paychan", paychan_interface::ID, None);
        let context = runtime.block_on(program_test.start_with_context());
        let mut backend = Self {
            runtime,
            context,
            slot: 1,
            unix_timestamp: 1_700_000_000,
        };
        backend.next_slot();
        backend
    }

    /// Moves to a fresh bank (new blockhash) and re-applies the test's clock to it.
    fn next_slot(&mut self) {
        self.slot += 1;
        self.context.warp_to_slot(self.slot).expect("warp forward");
        self.apply_clock();
    }

    fn apply_clock(&mut self) {
        let mut clock: Clock = self
            .runtime
            .block_on(self.context.banks_client.get_sysvar())
            .expect("clock sysvar");
        clock.unix_timestamp = self.unix_timestamp;
        self.context.set_sysvar(&clock);
    }
}

impl Default for ProgramTestBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl Backend for ProgramTestBackend {
    fn name(&self) -> &'static str {
        "program-test"
    }

    fn send(
        &mut self,
        instructions: &[Instruction],
        payer: &Keypair,
        signers: &[&Keypair],
    ) -> SendResult {
        self.next_slot();
        let (tx, tx_size) =
            signed_transaction(instructions, payer, signers, self.context.last_blockhash);
        let outcome = self
            .runtime
            .block_on(
                self.context
                    .banks_client
                    .process_transaction_with_metadata(tx),
            )
            .expect("banks server reachable");
        let (compute_units, logs) = outcome
            .metadata
            .map(|m| (m.compute_units_consumed, m.log_messages))
            .unwrap_or_default();
        match outcome.result {
            Ok(()) => Ok(Landed {
                compute_units,
                tx_size,
                logs,
            }),
            Err(error) => Err(Rejected { error, logs }),
        }
    }

    fn account(&mut self, address: &Address) -> Option<Account> {
        self.runtime
            .block_on(self.context.banks_client.get_account(*address))
            .expect("banks server reachable")
            .filter(|a| a.lamports > 0)
    }

    fn set_account(&mut self, address: &Address, account: Account) {
        self.context
            .set_account(address, &AccountSharedData::from(account));
    }

    fn deploy_program_at(&mut self, address: &Address) {
        let elf = std::fs::read(crate::PROGRAM_SO).expect("read the program");
        let lamports = self.minimum_balance(elf.len());
        self.set_account(
            address,
            Account {
                lamports,
                data: elf,
                owner: solana_sdk_ids::bpf_loader::ID,
                executable: true,
                rent_epoch: 0,
            },
        );
    }

    fn unix_timestamp(&mut self) -> i64 {
        self.unix_timestamp
    }

    fn set_unix_timestamp(&mut self, unix_timestamp: i64) {
        self.unix_timestamp = unix_timestamp;
        self.apply_clock();
    }

    fn minimum_balance(&mut self, data_len: usize) -> u64 {
        self.runtime
            .block_on(self.context.banks_client.get_rent())
            .expect("rent sysvar")
            .minimum_balance(data_len)
    }
}
