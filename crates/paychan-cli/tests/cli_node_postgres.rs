//! Two `paychan node` processes of one service share one PostgreSQL store (a real server:
//! `scripts/test.sh` starts one). Each channel is leased to one node at a time: the standby
//! runs nothing while the first node lives. Six payers pay through a relay (the service's
//! address) to the first node; it is killed (`kill -9`), the standby takes every channel
//! over on its next look, the relay sends the payers to it, and they go on paying. Every
//! payment a payer saw final is in the store, and both sides hold the same co-signed state.

mod support;

use std::{cell::Cell, net::SocketAddr, rc::Rc};

use support::{
    payers::{payer, paying, status, stop_paying},
    until, Ledger, Party,
};
use tokio::{
    io::copy_bidirectional,
    net::{TcpListener, TcpStream},
    sync::watch,
    task::spawn_local,
};

const PAYERS: usize = 6;

/// A TCP relay standing for the service's one address; `target` says where it forwards new
/// connections, and changing it cuts the old ones.
async fn relay(target: Rc<Cell<SocketAddr>>) -> (SocketAddr, watch::Sender<u64>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let (cut, _) = watch::channel(0u64);
    let cuts = cut.clone();
    spawn_local(async move {
        loop {
            let (mut inbound, _) = listener.accept().await.expect("accept");
            let (to, mut cut) = (target.get(), cuts.subscribe());
            spawn_local(async move {
                let Ok(mut outbound) = TcpStream::connect(to).await else {
                    return;
                };
                tokio::select! {
                    _ = copy_bidirectional(&mut inbound, &mut outbound) => {}
                    _ = cut.changed() => {}
                }
            });
        }
    });
    (address, cut)
}

#[test]
#[ignore = "needs PostgreSQL: scripts/test.sh starts one and sets PAYCHAN_TEST_POSTGRES"]
fn a_standby_node_takes_over_the_channels_of_a_node_killed_on_a_shared_postgres_store() {
    let store = support::postgres_store("failover");
    let ledger = Ledger::start();
    let service = Party::new(&ledger);
    let service_key = service.keypair();
    let first = service.node(&["--listen", "127.0.0.1:0", "--store", &store]);
    let first_at: SocketAddr = first
        .listening
        .clone()
        .expect("listens")
        .parse()
        .expect("addr");

    support::block_on_local(async {
        let target = Rc::new(Cell::new(first_at));
        let (relay_at, cut) = relay(Rc::clone(&target)).await;
        let (stop_tx, stop) = watch::channel(false);
        let mut payers = Vec::new();
        for index in 0..PAYERS {
            let payer = payer(
                &ledger.url,
                &service_key,
                &relay_at.to_string(),
                index as u64,
                stop.clone(),
            )
            .await;
            first.running(&payer.channel.address.to_string());
            payers.push(payer);
        }
        // The standby starts once the first node holds every channel: it runs none of them.
        let standby = service.node(&["--listen", "127.0.0.1:0", "--store", &store]);
        paying(&payers, 300).await;
        assert_eq!(
            standby.seen_count("channel "),
            0,
            "the standby ran a channel the first node holds"
        );

        // The first node dies; the standby takes its channels over; the address moves to it.
        first.kill();
        for payer in &payers {
            standby.running(&payer.channel.address.to_string());
        }
        target.set(
            standby
                .listening
                .clone()
                .expect("listens")
                .parse()
                .expect("addr"),
        );
        cut.send_modify(|n| *n += 1);
        paying(&payers, 300).await;
        stop_paying(&mut payers, &stop_tx).await;

        // Every payment a payer saw final is in the shared store; both sides agree.
        for payer in &payers {
            assert!(!payer.runtime.is_finished(), "a payer's channel stopped");
            let channel = payer.channel.address.to_string();
            let api = ["--api", standby.api.as_str()];
            let token = service
                .home()
                .join(".local/share/paychan")
                .join(&service.pubkey)
                .join("paychan.api-token");
            let token = ["--api-token", token.to_str().expect("path")];
            let mine = status(payer).await.co_signed.expect("co-signed").state;
            until("the standby's view of the channel", || {
                let theirs: serde_json::Value = serde_json::from_str(
                    &service.ok(&[
                        &["status", &channel, "--node", "--output", "json"],
                        &api[..],
                        &token[..],
                    ]
                    .concat()),
                )
                .expect("json");
                theirs["co_signed_seq"] == mine.seq && theirs["balance_b"] == mine.balance_b
            });
            // The node stores a round's fully signed state once the payer's last message
            // arrives: compared once both sides show the same newest state.
            let history = service.ok(&[&["history", &channel], &api[..], &token[..]].concat());
            assert_eq!(
                history.matches("pay 0.000001 SOL").count(),
                payer.paid.borrow().len(),
                "{channel}: the store holds every payment made final"
            );
        }
        drop(standby);
    });
}

/// PostgreSQL restarted twice (an immediate shutdown, as a crash) while six payers pay one
/// node: the node waits for the database, takes its leases back and resumes; every payment
/// a payer saw final is in the store, and both sides agree.
#[test]
#[ignore = "needs PostgreSQL: scripts/test.sh starts one and sets PAYCHAN_TEST_POSTGRES"]
fn a_node_waits_out_a_postgres_restart_under_load_and_loses_nothing() {
    let data = std::env::var("PAYCHAN_TEST_POSTGRES_DIR").expect("PAYCHAN_TEST_POSTGRES_DIR");
    let store = support::postgres_store("restart");
    let ledger = Ledger::start();
    let service = Party::new(&ledger);
    let service_key = service.keypair();
    let node = service.node(&["--listen", "127.0.0.1:0", "--store", &store]);
    let node_at = node.listening.clone().expect("listens");
    let restart = || {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/postgres.sh");
        let status = std::process::Command::new("bash")
            .args([script, "restart", &data])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("postgres.sh runs");
        assert!(status.success(), "PostgreSQL restarts");
    };

    support::block_on_local(async {
        let (stop_tx, stop) = watch::channel(false);
        let mut payers = Vec::new();
        for index in 0..PAYERS {
            let payer = payer(
                &ledger.url,
                &service_key,
                &node_at,
                index as u64,
                stop.clone(),
            )
            .await;
            node.running(&payer.channel.address.to_string());
            payers.push(payer);
        }
        for _ in 0..2 {
            paying(&payers, 300).await;
            restart();
        }
        paying(&payers, 300).await;
        stop_paying(&mut payers, &stop_tx).await;
        for payer in &payers {
            assert!(!payer.runtime.is_finished(), "a payer's channel stopped");
            let channel = payer.channel.address.to_string();
            let now = status(payer).await;
            let Some(mine) = now.co_signed.map(|c| c.state) else {
                panic!(
                    "{channel}: {} paid, status {now:?}; node log: {}",
                    payer.paid.borrow().len(),
                    service.node_log()
                );
            };
            until("the node's view of the channel", || {
                let theirs = support::node_status(&service, &channel);
                theirs["co_signed_seq"] == mine.seq && theirs["balance_b"] == mine.balance_b
            });
            let history = service.ok(&["history", &channel, "--store", &store]);
            assert_eq!(
                history.matches("pay 0.000001 SOL").count(),
                payer.paid.borrow().len(),
                "{channel}: the store holds every payment made final"
            );
        }
    });
    drop(node);
}
