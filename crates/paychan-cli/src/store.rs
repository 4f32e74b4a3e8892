//! Where a party keeps each channel: a redb store and, while `paychan daemon` runs, the Unix
//! socket the other commands control it through. Both live under ~/.local/share/paychan.

use std::path::PathBuf;

use paychan_interface::Address;
use paychan_node::store::{RedbStore, StoreError};
use solana_keypair::Keypair;
use solana_signer::Signer;

#[derive(clap::Args, Debug, Clone)]
pub struct StoreArg {
    /// The channel's redb store (default: ~/.local/share/paychan/<your pubkey>/<channel>.redb).
    #[arg(long)]
    store: Option<PathBuf>,
    /// The daemon's control socket (default: ~/.local/share/paychan/run/<channel>-<you>.sock).
    #[arg(long)]
    socket: Option<PathBuf>,
}

fn data_dir(parts: &[&str]) -> Result<PathBuf, String> {
    let home = std::env::var_os("HOME").ok_or("no HOME: give --store and --socket")?;
    let mut dir = PathBuf::from(home).join(".local/share/paychan");
    dir.extend(parts);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

impl StoreArg {
    pub fn path(&self, me: &Keypair, channel: &Address) -> Result<PathBuf, String> {
        match &self.store {
            Some(path) => Ok(path.clone()),
            None => Ok(data_dir(&[&me.pubkey().to_string()])?.join(format!("{channel}.redb"))),
        }
    }

    /// Opens the store; a running daemon holds it, and then says so.
    pub fn open(&self, me: &Keypair, channel: &Address) -> Result<RedbStore, String> {
        let path = self.path(me, channel)?;
        RedbStore::open(&path).map_err(|e| match e {
            StoreError::InUse => format!(
                "the store {} is in use: `paychan daemon` is running for {channel} (ask it, or stop it)",
                path.display()
            ),
            other => format!("cannot open store {}: {other}", path.display()),
        })
    }

    /// Short enough for a Unix socket path (at most 107 bytes), unique per party and channel.
    pub fn socket(&self, me: &Keypair, channel: &Address) -> Result<PathBuf, String> {
        match &self.socket {
            Some(path) => Ok(path.clone()),
            None => {
                let (channel, me) = (channel.to_string(), me.pubkey().to_string());
                Ok(data_dir(&["run"])?.join(format!("{}-{}.sock", &channel[..16], &me[..8])))
            }
        }
    }
}
