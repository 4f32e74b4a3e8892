//! Durable storage of what the engine persists.
//!
//! The driver runs every [`Action::Persist`](crate::engine::Action::Persist) through a
//! [`ChannelStore`] and treats it as durable before the next action (a signature leaving): the
//! store is what makes "persist before you sign" hold across crashes.
//!
//! - [`MemoryStore`]: in memory, for tests.
//! - [`Latest`]: the recovery summary every store keeps beside its log.
//! - `FaultyStore` (feature `test-utils`): wraps a store and "crashes" at a chosen persistence
//!   point.
//! - `conformance` (feature `test-utils`): the properties every store must have, callable from
//!   any crate's tests.
//!
//! The disk stores live with the driver (`paychan-node`: redb).

#[cfg(any(test, feature = "test-utils"))]
pub mod conformance;
#[cfg(any(test, feature = "test-utils"))]
mod fault;
mod latest;
mod memory;

#[cfg(any(test, feature = "test-utils"))]
pub use fault::{FaultPoint, FaultyStore};
pub use latest::Latest;
pub use memory::MemoryStore;

/// Runs a store future to its end on this thread, for tests and benches outside an async
/// runtime (the memory store never waits; redb waits for its committer thread).
#[cfg(any(test, feature = "test-utils"))]
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::{sync::Arc, task, thread};
    struct Unpark(thread::Thread);
    impl task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = task::Waker::from(Arc::new(Unpark(thread::current())));
    let mut context = task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        thread::park();
    }
}

use paychan_interface::Address;

use crate::engine::{ChannelParams, LogEntry, Record, Recovered};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("database error: {0}")]
    Database(String),
    #[error("store is corrupt: {0}")]
    Corrupt(String),
    #[error("unknown channel {0:?}")]
    UnknownChannel(Address),
    #[error("channel {0:?} is already stored with different parameters")]
    ParamsMismatch(Address),
    #[error("injected fault: the store is down")]
    Injected,
    #[error("a different fully signed state is already stored for seq {0}")]
    Conflict(u64),
    #[error("another process has the store open")]
    InUse,
    #[error("the lease of channel {0:?} was lost to another node: it must not run here")]
    LeaseLost(Address),
}

/// Durable per-channel storage of parameters and persisted [`Record`]s.
///
/// Every method is async: a store over a network database (PostgreSQL) or a browser's
/// IndexedDB waits on I/O, and a store that groups the commits of many channels into one
/// write (see `paychan-node`'s group commit) lets the other channels run while one waits.
/// Stores whose work never waits (memory, a lone redb file) complete at once.
// Channels run on one thread (a `LocalSet`): no store future needs to be `Send`.
#[allow(async_fn_in_trait)]
pub trait ChannelStore {
    /// Remembers a channel's parameters; calling it again with the same params is a no-op,
    /// with different params for the same channel address is an error.
    async fn create_channel(&mut self, params: &ChannelParams) -> Result<(), StoreError>;

    /// Appends `records` for `channel` atomically and durably (one transaction, fsync on
    /// commit): after Ok, all of them survive a crash; after Err, none of them were applied.
    async fn persist(&mut self, channel: &Address, records: &[Record]) -> Result<(), StoreError>;

    /// What survives a restart: the params and the `Recovered` snapshot, or None if unknown.
    ///
    /// `newest` is the highest-seq fully signed entry, `signed` the highest-seq state this
    /// party signed (alone or as part of a fully signed entry), `closing` the last close terms.
    async fn recover(
        &self,
        channel: &Address,
    ) -> Result<Option<(ChannelParams, Recovered)>, StoreError>;

    /// Fully signed log entries with seq >= from_seq, ascending, at most `limit`.
    async fn log(
        &self,
        channel: &Address,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<LogEntry>, StoreError>;

    /// Every channel this store knows.
    async fn channels(&self) -> Result<Vec<Address>, StoreError>;

    /// Takes the lease of each of `channels` that no other process holds, and returns those
    /// this process now holds: only the holder may run a channel (two could sign two states
    /// for one seq). A store only one process can open at a time (a redb file, memory) holds
    /// every lease already.
    async fn claim(&mut self, channels: &[Address]) -> Result<Vec<Address>, StoreError> {
        Ok(channels.to_vec())
    }
}
