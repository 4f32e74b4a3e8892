//! A JSON-RPC ledger (a local `solana-test-validator`, or any cluster).

use paychan_interface::Address;
use solana_clock::Clock;
use solana_commitment_config::CommitmentConfig;
use solana_hash::Hash;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_transaction::Transaction;

use super::{Landed, Ledger, LedgerError};

/// The embedded ledger's one JSON-RPC extension: `[seconds]` → the new unix timestamp.
pub const WARP_CLOCK: &str = paychan_interface::WARP_CLOCK_METHOD;

/// Clones share one client (and its connection pool): a node gives one to each channel.
#[derive(Clone)]
pub struct RpcLedger {
    client: std::sync::Arc<RpcClient>,
}

impl std::fmt::Debug for RpcLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RpcLedger")
            .field("url", &self.client.url())
            .finish()
    }
}

impl RpcLedger {
    /// Talks to `url` at `confirmed` commitment (fast enough for tests, safe against forks
    /// that a single-validator cluster never has).
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            client: std::sync::Arc::new(RpcClient::new_with_commitment(
                url.into(),
                CommitmentConfig::confirmed(),
            )),
        }
    }

    pub fn client(&self) -> &RpcClient {
        &self.client
    }

    /// Funds `address` from the cluster's faucet (a test validator or the embedded ledger)
    /// and waits, at most 30 s, until the transfer has landed.
    pub async fn airdrop(&self, address: &Address, lamports: u64) -> Result<(), LedgerError> {
        let signature = match self.client.request_airdrop(address, lamports).await {
            Ok(signature) => signature,
            Err(e) => return Err(self.explain(e).await),
        };
        for _ in 0..300 {
            if self
                .client
                .confirm_transaction(&signature)
                .await
                .map_err(from_client)?
            {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        Err(LedgerError::Unreachable(format!(
            "the airdrop to {address} did not land within 30 s"
        )))
    }

    /// Some client calls fold the transport error into a message of their own: when nothing
    /// answers at all, say that instead.
    async fn explain(&self, e: solana_rpc_client_api::client_error::Error) -> LedgerError {
        match self.client.get_version().await {
            Err(unreachable) => from_client(unreachable),
            Ok(_) => from_client(e),
        }
    }

    async fn account_at(
        &self,
        address: &Address,
        commitment: CommitmentConfig,
    ) -> Result<Option<solana_account::Account>, LedgerError> {
        match self
            .client
            .get_account_with_commitment(address, commitment)
            .await
        {
            Ok(response) => Ok(response.value.filter(|a| a.lamports > 0)),
            Err(e) => Err(self.explain(e).await),
        }
    }

    /// The lamports `address` holds (0 if it does not exist).
    pub async fn balance(&self, address: &Address) -> Result<u64, LedgerError> {
        self.client.get_balance(address).await.map_err(from_client)
    }

    /// Mints `amount` base units of the embedded ledger's test stablecoin into `wallet`'s
    /// associated token account: only `paychan ledger` can.
    pub async fn request_tokens(
        &self,
        wallet: &Address,
        amount: u64,
    ) -> Result<String, LedgerError> {
        self.client
            .send(
                solana_rpc_client_api::request::RpcRequest::Custom {
                    method: paychan_interface::REQUEST_TOKENS_METHOD,
                },
                serde_json::json!([wallet.to_string(), amount]),
            )
            .await
            .map_err(from_client)
    }

    /// Moves the clock `seconds` ahead: only the embedded ledger (`paychan ledger`) can.
    pub async fn warp_clock(&self, seconds: u64) -> Result<i64, LedgerError> {
        self.client
            .send(
                solana_rpc_client_api::request::RpcRequest::Custom { method: WARP_CLOCK },
                serde_json::json!([seconds]),
            )
            .await
            .map_err(from_client)
    }
}

fn from_client(e: solana_rpc_client_api::client_error::Error) -> LedgerError {
    use solana_rpc_client_api::client_error::ErrorKind;
    if let Some(error) = e.get_transaction_error() {
        return error.into();
    }
    match e.kind() {
        // The usual mistake, said plainly: nothing runs at that URL.
        ErrorKind::Reqwest(request) if request.is_connect() => {
            let url = request.url().map_or("the URL".into(), |u| u.to_string());
            LedgerError::Unreachable(format!(
                "nothing answers at {url} (is a validator or `paychan ledger` running there?)"
            ))
        }
        _ => LedgerError::Unreachable(e.to_string()),
    }
}

impl Ledger for RpcLedger {
    async fn submit(&mut self, transaction: Transaction) -> Result<Landed, LedgerError> {
        self.client
            .send_and_confirm_transaction(&transaction)
            .await
            .map_err(from_client)?;
        Ok(Landed::default())
    }

    async fn latest_blockhash(&mut self) -> Result<Hash, LedgerError> {
        self.client
            .get_latest_blockhash()
            .await
            .map_err(from_client)
    }

    async fn wait_for_next_slot(&mut self) -> Result<(), LedgerError> {
        let start = self.client.get_slot().await.map_err(from_client)?;
        // A slot is ~400 ms; a cluster that makes none in 5 s is not producing blocks.
        for _ in 0..100 {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            if self.client.get_slot().await.map_err(from_client)? > start {
                return Ok(());
            }
        }
        Err(LedgerError::Unreachable(format!(
            "the cluster stays at slot {start}"
        )))
    }

    async fn account(
        &mut self,
        address: &Address,
    ) -> Result<Option<solana_account::Account>, LedgerError> {
        self.account_at(address, self.client.commitment()).await
    }

    async fn program_accounts(
        &mut self,
        program: &Address,
    ) -> Result<Vec<(Address, solana_account::Account)>, LedgerError> {
        match self.client.get_program_accounts(program).await {
            Ok(accounts) => Ok(accounts),
            Err(e) => Err(self.explain(e).await),
        }
    }

    /// Two filtered reads (the party as A, then as B), so a node's look costs what its own
    /// channels weigh, not every channel of the program.
    async fn channels_of(
        &mut self,
        program: &Address,
        party: &Address,
    ) -> Result<Vec<(Address, solana_account::Account)>, LedgerError> {
        use solana_account_decoder_client_types::UiAccountEncoding;
        use solana_rpc_client_api::{
            config::{RpcAccountInfoConfig, RpcProgramAccountsConfig},
            filter::{Memcmp, RpcFilterType},
        };
        let mut found = Vec::new();
        for offset in super::PARTY_OFFSETS {
            let config = RpcProgramAccountsConfig {
                filters: Some(vec![
                    RpcFilterType::DataSize(paychan_interface::channel::CHANNEL_ACCOUNT_LEN as u64),
                    RpcFilterType::Memcmp(Memcmp::new_raw_bytes(offset, party.to_bytes().to_vec())),
                ]),
                account_config: RpcAccountInfoConfig {
                    encoding: Some(UiAccountEncoding::Base64),
                    ..RpcAccountInfoConfig::default()
                },
                ..RpcProgramAccountsConfig::default()
            };
            let accounts = match self
                .client
                .get_program_ui_accounts_with_config(program, config)
                .await
            {
                Ok(accounts) => accounts,
                Err(e) => return Err(self.explain(e).await),
            };
            for (address, account) in accounts {
                let account = account.to_account().ok_or_else(|| {
                    LedgerError::Decode(format!("the account {address} came back undecodable"))
                })?;
                if !found.iter().any(|(a, _)| *a == address) {
                    found.push((address, account));
                }
            }
        }
        Ok(found)
    }

    async fn channel_finalized(
        &mut self,
        address: &Address,
    ) -> Result<Option<paychan_interface::channel::Channel>, LedgerError> {
        let account = self
            .account_at(address, CommitmentConfig::finalized())
            .await?;
        super::decode_channel(address, account)
    }

    async fn unix_timestamp(&mut self) -> Result<i64, LedgerError> {
        let account = self
            .account(&solana_sdk_ids::sysvar::clock::ID)
            .await?
            .ok_or_else(|| LedgerError::Decode("no clock sysvar".into()))?;
        let clock: Clock =
            bincode::deserialize(&account.data).map_err(|e| LedgerError::Decode(e.to_string()))?;
        Ok(clock.unix_timestamp)
    }
}
