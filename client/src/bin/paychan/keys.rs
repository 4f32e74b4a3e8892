//! Keypair files in the Solana CLI's JSON format.

use std::path::PathBuf;

use solana_keypair::{read_keypair_file, write_keypair_file, Keypair};
use solana_signer::Signer;

#[derive(clap::Args, Debug)]
pub struct Keygen {
    /// Where to write the keypair.
    #[arg(long, short = 'o')]
    outfile: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    force: bool,
}

pub fn keygen(args: Keygen) -> Result<(), String> {
    if args.outfile.exists() && !args.force {
        return Err(format!(
            "{} exists; pass --force to replace it",
            args.outfile.display()
        ));
    }
    let keypair = Keypair::new();
    write_keypair_file(&keypair, &args.outfile)
        .map_err(|e| format!("cannot write {}: {e}", args.outfile.display()))?;
    println!("{}", keypair.pubkey());
    Ok(())
}

pub fn read(path: &std::path::Path) -> Result<Keypair, String> {
    read_keypair_file(path).map_err(|e| format!("cannot read keypair {}: {e}", path.display()))
}
