//! The one source of truth shared by the paychan program and its clients: program id,
//! instructions and their data, the channel account layout, PDA seeds, errors and the exact
//! bytes both parties sign (protocol §5).
//!
//! The core is `no_std` and builds for SBF; the `client` feature adds `Instruction` builders,
//! PDA search and ed25519-dalek signing for off-chain code; the `idl` feature the program's
//! Codama IDL.
#![no_std]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]
#![cfg_attr(not(test), warn(clippy::arithmetic_side_effects))]

mod bytes;

#[cfg(feature = "std")]
extern crate std;

pub mod channel;
pub mod ed25519;
pub mod error;
pub mod instruction;
pub mod math;
pub mod pda;
pub mod settlement;
pub mod state;
pub mod token;

#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "idl")]
pub mod idl;

pub use bytemuck;
pub use solana_address::Address;

/// `Payvfr57PtkZrejLks77Maanvd1vhchENCMryALkmEE`, the public key of the documented development
/// keypair `programs/paychan/keys/paychan-dev-keypair.json`. A production deployment uses its
/// own key (see README) and rebuilds with it.
pub const ID: Address = Address::new_from_array([
    5, 201, 51, 101, 200, 165, 168, 242, 26, 79, 179, 136, 216, 51, 113, 144, 88, 79, 30, 232, 217,
    227, 3, 131, 193, 93, 67, 214, 31, 14, 51, 55,
]);

/// `Ed25519SigVerify111111111111111111111111111`, the Ed25519 signature-verification precompile.
pub const ED25519_PROGRAM_ID: Address = Address::new_from_array([
    3, 125, 70, 214, 124, 147, 251, 190, 18, 249, 66, 143, 131, 141, 64, 255, 5, 112, 116, 73, 39,
    244, 138, 100, 252, 202, 112, 68, 128, 0, 0, 0,
]);

/// `Sysvar1nstructions1111111111111111111111111`, the Instructions sysvar.
pub const INSTRUCTIONS_SYSVAR_ID: Address = Address::new_from_array([
    0x06, 0xa7, 0xd5, 0x17, 0x18, 0x7b, 0xd1, 0x66, 0x35, 0xda, 0xd4, 0x04, 0x55, 0xfd, 0xc2, 0xc0,
    0xc1, 0x24, 0xc6, 0x8f, 0x21, 0x56, 0x75, 0xa5, 0xdb, 0xba, 0xcb, 0x5f, 0x08, 0x00, 0x00, 0x00,
]);

/// `11111111111111111111111111111111`, the System program.
pub const SYSTEM_PROGRAM_ID: Address = Address::new_from_array([0; 32]);

/// `Sysvar1111111111111111111111111111111111111`, the owner of every sysvar account.
pub const SYSVAR_OWNER_ID: Address = Address::new_from_array([
    6, 167, 213, 23, 24, 117, 247, 41, 199, 61, 147, 64, 143, 33, 97, 32, 6, 126, 216, 140, 118,
    224, 140, 40, 127, 193, 148, 96, 0, 0, 0, 0,
]);

/// Longest challenge period the program accepts: one year.
pub const MAX_CHALLENGE_PERIOD_SECS: u64 = 365 * 24 * 60 * 60;

/// The embedded ledger's one JSON-RPC extension (`paychan ledger`): `[seconds]` moves its
/// clock ahead and returns the new unix timestamp. Served by `paychan-ledger-server`, called by
/// the Rust and TypeScript clients' tests.
pub const WARP_CLOCK_METHOD: &str = "paychan_warpClock";

/// The embedded ledger's faucet for its test stablecoin (`paychan ledger`): `[wallet, amount]`
/// mints `amount` base units into the wallet's associated token account and returns the
/// transaction's signature.
pub const REQUEST_TOKENS_METHOD: &str = "paychan_requestTokens";
