//! The conventions every command shares (the Solana CLI's: `--url`, `--keypair`, `--output`),
//! this party's keys and channel policy, and reading a channel's address parameters back.

use paychan_interface::token::TokenProgram;
use std::path::PathBuf;

use paychan_interface::{channel::Channel, client::ChannelAddress, Address};
use paychan_node::{
    driver::{DriverError, JoinPolicy, DEFAULT_MIN_CHALLENGE_PERIOD_SECS},
    ledger::{Ledger, RpcLedger},
};
use solana_keypair::Keypair;

/// Solana CLI conventions shared by every command.
#[derive(clap::Args, Debug)]
pub struct Cluster {
    /// JSON-RPC URL of the cluster.
    #[arg(
        long,
        short = 'u',
        global = true,
        default_value = "http://127.0.0.1:8899"
    )]
    pub url: String,
    /// Keypair of this party (fee payer and signer).
    #[arg(long, short = 'k', global = true)]
    pub keypair: Option<PathBuf>,
    /// Keypair that signs this party's states (a session key kept apart from the wallet);
    /// default: the keypair itself.
    #[arg(long, global = true)]
    pub signer: Option<PathBuf>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value = "display")]
    pub output: Output,
    /// The shortest challenge period (seconds) to open, deposit into or run a channel with:
    /// below it, the other party could finalize a stale state before a dispute lands.
    #[arg(long, global = true, default_value_t = DEFAULT_MIN_CHALLENGE_PERIOD_SECS)]
    pub min_period: u64,
    /// Accept any challenge period (for tests on a local validator).
    #[arg(long, global = true)]
    pub allow_short_period: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Display,
    Json,
}

impl Cluster {
    /// Refuses a channel whose challenge period is below this party's minimum, saying how
    /// to lower it.
    pub fn require_period(&self, period: u64) -> Result<(), String> {
        self.policy().check_period(period).map_err(|e| explain(&e))
    }

    /// What this party requires of a channel: `--min-period`, or nothing with
    /// `--allow-short-period`.
    pub fn policy(&self) -> JoinPolicy {
        JoinPolicy {
            min_challenge_period_secs: if self.allow_short_period {
                1
            } else {
                self.min_period
            },
        }
    }

    pub fn keypair(&self) -> Result<Keypair, String> {
        let path = match &self.keypair {
            Some(path) => path.clone(),
            None => crate::keys::default_path()?,
        };
        crate::keys::read(&path)
    }

    /// The key that signs this party's states: `--signer`, else the keypair.
    pub fn signer(&self) -> Result<ed25519_dalek::SigningKey, String> {
        let keypair = match &self.signer {
            Some(path) => crate::keys::read(path)?,
            None => self.keypair()?,
        };
        Ok(ed25519_dalek::SigningKey::from_bytes(
            keypair.secret_bytes(),
        ))
    }

    /// Prints a result; a closed stdout (say, `| head`) is not an error worth a panic.
    pub fn print(&self, human: String, json: serde_json::Value) {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = match self.output {
            Output::Display => writeln!(out, "{human}"),
            Output::Json => writeln!(out, "{json}"),
        };
    }
}

pub fn signer_address(key: &ed25519_dalek::SigningKey) -> Address {
    Address::new_from_array(key.verifying_key().to_bytes())
}

pub fn address(text: &str) -> Result<Address, String> {
    text.parse()
        .map_err(|_| format!("{text} is not a valid address"))
}

/// The channel's address parameters, read back from its account.
pub async fn channel_at(
    ledger: &mut RpcLedger,
    text: &str,
) -> Result<(ChannelAddress, Channel), String> {
    let address = address(text)?;
    let channel = ledger
        .channel(&address)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no open channel at {address}"))?;
    Ok((
        ChannelAddress::of_account(&paychan_interface::ID, &address, &channel),
        channel,
    ))
}

/// A token mint named on the command line (`tUSD` is the embedded ledger's test stablecoin),
/// checked as Open will check it: its token program, and that the program accepts it.
pub async fn mint_at(
    ledger: &mut RpcLedger,
    text: &str,
) -> Result<(Address, TokenProgram, u8), String> {
    use paychan_node::ledger::Ledger;
    let mint = match text {
        "tUSD" | "tusd" => paychan_ledger_server::TEST_USD_MINT,
        text => address(text)?,
    };
    let account = ledger
        .account(&mint)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no mint at {mint}"))?;
    let program = TokenProgram::from_owner(&account.owner).ok_or_else(|| {
        format!(
            "{mint} is not a mint: its owner {} is neither SPL Token nor Token-2022",
            account.owner
        )
    })?;
    let decimals = paychan_interface::token::check_mint(program, &mint, &account.data)
        .map_err(|e| format!("paychan refuses the mint {mint}: {e}"))?;
    Ok((mint, program, decimals))
}

/// The unit a channel counts in, read from the chain.
pub async fn unit_of(cluster: &Cluster, channel: &Address) -> Result<crate::amount::Unit, String> {
    let mut ledger = RpcLedger::new(cluster.url.clone());
    let (_, account) = channel_at(&mut ledger, &channel.to_string()).await?;
    Ok(crate::amount::Unit::of(&account))
}

/// A driver error in one line, with the flag that changes the outcome where one does (the
/// library's messages name no flags).
pub fn explain(error: &DriverError) -> String {
    match error {
        DriverError::SignerMismatch { .. } => {
            format!("{error} (--signer FILE names your state-signing key)")
        }
        DriverError::ChallengePeriodTooShort { .. } => {
            format!("{error} (--min-period sets the minimum; --allow-short-period for local tests)")
        }
        other => other.to_string(),
    }
}
