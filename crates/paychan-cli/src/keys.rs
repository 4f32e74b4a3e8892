//! Keypair files in the Solana CLI's JSON format.

use std::path::PathBuf;

use solana_keypair::{read_keypair_file, write_keypair_file, Keypair};
use solana_signer::Signer;

#[derive(clap::Args, Debug)]
pub struct Keygen {
    /// Where to write the keypair (default: ~/.config/solana/id.json, as `solana-keygen new`).
    #[arg(long, short = 'o')]
    outfile: Option<PathBuf>,
    /// Replace an existing file.
    #[arg(long)]
    force: bool,
}

/// The Solana CLI's default keypair path.
pub fn default_path() -> Result<PathBuf, String> {
    std::env::var_os("HOME")
        .map(|home| PathBuf::from(home).join(".config/solana/id.json"))
        .ok_or_else(|| "no --keypair given and no HOME to find ~/.config/solana/id.json".into())
}

pub fn keygen(args: Keygen) -> Result<(), String> {
    let outfile = match args.outfile {
        Some(path) => path,
        None => default_path()?,
    };
    if outfile.exists() && !args.force {
        return Err(format!(
            "{} exists; pass --force to replace it",
            outfile.display()
        ));
    }
    if let Some(dir) = outfile.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let keypair = Keypair::new();
    write_keypair_file(&keypair, &outfile)
        .map_err(|e| format!("cannot write {}: {e}", outfile.display()))?;
    println!("{}", keypair.pubkey());
    Ok(())
}

pub fn read(path: &std::path::Path) -> Result<Keypair, String> {
    read_keypair_file(path).map_err(|e| format!("cannot read keypair {}: {e}", path.display()))
}
