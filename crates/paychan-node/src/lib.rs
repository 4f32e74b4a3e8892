//! A paychan node: everything around the pure engine that a party runs — the driver, the
//! chain, the disk and the network.
//!
//! - [`api`]: the node's HTTP API (JSON, Server-Sent Events, a secret token).
//! - [`engine`], [`watcher`]: the pure two-party state machine and the watcher's decisions
//!   (from `paychan-engine`, re-exported).
//! - [`ledger`]: the L1 backends (LiteSVM, BanksClient, JSON-RPC) and cooperative-close co-signing.
//! - [`driver`]: [`driver::ChannelDriver`] runs one channel's engine against a store, a ledger and
//!   the peer outbox.
//! - [`transport`], [`peer`]: the encrypted, authenticated TCP link and the session that runs a driver over it.
//! - [`runtime`]: a channel kept running (driver, watcher ticks, a link replaced on reconnect).
//! - [`store`]: durable storage of what the engine persists (redb on disk, or memory).
//! - [`node`]: every channel of one key in one process: one listener, one store, discovery of
//!   new channels under a policy, and a handle the HTTP API drives.
//! - [`watchtower`]: a third key that disputes and finalizes for parties that are offline.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

#[cfg(feature = "api")]
pub mod api;
pub mod driver;
pub mod ledger;
#[cfg(feature = "node")]
pub mod node;
#[cfg(feature = "transport")]
pub mod peer;
#[cfg(feature = "transport")]
pub mod runtime;
pub mod store;
#[cfg(feature = "transport")]
pub mod transport;
pub mod watchtower;

pub use paychan_engine::{engine, watcher};
pub use paychan_interface as interface;
