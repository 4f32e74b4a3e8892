//! Deploying the built `paychan.so` through the upgradeable loader on LiteSVM (which runs the
//! real loader): create, use, redeploy unchanged, upgrade to new bytes, then the smoke migration.

use paychan_interface::client::{self, ChannelAddress};
use paychan_migrations::{
    deploy, deploy_with, smoke, DeployError, Deployed, Stranding, WRITE_CHUNK,
};
use paychan_node::ledger::{Ledger, LiteSvmLedger, SharedLedger};
use solana_keypair::{read_keypair_file, Keypair};
use solana_signer::Signer;

const SOL: u64 = 1_000_000_000;
const PROGRAM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/deploy/paychan.so");
const DEV_KEY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../programs/paychan/keys/paychan-dev-keypair.json"
);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
}

/// A ledger with a funded payer, the built program's bytes and its keypair.
fn fresh() -> (LiteSvmLedger, Keypair, Keypair, Vec<u8>) {
    let elf = std::fs::read(PROGRAM).expect("run scripts/build-sbf.sh first");
    let program = read_keypair_file(DEV_KEY).expect("dev keypair");
    let payer = Keypair::new();
    let mut ledger = LiteSvmLedger::empty();
    ledger
        .svm()
        .airdrop(&payer.pubkey(), 100 * SOL)
        .expect("airdrop");
    (ledger, payer, program, elf)
}

/// The program with other bytes (a log message changed): what an upgrade brings.
fn other_bytes(elf: &[u8]) -> Vec<u8> {
    let mut upgraded = elf.to_vec();
    let at = upgraded
        .windows(7)
        .position(|w| w == b"paychan")
        .expect("the log message is in the binary");
    upgraded[at] = b'P';
    upgraded
}

/// Opens a channel: proves the deployed program runs.
async fn open_channel(ledger: &mut LiteSvmLedger, payer: &Keypair) -> ChannelAddress {
    let peer = Keypair::new();
    let channel =
        ChannelAddress::new_random(&paychan_interface::ID, &payer.pubkey(), &peer.pubkey());
    paychan_node::ledger::sign_and_submit(ledger, &[client::open(&channel, SOL, 86_400)], &[payer])
        .await
        .expect("the deployed program runs");
    channel
}

#[test]
fn deploy_creates_is_idempotent_and_upgrades() {
    runtime().block_on(async {
        let (mut ledger, payer, program, elf) = fresh();
        assert_eq!(program.pubkey(), paychan_interface::ID);

        let created = deploy(&mut ledger, &payer, &program, &elf)
            .await
            .expect("deploy");
        let writes = elf.len().div_ceil(WRITE_CHUNK);
        assert_eq!(
            created,
            Deployed::Created {
                transactions: writes + 2
            }
        );
        let channel = open_channel(&mut ledger, &payer).await;
        assert!(ledger
            .channel(&channel.address)
            .await
            .expect("ledger")
            .is_some());

        assert_eq!(
            deploy(&mut ledger, &payer, &program, &elf)
                .await
                .expect("redeploy"),
            Deployed::Unchanged
        );

        // New bytes upgrade the program in place.
        let upgraded = other_bytes(&elf);
        assert_eq!(
            deploy(&mut ledger, &payer, &program, &upgraded)
                .await
                .expect("upgrade"),
            Deployed::Upgraded {
                transactions: writes + 2
            }
        );
        assert_eq!(
            deploy(&mut ledger, &payer, &program, &upgraded)
                .await
                .expect("redeploy"),
            Deployed::Unchanged
        );
        let channel = open_channel(&mut ledger, &payer).await;
        assert!(ledger
            .channel(&channel.address)
            .await
            .expect("ledger")
            .is_some());

        // The smoke migration: a channel opened, used and closed on the deployed program.
        let shared = SharedLedger::new(ledger);
        let report = smoke(|| shared.clone(), &payer, 200).await.expect("smoke");
        assert_eq!(report.payments, 200);
        assert!(report.rounds >= 20, "{report:?}");
        assert_eq!(
            report.transactions, 4,
            "funding, open, deposit, cooperative close"
        );
    });
}

/// A live channel of an older layout (v1: 224 bytes) that the new build cannot read: the
/// upgrade is refused and the program keeps its bytes, until the operator says the old
/// accounts are abandoned. Channels of the current layout never block an upgrade.
#[test]
fn an_upgrade_that_would_strand_channels_of_an_older_layout_is_refused() {
    runtime().block_on(async {
        let (mut ledger, payer, program, elf) = fresh();
        deploy(&mut ledger, &payer, &program, &elf)
            .await
            .expect("deploy");
        open_channel(&mut ledger, &payer).await;
        let upgraded = other_bytes(&elf);

        let mut v1 = vec![0u8; 224];
        (v1[0], v1[1], v1[2]) = (paychan_interface::channel::CHANNEL_DISCRIMINATOR, 1, 1);
        let old = paychan_interface::Address::new_unique();
        ledger
            .svm()
            .set_account(
                old,
                solana_account::Account {
                    lamports: SOL,
                    data: v1,
                    owner: paychan_interface::ID,
                    executable: false,
                    rent_epoch: 0,
                },
            )
            .expect("a v1 channel");

        let refused = deploy(&mut ledger, &payer, &program, &upgraded).await;
        assert!(
            matches!(
                refused,
                Err(DeployError::WouldStrandChannels { count: 1, first, version: 1 }) if first == old
            ),
            "{refused:?}"
        );
        assert_eq!(
            deploy(&mut ledger, &payer, &program, &elf)
                .await
                .expect("the old bytes are still deployed"),
            Deployed::Unchanged
        );
        let allowed = deploy_with(&mut ledger, &payer, &program, &upgraded, Stranding::Allow)
            .await
            .expect("upgrade when told the old accounts are abandoned");
        assert!(matches!(allowed, Deployed::Upgraded { .. }));
    });
}
