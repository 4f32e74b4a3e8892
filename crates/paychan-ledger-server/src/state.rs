//! The ledger behind the server: LiteSVM with the program loaded, plus what LiteSVM leaves to a
//! validator — a window of recent blockhashes (LiteSVM accepts only the newest, and two clients
//! race for it), signature statuses, and a clock that follows the wall clock (plus any warp).

use std::collections::{BTreeSet, HashMap, VecDeque};

use litesvm::LiteSVM;
use paychan_interface::Address;
use solana_clock::Clock;
use solana_hash::Hash;
use solana_signature::Signature;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_error::TransactionError;

use super::persist::{LedgerDir, Snapshot, StoredAccount, StoredLanded, FORMAT_VERSION};
use crate::LedgerServerError;

/// How many blockhashes stay valid: the real cluster's 150.
pub const RECENT_BLOCKHASHES: usize = 150;
/// A cluster's slot time.
const SLOT_MS: u16 = 400;

/// What the ledger keeps of a landed transaction, for `getTransaction` and friends.
#[derive(Clone, Debug)]
pub struct LandedTransaction {
    pub slot: u64,
    /// None for an airdrop (the faucet's transfer is not a client transaction).
    pub transaction: Option<VersionedTransaction>,
    /// Set when it landed failed (sent with `skipPreflight`: the fee is still charged).
    pub err: Option<TransactionError>,
    pub logs: Vec<String>,
    pub fee: u64,
    pub units_consumed: u64,
    /// Every address it named.
    pub addresses: Vec<Address>,
}

/// The fee per signature, as LiteSVM charges it.
pub const LAMPORTS_PER_SIGNATURE: u64 = 5_000;

pub struct EmbeddedLedger {
    svm: LiteSVM,
    recent: VecDeque<Hash>,
    genesis: Hash,
    landed: HashMap<Signature, LandedTransaction>,
    /// Signatures by every address their transaction names, oldest first.
    by_address: HashMap<Address, Vec<Signature>>,
    /// Every address a landed transaction named (what `getProgramAccounts` searches).
    known: BTreeSet<Address>,
    slot: u64,
    /// Seconds added to the wall clock by `warp`.
    warped: i64,
    /// False: the clock moves only with `warp` (for tests that must not depend on timing).
    follows_wall_clock: bool,
    /// When the ledger started: following the wall clock, a slot passes every 400 ms as on a
    /// cluster (clients that wait for block height, like web3.js, see it move).
    started: std::time::Instant,
    /// Where the state is kept across restarts, if anywhere.
    dir: Option<LedgerDir>,
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

impl Refused {
    fn before_execution(err: TransactionError) -> Self {
        Self {
            err,
            logs: Vec::new(),
            units_consumed: 0,
        }
    }
}

/// What a transaction did, or would do: its error if any, its logs, its compute units.
#[derive(Debug)]
pub struct Simulated {
    pub err: Option<TransactionError>,
    pub logs: Vec<String>,
    pub units_consumed: u64,
}

impl EmbeddedLedger {
    /// A ledger with the builtins, the Ed25519 precompile and `program` at `program_id`.
    pub fn new(program_id: Address, program: &[u8]) -> Result<Self, LedgerServerError> {
        // The server checks blockhashes itself, against the whole recent window.
        let mut svm = LiteSVM::new().with_blockhash_check(false);
        svm.add_program(program_id, program)
            .map_err(|e| LedgerServerError::ProgramLoad(e.to_string()))?;
        let genesis = svm.latest_blockhash();
        let mut ledger = Self {
            svm,
            recent: VecDeque::with_capacity(RECENT_BLOCKHASHES),
            genesis,
            landed: HashMap::new(),
            by_address: HashMap::new(),
            known: BTreeSet::new(),
            slot: 1,
            warped: 0,
            follows_wall_clock: true,
            started: std::time::Instant::now(),
            dir: None,
        };
        ledger.recent.push_back(genesis);
        ledger.tick();
        let mint_rent =
            ledger.minimum_balance_for_rent_exemption(paychan_interface::token::MINT_LEN);
        ledger
            .svm
            .set_account(
                crate::stablecoin::TEST_USD_MINT,
                crate::stablecoin::mint_account(mint_rent),
            )
            .map_err(|e| LedgerServerError::ProgramLoad(e.to_string()))?;
        Ok(ledger)
    }

    /// Mints `amount` of the test stablecoin into `wallet`'s associated token account
    /// (creating it), as a landed transaction of the faucet.
    pub fn request_tokens(&mut self, wallet: &Address, amount: u64) -> Result<Signature, Refused> {
        use solana_signer::Signer;
        let faucet = crate::stablecoin::faucet();
        // Fees and the account's rent come from the faucet itself.
        if self.account(&faucet.pubkey()).map_or(0, |a| a.lamports)
            < LAMPORTS_PER_SIGNATURE * 1_000_000
        {
            self.airdrop(&faucet.pubkey(), 1_000 * 1_000_000_000)?;
        }
        let blockhash = self.new_blockhash();
        let transaction = solana_transaction::Transaction::new_signed_with_payer(
            &crate::stablecoin::airdrop_instructions(wallet, amount),
            Some(&faucet.pubkey()),
            &[&faucet],
            blockhash,
        );
        self.send(VersionedTransaction::from(transaction), true)
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

    /// Keeps the state in `dir`: what it holds is restored now, and every change is saved.
    /// Returns how many accounts and transactions were restored.
    pub fn with_dir(mut self, dir: LedgerDir) -> Result<(Self, usize, usize), LedgerServerError> {
        let restored = match dir.load().map_err(LedgerServerError::Load)? {
            Some(snapshot) => self.restore(snapshot)?,
            None => (0, 0),
        };
        self.dir = Some(dir);
        Ok((self, restored.0, restored.1))
    }

    fn restore(&mut self, snapshot: Snapshot) -> Result<(usize, usize), LedgerServerError> {
        let decode = |what: &str, e: &dyn std::fmt::Display| {
            LedgerServerError::Restore(format!("{what}: {e}"))
        };
        for stored in &snapshot.accounts {
            let account = solana_account::Account {
                lamports: stored.lamports,
                data: stored.data.clone(),
                owner: Address::new_from_array(stored.owner),
                executable: stored.executable,
                rent_epoch: stored.rent_epoch,
            };
            self.svm
                .set_account(Address::new_from_array(stored.address), account)
                .map_err(|e| decode("an account", &e))?;
        }
        for stored in snapshot.landed.iter() {
            let transaction = match &stored.transaction {
                Some(bytes) => Some(
                    bincode::deserialize::<VersionedTransaction>(bytes)
                        .map_err(|e| decode("a transaction", &e))?,
                ),
                None => None,
            };
            let err = match &stored.err {
                Some(bytes) => Some(
                    bincode::deserialize::<TransactionError>(bytes)
                        .map_err(|e| decode("an error", &e))?,
                ),
                None => None,
            };
            self.land(
                Signature::from(stored.signature),
                LandedTransaction {
                    slot: stored.slot,
                    transaction,
                    err,
                    logs: stored.logs.clone(),
                    fee: stored.fee,
                    units_consumed: stored.units_consumed,
                    addresses: stored
                        .addresses
                        .iter()
                        .map(|a| Address::new_from_array(*a))
                        .collect(),
                },
            );
        }
        self.slot = snapshot.slot;
        self.warped = snapshot.warped;
        self.recent = snapshot
            .recent
            .iter()
            .map(|h| Hash::new_from_array(*h))
            .collect();
        self.genesis = Hash::new_from_array(snapshot.genesis);
        let mut clock: Clock = self.svm.get_sysvar();
        clock.unix_timestamp = snapshot.unix_timestamp;
        clock.slot = snapshot.slot;
        self.svm.set_sysvar(&clock);
        // Wall-clock slots continue from the restored one.
        self.started = std::time::Instant::now()
            - std::time::Duration::from_millis(snapshot.slot.saturating_mul(u64::from(SLOT_MS)));
        self.tick();
        Ok((snapshot.accounts.len(), snapshot.landed.len()))
    }

    /// Writes the state to the ledger's directory, if it has one. A failure is reported on
    /// stderr: the ledger keeps serving from memory.
    fn save(&self) {
        let Some(dir) = &self.dir else {
            return;
        };
        if let Err(e) = dir.save(&self.snapshot()) {
            eprintln!("paychan ledger: could not save its state: {e}");
        }
    }

    fn snapshot(&self) -> Snapshot {
        let builtin = |account: &solana_account::Account| {
            account.executable
                || account.owner == paychan_interface::SYSVAR_OWNER_ID
                || account.owner == solana_sdk_ids::native_loader::ID
        };
        let accounts = self
            .known
            .iter()
            .filter_map(|address| Some((address, self.account(address)?)))
            .filter(|(_, account)| !builtin(account))
            .map(|(address, account)| StoredAccount {
                address: address.to_bytes(),
                lamports: account.lamports,
                data: account.data,
                owner: account.owner.to_bytes(),
                executable: account.executable,
                rent_epoch: account.rent_epoch,
            })
            .collect();
        let landed = self
            .landed
            .iter()
            .map(|(signature, landed)| StoredLanded {
                signature: (*signature).into(),
                slot: landed.slot,
                transaction: landed
                    .transaction
                    .as_ref()
                    .and_then(|t| bincode::serialize(t).ok()),
                err: landed.err.as_ref().and_then(|e| bincode::serialize(e).ok()),
                logs: landed.logs.clone(),
                fee: landed.fee,
                units_consumed: landed.units_consumed,
                addresses: landed.addresses.iter().map(|a| a.to_bytes()).collect(),
            })
            .collect();
        Snapshot {
            format: FORMAT_VERSION,
            slot: self.slot,
            unix_timestamp: self.unix_timestamp(),
            warped: self.warped,
            recent: self.recent.iter().map(|h| h.to_bytes()).collect(),
            genesis: self.genesis.to_bytes(),
            accounts,
            landed,
        }
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
        self.save();
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

    /// Moves whenever what a subscriber can see may have changed: the slot, or a landing.
    pub fn revision(&self) -> (u64, usize) {
        (self.slot, self.landed.len())
    }

    pub fn landed(&self, signature: &Signature) -> Option<&LandedTransaction> {
        self.landed.get(signature)
    }

    /// The transactions that landed in `slot` (a scan: this is a development ledger).
    pub fn landed_in(&self, slot: u64) -> Vec<(&Signature, &LandedTransaction)> {
        let mut landed: Vec<_> = self.landed.iter().filter(|(_, l)| l.slot == slot).collect();
        landed.sort_by_key(|(signature, _)| **signature);
        landed
    }

    /// Signatures of the transactions that named `address`, newest first.
    pub fn signatures_for(&self, address: &Address) -> impl Iterator<Item = &Signature> {
        self.by_address.get(address).into_iter().flatten().rev()
    }

    /// Every account owned by `owner` that a landed transaction named.
    pub fn program_accounts(&self, owner: &Address) -> Vec<(Address, solana_account::Account)> {
        self.known
            .iter()
            .filter_map(|address| Some((*address, self.account(address)?)))
            .filter(|(_, account)| account.owner == *owner)
            .collect()
    }

    pub fn genesis_hash(&self) -> Hash {
        self.genesis
    }

    /// Runs `transaction` without keeping its effects (`simulateTransaction`).
    pub fn simulate(&mut self, transaction: VersionedTransaction) -> Simulated {
        self.tick();
        match self.svm.simulate_transaction(transaction) {
            Ok(info) => Simulated {
                err: None,
                logs: info.meta.logs,
                units_consumed: info.meta.compute_units_consumed,
            },
            Err(failed) => Simulated {
                err: Some(failed.err),
                logs: failed.meta.logs,
                units_consumed: failed.meta.compute_units_consumed,
            },
        }
    }

    /// Executes `transaction`. With `preflight` (the default), a transaction that would fail
    /// is refused and changes nothing, not even the fee; without (`skipPreflight`), one that
    /// fails in an instruction lands like on a cluster: fee charged, error recorded.
    pub fn send(
        &mut self,
        transaction: VersionedTransaction,
        preflight: bool,
    ) -> Result<Signature, Refused> {
        // As a validator: an expired blockhash first (its status cache forgot the rest), then
        // a transaction already landed.
        if !self.is_blockhash_valid(transaction.message.recent_blockhash()) {
            return Err(Refused::before_execution(
                TransactionError::BlockhashNotFound,
            ));
        }
        let signature = transaction.signatures.first().copied().unwrap_or_default();
        if self.landed.contains_key(&signature) {
            return Err(Refused::before_execution(
                TransactionError::AlreadyProcessed,
            ));
        }
        let simulated = self.simulate(transaction.clone());
        match simulated.err {
            None => match self.svm.send_transaction(transaction.clone()) {
                Ok(meta) => Ok(self.record(
                    transaction,
                    Simulated {
                        err: None,
                        logs: meta.logs,
                        units_consumed: meta.compute_units_consumed,
                    },
                )),
                Err(failed) => Err(Refused {
                    err: failed.err,
                    logs: failed.meta.logs,
                    units_consumed: failed.meta.compute_units_consumed,
                }),
            },
            Some(TransactionError::InstructionError(..)) if !preflight => {
                self.charge_fee(&transaction);
                Ok(self.record(transaction, simulated))
            }
            Some(err) => Err(Refused {
                err,
                logs: simulated.logs,
                units_consumed: simulated.units_consumed,
            }),
        }
    }

    /// Lamports from the faucet, as a landed transfer.
    pub fn airdrop(&mut self, to: &Address, lamports: u64) -> Result<Signature, Refused> {
        let result = self.svm.airdrop(to, lamports);
        // Two airdrops of one amount in one slot would be the same transaction.
        self.new_blockhash();
        match result {
            Ok(meta) => {
                self.land(
                    meta.signature,
                    LandedTransaction {
                        slot: self.slot,
                        transaction: None,
                        err: None,
                        logs: meta.logs,
                        fee: LAMPORTS_PER_SIGNATURE,
                        units_consumed: meta.compute_units_consumed,
                        addresses: vec![*to],
                    },
                );
                self.save();
                Ok(meta.signature)
            }
            Err(failed) => Err(Refused {
                err: failed.err,
                logs: failed.meta.logs,
                units_consumed: failed.meta.compute_units_consumed,
            }),
        }
    }

    fn fee(transaction: &VersionedTransaction) -> u64 {
        LAMPORTS_PER_SIGNATURE.saturating_mul(u64::from(
            transaction.message.header().num_required_signatures,
        ))
    }

    /// What a cluster charges a transaction that failed in an instruction: its fee, nothing more.
    fn charge_fee(&mut self, transaction: &VersionedTransaction) {
        let Some(payer) = transaction.message.static_account_keys().first().copied() else {
            return;
        };
        if let Some(mut account) = self.svm.get_account(&payer) {
            account.lamports = account.lamports.saturating_sub(Self::fee(transaction));
            let _ = self.svm.set_account(payer, account);
        }
    }

    /// Keeps a client transaction that landed (with `outcome`), and saves the state.
    fn record(&mut self, transaction: VersionedTransaction, outcome: Simulated) -> Signature {
        let signature = transaction.signatures.first().copied().unwrap_or_default();
        let landed = LandedTransaction {
            slot: self.slot,
            fee: Self::fee(&transaction),
            addresses: transaction.message.static_account_keys().to_vec(),
            transaction: Some(transaction),
            err: outcome.err,
            logs: outcome.logs,
            units_consumed: outcome.units_consumed,
        };
        self.land(signature, landed);
        self.save();
        signature
    }

    /// Keeps a landed transaction, indexed by the addresses it named.
    fn land(&mut self, signature: Signature, landed: LandedTransaction) {
        for address in &landed.addresses {
            self.known.insert(*address);
            self.by_address.entry(*address).or_default().push(signature);
        }
        self.landed.insert(signature, landed);
    }
}
