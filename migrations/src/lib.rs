//! Deploying paychan to a cluster through the upgradeable loader, as a user's deploy does:
//! a buffer account, the program written into it in transaction-sized chunks, then `Deploy`
//! (first time) or `Upgrade` (new bytes). Running it again with the same bytes changes nothing.
//! An upgrade that would strand live channels of a layout the new build cannot read is refused.
//! The smoke migration then opens a channel, pays through it and closes it.
#![forbid(unsafe_code)]

mod deploy;
mod smoke;

pub use deploy::{deploy, deploy_with, DeployError, Deployed, Stranding, WRITE_CHUNK};
pub use smoke::{smoke, SmokeError, SmokeReport};
