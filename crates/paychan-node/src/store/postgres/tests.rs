//! The PostgreSQL store against a real server: `scripts/test.sh` starts one
//! (`scripts/postgres.sh`) and runs these with `PAYCHAN_TEST_POSTGRES` set to its URL.

use paychan_interface::channel::Party;

use super::{PgConfig, PgStore};
use crate::engine::Record;
use crate::store::{
    conformance::{
        self,
        fixtures::{address, entry, params},
        Harness,
    },
    ChannelStore, StoreError,
};

const IGNORED: &str = "needs PostgreSQL: scripts/test.sh starts one and sets PAYCHAN_TEST_POSTGRES";

fn url() -> String {
    std::env::var("PAYCHAN_TEST_POSTGRES").unwrap_or_else(|_| panic!("{IGNORED}"))
}

/// A schema of its own for each store a test opens: the tests share one server.
fn fresh() -> PgConfig {
    PgConfig {
        url: url(),
        schema: format!("test_{:016x}", rand::random::<u64>()),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

struct Fresh(Option<PgConfig>);

impl Harness for Fresh {
    type Store = PgStore;

    async fn open(&mut self) -> PgStore {
        let config = fresh();
        self.0 = Some(config.clone());
        PgStore::open(config).await.expect("open")
    }

    async fn reopen(&mut self, store: PgStore) -> PgStore {
        let config = store.0.config.clone();
        drop(store);
        PgStore::open(config).await.expect("reopen")
    }
}

#[test]
#[ignore = "needs PostgreSQL: scripts/test.sh starts one and sets PAYCHAN_TEST_POSTGRES"]
fn conformance() {
    runtime().block_on(conformance::check(&mut Fresh(None)));
}

/// Many channels writing at once share transactions, and every write is durable.
#[test]
#[ignore = "needs PostgreSQL: scripts/test.sh starts one and sets PAYCHAN_TEST_POSTGRES"]
fn concurrent_channels_share_commits() {
    runtime().block_on(async {
        let store = PgStore::open(fresh()).await.expect("open");
        let channels = (1..=32u8).map(|n| {
            let mut store = store.clone();
            async move {
                store.create_channel(&params(n, Party::A)).await?;
                for seq in 1..=10 {
                    store
                        .persist(&address(n), &[Record::FullySigned(entry(seq))])
                        .await?;
                }
                Ok::<_, StoreError>(())
            }
        });
        for result in futures_util::future::join_all(channels).await {
            result.expect("every write lands");
        }
        let counts = store.commit_stats();
        assert_eq!(counts.writes(), 32 * 11);
        assert!(
            counts.commits() * 2 <= counts.writes(),
            "{} commits for {} writes",
            counts.commits(),
            counts.writes()
        );
        for n in 1..=32u8 {
            let (_, recovered) = store
                .recover(&address(n))
                .await
                .expect("recover")
                .expect("known");
            assert_eq!(recovered.newest, Some(entry(10)));
        }
    });
}

/// Two nodes on one database: a channel is leased to one of them at a time; when the holder
/// goes away (its connection closes), the other can take it.
#[test]
#[ignore = "needs PostgreSQL: scripts/test.sh starts one and sets PAYCHAN_TEST_POSTGRES"]
fn a_channel_is_leased_to_one_node_at_a_time() {
    runtime().block_on(async {
        let config = fresh();
        let mut one = PgStore::open(config.clone()).await.expect("open");
        let mut two = PgStore::open(config.clone()).await.expect("open");
        let (a, b) = (address(1), address(2));
        assert_eq!(one.claim(&[a]).await.expect("claim"), vec![a]);
        assert_eq!(two.claim(&[a, b]).await.expect("claim"), vec![b]);
        // Claiming again what one holds is no change.
        assert_eq!(one.claim(&[a, b]).await.expect("claim"), vec![a]);
        drop(one);
        let mut taken = Vec::new();
        for _ in 0..100 {
            taken = two.claim(&[a]).await.expect("claim");
            if !taken.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(
            taken,
            vec![a],
            "the lease of a node that went away is taken over"
        );
    });
}
