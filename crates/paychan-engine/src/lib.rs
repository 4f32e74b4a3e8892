//! paychan's channel engine: one party's half of the two-person state machine replication,
//! with no I/O, so that it runs the same in a node, a test, or WebAssembly.
//!
//! - [`engine`]: the state machine — [`engine::Input`]s in, [`engine::Action`]s out.
//! - [`chain`]: what the engine knows of the channel on-chain and what it asks the chain for.
//! - [`watcher`]: what to submit on-chain when a stale state is registered or a window ends.
//! - [`store`]: the [`store::ChannelStore`] trait the driver persists through, the recovery
//!   summary every store keeps, and an in-memory store; with the `test-utils` feature, the
//!   conformance suite every store must pass and a fault-injecting store.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod chain;
pub mod engine;
pub mod store;
pub mod watcher;
