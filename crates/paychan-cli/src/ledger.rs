//! The embedded ledger and the faucet: `paychan ledger` serves LiteSVM with paychan loaded on
//! 127.0.0.1:8899 (where `--url` points by default), so two parties need no validator;
//! `airdrop` funds a key there (or on a test validator), `balance` shows a wallet; `warp` skips
//! time on the embedded ledger.

use std::path::PathBuf;

use paychan_ledger_server::{self as ledger_server, EmbeddedLedger};
use paychan_node::ledger::RpcLedger;
use solana_signer::Signer;

use paychan_interface::{
    pda::find_associated_token_address,
    token::{TokenAccount, TokenProgram},
    Address,
};

use crate::{
    amount::{lamports, Sol, Unit},
    cluster::{address, mint_at, Cluster},
};

const DEFAULT_PROGRAM: &str = concat!(env!("SBF_OUT_DIR"), "/paychan.so");

#[derive(clap::Args, Debug)]
pub struct Serve {
    /// Where to serve JSON-RPC.
    #[arg(long, default_value = "127.0.0.1:8899")]
    bind: String,
    /// The paychan program binary to load.
    #[arg(long, default_value = DEFAULT_PROGRAM)]
    program: PathBuf,
    /// Start the clock at this unix time and move it only with `paychan warp` (for tests).
    #[arg(long)]
    manual_clock: Option<i64>,
    /// Keep the ledger's state in this directory: a restart continues where it stopped
    /// (without it, the state lives in memory only).
    #[arg(long)]
    ledger: Option<PathBuf>,
}

pub async fn serve(args: Serve) -> Result<(), String> {
    let program = std::fs::read(&args.program).map_err(|e| {
        format!(
            "cannot read {}: {e} (build it with scripts/build-sbf.sh)",
            args.program.display()
        )
    })?;
    let mut ledger =
        EmbeddedLedger::new(paychan_interface::ID, &program).map_err(|e| e.to_string())?;
    if let Some(start) = args.manual_clock {
        ledger = ledger.with_manual_clock(start);
    }
    if let Some(dir) = &args.ledger {
        let cannot = |e: String| format!("cannot keep the ledger in {}: {e}", dir.display());
        let kept = ledger_server::LedgerDir::new(dir).map_err(|e| cannot(e.to_string()))?;
        let (restored, accounts, transactions) =
            ledger.with_dir(kept).map_err(|e| cannot(e.to_string()))?;
        ledger = restored;
        eprintln!(
            "paychan ledger: state kept in {} ({accounts} accounts and {transactions} transactions restored)",
            dir.display()
        );
    }
    let cannot =
        |e: std::io::Error| format!("cannot serve on {} (and the next port): {e}", args.bind);
    let bind: std::net::SocketAddr = tokio::net::lookup_host(&args.bind)
        .await
        .map_err(cannot)?
        .next()
        .ok_or_else(|| format!("{} names no address", args.bind))?;
    let (listener, pubsub) = ledger_server::bind_pair(bind).map_err(cannot)?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let ws = pubsub.local_addr().map_err(|e| e.to_string())?;
    // On stdout, first: scripts and tests read the URL from here.
    // (Only this line: a reader may close the pipe after it.)
    println!("serving the embedded ledger on http://{local}");
    eprintln!(
        "paychan ledger: LiteSVM with {} at {}, PubSub websocket on ws://{ws}; test stablecoin tUSD at {} (`paychan airdrop 100 --mint tUSD`)",
        args.program.display(),
        paychan_interface::ID,
        ledger_server::TEST_USD_MINT
    );
    ledger_server::serve(listener, pubsub, ledger)
        .await
        .map_err(|e| format!("cannot serve on {local}: {e}"))
}

#[derive(clap::Args, Debug)]
pub struct Airdrop {
    /// SOL to request (tokens with `--mint`).
    amount: String,
    /// Who gets it (default: this keypair's address).
    #[arg(long)]
    to: Option<String>,
    /// Request the embedded ledger's test stablecoin instead (`--mint tUSD`), into the
    /// wallet's associated token account.
    #[arg(long)]
    mint: Option<String>,
}

pub async fn airdrop(cluster: &Cluster, args: Airdrop) -> Result<(), String> {
    let to = match &args.to {
        Some(text) => address(text)?,
        None => cluster.keypair()?.pubkey(),
    };
    if let Some(mint) = &args.mint {
        return airdrop_tokens(cluster, &to, mint, &args.amount).await;
    }
    let amount = lamports(&args.amount)?;
    let ledger = RpcLedger::new(cluster.url.clone());
    ledger
        .airdrop(&to, amount)
        .await
        .map_err(|e| format!("airdrop refused: {e}"))?;
    let balance = ledger.balance(&to).await.map_err(|e| e.to_string())?;
    cluster.print(
        format!(
            "{to} received {} SOL (balance {} SOL)",
            Sol(amount),
            Sol(balance)
        ),
        serde_json::json!({"to": to.to_string(), "lamports": amount, "balance": balance}),
    );
    Ok(())
}

/// The embedded ledger's faucet for its test stablecoin.
async fn airdrop_tokens(
    cluster: &Cluster,
    to: &Address,
    mint: &str,
    amount: &str,
) -> Result<(), String> {
    let mut ledger = RpcLedger::new(cluster.url.clone());
    let (mint, program, decimals) = mint_at(&mut ledger, mint).await?;
    if mint != ledger_server::TEST_USD_MINT {
        return Err(format!(
            "only the embedded ledger's test stablecoin (tUSD, {}) has a faucet, not {mint}",
            ledger_server::TEST_USD_MINT
        ));
    }
    let unit = Unit::Token { mint, decimals };
    let units = unit.parse(amount)?;
    ledger.request_tokens(to, units).await.map_err(|e| {
        format!("token airdrop refused (only `paychan ledger` has the faucet): {e}")
    })?;
    let account = find_associated_token_address(to, program, &mint);
    let balance = token_balance(&mut ledger, program, &account).await?;
    cluster.print(
        format!(
            "{to} received {} (balance {})",
            unit.show(units),
            unit.show(balance)
        ),
        serde_json::json!({"to": to.to_string(), "mint": mint.to_string(), "amount": units,
                           "token_account": account.to_string(), "balance": balance}),
    );
    Ok(())
}

/// The token balance of `account`, a token account of `program` (0 when it does not exist).
async fn token_balance(
    ledger: &mut RpcLedger,
    program: TokenProgram,
    account: &Address,
) -> Result<u64, String> {
    use paychan_node::ledger::Ledger;
    let data = ledger
        .account(account)
        .await
        .map_err(|e| e.to_string())?
        .map(|a| a.data)
        .unwrap_or_default();
    Ok(TokenAccount::parse(program, &data).map_or(0, |a| a.amount))
}

#[derive(clap::Args, Debug)]
pub struct Warp {
    /// Seconds to move the clock ahead.
    seconds: u64,
}

/// Moves the embedded ledger's clock ahead: a challenge period passes at once.
pub async fn warp(cluster: &Cluster, args: Warp) -> Result<(), String> {
    let now = RpcLedger::new(cluster.url.clone())
        .warp_clock(args.seconds)
        .await
        .map_err(|e| {
            format!(
                "{} cannot warp (only `paychan ledger` can): {e}",
                cluster.url
            )
        })?;
    cluster.print(
        format!("the clock is now {now} (+{} s)", args.seconds),
        serde_json::json!({"unix_timestamp": now}),
    );
    Ok(())
}

#[derive(clap::Args, Debug)]
pub struct Balance {
    /// Whose balance (default: this keypair's address).
    address: Option<String>,
    /// Tokens of this mint instead (`tUSD`: the test stablecoin), in the wallet's associated
    /// token account.
    #[arg(long)]
    mint: Option<String>,
}

pub async fn balance(cluster: &Cluster, args: Balance) -> Result<(), String> {
    let of = match &args.address {
        Some(text) => address(text)?,
        None => cluster.keypair()?.pubkey(),
    };
    if let Some(mint) = &args.mint {
        let mut ledger = RpcLedger::new(cluster.url.clone());
        let (mint, program, decimals) = mint_at(&mut ledger, mint).await?;
        let account = find_associated_token_address(&of, program, &mint);
        let units = token_balance(&mut ledger, program, &account).await?;
        cluster.print(
            Unit::Token { mint, decimals }.show(units),
            serde_json::json!({"address": of.to_string(), "mint": mint.to_string(),
                               "token_account": account.to_string(), "amount": units}),
        );
        return Ok(());
    }
    let lamports = RpcLedger::new(cluster.url.clone())
        .balance(&of)
        .await
        .map_err(|e| format!("cannot read the balance of {of}: {e}"))?;
    cluster.print(
        format!("{} SOL", Sol(lamports)),
        serde_json::json!({"address": of.to_string(), "lamports": lamports}),
    );
    Ok(())
}
