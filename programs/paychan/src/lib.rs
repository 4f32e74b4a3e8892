//! paychan on-chain program: two-party payment channels with a challenge period and a
//! punishment for registering stale states. Behaviour is specified in protocol §2–§5; every layout,
//! byte format and payout rule comes from `paychan-interface`, shared with the clients.
#![no_std]
#![deny(unsafe_code)]

// Host builds (unit tests, `cargo check`) link std for a panic handler and allocator.
#[cfg(not(target_arch = "bpf"))]
extern crate std;

mod accounts;
mod ed25519;
mod payout;
mod pda;
pub mod processor;
mod rent;
mod token;

#[cfg(feature = "bpf-entrypoint")]
mod entrypoint;
#[cfg(target_arch = "bpf")]
mod mem;

pub use paychan_interface::ID;
pub use processor::process_instruction;
