//! Commands that act on the channel account directly: open, deposit, status, finalize, withdraw.

use std::path::PathBuf;

use paychan_client::ledger::{Ledger, RpcLedger};
use paychan_interface::{
    channel::{Channel, ChannelStatus},
    client::{self, ChannelAddress},
    Address,
};
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::amount::{lamports, Sol};

use paychan_client::driver::{JoinPolicy, DEFAULT_MIN_CHALLENGE_PERIOD_SECS};

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
        self.policy().check_period(period).map_err(|e| {
            format!("{e} (--min-period sets the minimum; --allow-short-period for local tests)")
        })
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

async fn send(
    ledger: &mut RpcLedger,
    payer: &Keypair,
    instructions: &[Instruction],
) -> Result<(), String> {
    paychan_client::ledger::sign_and_submit(ledger, instructions, &[payer])
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[derive(clap::Args, Debug)]
pub struct Open {
    /// The other party's public key.
    #[arg(long)]
    peer: String,
    /// The key that signs the other party's states (its session key); default: its wallet.
    #[arg(long)]
    peer_signer: Option<String>,
    /// SOL to lock.
    #[arg(long, allow_negative_numbers = true)]
    deposit: String,
    /// Challenge period in seconds.
    #[arg(long, default_value_t = DEFAULT_MIN_CHALLENGE_PERIOD_SECS)]
    period: u64,
}

pub async fn open(cluster: &Cluster, args: Open) -> Result<(), String> {
    cluster.require_period(args.period)?;
    let peer = address(&args.peer)?;
    let deposit = lamports(&args.deposit)?;
    let me = cluster.keypair()?;
    let peer_signer = match &args.peer_signer {
        Some(text) => address(text)?,
        None => peer,
    };
    let signer = signer_address(&cluster.signer()?);
    let channel = ChannelAddress::new_random(&paychan_interface::ID, &me.pubkey(), &peer);
    let mut ledger = RpcLedger::new(cluster.url.clone());
    send(
        &mut ledger,
        &me,
        &[client::open_with_signers(
            &channel,
            deposit,
            args.period,
            &signer,
            &peer_signer,
        )],
    )
    .await?;
    cluster.print(
        format!("opened channel {} with {} SOL", channel.address, Sol(deposit)),
        serde_json::json!({"channel": channel.address.to_string(), "nonce": channel.nonce, "deposit": deposit}),
    );
    Ok(())
}

#[derive(clap::Args, Debug)]
pub struct Deposit {
    /// The channel address.
    channel: String,
    /// SOL to add.
    #[arg(long, allow_negative_numbers = true)]
    amount: String,
}

pub async fn deposit(cluster: &Cluster, args: Deposit) -> Result<(), String> {
    let me = cluster.keypair()?;
    let amount = lamports(&args.amount)?;
    let mut ledger = RpcLedger::new(cluster.url.clone());
    let (channel, account) = channel_at(&mut ledger, &args.channel).await?;
    // Before locking funds: the channel must name this party's own key as its state signer,
    // or the opener (holding both signers) could sign away the deposit.
    if let Some(party) = account.party_of(&me.pubkey()) {
        paychan_client::driver::require_named_signer(&account, party, &cluster.signer()?)
            .map_err(|e| format!("not depositing: {e}"))?;
        cluster
            .require_period(account.challenge_period_secs)
            .map_err(|e| format!("not depositing: {e}"))?;
    }
    send(
        &mut ledger,
        &me,
        &[client::deposit(&channel, &me.pubkey(), amount)],
    )
    .await?;
    cluster.print(
        format!("deposited {} SOL into {}", Sol(amount), channel.address),
        serde_json::json!({"channel": channel.address.to_string(), "deposit": amount}),
    );
    Ok(())
}

#[derive(clap::Args, Debug)]
pub struct ChannelArg {
    /// The channel address.
    channel: String,
}

#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    /// The channel address.
    channel: String,
    /// Show the running daemon's view instead: the link, the newest states, the queue.
    #[arg(long)]
    node: bool,
    #[command(flatten)]
    store: crate::store::StoreArg,
}

pub async fn status(cluster: &Cluster, args: StatusArgs) -> Result<(), String> {
    if args.node {
        return crate::remote::node_status(cluster, &args.channel, &args.store).await;
    }
    let mut ledger = RpcLedger::new(cluster.url.clone());
    let (address, channel) = channel_at(&mut ledger, &args.channel).await?;
    let status = match channel.status {
        ChannelStatus::Open => "open",
        ChannelStatus::Closing => "closing",
        ChannelStatus::Settled => "settled",
    };
    cluster.print(
        format!(
            "channel {}: {status}\n  A {} deposited {} SOL\n  B {} deposited {} SOL\n  registered seq {} (deadline {}), unclaimed A {} B {}",
            address.address,
            channel.party_a,
            Sol(channel.deposited_a),
            channel.party_b,
            Sol(channel.deposited_b),
            channel.registered.seq,
            channel.deadline,
            channel.unclaimed_a,
            channel.unclaimed_b,
        ),
        serde_json::json!({
            "channel": address.address.to_string(),
            "status": status,
            "party_a": channel.party_a.to_string(),
            "party_b": channel.party_b.to_string(),
            "deposited_a": channel.deposited_a,
            "deposited_b": channel.deposited_b,
            "registered_seq": channel.registered.seq,
            "deadline": channel.deadline,
            "unclaimed_a": channel.unclaimed_a,
            "unclaimed_b": channel.unclaimed_b,
        }),
    );
    Ok(())
}

pub async fn finalize(cluster: &Cluster, args: ChannelArg) -> Result<(), String> {
    let me = cluster.keypair()?;
    let mut ledger = RpcLedger::new(cluster.url.clone());
    let (channel, _) = channel_at(&mut ledger, &args.channel).await?;
    send(&mut ledger, &me, &[client::finalize(&channel)]).await?;
    cluster.print(
        format!("finalized {}", channel.address),
        serde_json::json!({"channel": channel.address.to_string(), "finalized": true}),
    );
    Ok(())
}

#[derive(clap::Args, Debug)]
pub struct Withdraw {
    /// The channel address.
    channel: String,
    /// Where to send it: a party's wallet takes that party's share (anyone may move it there);
    /// any other address takes this party's own share (default: this keypair's address).
    #[arg(long)]
    to: Option<String>,
}

pub async fn withdraw(cluster: &Cluster, args: Withdraw) -> Result<(), String> {
    let me = cluster.keypair()?;
    let destination = match &args.to {
        Some(text) => address(text)?,
        None => me.pubkey(),
    };
    let mut ledger = RpcLedger::new(cluster.url.clone());
    let (channel, _) = channel_at(&mut ledger, &args.channel).await?;
    send(
        &mut ledger,
        &me,
        &[client::withdraw(&channel, &me.pubkey(), &destination)],
    )
    .await?;
    cluster.print(
        format!("moved an unclaimed share of {} to {destination}", channel.address),
        serde_json::json!({"channel": channel.address.to_string(), "destination": destination.to_string()}),
    );
    Ok(())
}
