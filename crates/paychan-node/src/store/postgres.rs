//! A [`ChannelStore`] over PostgreSQL, for a service that outgrows one machine: several nodes
//! share one database, each channel leased to one node at a time.
//!
//! - **Group commit.** One committer task per store takes every write queued by then into one
//!   transaction (one WAL flush); each caller waits for its own write to be durable.
//! - **Leases.** A node claims a channel with a session-level advisory lock taken on the
//!   committer's own connection: the connection that writes is the one that holds the lease.
//!   If it drops (the node died, or the database restarted), the lease is gone with it; the
//!   committer reconnects, takes back every lease it held, and refuses writes for any another
//!   node took meanwhile ([`StoreError::LeaseLost`]): the channel stops here.
//! - **A write whose commit went unanswered** (the connection broke mid-commit) is applied again
//!   after reconnecting: every write is idempotent (the same fully signed entry is no
//!   conflict, and the recovery summary only moves forward).
//!
//! Reads use a connection of their own and see the last commit.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use paychan_interface::Address;
use tokio::sync::{mpsc, oneshot, Mutex};
use tokio_postgres::{Client, GenericClient, NoTls};

use super::codec::{decode, decode_params, encode, encode_params};
use super::{ChannelStore, CommitStats, Latest, StoreError};
use crate::engine::{ChannelParams, LogEntry, Record, Recovered};

/// Writes one commit takes at most.
const MAX_GROUP: usize = 4_096;
/// Backoff while the database is away: the node waits and resumes.
const FIRST_RETRY: Duration = Duration::from_millis(100);
const LAST_RETRY: Duration = Duration::from_secs(2);

/// Where the store lives: a connection string and the schema its tables go in.
#[derive(Clone, Debug)]
pub struct PgConfig {
    pub url: String,
    pub schema: String,
}

impl PgConfig {
    /// `url`, in the schema its `schema=NAME` query parameter names (default `paychan`).
    pub fn new(url: impl Into<String>) -> Self {
        let url: String = url.into();
        let (base, query) = url.split_once('?').unwrap_or((&url, ""));
        let mut schema = "paychan".to_string();
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.strip_prefix("schema=") {
                Some(name) => schema = name.to_string(),
                None => kept.push(pair),
            }
        }
        let url = match kept.is_empty() {
            true => base.to_string(),
            false => format!("{base}?{}", kept.join("&")),
        };
        Self { url, schema }
    }
}

#[derive(Clone, Debug)]
pub struct PgStore(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    config: PgConfig,
    reads: Mutex<Option<Client>>,
    writes: mpsc::UnboundedSender<Write>,
    stats: Arc<CommitStats>,
}

struct Write {
    change: Change,
    done: oneshot::Sender<Result<Outcome, StoreError>>,
}

enum Change {
    Create(ChannelParams),
    Persist(Address, Vec<Record>),
    Claim(Vec<Address>),
}

enum Outcome {
    Done,
    Claimed(Vec<Address>),
}

fn db_error(error: tokio_postgres::Error) -> StoreError {
    // The server's own message says what went wrong; the error's Display only says "db error".
    let message = match error.as_db_error() {
        Some(db) => format!("PostgreSQL: {}", db.message()),
        None => format!("PostgreSQL: {error}"),
    };
    StoreError::Database(message)
}

/// The advisory-lock key of a channel: its address's first eight bytes.
fn lock_key(channel: &Address) -> i64 {
    let bytes = channel.to_bytes();
    i64::from_le_bytes([
        bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
    ])
}

fn seq_of(seq: u64) -> Result<i64, StoreError> {
    i64::try_from(seq).map_err(|_| StoreError::Corrupt(format!("seq {seq} beyond i64")))
}

/// Opens a connection whose tables resolve in `schema`, with its driver task running.
async fn connect(config: &PgConfig) -> Result<Client, StoreError> {
    let mut pg: tokio_postgres::Config = config
        .url
        .parse()
        .map_err(|e: tokio_postgres::Error| StoreError::Database(format!("bad URL: {e}")))?;
    pg.options(format!("-c search_path={}", config.schema));
    let (client, connection) = pg.connect(NoTls).await.map_err(db_error)?;
    tokio::spawn(async move {
        // Ends when the client is dropped or the server goes away; the next use says which.
        let _ = connection.await;
    });
    Ok(client)
}

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS paychan_params (
        channel BYTEA PRIMARY KEY, params BYTEA NOT NULL);
    CREATE TABLE IF NOT EXISTS paychan_log (
        channel BYTEA NOT NULL, seq BIGINT NOT NULL, entry BYTEA NOT NULL,
        PRIMARY KEY (channel, seq));
    CREATE TABLE IF NOT EXISTS paychan_latest (
        channel BYTEA PRIMARY KEY, latest BYTEA NOT NULL);
";

impl PgStore {
    /// Connects (creating the schema and tables if needed) and starts the committer.
    pub async fn open(config: PgConfig) -> Result<Self, StoreError> {
        // The schema's name goes into SQL text: only a plain identifier.
        let plain = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
        if config.schema.is_empty()
            || !config.schema.chars().all(plain)
            || config.schema.starts_with(|c: char| c.is_ascii_digit())
        {
            return Err(StoreError::Database(format!(
                "schema {:?}: use lower-case letters, digits and _",
                config.schema
            )));
        }
        let setup = connect(&PgConfig {
            schema: "public".into(),
            ..config.clone()
        })
        .await?;
        // Two nodes starting at once must not race to create the same tables.
        let create = format!(
            "BEGIN; SELECT pg_advisory_xact_lock(7260616368); \
             CREATE SCHEMA IF NOT EXISTS {schema}; SET LOCAL search_path = {schema}; {SCHEMA} COMMIT;",
            schema = config.schema
        );
        setup.batch_execute(&create).await.map_err(db_error)?;
        drop(setup);
        let reads = connect(&config).await?;
        let writer = connect(&config).await?;
        let stats = Arc::new(CommitStats::default());
        let (writes, queue) = mpsc::unbounded_channel();
        tokio::spawn(commit_forever(
            config.clone(),
            writer,
            queue,
            Arc::clone(&stats),
        ));
        Ok(Self(Arc::new(Shared {
            config,
            reads: Mutex::new(Some(reads)),
            writes,
            stats,
        })))
    }

    /// How writes have been grouped into commits so far (shared by every clone).
    pub fn commit_stats(&self) -> &CommitStats {
        &self.0.stats
    }

    async fn write(&self, change: Change) -> Result<Outcome, StoreError> {
        let (done, answer) = oneshot::channel();
        let stopped = || StoreError::Database("the store's committer has stopped".into());
        self.0
            .writes
            .send(Write { change, done })
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Runs a read on the read connection, reconnecting once if it broke.
    async fn read<T>(
        &self,
        read: impl AsyncFnOnce(&Client) -> Result<T, tokio_postgres::Error>,
    ) -> Result<T, StoreError> {
        let mut guard = self.0.reads.lock().await;
        if guard.as_ref().is_none_or(|c| c.is_closed()) {
            *guard = Some(connect(&self.0.config).await?);
        }
        let client = guard
            .as_ref()
            .ok_or_else(|| StoreError::Database("no connection".into()))?;
        read(client).await.map_err(db_error)
    }
}

/// The committer: groups queued writes into one transaction, reconnecting (and taking its
/// leases back) whenever the connection breaks, until every handle is gone.
async fn commit_forever(
    config: PgConfig,
    mut client: Client,
    mut queue: mpsc::UnboundedReceiver<Write>,
    stats: Arc<CommitStats>,
) {
    let mut held: HashSet<[u8; 32]> = HashSet::new();
    let mut lost: HashSet<[u8; 32]> = HashSet::new();
    while let Some(first) = queue.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        let mut retry = FIRST_RETRY;
        // A new connection is needed when the old one closed, or the server went away.
        let mut broken = false;
        let outcomes = loop {
            if broken || client.is_closed() {
                match reconnect(&config, &held, &mut lost).await {
                    Ok(fresh) => client = fresh,
                    Err(_) => {
                        tokio::time::sleep(retry).await;
                        retry = (retry * 2).min(LAST_RETRY);
                        continue;
                    }
                }
            }
            match commit_group(&mut client, &group, &held, &lost).await {
                Ok(outcomes) => break outcomes,
                // The connection broke or the server is going away (the outcome of the commit
                // is unknown): every write is idempotent, so the group is applied again once
                // the database is back.
                Err(e) if client.is_closed() || transient(&e) => broken = true,
                Err(e) => {
                    let message = db_error(e).to_string();
                    break group
                        .iter()
                        .map(|_| Err(StoreError::Database(message.clone())))
                        .collect();
                }
            }
        };
        stats.committed(group.len());
        for (write, outcome) in group.into_iter().zip(outcomes) {
            if let (Change::Claim(_), Ok(Outcome::Claimed(claimed))) = (&write.change, &outcome) {
                held.extend(claimed.iter().map(Address::to_bytes));
            }
            let _ = write.done.send(outcome);
        }
    }
}

/// Whether `error` is the connection or the server going away rather than the request: a
/// closed connection, an I/O error, or SQLSTATE class 08 (connection exception) or 57
/// (operator intervention: shutdown, restart).
fn transient(error: &tokio_postgres::Error) -> bool {
    use std::error::Error as _;
    match error.as_db_error() {
        Some(db) => {
            let code = db.code().code();
            code.starts_with("08") || code.starts_with("57")
        }
        None => error.is_closed() || error.source().is_some_and(|s| s.is::<std::io::Error>()),
    }
}

/// A new connection holding again every lease in `held`; a lease another node took
/// meanwhile goes to `lost`.
async fn reconnect(
    config: &PgConfig,
    held: &HashSet<[u8; 32]>,
    lost: &mut HashSet<[u8; 32]>,
) -> Result<Client, StoreError> {
    let client = connect(config).await?;
    let keep: Vec<[u8; 32]> = held
        .iter()
        .filter(|c| !lost.contains(*c))
        .copied()
        .collect();
    for channel in keep {
        let key = lock_key(&Address::new_from_array(channel));
        let row = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
            .await
            .map_err(db_error)?;
        if !row.get::<_, bool>(0) {
            lost.insert(channel);
        }
    }
    Ok(client)
}

/// Applies each write in one transaction; a refused write changes nothing and fails alone.
/// An Err is the connection failing: nothing is known of the group.
///
/// The group costs a fixed number of round trips, whatever its size: everything it reads is
/// fetched at once, every write is checked and applied in memory in order (exactly as one
/// write after another would), and what changed is written back in three statements.
async fn commit_group(
    client: &mut Client,
    group: &[Write],
    held: &HashSet<[u8; 32]>,
    lost: &HashSet<[u8; 32]>,
) -> Result<Vec<Result<Outcome, StoreError>>, tokio_postgres::Error> {
    let txn = client.transaction().await?;
    let mut state = GroupState::load(&txn, group).await?;
    let mut outcomes = Vec::with_capacity(group.len());
    for write in group {
        let outcome = match &write.change {
            Change::Create(params) => state.create(params).map(|()| Outcome::Done),
            Change::Persist(channel, _) if lost.contains(&channel.to_bytes()) => {
                Err(StoreError::LeaseLost(*channel))
            }
            Change::Persist(channel, records) => {
                state.persist(channel, records).map(|()| Outcome::Done)
            }
            Change::Claim(channels) => {
                let mut claimed = Vec::new();
                for channel in channels {
                    if held.contains(&channel.to_bytes()) && !lost.contains(&channel.to_bytes()) {
                        claimed.push(*channel);
                        continue;
                    }
                    let row = txn
                        .query_one("SELECT pg_try_advisory_lock($1)", &[&lock_key(channel)])
                        .await?;
                    if row.get::<_, bool>(0) {
                        claimed.push(*channel);
                    }
                }
                Ok(Outcome::Claimed(claimed))
            }
        };
        outcomes.push(outcome);
    }
    state.write_back(&txn).await?;
    txn.commit().await?;
    Ok(outcomes)
}

/// What a group reads, and what it changes, keyed by channel (and seq).
#[derive(Default)]
struct GroupState {
    params: HashMap<[u8; 32], Vec<u8>>,
    latest: HashMap<[u8; 32], Vec<u8>>,
    log: HashMap<([u8; 32], i64), Vec<u8>>,
    new_params: Vec<([u8; 32], Vec<u8>)>,
    new_log: Vec<([u8; 32], i64, Vec<u8>)>,
    changed_latest: HashSet<[u8; 32]>,
}

fn bytes_of(row: &tokio_postgres::Row, index: usize) -> Result<[u8; 32], tokio_postgres::Error> {
    let bytes: &[u8] = row.try_get(index)?;
    // Every key this store writes is 32 bytes; a shorter one matches no channel.
    Ok(<[u8; 32]>::try_from(bytes).unwrap_or([0; 32]))
}

impl GroupState {
    /// Fetches the params, recovery summaries and log entries the group's writes touch.
    async fn load(
        txn: &impl GenericClient,
        group: &[Write],
    ) -> Result<Self, tokio_postgres::Error> {
        let mut channels: Vec<Vec<u8>> = Vec::new();
        let (mut log_channels, mut log_seqs): (Vec<Vec<u8>>, Vec<i64>) = (Vec::new(), Vec::new());
        for write in group {
            match &write.change {
                Change::Create(params) => channels.push(params.binding.channel.to_bytes().to_vec()),
                Change::Persist(channel, records) => {
                    channels.push(channel.to_bytes().to_vec());
                    for record in records {
                        if let Record::FullySigned(entry) = record {
                            if let Ok(seq) = i64::try_from(entry.state.seq) {
                                log_channels.push(channel.to_bytes().to_vec());
                                log_seqs.push(seq);
                            }
                        }
                    }
                }
                Change::Claim(_) => {}
            }
        }
        let mut state = Self::default();
        let rows = txn
            .query(
                "SELECT channel, params FROM paychan_params WHERE channel = ANY($1)",
                &[&channels],
            )
            .await?;
        for row in rows {
            state.params.insert(bytes_of(&row, 0)?, row.try_get(1)?);
        }
        let rows = txn
            .query(
                "SELECT channel, latest FROM paychan_latest WHERE channel = ANY($1)",
                &[&channels],
            )
            .await?;
        for row in rows {
            state.latest.insert(bytes_of(&row, 0)?, row.try_get(1)?);
        }
        if !log_seqs.is_empty() {
            let rows = txn
                .query(
                    "SELECT l.channel, l.seq, l.entry FROM paychan_log l \
                     JOIN unnest($1::bytea[], $2::bigint[]) AS w(channel, seq) \
                     ON l.channel = w.channel AND l.seq = w.seq",
                    &[&log_channels, &log_seqs],
                )
                .await?;
            for row in rows {
                state
                    .log
                    .insert((bytes_of(&row, 0)?, row.try_get(1)?), row.try_get(2)?);
            }
        }
        Ok(state)
    }

    fn create(&mut self, params: &ChannelParams) -> Result<(), StoreError> {
        let key = params.binding.channel.to_bytes();
        match self.params.get(&key) {
            Some(existing) if decode_params(existing)? == *params => Ok(()),
            Some(_) => Err(StoreError::ParamsMismatch(params.binding.channel)),
            None => {
                let encoded = encode_params(params)?;
                self.params.insert(key, encoded.clone());
                self.new_params.push((key, encoded));
                Ok(())
            }
        }
    }

    /// Checks everything before the first change, so a refused write changes nothing.
    fn persist(&mut self, channel: &Address, records: &[Record]) -> Result<(), StoreError> {
        let key = channel.to_bytes();
        let params = match self.params.get(&key) {
            Some(bytes) => decode_params(bytes)?,
            None => return Err(StoreError::UnknownChannel(*channel)),
        };
        if records.is_empty() {
            return Ok(());
        }
        let mut entries: Vec<(i64, Vec<u8>)> = Vec::new();
        for record in records {
            if let Record::FullySigned(entry) = record {
                let (seq, encoded) = (seq_of(entry.state.seq)?, encode(entry)?);
                let earlier = entries.iter().find(|(s, _)| *s == seq).map(|(_, e)| e);
                let known = earlier.or_else(|| self.log.get(&(key, seq)));
                if known.is_some_and(|known| *known != encoded) {
                    return Err(StoreError::Conflict(entry.state.seq));
                }
                entries.push((seq, encoded));
            }
        }
        let mut latest: Latest = match self.latest.get(&key) {
            Some(bytes) => decode(bytes, "latest record")?,
            None => Latest::default(),
        };
        for record in records {
            latest.apply(params.me, record);
        }
        self.latest.insert(key, encode(&latest)?);
        self.changed_latest.insert(key);
        for (seq, encoded) in entries {
            if self.log.insert((key, seq), encoded.clone()).is_none() {
                self.new_log.push((key, seq, encoded));
            }
        }
        Ok(())
    }

    /// Writes what the group changed: three statements, however many writes it held.
    async fn write_back(&self, txn: &impl GenericClient) -> Result<(), tokio_postgres::Error> {
        if !self.new_params.is_empty() {
            let (keys, values): (Vec<Vec<u8>>, Vec<Vec<u8>>) = self
                .new_params
                .iter()
                .map(|(k, v)| (k.to_vec(), v.clone()))
                .unzip();
            txn.execute(
                "INSERT INTO paychan_params (channel, params) \
                 SELECT * FROM unnest($1::bytea[], $2::bytea[])",
                &[&keys, &values],
            )
            .await?;
        }
        if !self.new_log.is_empty() {
            let mut keys = Vec::with_capacity(self.new_log.len());
            let mut seqs = Vec::with_capacity(self.new_log.len());
            let mut entries = Vec::with_capacity(self.new_log.len());
            for (key, seq, entry) in &self.new_log {
                keys.push(key.to_vec());
                seqs.push(*seq);
                entries.push(entry.clone());
            }
            txn.execute(
                "INSERT INTO paychan_log (channel, seq, entry) \
                 SELECT * FROM unnest($1::bytea[], $2::bigint[], $3::bytea[]) \
                 ON CONFLICT (channel, seq) DO NOTHING",
                &[&keys, &seqs, &entries],
            )
            .await?;
        }
        if !self.changed_latest.is_empty() {
            let (keys, values): (Vec<Vec<u8>>, Vec<Vec<u8>>) = self
                .changed_latest
                .iter()
                .filter_map(|k| self.latest.get(k).map(|v| (k.to_vec(), v.clone())))
                .unzip();
            txn.execute(
                "INSERT INTO paychan_latest (channel, latest) \
                 SELECT * FROM unnest($1::bytea[], $2::bytea[]) \
                 ON CONFLICT (channel) DO UPDATE SET latest = EXCLUDED.latest",
                &[&keys, &values],
            )
            .await?;
        }
        Ok(())
    }
}

impl ChannelStore for PgStore {
    async fn create_channel(&mut self, params: &ChannelParams) -> Result<(), StoreError> {
        self.write(Change::Create(*params)).await.map(drop)
    }

    async fn persist(&mut self, channel: &Address, records: &[Record]) -> Result<(), StoreError> {
        self.write(Change::Persist(*channel, records.to_vec()))
            .await
            .map(drop)
    }

    async fn recover(
        &self,
        channel: &Address,
    ) -> Result<Option<(ChannelParams, Recovered)>, StoreError> {
        let key = channel.to_bytes().to_vec();
        let rows = self
            .read(async |client| {
                let params = client
                    .query_opt(
                        "SELECT params FROM paychan_params WHERE channel = $1",
                        &[&key],
                    )
                    .await?;
                let latest = client
                    .query_opt(
                        "SELECT latest FROM paychan_latest WHERE channel = $1",
                        &[&key],
                    )
                    .await?;
                Ok((params, latest))
            })
            .await?;
        let (Some(params), latest) = rows else {
            return Ok(None);
        };
        let params = decode_params(params.get::<_, &[u8]>(0))?;
        let latest: Latest = match latest {
            Some(row) => decode(row.get::<_, &[u8]>(0), "latest record")?,
            None => Latest::default(),
        };
        let newest = match latest.newest_seq {
            Some(seq) => {
                let seq = seq_of(seq)?;
                let row = self
                    .read(async |client| {
                        client
                            .query_opt(
                                "SELECT entry FROM paychan_log WHERE channel = $1 AND seq = $2",
                                &[&key, &seq],
                            )
                            .await
                    })
                    .await?
                    .ok_or_else(|| {
                        StoreError::Corrupt(format!("newest entry {seq} missing from the log"))
                    })?;
                Some(decode::<LogEntry>(row.get::<_, &[u8]>(0), "log entry")?)
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
        let key = channel.to_bytes().to_vec();
        // Seqs beyond i64 are never stored: nothing lies past them.
        let Ok(from) = i64::try_from(from_seq) else {
            return match self.recover(channel).await? {
                Some(_) => Ok(Vec::new()),
                None => Err(StoreError::UnknownChannel(*channel)),
            };
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let (known, rows) = self
            .read(async |client| {
                let known = client
                    .query_opt("SELECT 1 FROM paychan_params WHERE channel = $1", &[&key])
                    .await?
                    .is_some();
                let rows = client
                    .query(
                        "SELECT entry FROM paychan_log WHERE channel = $1 AND seq >= $2 \
                         ORDER BY seq LIMIT $3",
                        &[&key, &from, &limit],
                    )
                    .await?;
                Ok((known, rows))
            })
            .await?;
        if !known {
            return Err(StoreError::UnknownChannel(*channel));
        }
        rows.iter()
            .map(|row| decode(row.get::<_, &[u8]>(0), "log entry"))
            .collect()
    }

    async fn channels(&self) -> Result<Vec<Address>, StoreError> {
        let rows = self
            .read(async |client| {
                client
                    .query("SELECT channel FROM paychan_params ORDER BY channel", &[])
                    .await
            })
            .await?;
        rows.iter()
            .map(|row| {
                let bytes: &[u8] = row.get(0);
                <[u8; 32]>::try_from(bytes)
                    .map(Address::new_from_array)
                    .map_err(|_| StoreError::Corrupt("a channel address is not 32 bytes".into()))
            })
            .collect()
    }

    async fn claim(&mut self, channels: &[Address]) -> Result<Vec<Address>, StoreError> {
        match self.write(Change::Claim(channels.to_vec())).await? {
            Outcome::Claimed(claimed) => Ok(claimed),
            Outcome::Done => Ok(Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests;
