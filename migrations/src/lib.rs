//! Deploy tooling for a local validator; lands with issue 6.
#![forbid(unsafe_code)]
pub use paychan_interface as interface;
