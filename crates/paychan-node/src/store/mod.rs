//! Durable storage of what the engine persists. The store trait, the recovery summary, the
//! memory store (and, with `test-utils`, the conformance suite and the fault-injecting store)
//! are the engine's (`paychan_engine::store`); the stores that keep it are here:
//!
//! - [`RedbStore`]: a redb file for every channel of a node, commits grouped across channels.
//! - `PgStore` (feature `postgres`): PostgreSQL, shared by several nodes, each channel leased
//!   to one of them at a time.

mod codec;
#[cfg(feature = "postgres")]
mod postgres;
mod redb;
mod stats;

pub use self::redb::RedbStore;
pub use paychan_engine::store::*;
#[cfg(feature = "postgres")]
pub use postgres::{PgConfig, PgStore};
pub use stats::CommitStats;
