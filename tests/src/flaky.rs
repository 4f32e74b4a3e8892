//! A ledger in front of another that answers some reads wrongly, as a lagging or
//! load-balanced RPC node does: the next `n` reads of one account find nothing, or fail.
//! Reads at the `finalized` commitment pass through untouched. It counts the reads too.

use std::{cell::RefCell, rc::Rc};

use paychan_interface::{channel::Channel, Address};
use paychan_node::ledger::{Landed, Ledger, LedgerError};
use solana_hash::Hash;
use solana_transaction::Transaction;

/// What the next reads of an account get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// No account (a node that lags behind the channel's opening).
    Missing,
    /// An error (a node that is down).
    Failing,
}

#[derive(Debug, Default)]
struct Faults {
    planned: Vec<(Address, Fault, u32)>,
    reads: std::collections::HashMap<Address, u64>,
}

/// Plans faults for a [`FlakyLedger`] (and the ledgers cloned from it).
#[derive(Clone, Debug, Default)]
pub struct FaultPlan(Rc<RefCell<Faults>>);

impl FaultPlan {
    /// The next `reads` reads of `address` get `fault`.
    pub fn plan(&self, address: Address, fault: Fault, reads: u32) {
        self.0.borrow_mut().planned.push((address, fault, reads));
    }

    /// Planned faults not yet served.
    pub fn pending(&self) -> u32 {
        self.0.borrow().planned.iter().map(|(_, _, n)| n).sum()
    }

    /// Reads of `address` so far (faulty or not).
    pub fn reads(&self, address: &Address) -> u64 {
        self.0.borrow().reads.get(address).copied().unwrap_or(0)
    }

    fn take(&self, address: &Address) -> Option<Fault> {
        let mut faults = self.0.borrow_mut();
        *faults.reads.entry(*address).or_default() += 1;
        let (_, fault, left) = faults
            .planned
            .iter_mut()
            .find(|(a, _, left)| a == address && *left > 0)?;
        *left -= 1;
        Some(*fault)
    }
}

#[derive(Clone, Debug)]
pub struct FlakyLedger<L> {
    inner: L,
    plan: FaultPlan,
}

impl<L> FlakyLedger<L> {
    pub fn new(inner: L, plan: FaultPlan) -> Self {
        Self { inner, plan }
    }
}

impl<L: Ledger> Ledger for FlakyLedger<L> {
    async fn submit(&mut self, transaction: Transaction) -> Result<Landed, LedgerError> {
        self.inner.submit(transaction).await
    }

    async fn latest_blockhash(&mut self) -> Result<Hash, LedgerError> {
        self.inner.latest_blockhash().await
    }

    async fn account(
        &mut self,
        address: &Address,
    ) -> Result<Option<solana_account::Account>, LedgerError> {
        match self.plan.take(address) {
            Some(Fault::Missing) => Ok(None),
            Some(Fault::Failing) => Err(LedgerError::Unreachable(format!(
                "injected: the node cannot read {address}"
            ))),
            None => self.inner.account(address).await,
        }
    }

    async fn unix_timestamp(&mut self) -> Result<i64, LedgerError> {
        self.inner.unix_timestamp().await
    }

    async fn wait_for_next_slot(&mut self) -> Result<(), LedgerError> {
        self.inner.wait_for_next_slot().await
    }

    async fn channel_finalized(
        &mut self,
        address: &Address,
    ) -> Result<Option<Channel>, LedgerError> {
        self.inner.channel_finalized(address).await
    }
}
