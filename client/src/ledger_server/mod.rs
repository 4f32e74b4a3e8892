//! The embedded ledger served over JSON-RPC: LiteSVM running the real `paychan.so`, answering
//! the subset of the validator's API that `RpcClient` uses for paychan. Two processes (two
//! parties, their daemons, the CLI) share one ledger without a validator: `paychan ledger`.

mod http;
mod methods;
mod state;

use std::{cell::RefCell, net::SocketAddr, rc::Rc};

use tokio::{io::BufReader, net::TcpListener};

pub use http::MAX_BODY;
pub use state::{EmbeddedLedger, RECENT_BLOCKHASHES};

/// Serves `ledger` on `listener` until the task is dropped; one local task per connection.
/// Needs a `LocalSet` (LiteSVM is single-threaded).
pub async fn serve(listener: TcpListener, ledger: EmbeddedLedger) -> std::io::Result<()> {
    let ledger = Rc::new(RefCell::new(ledger));
    loop {
        let (stream, _) = listener.accept().await?;
        let ledger = ledger.clone();
        tokio::task::spawn_local(async move {
            let (read, mut write) = stream.into_split();
            let mut read = BufReader::new(read);
            loop {
                let (status, body) = match http::read_request(&mut read).await {
                    Ok(body) => ("200 OK", methods::handle(&mut ledger.borrow_mut(), &body)),
                    Err(http::HttpError::Malformed(why)) => {
                        // Answer once, then drop the connection: its framing is lost.
                        let body = format!("{{\"error\":\"{why}\"}}").into_bytes();
                        let _ = http::write_response(&mut write, "400 Bad Request", &body).await;
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

/// Starts the server on its own thread (for tests and embedding): returns its address.
pub fn spawn(ledger: EmbeddedLedger, bind: SocketAddr) -> std::io::Result<SocketAddr> {
    let listener = std::net::TcpListener::bind(bind)?;
    listener.set_nonblocking(true)?;
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
                let listener = TcpListener::from_std(listener).expect("a tokio listener");
                let _ = serve(listener, ledger).await;
            });
        })?;
    Ok(address)
}
