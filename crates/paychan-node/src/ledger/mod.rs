//! The L1 as the client sees it: submit a transaction, read a channel account, read the clock.
//! Three backends run the real program: LiteSVM (embedded), BanksClient (solana-program-test)
//! and JSON-RPC (a validator). Transactions are built only from `paychan_interface` builders.

#[cfg(feature = "banks")]
mod banks;
mod chain_view;
pub mod cooperative;
mod error;
#[cfg(feature = "litesvm")]
mod litesvm;
#[cfg(feature = "rpc")]
mod rpc;
mod shared;

#[cfg(feature = "litesvm")]
pub use self::litesvm::LiteSvmLedger;
#[cfg(feature = "banks")]
pub use banks::BanksLedger;
pub use chain_view::{chain_view, view_of, GoneEvidence, Sighting, GONE_AFTER_READS};
pub use error::LedgerError;
#[cfg(feature = "rpc")]
pub use rpc::{RpcLedger, WARP_CLOCK};
pub use shared::SharedLedger;

use paychan_interface::{channel::Channel, Address};
use solana_hash::Hash;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction::Transaction;

/// A transaction the ledger accepted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Landed {
    pub compute_units: Option<u64>,
    pub logs: Vec<String>,
}

#[allow(async_fn_in_trait)] // used with static dispatch only
pub trait Ledger {
    /// Sends a fully signed transaction and waits until it is processed (or refused).
    async fn submit(&mut self, transaction: Transaction) -> Result<Landed, LedgerError>;

    /// A recent blockhash to sign transactions with.
    async fn latest_blockhash(&mut self) -> Result<Hash, LedgerError>;

    /// The raw account, if it exists.
    async fn account(
        &mut self,
        address: &Address,
    ) -> Result<Option<solana_account::Account>, LedgerError>;

    /// The Clock sysvar's unix timestamp.
    async fn unix_timestamp(&mut self) -> Result<i64, LedgerError>;

    /// Returns once the chain has moved past the slot it is in now (as far as this backend
    /// can tell: a test bank that moves only when warped returns at once).
    async fn wait_for_next_slot(&mut self) -> Result<(), LedgerError> {
        Ok(())
    }

    /// The decoded channel account, if the channel exists.
    async fn channel(&mut self, address: &Address) -> Result<Option<Channel>, LedgerError> {
        decode_channel(address, self.account(address).await?)
    }

    /// Every account `program` owns (what a deploy checks before an upgrade). Backends that
    /// cannot list accounts say so.
    async fn program_accounts(
        &mut self,
        program: &Address,
    ) -> Result<Vec<(Address, solana_account::Account)>, LedgerError> {
        Err(LedgerError::Unsupported(format!(
            "listing the accounts of {program}"
        )))
    }

    /// The channel accounts naming `party` as A or B: what a node looks for. Backends that
    /// can filter on the server (JSON-RPC `memcmp`) read only those; the others list every
    /// account and filter here.
    async fn channels_of(
        &mut self,
        program: &Address,
        party: &Address,
    ) -> Result<Vec<(Address, solana_account::Account)>, LedgerError> {
        let all = self.program_accounts(program).await?;
        Ok(all
            .into_iter()
            .filter(|(_, account)| names(&account.data, party))
            .collect())
    }

    /// The channel as the `finalized` commitment shows it: what a guard checks before it
    /// concludes the channel is gone. Backends without forks read it as [`Ledger::channel`].
    async fn channel_finalized(
        &mut self,
        address: &Address,
    ) -> Result<Option<Channel>, LedgerError> {
        self.channel(address).await
    }
}

/// Where a channel account keeps party A's and party B's wallets.
pub const PARTY_OFFSETS: [usize; 2] = [
    core::mem::offset_of!(paychan_interface::channel::ChannelAccount, party_a),
    core::mem::offset_of!(paychan_interface::channel::ChannelAccount, party_b),
];

/// Whether channel account `data` names `party` as A or B.
pub fn names(data: &[u8], party: &Address) -> bool {
    data.len() == paychan_interface::channel::CHANNEL_ACCOUNT_LEN
        && PARTY_OFFSETS
            .iter()
            .any(|&at| data.get(at..at + 32) == Some(party.as_ref()))
}

/// The channel in `account`, if it is one (an account of another owner is no channel).
pub fn decode_channel(
    address: &Address,
    account: Option<solana_account::Account>,
) -> Result<Option<Channel>, LedgerError> {
    match account {
        Some(account) if account.owner == paychan_interface::ID => Channel::unpack(&account.data)
            .map(Some)
            .map_err(|e| LedgerError::NotAChannel(*address, e)),
        Some(_) | None => Ok(None),
    }
}

/// Signs `instructions` with a fresh blockhash and lands them; the first signer pays the fee.
pub async fn sign_and_submit<L: Ledger>(
    ledger: &mut L,
    instructions: &[Instruction],
    signers: &[&Keypair],
) -> Result<Landed, LedgerError> {
    let payer = signers.first().map(|s| s.pubkey());
    let blockhash = ledger.latest_blockhash().await?;
    let transaction =
        Transaction::new_signed_with_payer(instructions, payer.as_ref(), signers, blockhash);
    ledger.submit(transaction).await
}
