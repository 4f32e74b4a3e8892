//! A BanksClient ledger: solana-program-test's real Bank.

use paychan_interface::Address;
use solana_banks_client::BanksClient;
use solana_clock::Clock;
use solana_hash::Hash;
use solana_transaction::Transaction;

use super::{Landed, Ledger, LedgerError};

#[derive(Clone)]
pub struct BanksLedger {
    client: BanksClient,
}

impl std::fmt::Debug for BanksLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BanksLedger").finish_non_exhaustive()
    }
}

impl BanksLedger {
    pub fn new(client: BanksClient) -> Self {
        Self { client }
    }
}

fn unreachable(e: impl std::fmt::Display) -> LedgerError {
    LedgerError::Unreachable(e.to_string())
}

impl Ledger for BanksLedger {
    async fn submit(&mut self, transaction: Transaction) -> Result<Landed, LedgerError> {
        let outcome = self
            .client
            .process_transaction_with_metadata(transaction)
            .await
            .map_err(unreachable)?;
        outcome.result?;
        Ok(outcome
            .metadata
            .map(|meta| Landed {
                compute_units: Some(meta.compute_units_consumed),
                logs: meta.log_messages,
            })
            .unwrap_or_default())
    }

    async fn latest_blockhash(&mut self) -> Result<Hash, LedgerError> {
        self.client
            .get_latest_blockhash()
            .await
            .map_err(unreachable)
    }

    async fn account(
        &mut self,
        address: &Address,
    ) -> Result<Option<solana_account::Account>, LedgerError> {
        let account = self
            .client
            .get_account(*address)
            .await
            .map_err(unreachable)?;
        Ok(account.filter(|a| a.lamports > 0))
    }

    async fn unix_timestamp(&mut self) -> Result<i64, LedgerError> {
        let clock: Clock = self.client.get_sysvar().await.map_err(unreachable)?;
        Ok(clock.unix_timestamp)
    }
}
