//! Where a party keeps its channels: one redb store per key (every channel of the key, its
//! commits grouped), and beside it the running node's `node.json` and API token. All under
//! ~/.local/share/paychan/<your pubkey>/ unless `--store` says otherwise.

use std::path::PathBuf;

use paychan_node::store::{RedbStore, StoreError};
use solana_keypair::Keypair;
use solana_signer::Signer;

#[derive(clap::Args, Debug, Clone)]
pub struct StoreArg {
    /// This key's store: a redb file (default: ~/.local/share/paychan/<your pubkey>/paychan.redb),
    /// or, for `paychan node`, a PostgreSQL URL (postgres://…) that several nodes may share.
    #[arg(long)]
    store: Option<PathBuf>,
}

fn data_dir(parts: &[&str]) -> Result<PathBuf, String> {
    let home = std::env::var_os("HOME").ok_or("no HOME: give --store")?;
    let mut dir = PathBuf::from(home).join(".local/share/paychan");
    dir.extend(parts);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

impl StoreArg {
    /// The PostgreSQL URL `--store` names, if it names one.
    pub fn postgres(&self) -> Option<String> {
        let text = self.store.as_ref()?.to_str()?;
        (text.starts_with("postgres://") || text.starts_with("postgresql://"))
            .then(|| text.to_string())
    }

    /// The redb file: `--store`, or the default. Beside it live the running node's
    /// `node.json` and API token (beside the default file when the store is PostgreSQL).
    pub fn path(&self, me: &Keypair) -> Result<PathBuf, String> {
        match &self.store {
            Some(path) if self.postgres().is_none() => Ok(path.clone()),
            _ => Ok(data_dir(&[&me.pubkey().to_string()])?.join("paychan.redb")),
        }
    }

    /// Opens the redb store; a running node holds it, and then says so.
    pub fn open(&self, me: &Keypair) -> Result<RedbStore, String> {
        if self.postgres().is_some() {
            return Err(
                "a PostgreSQL store is used through `paychan node` (ask the node, or give a redb file)"
                    .into(),
            );
        }
        let path = self.path(me)?;
        RedbStore::open(&path).map_err(|e| match e {
            StoreError::InUse => format!(
                "the store {} is in use: `paychan node` is running for this key (ask it, or stop it)",
                path.display()
            ),
            other => format!("cannot open store {}: {other}", path.display()),
        })
    }
}
