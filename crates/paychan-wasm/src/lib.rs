//! The paychan engine and peer link in WebAssembly: a channel session a web page or a Node.js
//! agent pays through, over a WebSocket to a `paychan node --listen-ws`.
//!
//! It does no I/O. Every call returns a [`Step`]: records to make durable, then bytes to send
//! on the WebSocket, then events. The caller (`@paychan/client`'s `ChannelSession`) persists
//! the records (IndexedDB in a browser, a file in Node) **before** it sends the bytes: the
//! engine's "persist before you sign" holds here as on the node. A session is rebuilt from the
//! records it persisted, in order ([`Session::new`] takes them back).

mod session;

pub use session::{Session, SessionConfig, Step};
