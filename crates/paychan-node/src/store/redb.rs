//! The on-disk [`ChannelStore`]: a redb file, one fsynced write transaction per `persist`.

mod codec;

use std::path::{Path, PathBuf};

use ::redb::{Database, ReadableDatabase, ReadableTable, Table, TableDefinition, WriteTransaction};
use paychan_interface::Address;

use super::{ChannelStore, Latest, StoreError};
use crate::engine::{ChannelParams, LogEntry, Record, Recovered};
use codec::{decode, decode_params, encode, encode_params};
use paychan_durable::sync_parent_dir;

/// Channel address → borsh params.
const PARAMS: TableDefinition<[u8; 32], &[u8]> = TableDefinition::new("params");
/// (channel address, seq) → borsh [`LogEntry`]: every fully signed state.
const LOG: TableDefinition<([u8; 32], u64), &[u8]> = TableDefinition::new("log");
/// Channel address → borsh [`Latest`]: what recovery needs besides the newest log entry.
const LATEST: TableDefinition<[u8; 32], &[u8]> = TableDefinition::new("latest");

#[derive(Debug)]
pub struct RedbStore {
    db: Database,
    path: PathBuf,
}

fn db_error(error: impl Into<::redb::Error>) -> StoreError {
    StoreError::Database(error.into().to_string())
}

impl RedbStore {
    /// Opens the store at `path`, creating the file if it does not exist. Only one `RedbStore`
    /// may have a file open at a time.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let db = Database::create(&path).map_err(|e| match e {
            ::redb::DatabaseError::DatabaseAlreadyOpen => StoreError::InUse,
            other => db_error(other),
        })?;
        // Create the tables up front so read transactions always find them.
        let txn = db.begin_write().map_err(db_error)?;
        txn.open_table(PARAMS).map_err(db_error)?;
        txn.open_table(LOG).map_err(db_error)?;
        txn.open_table(LATEST).map_err(db_error)?;
        txn.commit().map_err(db_error)?;
        // A new file is durable only once its directory entry is: fsync the directory too.
        sync_parent_dir(&path)?;
        Ok(Self { db, path })
    }

    /// The file this store lives in (to reopen it after a simulated crash).
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The params of `channel`, read inside a write transaction.
fn params_in(txn: &WriteTransaction, channel: &Address) -> Result<ChannelParams, StoreError> {
    let table = txn.open_table(PARAMS).map_err(db_error)?;
    let bytes = table
        .get(channel.to_bytes())
        .map_err(db_error)?
        .ok_or(StoreError::UnknownChannel(*channel))?;
    decode_params(bytes.value())
}

fn latest_of(
    table: &impl ReadableTable<[u8; 32], &'static [u8]>,
    key: [u8; 32],
) -> Result<Latest, StoreError> {
    match table.get(key).map_err(db_error)? {
        Some(bytes) => decode(bytes.value(), "latest record"),
        None => Ok(Latest::default()),
    }
}

fn insert(
    table: &mut Table<'_, [u8; 32], &'static [u8]>,
    key: [u8; 32],
    bytes: &[u8],
) -> Result<(), StoreError> {
    table.insert(key, bytes).map_err(db_error)?;
    Ok(())
}

impl ChannelStore for RedbStore {
    async fn create_channel(&mut self, params: &ChannelParams) -> Result<(), StoreError> {
        let channel = params.binding.channel;
        let txn = self.db.begin_write().map_err(db_error)?;
        {
            let mut table = txn.open_table(PARAMS).map_err(db_error)?;
            let existing = match table.get(channel.to_bytes()).map_err(db_error)? {
                Some(bytes) => Some(decode_params(bytes.value())?),
                None => None,
            };
            match existing {
                Some(existing) if existing == *params => return Ok(()),
                Some(_) => return Err(StoreError::ParamsMismatch(channel)),
                None => insert(&mut table, channel.to_bytes(), &encode_params(params)?)?,
            }
        }
        txn.commit().map_err(db_error)
    }

    async fn persist(&mut self, channel: &Address, records: &[Record]) -> Result<(), StoreError> {
        // Any early return drops `txn`, which aborts it: nothing of the batch is applied.
        let txn = self.db.begin_write().map_err(db_error)?;
        let params = params_in(&txn, channel)?;
        if records.is_empty() {
            return Ok(());
        }
        let key = channel.to_bytes();
        {
            let mut latest_table = txn.open_table(LATEST).map_err(db_error)?;
            let mut log = txn.open_table(LOG).map_err(db_error)?;
            let mut latest = latest_of(&latest_table, key)?;
            for record in records {
                latest.apply(params.me, record);
                if let Record::FullySigned(entry) = record {
                    let encoded = encode(entry)?;
                    let seq = entry.state.seq;
                    let existing = log.get((key, seq)).map_err(db_error)?;
                    if existing.is_some_and(|stored| stored.value() != encoded.as_slice()) {
                        return Err(StoreError::Conflict(seq));
                    }
                    log.insert((key, seq), encoded.as_slice())
                        .map_err(db_error)?;
                }
            }
            insert(&mut latest_table, key, &encode(&latest)?)?;
        }
        // Default durability is Immediate: commit returns only once the data is fsynced.
        txn.commit().map_err(db_error)
    }

    async fn recover(
        &self,
        channel: &Address,
    ) -> Result<Option<(ChannelParams, Recovered)>, StoreError> {
        let key = channel.to_bytes();
        let txn = self.db.begin_read().map_err(db_error)?;
        let params = match txn
            .open_table(PARAMS)
            .map_err(db_error)?
            .get(key)
            .map_err(db_error)?
        {
            Some(bytes) => decode_params(bytes.value())?,
            None => return Ok(None),
        };
        let latest = latest_of(&txn.open_table(LATEST).map_err(db_error)?, key)?;
        let newest = match latest.newest_seq {
            Some(seq) => {
                let log = txn.open_table(LOG).map_err(db_error)?;
                let bytes = log.get((key, seq)).map_err(db_error)?.ok_or_else(|| {
                    StoreError::Corrupt(format!("newest entry {seq} missing from the log"))
                })?;
                Some(decode::<LogEntry>(bytes.value(), "log entry")?)
            }
            None => None,
        };
        Ok(Some((params, latest.into_recovered(newest))))
    }

    async fn log(
        &self,
        channel: &Address,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<LogEntry>, StoreError> {
        let key = channel.to_bytes();
        let txn = self.db.begin_read().map_err(db_error)?;
        if txn
            .open_table(PARAMS)
            .map_err(db_error)?
            .get(key)
            .map_err(db_error)?
            .is_none()
        {
            return Err(StoreError::UnknownChannel(*channel));
        }
        let log = txn.open_table(LOG).map_err(db_error)?;
        let mut entries = Vec::new();
        for row in log
            .range((key, from_seq)..=(key, u64::MAX))
            .map_err(db_error)?
            .take(limit)
        {
            let (_, bytes) = row.map_err(db_error)?;
            entries.push(decode(bytes.value(), "log entry")?);
        }
        Ok(entries)
    }

    async fn channels(&self) -> Result<Vec<Address>, StoreError> {
        let txn = self.db.begin_read().map_err(db_error)?;
        let table = txn.open_table(PARAMS).map_err(db_error)?;
        let mut channels = Vec::new();
        for row in table.iter().map_err(db_error)? {
            let (key, _) = row.map_err(db_error)?;
            channels.push(Address::new_from_array(key.value()));
        }
        Ok(channels)
    }
}

#[cfg(test)]
mod tests;
