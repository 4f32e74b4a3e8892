//! What a test needs from a ledger that runs the real SBF program.

use solana_account::Account;
use solana_address::Address;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;

/// A landed transaction's cost.
#[derive(Debug, Clone, Default)]
pub struct Landed {
    pub compute_units: u64,
    pub tx_size: usize,
    pub logs: Vec<String>,
}

/// A rejected transaction.
#[derive(Debug, Clone)]
pub struct Rejected {
    pub error: TransactionError,
    pub logs: Vec<String>,
}

pub type SendResult = Result<Landed, Rejected>;

pub trait Backend {
    fn name(&self) -> &'static str;

    /// Signs with `payer` (fee payer) and `signers`, and processes the transaction in a new slot.
    fn send(
        &mut self,
        instructions: &[Instruction],
        payer: &Keypair,
        signers: &[&Keypair],
    ) -> SendResult;

    fn account(&mut self, address: &Address) -> Option<Account>;

    /// Overwrites an account (funding wallets, planting fake accounts for attack tests).
    fn set_account(&mut self, address: &Address, account: Account);

    /// Turns `address` into an executable program account (a wallet that can no longer
    /// receive lamports).
    fn deploy_program_at(&mut self, address: &Address);

    fn unix_timestamp(&mut self) -> i64;

    /// Sets the Clock sysvar's unix_timestamp; tests never wait on the wall clock.
    fn set_unix_timestamp(&mut self, unix_timestamp: i64);

    fn minimum_balance(&mut self, data_len: usize) -> u64;

    fn lamports(&mut self, address: &Address) -> u64 {
        self.account(address).map_or(0, |a| a.lamports)
    }

    /// Gives `address` a plain system wallet holding `lamports`.
    fn fund(&mut self, address: &Address, lamports: u64) {
        self.set_account(address, wallet(lamports));
    }

    fn advance_time(&mut self, secs: i64) {
        let now = self.unix_timestamp();
        self.set_unix_timestamp(now + secs);
    }
}

/// Signs a transaction the same way on every backend, returning it with its wire size.
pub fn signed_transaction(
    instructions: &[Instruction],
    payer: &Keypair,
    signers: &[&Keypair],
    blockhash: solana_transaction::Hash,
) -> (Transaction, usize) {
    use solana_signer::Signer;
    let mut all: Vec<&Keypair> = vec![payer];
    all.extend(signers.iter().filter(|s| s.pubkey() != payer.pubkey()));
    let tx =
        Transaction::new_signed_with_payer(instructions, Some(&payer.pubkey()), &all, blockhash);
    let size = bincode::serialized_size(&tx).expect("transactions serialize") as usize;
    (tx, size)
}

/// A plain system-owned wallet holding `lamports`.
pub fn wallet(lamports: u64) -> Account {
    Account {
        lamports,
        data: vec![],
        owner: solana_sdk_ids::system_program::ID,
        executable: false,
        rent_epoch: 0,
    }
}
