//! `paychan-deploy`: deploys (or upgrades) target/deploy/paychan.so to a cluster through the
//! upgradeable loader, with no dependency on the `solana` CLI.

use std::{path::PathBuf, process::ExitCode};

use clap::Parser;
use paychan_migrations::{deploy_with, smoke, Deployed, Stranding};
use paychan_node::ledger::RpcLedger;
use solana_keypair::read_keypair_file;
use solana_signer::Signer;

#[derive(Parser, Debug)]
#[command(
    name = "paychan-deploy",
    version,
    about = "Deploy paychan through the upgradeable loader"
)]
struct Args {
    /// JSON-RPC URL of the cluster.
    #[arg(long, short = 'u', default_value = "http://127.0.0.1:8899")]
    url: String,
    /// Fee payer and upgrade authority.
    #[arg(long, short = 'k')]
    keypair: PathBuf,
    /// The program's keypair (its address is the program id).
    #[arg(long, default_value = "programs/paychan/keys/paychan-dev-keypair.json")]
    program_keypair: PathBuf,
    /// The SBF binary.
    #[arg(long, default_value = "target/deploy/paychan.so")]
    program: PathBuf,
    /// Upgrade even if live accounts of a layout the new build cannot read would be stranded
    /// (their instructions would all fail): only for accounts known to be abandoned.
    #[arg(long)]
    allow_stranding: bool,
    /// After deploying, open a channel, make this many payments and close it.
    #[arg(long, value_name = "PAYMENTS")]
    smoke: Option<u64>,
}

async fn run(args: Args) -> Result<(), String> {
    let read = |path: &PathBuf| {
        read_keypair_file(path).map_err(|e| format!("cannot read keypair {}: {e}", path.display()))
    };
    let (payer, program) = (read(&args.keypair)?, read(&args.program_keypair)?);
    let elf = std::fs::read(&args.program)
        .map_err(|e| format!("cannot read {}: {e}", args.program.display()))?;
    let mut ledger = RpcLedger::new(args.url.clone());
    let stranding = if args.allow_stranding {
        Stranding::Allow
    } else {
        Stranding::Refuse
    };
    let outcome = deploy_with(&mut ledger, &payer, &program, &elf, stranding)
        .await
        .map_err(|e| e.to_string())?;
    let id = program.pubkey();
    match outcome {
        Deployed::Created { transactions } => {
            println!("deployed {id} ({transactions} transactions)")
        }
        Deployed::Upgraded { transactions } => {
            println!("upgraded {id} ({transactions} transactions)")
        }
        Deployed::Unchanged => println!("{id} is already this program"),
    }
    if let Some(payments) = args.smoke {
        let report = smoke(|| RpcLedger::new(args.url.clone()), &payer, payments)
            .await
            .map_err(|e| format!("smoke test failed: {e}"))?;
        println!(
            "smoke: {} payments in {} rounds, channel opened and closed with {} transactions",
            report.payments, report.rounds, report.transactions
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
