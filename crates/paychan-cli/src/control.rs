//! The daemon's control protocol: one JSON request per line on its Unix socket (mode 0600:
//! only its owner may spend from the channel), answered by progress lines and one final line.

use std::path::Path;

use serde::{Deserialize, Serialize};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::UnixStream,
};

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Request {
    /// Make `count` payments of `amount` lamports; give up waiting after `timeout_ms` without
    /// progress (the payments stay queued for when the peer is back).
    Pay {
        amount: u64,
        count: u64,
        timeout_ms: u64,
    },
    /// Close cooperatively; after `timeout_ms` without the peer's agreement (or at once with
    /// `unilateral`), unilaterally.
    Close {
        timeout_ms: u64,
        #[serde(default)]
        unilateral: bool,
    },
    /// Look at the chain now and dispute a stale registration.
    Dispute,
    Status,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    Progress {
        done: u64,
        of: u64,
    },
    Paid {
        count: u64,
        /// Hex of the batch: the payments' ids are `batch-0` … `batch-(count − 1)`.
        batch: String,
        seq: u64,
        balance_a: u64,
        balance_b: u64,
    },
    /// `cooperative`: both signed the close; otherwise `seq` is registered and the challenge
    /// period runs (the daemon finalizes after it).
    Closed {
        cooperative: bool,
        seq: u64,
        balance_a: u64,
        balance_b: u64,
    },
    Disputed {
        submitted: usize,
    },
    Status {
        connected: bool,
        seq: u64,
        balance_a: u64,
        balance_b: u64,
        co_signed_seq: Option<u64>,
        queued: usize,
        closing: bool,
        landed: usize,
    },
    Error(String),
}

#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error(
        "no daemon is running for this channel (nothing at {0}): start one with `paychan daemon`"
    )]
    NoDaemon(std::path::PathBuf),
    #[error("{0}")]
    Failed(String),
}

impl From<String> for CallError {
    fn from(message: String) -> Self {
        CallError::Failed(message)
    }
}

impl From<CallError> for String {
    fn from(error: CallError) -> Self {
        error.to_string()
    }
}

/// Sends `request` to the daemon at `socket` and returns its final reply; progress lines go to
/// `progress` as they come.
pub async fn call(
    socket: &Path,
    request: &Request,
    mut progress: impl FnMut(u64, u64),
) -> Result<Reply, CallError> {
    let stream = UnixStream::connect(socket)
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
                CallError::NoDaemon(socket.to_path_buf())
            }
            _ => CallError::Failed(format!(
                "cannot reach the daemon at {}: {e}",
                socket.display()
            )),
        })?;
    let (read, mut write) = stream.into_split();
    let mut line = serde_json::to_string(request).map_err(|e| e.to_string())?;
    line.push('\n');
    write
        .write_all(line.as_bytes())
        .await
        .map_err(|e| format!("the daemon hung up: {e}"))?;
    let mut lines = BufReader::new(read).lines();
    loop {
        let line = lines
            .next_line()
            .await
            .map_err(|e| format!("the daemon hung up: {e}"))?
            .ok_or_else(|| CallError::Failed("the daemon stopped before answering".into()))?;
        match serde_json::from_str(&line) {
            Ok(Reply::Progress { done, of }) => progress(done, of),
            Ok(Reply::Error(message)) => return Err(CallError::Failed(message)),
            Ok(reply) => return Ok(reply),
            Err(e) => {
                return Err(CallError::Failed(format!(
                    "the daemon sent something unreadable ({e}): {line}"
                )))
            }
        }
    }
}
