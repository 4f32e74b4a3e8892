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
    collections::HashSet,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use paychan_interface::Address;
use tokio::sync::{mpsc, oneshot, Mutex};
use tokio_postgres::{Client, GenericClient, NoTls};

use super::codec::{decode, decode_params, encode, encode_params};
use super::{ChannelStore, Latest, StoreError};
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
    stats: Arc<CommitCounts>,
}

/// How the committer has grouped writes so far.
#[derive(Debug, Default)]
pub struct CommitCounts {
    commits: AtomicU64,
    writes: AtomicU64,
}

impl CommitCounts {
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }
}

struct Write {
    change: Change,
    done: oneshot::Sender<Result<Outcome, StoreError>>,
}

#[derive(Clone)]
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
        let stats = Arc::new(CommitCounts::default());
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

    pub fn commit_counts(&self) -> &CommitCounts {
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
    stats: Arc<CommitCounts>,
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
        let outcomes = loop {
            if client.is_closed() {
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
                // The connection broke (the outcome of the commit is unknown): every write is
                // idempotent, so the group is applied again once the database is back.
                Err(_) if client.is_closed() => continue,
                Err(e) => {
                    let message = e.to_string();
                    break group
                        .iter()
                        .map(|_| Err(StoreError::Database(message.clone())))
                        .collect();
                }
            }
        };
        stats.commits.fetch_add(1, Ordering::Relaxed);
        stats
            .writes
            .fetch_add(group.len() as u64, Ordering::Relaxed);
        for (write, outcome) in group.into_iter().zip(outcomes) {
            if let (Change::Claim(_), Ok(Outcome::Claimed(claimed))) = (&write.change, &outcome) {
                held.extend(claimed.iter().map(Address::to_bytes));
            }
            let _ = write.done.send(outcome);
        }
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
async fn commit_group(
    client: &mut Client,
    group: &[Write],
    held: &HashSet<[u8; 32]>,
    lost: &HashSet<[u8; 32]>,
) -> Result<Vec<Result<Outcome, StoreError>>, tokio_postgres::Error> {
    let txn = client.transaction().await?;
    let mut outcomes = Vec::with_capacity(group.len());
    for write in group {
        let outcome = match &write.change {
            Change::Create(params) => create_in(&txn, params).await?.map(|()| Outcome::Done),
            Change::Persist(channel, _) if lost.contains(&channel.to_bytes()) => {
                Err(StoreError::LeaseLost(*channel))
            }
            Change::Persist(channel, records) => persist_in(&txn, channel, records)
                .await?
                .map(|()| Outcome::Done),
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
    txn.commit().await?;
    Ok(outcomes)
}

async fn params_of(
    client: &impl GenericClient,
    channel: &Address,
) -> Result<Result<Option<ChannelParams>, StoreError>, tokio_postgres::Error> {
    let row = client
        .query_opt(
            "SELECT params FROM paychan_params WHERE channel = $1",
            &[&channel.as_ref()],
        )
        .await?;
    Ok(row
        .map(|row| decode_params(row.get::<_, &[u8]>(0)))
        .transpose())
}

async fn create_in(
    txn: &impl GenericClient,
    params: &ChannelParams,
) -> Result<Result<(), StoreError>, tokio_postgres::Error> {
    let channel = params.binding.channel;
    match params_of(txn, &channel).await? {
        Err(e) => Ok(Err(e)),
        Ok(Some(existing)) if existing == *params => Ok(Ok(())),
        Ok(Some(_)) => Ok(Err(StoreError::ParamsMismatch(channel))),
        Ok(None) => {
            let encoded = match encode_params(params) {
                Ok(encoded) => encoded,
                Err(e) => return Ok(Err(e)),
            };
            txn.execute(
                "INSERT INTO paychan_params (channel, params) VALUES ($1, $2)",
                &[&channel.as_ref(), &encoded],
            )
            .await?;
            Ok(Ok(()))
        }
    }
}

/// Checks everything before the first change, so a refused write leaves the transaction as
/// it was.
async fn persist_in(
    txn: &impl GenericClient,
    channel: &Address,
    records: &[Record],
) -> Result<Result<(), StoreError>, tokio_postgres::Error> {
    let params = match params_of(txn, channel).await? {
        Ok(Some(params)) => params,
        Ok(None) => return Ok(Err(StoreError::UnknownChannel(*channel))),
        Err(e) => return Ok(Err(e)),
    };
    if records.is_empty() {
        return Ok(Ok(()));
    }
    let key: &[u8] = channel.as_ref();
    let mut entries: Vec<(i64, Vec<u8>)> = Vec::new();
    for record in records {
        if let Record::FullySigned(entry) = record {
            let (seq, encoded) = match (seq_of(entry.state.seq), encode(entry)) {
                (Ok(seq), Ok(encoded)) => (seq, encoded),
                (Err(e), _) | (_, Err(e)) => return Ok(Err(e)),
            };
            let earlier = entries
                .iter()
                .find(|(s, _)| *s == seq)
                .map(|(_, e)| e.clone());
            let known = match earlier {
                Some(earlier) => Some(earlier),
                None => txn
                    .query_opt(
                        "SELECT entry FROM paychan_log WHERE channel = $1 AND seq = $2",
                        &[&key, &seq],
                    )
                    .await?
                    .map(|row| row.get::<_, Vec<u8>>(0)),
            };
            if known.is_some_and(|known| known != encoded) {
                return Ok(Err(StoreError::Conflict(entry.state.seq)));
            }
            entries.push((seq, encoded));
        }
    }
    let latest_row = txn
        .query_opt(
            "SELECT latest FROM paychan_latest WHERE channel = $1",
            &[&key],
        )
        .await?;
    let mut latest: Latest = match latest_row {
        Some(row) => match decode(row.get::<_, &[u8]>(0), "latest record") {
            Ok(latest) => latest,
            Err(e) => return Ok(Err(e)),
        },
        None => Latest::default(),
    };
    for record in records {
        latest.apply(params.me, record);
    }
    let latest = match encode(&latest) {
        Ok(latest) => latest,
        Err(e) => return Ok(Err(e)),
    };
    for (seq, encoded) in &entries {
        txn.execute(
            "INSERT INTO paychan_log (channel, seq, entry) VALUES ($1, $2, $3) \
             ON CONFLICT (channel, seq) DO NOTHING",
            &[&key, seq, encoded],
        )
        .await?;
    }
    txn.execute(
        "INSERT INTO paychan_latest (channel, latest) VALUES ($1, $2) \
         ON CONFLICT (channel) DO UPDATE SET latest = EXCLUDED.latest",
        &[&key, &latest],
    )
    .await?;
    Ok(Ok(()))
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
