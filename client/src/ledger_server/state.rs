//! The ledger behind the server: LiteSVM with the program loaded, plus what LiteSVM leaves to a
//! validator — a window of recent blockhashes (LiteSVM accepts only the newest, and two clients
//! race for it), signature statuses, and a clock that follows the wall clock (plus any warp).

use std::collections::{HashMap, VecDeque};

use litesvm::{types::TransactionResult, LiteSVM};
use paychan_interface::Address;
use solana_clock::Clock;
use solana_hash::Hash;
use solana_signature::Signature;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_error::TransactionError;

use crate::ledger::LedgerError;

/// How many blockhashes stay valid: the real cluster's 150.
pub const RECENT_BLOCKHASHES: usize = 150;
/// A cluster's slot time.
const SLOT_MS: u16 = 400;

pub struct EmbeddedLedger {
    svm: LiteSVM,
    recent: VecDeque<Hash>,
    landed: HashMap<Signature, u64>,
    slot: u64,
    /// Seconds added to the wall clock by `warp`.
    warped: i64,
    /// False: the clock moves only with `warp` (for tests that must not depend on timing).
    follows_wall_clock: bool,
    /// When the ledger started: following the wall clock, a slot passes every 400 ms as on a
    /// cluster (clients that wait for block height, like web3.js, see it move).
    started: std::time::Instant,
}

impl std::fmt::Debug for EmbeddedLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedLedger")
            .field("slot", &self.slot)
            .field("warped", &self.warped)
            .finish_non_exhaustive()
    }
}

/// A transaction the ledger refused, with its logs (the JSON-RPC "preflight failure").
#[derive(Debug)]
pub struct Refused {
    pub err: TransactionError,
    pub logs: Vec<String>,
    pub units_consumed: u64,
}

impl EmbeddedLedger {
    /// A ledger with the builtins, the Ed25519 precompile and `program` at `program_id`.
    pub fn new(program_id: Address, program: &[u8]) -> Result<Self, LedgerError> {
        // The server checks blockhashes itself, against the whole recent window.
        let mut svm = LiteSVM::new().with_blockhash_check(false);
        svm.add_program(program_id, program)
            .map_err(|e| LedgerError::Decode(format!("the program did not load: {e}")))?;
        let mut ledger = Self {
            svm,
            recent: VecDeque::with_capacity(RECENT_BLOCKHASHES),
            landed: HashMap::new(),
            slot: 1,
            warped: 0,
            follows_wall_clock: true,
            started: std::time::Instant::now(),
        };
        let genesis = ledger.svm.latest_blockhash();
        ledger.recent.push_back(genesis);
        ledger.tick();
        Ok(ledger)
    }

    /// Stops following the wall clock: time starts at `unix_timestamp` and moves only by
    /// [`warp`](Self::warp).
    pub fn with_manual_clock(mut self, unix_timestamp: i64) -> Self {
        self.follows_wall_clock = false;
        let mut clock: Clock = self.svm.get_sysvar();
        clock.unix_timestamp = unix_timestamp;
        self.svm.set_sysvar(&clock);
        self
    }

    pub fn slot(&self) -> u64 {
        self.slot
    }

    /// Brings the Clock sysvar up to the slot and, unless manual, the wall clock (never
    /// backwards).
    pub fn tick(&mut self) {
        if self.follows_wall_clock {
            let elapsed = self.started.elapsed().as_millis() / u128::from(SLOT_MS);
            self.slot = self.slot.max(u64::try_from(elapsed).unwrap_or(u64::MAX));
        }
        let mut clock: Clock = self.svm.get_sysvar();
        clock.slot = self.slot;
        if self.follows_wall_clock {
            let wall = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            clock.unix_timestamp = clock.unix_timestamp.max(wall.saturating_add(self.warped));
        }
        self.svm.set_sysvar(&clock);
    }

    pub fn unix_timestamp(&self) -> i64 {
        self.svm.get_sysvar::<Clock>().unix_timestamp
    }

    /// Moves the clock `seconds` ahead (to skip a challenge period); returns the new time.
    pub fn warp(&mut self, seconds: i64) -> i64 {
        if self.follows_wall_clock {
            self.warped = self.warped.saturating_add(seconds);
        } else {
            let mut clock: Clock = self.svm.get_sysvar();
            clock.unix_timestamp = clock.unix_timestamp.saturating_add(seconds);
            self.svm.set_sysvar(&clock);
        }
        self.tick();
        self.unix_timestamp()
    }

    /// A new slot with a new blockhash; the oldest leaves the window.
    pub fn new_blockhash(&mut self) -> Hash {
        self.slot = self.slot.saturating_add(1);
        self.svm.expire_blockhash();
        let hash = self.svm.latest_blockhash();
        if self.recent.len() == RECENT_BLOCKHASHES {
            self.recent.pop_front();
        }
        self.recent.push_back(hash);
        self.tick();
        hash
    }

    pub fn latest_blockhash(&self) -> Hash {
        self.svm.latest_blockhash()
    }

    pub fn is_blockhash_valid(&self, hash: &Hash) -> bool {
        self.recent.contains(hash)
    }

    pub fn account(&self, address: &Address) -> Option<solana_account::Account> {
        self.svm
            .get_account(address)
            .filter(|account| account.lamports > 0)
    }

    pub fn minimum_balance_for_rent_exemption(&self, data_len: usize) -> u64 {
        self.svm.minimum_balance_for_rent_exemption(data_len)
    }

    /// Transactions landed so far (airdrops included).
    pub fn transaction_count(&self) -> u64 {
        self.landed.len() as u64
    }

    /// The slot a transaction landed in, if it did.
    pub fn status(&self, signature: &Signature) -> Option<u64> {
        self.landed.get(signature).copied()
    }

    /// Executes `transaction`. A refused one changes nothing, not even the fee: like a
    /// validator's preflight, it is simulated first (LiteSVM alone would charge the fee).
    pub fn send(&mut self, transaction: VersionedTransaction) -> Result<Signature, Refused> {
        if !self.is_blockhash_valid(transaction.message.recent_blockhash()) {
            return Err(Refused {
                err: TransactionError::BlockhashNotFound,
                logs: Vec::new(),
                units_consumed: 0,
            });
        }
        self.tick();
        if let Err(failed) = self.svm.simulate_transaction(transaction.clone()) {
            return Err(Refused {
                err: failed.err,
                logs: failed.meta.logs,
                units_consumed: failed.meta.compute_units_consumed,
            });
        }
        let result = self.svm.send_transaction(transaction);
        self.record(result)
    }

    /// Lamports from the faucet, as a landed transfer.
    pub fn airdrop(&mut self, to: &Address, lamports: u64) -> Result<Signature, Refused> {
        let result = self.svm.airdrop(to, lamports);
        // Two airdrops of one amount in one slot would be the same transaction.
        self.new_blockhash();
        self.record(result)
    }

    fn record(&mut self, result: TransactionResult) -> Result<Signature, Refused> {
        match result {
            Ok(meta) => {
                self.landed.insert(meta.signature, self.slot);
                Ok(meta.signature)
            }
            Err(failed) => Err(Refused {
                err: failed.err,
                logs: failed.meta.logs,
                units_consumed: failed.meta.compute_units_consumed,
            }),
        }
    }
}
