//! paychan off-chain client. The channel engine, store and ledger backends land with issue 4.
#![forbid(unsafe_code)]
pub use paychan_interface as interface;
