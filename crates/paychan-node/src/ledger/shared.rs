//! One in-process ledger used by several nodes (both parties and a watchtower on one embedded
//! LiteSVM, as in the demo and the tests). Single-threaded by design.

use std::{cell::RefCell, rc::Rc};

use paychan_interface::Address;
use solana_hash::Hash;
use solana_transaction::Transaction;

use super::{Landed, Ledger, LedgerError};

#[derive(Debug)]
pub struct SharedLedger<L>(Rc<RefCell<L>>);

impl<L> Clone for SharedLedger<L> {
    fn clone(&self) -> Self {
        Self(Rc::clone(&self.0))
    }
}

impl<L> SharedLedger<L> {
    pub fn new(ledger: L) -> Self {
        Self(Rc::new(RefCell::new(ledger)))
    }

    /// Runs `f` on the ledger (test setup: funding, moving the clock).
    pub fn with<T>(&self, f: impl FnOnce(&mut L) -> T) -> T {
        f(&mut self.0.borrow_mut())
    }
}

// The borrow is held across `.await`, which is sound here: nodes sharing a ledger run on one
// thread, and no other borrow happens while a ledger call is in progress.
#[allow(clippy::await_holding_refcell_ref)]
impl<L: Ledger> Ledger for SharedLedger<L> {
    async fn submit(&mut self, transaction: Transaction) -> Result<Landed, LedgerError> {
        self.0.borrow_mut().submit(transaction).await
    }

    async fn latest_blockhash(&mut self) -> Result<Hash, LedgerError> {
        self.0.borrow_mut().latest_blockhash().await
    }

    async fn account(
        &mut self,
        address: &Address,
    ) -> Result<Option<solana_account::Account>, LedgerError> {
        self.0.borrow_mut().account(address).await
    }

    async fn unix_timestamp(&mut self) -> Result<i64, LedgerError> {
        self.0.borrow_mut().unix_timestamp().await
    }

    async fn wait_for_next_slot(&mut self) -> Result<(), LedgerError> {
        self.0.borrow_mut().wait_for_next_slot().await
    }

    async fn program_accounts(
        &mut self,
        program: &Address,
    ) -> Result<Vec<(Address, solana_account::Account)>, LedgerError> {
        self.0.borrow_mut().program_accounts(program).await
    }

    async fn channels_of(
        &mut self,
        program: &Address,
        party: &Address,
    ) -> Result<Vec<(Address, solana_account::Account)>, LedgerError> {
        self.0.borrow_mut().channels_of(program, party).await
    }

    async fn channel_finalized(
        &mut self,
        address: &Address,
    ) -> Result<Option<paychan_interface::channel::Channel>, LedgerError> {
        self.0.borrow_mut().channel_finalized(address).await
    }
}
