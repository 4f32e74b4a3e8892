//! Durable storage of what the engine persists. The store trait, the recovery summary, the
//! memory store (and, with `test-utils`, the conformance suite and the fault-injecting store)
//! are the engine's (`paychan_engine::store`); the disk store is here:
//!
//! - [`RedbStore`]: on disk, one fsynced transaction per `persist`.

mod redb;

pub use self::redb::RedbStore;
pub use paychan_engine::store::*;
