//! `kill -9` of a node under load from many payers: a service's `paychan node` (a real
//! process, its redb store committing many channels' rounds together) is killed three times
//! while twelve payers pay it as fast as they can, and started again on the same port. Every
//! payment a payer saw final is in the node's history afterwards, every channel's newest
//! co-signed state is the same on both sides, and no payer ever met a second state for a seq
//! (its engine would stop the channel). The payers run in this process, over the library,
//! against the same embedded ledger.

mod support;

use support::{
    payers::{payer, paying, status, stop_paying, total},
    until, Ledger, Party,
};
use tokio::sync::watch;

const PAYERS: usize = 12;
const KILLS: usize = 3;

#[test]
fn a_node_killed_under_load_from_many_payers_loses_nothing_it_signed() {
    let ledger = Ledger::start();
    let service = Party::new(&ledger);
    let service_key = service.keypair();
    let mut node = service.node(&["--listen", "127.0.0.1:0"]);
    let node_at = node.listening.clone().expect("the node listens");

    support::block_on_local(async {
        let (stop_tx, stop) = watch::channel(false);
        let mut payers = Vec::new();
        for index in 0..PAYERS {
            payers.push(
                payer(
                    &ledger.url,
                    &service_key,
                    &node_at,
                    index as u64,
                    stop.clone(),
                )
                .await,
            );
        }
        // Kill the node while payments flow; start it again on the same port each time.
        for _ in 0..KILLS {
            paying(&payers, 300).await;
            node.kill();
            node = service.node(&["--listen", &node_at]);
        }
        paying(&payers, 300).await;
        stop_paying(&mut payers, &stop_tx).await;

        // Every payment a payer saw final is in the node's history, and both sides hold the
        // same newest co-signed state.
        for payer in &payers {
            assert!(!payer.runtime.is_finished(), "a payer's channel stopped");
            let channel = payer.channel.address.to_string();
            let mine = status(payer).await.co_signed.expect("co-signed").state;
            let mut theirs = serde_json::Value::Null;
            until("the node's view of the channel", || {
                theirs = support::node_status(&service, &channel);
                theirs["co_signed_seq"] == mine.seq
            });
            assert_eq!(theirs["balance_b"], mine.balance_b);
            // The node stores a round's fully signed state once the payer's last message
            // arrives: compared once both sides show the same newest state.
            let history = service.ok(&["history", &channel]);
            let stored = history.matches("pay 0.000001 SOL").count();
            let paid = payer.paid.borrow().len();
            assert!(paid > 0);
            assert_eq!(
                stored, paid,
                "{channel}: the node holds every payment made final"
            );
        }
        assert!(total(&payers) >= 4 * 300);
        drop(node);
    });
}
