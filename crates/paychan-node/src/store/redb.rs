//! The on-disk [`ChannelStore`]: one redb file for any number of channels, written by one
//! committer thread. Writes that arrive while a commit is in flight are grouped into the next
//! write transaction: one fsync makes all of them durable (group commit). Each caller still
//! waits for its own write to be durable before it goes on, so "persist before you sign"
//! holds per channel; a lone channel gets one commit per persist, as before.

use std::{
    path::{Path, PathBuf},
    sync::{mpsc, Arc, Mutex},
    thread::JoinHandle,
};

use ::redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use futures_channel::oneshot;
use paychan_interface::Address;

use super::codec::{decode, decode_params, encode, encode_params};
use super::{ChannelStore, CommitStats, Latest, StoreError};
use crate::engine::{ChannelParams, LogEntry, Record, Recovered};
use paychan_durable::sync_parent_dir;

/// Channel address → borsh params.
const PARAMS: TableDefinition<[u8; 32], &[u8]> = TableDefinition::new("params");
/// (channel address, seq) → borsh [`LogEntry`]: every fully signed state.
const LOG: TableDefinition<([u8; 32], u64), &[u8]> = TableDefinition::new("log");
/// Channel address → borsh [`Latest`]: what recovery needs besides the newest log entry.
const LATEST: TableDefinition<[u8; 32], &[u8]> = TableDefinition::new("latest");

/// Writes one commit takes at most; more wait for the next, so no caller waits on an
/// unbounded transaction.
const MAX_GROUP: usize = 4_096;

/// A handle on a store file. Clones share the file and its committer: give each channel its
/// own clone, and their commits are grouped.
#[derive(Clone, Debug)]
pub struct RedbStore(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    db: Arc<Database>,
    path: PathBuf,
    writes: Mutex<Option<mpsc::Sender<Write>>>,
    committer: Mutex<Option<JoinHandle<()>>>,
    stats: Arc<CommitStats>,
}

/// One caller's write, answered once it is durable (or refused, having changed nothing).
struct Write {
    change: Change,
    done: oneshot::Sender<Result<(), StoreError>>,
}

enum Change {
    Create(ChannelParams),
    Persist(Address, Vec<Record>),
}

fn db_error(error: impl Into<::redb::Error>) -> StoreError {
    StoreError::Database(error.into().to_string())
}

impl Drop for Shared {
    fn drop(&mut self) {
        // The committer ends once its queue closes; wait for it, so the file is closed when
        // the last handle is gone (a restart in the same process can open it again).
        self.writes.lock().map(|mut w| w.take()).ok();
        if let Some(committer) = self.committer.lock().ok().and_then(|mut c| c.take()) {
            let _ = committer.join();
        }
    }
}

impl RedbStore {
    /// Opens the store at `path`, creating the file if it does not exist. One process at a
    /// time may have a file open ([`StoreError::InUse`] otherwise); share it by cloning.
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
        let db = Arc::new(db);
        let stats = Arc::new(CommitStats::default());
        let (writes, queue) = mpsc::channel();
        let committer = std::thread::Builder::new()
            .name("paychan-commit".into())
            .spawn({
                let (db, stats) = (Arc::clone(&db), Arc::clone(&stats));
                move || commit_forever(&db, &queue, &stats)
            })?;
        Ok(Self(Arc::new(Shared {
            db,
            path,
            writes: Mutex::new(Some(writes)),
            committer: Mutex::new(Some(committer)),
            stats,
        })))
    }

    /// The file this store lives in (to reopen it after a simulated crash).
    pub fn path(&self) -> &Path {
        &self.0.path
    }

    /// How writes have been grouped into commits so far (shared by every clone).
    pub fn commit_stats(&self) -> &CommitStats {
        &self.0.stats
    }

    async fn write(&self, change: Change) -> Result<(), StoreError> {
        let (done, durable) = oneshot::channel();
        let stopped = || StoreError::Database("the store's committer has stopped".into());
        {
            let writes = self.0.writes.lock().map_err(|_| stopped())?;
            let writes = writes.as_ref().ok_or_else(stopped)?;
            writes.send(Write { change, done }).map_err(|_| stopped())?;
        }
        durable.await.map_err(|_| stopped())?
    }
}

/// The committer: takes every write queued by now (at most [`MAX_GROUP`]), applies each in
/// one write transaction, commits it (one fsync), then answers them all. A write that is
/// refused (a conflict, an unknown channel) changes nothing and fails alone.
fn commit_forever(db: &Database, queue: &mpsc::Receiver<Write>, stats: &CommitStats) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        let outcomes = commit_group(db, &group);
        stats.committed(group.len());
        for (write, outcome) in group.into_iter().zip(outcomes) {
            // The caller may have gone (its task was cancelled); the write stands.
            let _ = write.done.send(outcome);
        }
    }
}

/// Each write's outcome; if the commit itself fails, every write in the group fails.
fn commit_group(db: &Database, group: &[Write]) -> Vec<Result<(), StoreError>> {
    let all_fail = |error: StoreError| {
        let message = error.to_string();
        group
            .iter()
            .map(|_| Err(StoreError::Database(message.clone())))
            .collect()
    };
    let txn = match db.begin_write() {
        Ok(txn) => txn,
        Err(e) => return all_fail(db_error(e)),
    };
    let outcomes: Vec<_> = group
        .iter()
        .map(|write| match &write.change {
            Change::Create(params) => create_in(&txn, params),
            Change::Persist(channel, records) => persist_in(&txn, channel, records),
        })
        .collect();
    // Default durability is Immediate: commit returns only once the data is fsynced.
    match txn.commit() {
        Ok(()) => outcomes,
        Err(e) => all_fail(db_error(e)),
    }
}

/// Remembers `params` unless the channel is known with the same ones.
fn create_in(txn: &WriteTransaction, params: &ChannelParams) -> Result<(), StoreError> {
    let channel = params.binding.channel;
    let mut table = txn.open_table(PARAMS).map_err(db_error)?;
    let existing = match table.get(channel.to_bytes()).map_err(db_error)? {
        Some(bytes) => Some(decode_params(bytes.value())?),
        None => None,
    };
    match existing {
        Some(existing) if existing == *params => Ok(()),
        Some(_) => Err(StoreError::ParamsMismatch(channel)),
        None => {
            table
                .insert(channel.to_bytes(), encode_params(params)?.as_slice())
                .map_err(db_error)?;
            Ok(())
        }
    }
}

/// Applies `records` to `channel` inside a transaction other writes share: everything is
/// checked before the first change, so a refused write leaves the transaction as it was.
fn persist_in(
    txn: &WriteTransaction,
    channel: &Address,
    records: &[Record],
) -> Result<(), StoreError> {
    let key = channel.to_bytes();
    let params = {
        let table = txn.open_table(PARAMS).map_err(db_error)?;
        let bytes = table
            .get(key)
            .map_err(db_error)?
            .ok_or(StoreError::UnknownChannel(*channel))?;
        decode_params(bytes.value())?
    };
    if records.is_empty() {
        return Ok(());
    }
    let mut log = txn.open_table(LOG).map_err(db_error)?;
    let mut entries: Vec<(u64, Vec<u8>)> = Vec::new();
    for record in records {
        if let Record::FullySigned(entry) = record {
            let (seq, encoded) = (entry.state.seq, encode(entry)?);
            let earlier = entries.iter().find(|(s, _)| *s == seq).map(|(_, e)| e);
            let conflicts = match earlier {
                Some(earlier) => *earlier != encoded,
                None => log
                    .get((key, seq))
                    .map_err(db_error)?
                    .is_some_and(|stored| stored.value() != encoded.as_slice()),
            };
            if conflicts {
                return Err(StoreError::Conflict(seq));
            }
            entries.push((seq, encoded));
        }
    }
    let mut latest_table = txn.open_table(LATEST).map_err(db_error)?;
    let mut latest = latest_of(&latest_table, key)?;
    for record in records {
        latest.apply(params.me, record);
    }
    let latest = encode(&latest)?;
    for (seq, encoded) in &entries {
        log.insert((key, *seq), encoded.as_slice())
            .map_err(db_error)?;
    }
    latest_table
        .insert(key, latest.as_slice())
        .map_err(db_error)?;
    Ok(())
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

impl ChannelStore for RedbStore {
    async fn create_channel(&mut self, params: &ChannelParams) -> Result<(), StoreError> {
        self.write(Change::Create(*params)).await
    }

    async fn persist(&mut self, channel: &Address, records: &[Record]) -> Result<(), StoreError> {
        self.write(Change::Persist(*channel, records.to_vec()))
            .await
    }

    // Reads run on the caller's thread, beside the committer: redb readers see the last
    // commit and never wait for a writer.
    async fn recover(
        &self,
        channel: &Address,
    ) -> Result<Option<(ChannelParams, Recovered)>, StoreError> {
        let key = channel.to_bytes();
        let txn = self.0.db.begin_read().map_err(db_error)?;
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
        let txn = self.0.db.begin_read().map_err(db_error)?;
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
        let txn = self.0.db.begin_read().map_err(db_error)?;
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
