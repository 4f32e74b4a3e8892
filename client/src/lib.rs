//! paychan off-chain client.
//!
//! - [`engine`]: the pure two-party state machine of SPEC §6 — inputs in, actions out, no I/O.
//! - [`watcher`]: what to submit on-chain when a stale state is registered or a window ends.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod engine;
pub mod watcher;

pub use paychan_interface as interface;
