//! `paychan`: two-party payment channels on Solana, from the command line.
#![forbid(unsafe_code)]

mod amount;
mod bench;
mod cluster;
mod keys;
mod ledger;
mod node;
mod onchain;
mod progress;
mod remote;
mod session;
mod store;
mod tower;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "paychan",
    version,
    about = "Two-party payment channels on Solana"
)]
struct Cli {
    #[command(flatten)]
    cluster: cluster::Cluster,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create a keypair file (Solana CLI format).
    Keygen(keys::Keygen),
    /// Serve the embedded ledger (LiteSVM with paychan loaded) over JSON-RPC: no validator needed.
    Ledger(ledger::Serve),
    /// Request SOL from the cluster's faucet (the embedded ledger or a test validator).
    Airdrop(ledger::Airdrop),
    /// A wallet's balance.
    Balance(ledger::Balance),
    /// Move the embedded ledger's clock ahead (skips a challenge period).
    Warp(ledger::Warp),
    /// Open a channel to a peer, locking a deposit.
    Open(onchain::Open),
    /// Add to this party's deposit while the channel is open.
    Deposit(onchain::Deposit),
    /// Show a channel as the chain sees it (`--node`: as the running node sees it).
    Status(onchain::StatusArgs),
    /// Pay out a closing channel after its challenge period.
    Finalize(onchain::ChannelArg),
    /// Move a share the settlement could not pay: to its party's wallet (anyone may), or this party's own anywhere.
    Withdraw(onchain::Withdraw),
    /// Run every channel of this key: peer links, watchers, new channels under a policy, and the HTTP API.
    Node(node::Run),
    /// Pay through the running node.
    Pay(remote::Pay),
    /// Close through the running node: cooperatively, or unilaterally if the peer does not agree.
    Close(remote::Close),
    /// Dispute a stale registration now (through the node if one runs).
    Dispute(remote::Dispute),
    /// Wait for the peer and serve one session (accept payments, countersign its close).
    Listen(session::Listen),
    /// Connect to the peer, pay, and optionally close cooperatively.
    Connect(session::Connect),
    /// Every stored payment with the co-signed state that is its receipt.
    History(session::History),
    /// Register the newest co-signed state on-chain (unilateral close).
    ForceClose(session::StoredChannel),
    /// Watch a channel until it closes: dispute stale states, finalize after the window (`--tower`: as a third key).
    Watch(session::Watch),
    /// Payments per second and latency between two processes over the encrypted link.
    Bench(bench::Bench),
    /// One side of `bench` (started by it).
    #[command(hide = true)]
    BenchPeer(bench::BenchPeer),
    /// The node of `bench --channels` (started by it).
    #[command(hide = true)]
    BenchNode(bench::channels::BenchNode),
    /// Print the program's Codama IDL (JSON), from which clients in other languages are generated.
    Idl,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(), // --help, --version
        Err(e) => {
            // One line, like every other error; `--help` has the usage.
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            eprintln!("{first} (see --help)");
            return ExitCode::from(2);
        }
    };
    let cluster = &cli.cluster;
    let result = match cli.command {
        Command::Keygen(args) => keys::keygen(args),
        Command::Ledger(args) => block_on(ledger::serve(args)),
        Command::Airdrop(args) => block_on(ledger::airdrop(cluster, args)),
        Command::Balance(args) => block_on(ledger::balance(cluster, args)),
        Command::Warp(args) => block_on(ledger::warp(cluster, args)),
        Command::Node(args) => block_on(node::run(cluster, args)),
        Command::Pay(args) => block_on(remote::pay(cluster, args)),
        Command::Close(args) => block_on(remote::close(cluster, args)),
        Command::Dispute(args) => block_on(remote::dispute(cluster, args)),
        Command::Open(args) => block_on(onchain::open(cluster, args)),
        Command::Deposit(args) => block_on(onchain::deposit(cluster, args)),
        Command::Status(args) => match args.node() {
            Some((channel, api, store)) => {
                block_on(remote::node_status(cluster, channel, api, store))
            }
            None => block_on(onchain::status(cluster, args)),
        },
        Command::Finalize(args) => block_on(onchain::finalize(cluster, args)),
        Command::Withdraw(args) => block_on(onchain::withdraw(cluster, args)),
        Command::Listen(args) => block_on(session::listen(cluster, args)),
        Command::Connect(args) => block_on(session::connect(cluster, args)),
        Command::History(args) => block_on(session::history(cluster, args)),
        Command::ForceClose(args) => block_on(session::force_close(cluster, args)),
        Command::Watch(args) => block_on(session::watch(cluster, args)),
        Command::Bench(args) => bench::run(args, cluster.output),
        Command::BenchNode(args) => bench::channels::node(args),
        Command::BenchPeer(args) => bench::peer(args),
        Command::Idl => print_idl(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn print_idl() -> Result<(), String> {
    use std::io::Write;
    let idl = paychan_interface::idl::codama_idl_json();
    std::io::stdout()
        .write_all(idl.as_bytes())
        .map_err(|e| format!("cannot write the IDL: {e}"))
}

/// Runs a command on one thread; sessions spawn their link reader as a local task.
fn block_on<F: std::future::Future<Output = Result<(), String>>>(future: F) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    tokio::task::LocalSet::new().block_on(&runtime, future)
}
