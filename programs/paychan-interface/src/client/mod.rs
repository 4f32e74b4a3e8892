//! Off-chain helpers (feature `client`): instruction builders, state signing and the
//! co-signed-state precompile instruction. Transactions are built only from these.

mod builders;
pub mod log;
mod signing;

pub use builders::*;
pub use signing::*;
