//! The embedded ledger served over JSON-RPC: LiteSVM running the real `paychan.so`, answering
//! the subset of the validator's API that `RpcClient` and `@solana/kit` use for paychan, with
//! its PubSub websocket and a clock that can be warped (`paychan_warpClock`). Two processes
//! (two parties, their nodes, the CLI) share one ledger without a validator: `paychan ledger`.
#![forbid(unsafe_code)]

mod http;
mod methods;
mod persist;
mod pubsub;
mod stablecoin;
mod state;

use std::{cell::RefCell, net::SocketAddr, rc::Rc};

use tokio::{io::BufReader, net::TcpListener, sync::watch};

pub use http::MAX_BODY;
pub use persist::LedgerDir;
pub use stablecoin::{TEST_USD_DECIMALS, TEST_USD_MINT};
pub use state::{EmbeddedLedger, RECENT_BLOCKHASHES};

/// Why the embedded ledger could not start.
#[derive(Debug, thiserror::Error)]
pub enum LedgerServerError {
    #[error("the program did not load: {0}")]
    ProgramLoad(String),
    #[error("the saved ledger state cannot be read: {0}")]
    Load(std::io::Error),
    #[error("the saved ledger state cannot be restored: {0}")]
    Restore(String),
}

/// Binds the JSON-RPC port and, on the next port, the PubSub websocket (as a validator uses
/// 8899 and 8900). With port 0 it picks a free pair.
pub fn bind_pair(
    bind: SocketAddr,
) -> std::io::Result<(std::net::TcpListener, std::net::TcpListener)> {
    let mut last = None;
    for _ in 0..20 {
        let http = std::net::TcpListener::bind(bind)?;
        let mut ws = http.local_addr()?;
        ws.set_port(ws.port().wrapping_add(1));
        match std::net::TcpListener::bind(ws) {
            Ok(pubsub) => return Ok((http, pubsub)),
            Err(e) if bind.port() == 0 => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free port pair")))
}

/// Serves `ledger`: JSON-RPC on `listener`, the PubSub websocket on `pubsub` (a pair from
/// [`bind_pair`]), until the task is dropped; one local task per connection. Needs a `LocalSet`
/// (LiteSVM is single-threaded).
pub async fn serve(
    listener: std::net::TcpListener,
    pubsub: std::net::TcpListener,
    ledger: EmbeddedLedger,
) -> std::io::Result<()> {
    let tokio_listener = |l: std::net::TcpListener| {
        l.set_nonblocking(true)?;
        TcpListener::from_std(l)
    };
    let (listener, pubsub) = (tokio_listener(listener)?, tokio_listener(pubsub)?);
    let (changes, watching) = watch::channel(ledger.revision());
    let ledger = Rc::new(RefCell::new(ledger));
    let changes = Rc::new(changes);
    tokio::task::spawn_local(pubsub::serve(pubsub, ledger.clone(), watching));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // A client that gave up before it was accepted, or no file descriptors left for a
            // moment: the ledger goes on serving everyone else.
            Err(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let (ledger, changes) = (ledger.clone(), changes.clone());
        tokio::task::spawn_local(async move {
            let (read, mut write) = stream.into_split();
            let mut read = BufReader::new(read);
            loop {
                let (status, body) = match http::read_request(&mut read).await {
                    Ok(http::Request::Preflight) => {
                        if http::write_preflight(&mut write).await.is_err() {
                            return;
                        }
                        continue;
                    }
                    Ok(http::Request::Rpc(body)) => {
                        let answer = methods::handle(&mut ledger.borrow_mut(), &body);
                        // Websocket subscribers look again only if a transaction landed or the
                        // slot moved (most requests are reads).
                        let now = ledger.borrow().revision();
                        changes.send_if_modified(|seen| std::mem::replace(seen, now) != now);
                        ("200 OK", answer)
                    }
                    Err(http::HttpError::Malformed(why)) => {
                        // Answer once, then close: the connection's framing is lost.
                        let body = format!("{{\"error\":\"{why}\"}}").into_bytes();
                        let _ = http::write_response(&mut write, "400 Bad Request", &body).await;
                        linger(read, write).await;
                        return;
                    }
                    Err(_) => return,
                };
                if http::write_response(&mut write, status, &body)
                    .await
                    .is_err()
                {
                    return;
                }
            }
        });
    }
}

/// Closes gracefully after an early answer: a FIN, then what the client is still sending is
/// read and dropped for a moment, so the close is not a reset that could destroy the answer
/// before the client reads it.
async fn linger(
    mut read: BufReader<tokio::net::tcp::OwnedReadHalf>,
    mut write: tokio::net::tcp::OwnedWriteHalf,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = write.shutdown().await;
    let mut sink = [0u8; 4_096];
    let drain = async {
        let mut left = 1usize << 20;
        while left > 0 {
            match read.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), drain).await;
}

/// Starts the server on its own thread (for tests and embedding): returns the JSON-RPC
/// address (the websocket is on the next port).
pub fn spawn(ledger: EmbeddedLedger, bind: SocketAddr) -> std::io::Result<SocketAddr> {
    let (listener, pubsub) = bind_pair(bind)?;
    let address = listener.local_addr()?;
    std::thread::Builder::new()
        .name("paychan-ledger".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime for the ledger thread");
            let local = tokio::task::LocalSet::new();
            local.block_on(&runtime, async move {
                serve(listener, pubsub, ledger)
                    .await
                    .expect("the ledger's listeners work with tokio");
            });
        })?;
    Ok(address)
}
