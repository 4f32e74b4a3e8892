//! The embedded ledger's state on disk (`paychan ledger --ledger DIR`), so a restart keeps
//! every channel, wallet and landed transaction: after each transaction (and warp) the whole
//! state is written to `DIR/ledger.bin`, atomically (a temporary file, fsync, rename, fsync of
//! the directory), and read back at start. The program itself is loaded from its file again;
//! builtins and sysvars come from LiteSVM.

use std::path::{Path, PathBuf};

use borsh::{BorshDeserialize, BorshSerialize};

const FILE: &str = "ledger.bin";
const FORMAT: u8 = 1;

#[derive(BorshSerialize, BorshDeserialize)]
pub(super) struct Snapshot {
    pub format: u8,
    pub slot: u64,
    pub unix_timestamp: i64,
    pub warped: i64,
    pub recent: Vec<[u8; 32]>,
    pub genesis: [u8; 32],
    pub accounts: Vec<StoredAccount>,
    pub landed: Vec<StoredLanded>,
}

#[derive(BorshSerialize, BorshDeserialize)]
pub(super) struct StoredAccount {
    pub address: [u8; 32],
    pub lamports: u64,
    pub data: Vec<u8>,
    pub owner: [u8; 32],
    pub executable: bool,
    pub rent_epoch: u64,
}

#[derive(BorshSerialize, BorshDeserialize)]
pub(super) struct StoredLanded {
    pub signature: [u8; 64],
    pub slot: u64,
    /// bincode, as on the wire.
    pub transaction: Option<Vec<u8>>,
    /// bincode of the `TransactionError`.
    pub err: Option<Vec<u8>>,
    pub logs: Vec<String>,
    pub fee: u64,
    pub units_consumed: u64,
    pub addresses: Vec<[u8; 32]>,
}

/// Where a ledger keeps its state.
#[derive(Clone, Debug)]
pub struct LedgerDir(PathBuf);

impl LedgerDir {
    /// Uses (and creates) `dir`.
    pub fn new(dir: impl AsRef<Path>) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir.as_ref())?;
        Ok(Self(dir.as_ref().to_path_buf()))
    }

    fn file(&self) -> PathBuf {
        self.0.join(FILE)
    }

    pub(super) fn load(&self) -> std::io::Result<Option<Snapshot>> {
        let bytes = match std::fs::read(self.file()) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let snapshot = Snapshot::try_from_slice(&bytes).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{} is not a paychan ledger state: {e}",
                    self.file().display()
                ),
            )
        })?;
        if snapshot.format != FORMAT {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{} has format {}, not {FORMAT}",
                    self.file().display(),
                    snapshot.format
                ),
            ));
        }
        Ok(Some(snapshot))
    }

    pub(super) fn save(&self, snapshot: &Snapshot) -> std::io::Result<()> {
        paychan_durable::write_atomically(&self.file(), &borsh::to_vec(snapshot)?)
    }
}

pub(super) const FORMAT_VERSION: u8 = FORMAT;
