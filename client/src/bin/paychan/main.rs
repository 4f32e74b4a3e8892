//! `paychan`: two-party payment channels on Solana, from the command line.
#![forbid(unsafe_code)]

mod bench;
mod keys;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "paychan",
    version,
    about = "Two-party payment channels on Solana"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create a keypair file (Solana CLI format).
    Keygen(keys::Keygen),
    /// Payments per second and latency between two processes over the encrypted link.
    Bench(bench::Bench),
    /// One side of `bench` (started by it).
    #[command(hide = true)]
    BenchPeer(bench::BenchPeer),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Keygen(args) => keys::keygen(args),
        Command::Bench(args) => bench::run(args),
        Command::BenchPeer(args) => bench::peer(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
