//! `paychan daemon`: keeps one channel running — the node, the watcher (it looks at the chain
//! every tick, disputes a stale registration, finalizes after the window) and the peer link
//! (accepting or dialing, again after every drop) — and answers `pay`, `close`, `dispute` and
//! `status` on a Unix socket. It exits once the channel is closed on-chain.

mod answers;

use std::{os::unix::fs::PermissionsExt, path::Path, path::PathBuf, time::Duration};

use paychan_interface::client::ChannelAddress;
use paychan_node::{
    engine::Event,
    runtime::{accept_forever, dial_forever, Command, LinkState, Notice, Runtime, RuntimeEnd},
};
use tokio::{
    io::{AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader},
    net::{TcpListener, UnixListener, UnixStream},
    sync::{broadcast, mpsc, watch},
};

use crate::{
    cluster::Cluster,
    control::{Reply, Request},
    session,
    store::StoreArg,
};

#[derive(clap::Args, Debug)]
pub struct Daemon {
    /// The channel address.
    channel: String,
    /// Wait for the peer on this address (it dials).
    #[arg(long, conflicts_with = "connect", required_unless_present = "connect")]
    listen: Option<String>,
    /// Dial the peer at this address, and again whenever the link drops.
    #[arg(long)]
    connect: Option<String>,
    /// How often to look at the chain, in milliseconds.
    #[arg(long, default_value_t = 1_000)]
    interval_ms: u64,
    /// Keep this file current with the newest co-signed state, for `paychan watch --tower`.
    #[arg(long)]
    tower_file: Option<PathBuf>,
    #[command(flatten)]
    store: StoreArg,
}

pub async fn run(cluster: &Cluster, args: Daemon) -> Result<(), String> {
    // The socket first: a second daemon for the channel is told so plainly.
    let me = cluster.keypair()?;
    let socket = args
        .store
        .socket(&me, &crate::cluster::address(&args.channel)?)?;
    let control = bind_control(&socket).await?;
    let node =
        match session::node(cluster, &args.store, &args.channel, Some(args.interval_ms)).await {
            Ok(node) => node,
            Err(e) => {
                let _ = std::fs::remove_file(&socket);
                return Err(e);
            }
        };
    let channel = *node.channel();
    let key = cluster.signer()?;
    let peer = session::peer_key(&node);
    let (links_tx, mut links) = mpsc::channel(4);
    let (notices_tx, notices) = mpsc::unbounded_channel();
    let (link_tx, link_rx) = watch::channel(LinkState::default());
    let (events, _) = broadcast::channel(4_096);
    let (commands_tx, mut commands) = mpsc::channel(1_024);
    let id = channel.address.to_bytes();
    if let Some(bind) = &args.listen {
        let listener = TcpListener::bind(bind)
            .await
            .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        // On stdout, first: scripts and tests read the port from here.
        println!("listening on {local}");
        tokio::task::spawn_local(accept_forever(
            listener,
            key,
            peer,
            id,
            links_tx,
            notices_tx.clone(),
        ));
    } else if let Some(address) = args.connect.clone() {
        tokio::task::spawn_local(dial_forever(
            address,
            key,
            peer,
            id,
            links_tx,
            link_rx,
            notices_tx.clone(),
        ));
    }
    tokio::task::spawn_local(log(notices));
    // Each answer in progress holds a clone of `answering`: the daemon lets them finish.
    let (answering, mut answered) = mpsc::channel::<()>(1);
    let control = tokio::task::spawn_local(serve_control(
        control,
        commands_tx.clone(),
        events.clone(),
        answering,
    ));
    if let Some(path) = args.tower_file.clone() {
        let seen = events.subscribe();
        tokio::task::spawn_local(keep_tower_file(path, channel, commands_tx.clone(), seen));
    }
    drop(commands_tx);
    // On stdout: scripts and tests wait for this line before sending commands.
    println!(
        "running {} (control socket {})",
        channel.address,
        socket.display()
    );
    let mut runtime = Runtime::new(node, events, notices_tx, link_tx);
    let end = runtime
        .run(
            &mut commands,
            &mut links,
            Duration::from_millis(args.interval_ms),
        )
        .await;
    let _ = std::fs::remove_file(&socket);
    // Answers already given (say, the close that ended the channel) still reach their callers.
    control.abort();
    drop(runtime);
    let _ = tokio::time::timeout(Duration::from_secs(2), answered.recv()).await;
    match end {
        Ok(RuntimeEnd::ChannelClosed) => {
            println!(
                "channel {} is closed; nothing left to guard",
                channel.address
            );
            Ok(())
        }
        Ok(RuntimeEnd::Stopped) => Ok(()),
        Err(e) => Err(format!(
            "stopped: {e} (restart the daemon: it resumes from its store)"
        )),
    }
}

/// Binds the control socket, owner-only; refuses if a daemon already answers there.
async fn bind_control(path: &Path) -> Result<UnixListener, String> {
    if UnixStream::connect(path).await.is_ok() {
        return Err(format!(
            "a daemon is already running for this channel (control socket {})",
            path.display()
        ));
    }
    // A socket file left by a daemon that died.
    let _ = std::fs::remove_file(path);
    let listener =
        UnixListener::bind(path).map_err(|e| format!("cannot bind {}: {e}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| format!("cannot restrict {}: {e}", path.display()))?;
    Ok(listener)
}

/// Writes notices to stderr without blocking the channel: a stderr nobody reads stalls this
/// task alone, never the runtime (notices are few: refusals are reported once a second).
async fn log(mut notices: mpsc::UnboundedReceiver<Notice>) {
    let mut stderr = tokio::io::stderr();
    while let Some(notice) = notices.recv().await {
        let line = format!("paychan daemon: {notice}\n");
        if stderr.write_all(line.as_bytes()).await.is_err() {
            return;
        }
    }
}

async fn serve_control(
    listener: UnixListener,
    commands: mpsc::Sender<Command>,
    events: broadcast::Sender<Event>,
    answering: mpsc::Sender<()>,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let (commands, events) = (commands.clone(), events.clone());
        let answering = answering.clone();
        tokio::task::spawn_local(async move {
            let _answering = answering;
            let (read, mut write) = stream.into_split();
            let Ok(Some(line)) = BufReader::new(read).lines().next_line().await else {
                return;
            };
            let reply = match serde_json::from_str::<Request>(&line) {
                Err(e) => Reply::Error(format!("not a request: {e}")),
                Ok(Request::Pay {
                    amount,
                    count,
                    timeout_ms,
                }) => {
                    let patience = Duration::from_millis(timeout_ms);
                    answers::pay(&commands, &events, amount, count, patience, &mut write).await
                }
                Ok(Request::Close {
                    unilateral: true, ..
                }) => answers::force_close(&commands).await,
                Ok(Request::Close { timeout_ms, .. }) => {
                    answers::close(&commands, &events, Duration::from_millis(timeout_ms)).await
                }
                Ok(Request::Dispute) => answers::dispute(&commands).await,
                Ok(Request::Status) => answers::status(&commands).await,
            };
            let _ = write_line(&mut write, &reply).await;
        });
    }
}

pub async fn write_line<W: AsyncWrite + Unpin>(out: &mut W, reply: &Reply) -> std::io::Result<()> {
    let mut line = serde_json::to_string(reply).map_err(std::io::Error::other)?;
    line.push('\n');
    out.write_all(line.as_bytes()).await
}

/// Rewrites the tower file whenever a newer state is co-signed.
async fn keep_tower_file(
    path: PathBuf,
    channel: ChannelAddress,
    commands: mpsc::Sender<Command>,
    mut seen: broadcast::Receiver<Event>,
) {
    let mut written = None;
    loop {
        let Ok(status) = answers::ask(&commands, Command::Status).await else {
            return;
        };
        if let Some(state) = status.co_signed {
            if written != Some(state.state.seq) {
                match crate::tower::write(&path, &channel, &state) {
                    Ok(()) => written = Some(state.state.seq),
                    Err(e) => eprintln!("paychan daemon: warning: {e}"),
                }
            }
        }
        loop {
            match seen.recv().await {
                Ok(Event::Paid { .. } | Event::Received { .. })
                | Err(broadcast::error::RecvError::Lagged(_)) => break,
                Ok(_) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}
