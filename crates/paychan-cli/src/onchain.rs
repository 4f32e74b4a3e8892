//! Commands that act on the channel account directly: open, deposit, status, finalize, withdraw.

use paychan_interface::{
    channel::ChannelStatus,
    client::{self, ChannelAddress},
};
use paychan_node::{driver::DEFAULT_MIN_CHALLENGE_PERIOD_SECS, ledger::RpcLedger};
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::{
    amount::Unit,
    cluster::{address, channel_at, mint_at, signer_address, Cluster},
};

async fn send(
    ledger: &mut RpcLedger,
    payer: &Keypair,
    instructions: &[Instruction],
) -> Result<(), String> {
    paychan_node::ledger::sign_and_submit(ledger, instructions, &[payer])
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
    /// What to lock: SOL, or tokens of this mint with `--mint` (in the mint's decimals).
    #[arg(long, allow_negative_numbers = true)]
    deposit: String,
    /// Lock tokens of this mint (SPL Token or Token-2022; `tUSD`: the embedded ledger's test
    /// stablecoin) instead of SOL, from this key's associated token account.
    #[arg(long)]
    mint: Option<String>,
    /// Challenge period in seconds.
    #[arg(long, default_value_t = DEFAULT_MIN_CHALLENGE_PERIOD_SECS)]
    period: u64,
}

pub async fn open(cluster: &Cluster, args: Open) -> Result<(), String> {
    cluster.require_period(args.period)?;
    let peer = address(&args.peer)?;
    let me = cluster.keypair()?;
    let mut ledger = RpcLedger::new(cluster.url.clone());
    let token = match &args.mint {
        None => None,
        Some(text) => Some(mint_at(&mut ledger, text).await?),
    };
    let unit = match token {
        None => Unit::Sol,
        Some((mint, _, decimals)) => Unit::Token { mint, decimals },
    };
    let deposit = unit.parse(&args.deposit)?;
    let peer_signer = match &args.peer_signer {
        Some(text) => address(text)?,
        None => peer,
    };
    let signer = signer_address(&cluster.signer()?);
    let channel = match token {
        None => ChannelAddress::new_random(&paychan_interface::ID, &me.pubkey(), &peer),
        Some((mint, program, decimals)) => ChannelAddress::new_random_token(
            &paychan_interface::ID,
            &me.pubkey(),
            &peer,
            program,
            &mint,
            decimals,
        ),
    };
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
        format!("opened channel {} with {}", channel.address, unit.show(deposit)),
        serde_json::json!({"channel": channel.address.to_string(), "nonce": channel.nonce, "deposit": deposit,
                           "mint": channel.token.map(|t| t.mint.to_string())}),
    );
    Ok(())
}

#[derive(clap::Args, Debug)]
pub struct Deposit {
    /// The channel address.
    channel: String,
    /// SOL to add (tokens, in the mint's decimals, for a token channel).
    #[arg(long, allow_negative_numbers = true)]
    amount: String,
}

pub async fn deposit(cluster: &Cluster, args: Deposit) -> Result<(), String> {
    let me = cluster.keypair()?;
    let mut ledger = RpcLedger::new(cluster.url.clone());
    let (channel, account) = channel_at(&mut ledger, &args.channel).await?;
    let unit = Unit::of(&account);
    let amount = unit.parse(&args.amount)?;
    // Before locking funds: the channel must name this party's own key as its state signer,
    // or the opener (holding both signers) could sign away the deposit.
    if let Some(party) = account.party_of(&me.pubkey()) {
        paychan_node::driver::require_named_signer(&account, party, &cluster.signer()?)
            .map_err(|e| format!("not depositing: {}", crate::cluster::explain(&e)))?;
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
        format!("deposited {} into {}", unit.show(amount), channel.address),
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
    /// Show the running node's view instead: the link, the newest states, the queue.
    #[arg(long)]
    node: bool,
    #[command(flatten)]
    api: crate::node::client::NodeArg,
    #[command(flatten)]
    store: crate::store::StoreArg,
}

impl StatusArgs {
    /// `--node`: the node's view (see `remote::node_status`), not the chain's.
    pub fn node(&self) -> Option<(&str, &crate::node::client::NodeArg, &crate::store::StoreArg)> {
        self.node
            .then_some((self.channel.as_str(), &self.api, &self.store))
    }
}

/// The channel as the chain shows it.
pub async fn status(cluster: &Cluster, args: StatusArgs) -> Result<(), String> {
    let mut ledger = RpcLedger::new(cluster.url.clone());
    let (address, channel) = channel_at(&mut ledger, &args.channel).await?;
    let unit = Unit::of(&channel);
    let status = match channel.status {
        ChannelStatus::Open => "open",
        ChannelStatus::Closing => "closing",
        ChannelStatus::Settled => "settled",
    };
    cluster.print(
        format!(
            "channel {}: {status}\n  A {} deposited {}\n  B {} deposited {}\n  registered seq {} (deadline {}), unclaimed A {} B {}{}",
            address.address,
            channel.party_a,
            unit.show(channel.deposited_a),
            channel.party_b,
            unit.show(channel.deposited_b),
            channel.registered.seq,
            channel.deadline,
            unit.show(channel.unclaimed_a),
            unit.show(channel.unclaimed_b),
            channel.token.map_or(String::new(), |t| format!(
                "\n  locks tokens of mint {} in vault {} ({} decimals)",
                t.mint, t.vault, t.decimals
            )),
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
            "mint": channel.token.map(|t| t.mint.to_string()),
            "vault": channel.token.map(|t| t.vault.to_string()),
            "decimals": channel.token.map(|t| t.decimals),
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
    // A token channel pays into token accounts: the wallet's associated one.
    let destination = channel
        .token_account_of(&destination)
        .unwrap_or(destination);
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
