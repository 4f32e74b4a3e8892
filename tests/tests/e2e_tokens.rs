//! Token channels through the client's drivers on the embedded ledger over JSON-RPC, paid in
//! its test stablecoin (tUSD, SPL Token): payments, a cooperative close that creates the payee's
//! token account, and a stale close the honest party's watcher punishes in tokens.

use paychan_interface::{
    client::{self, ChannelAddress},
    token::TokenProgram,
};
use paychan_ledger_server::{TEST_USD_DECIMALS, TEST_USD_MINT};
use paychan_node::{engine::Input, ledger::Ledger};
use paychan_tests::{
    chain::{EmbeddedRpcChain, TestChain},
    pair::{deliver, join_in_memory, on_chain, payment, submit_as, WALLET},
};
use solana_keypair::Keypair;
use solana_signer::Signer;

/// One tUSD in base units.
const USD: u64 = 1_000_000;

async fn tokens(chain: &EmbeddedRpcChain, channel: &ChannelAddress, wallet: &Keypair) -> u64 {
    let account = channel
        .token_account_of(&wallet.pubkey())
        .expect("a token channel");
    chain
        .ledger()
        .account(&account)
        .await
        .expect("ledger")
        .and_then(|a| {
            a.data
                .get(64..72)
                .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
        })
        .unwrap_or(0)
}

/// A tUSD channel A opens with 50 tUSD to B, who holds no tUSD (nor a token account).
async fn usd_channel(chain: &mut EmbeddedRpcChain) -> (Keypair, Keypair, ChannelAddress) {
    let (a, b) = (Keypair::new(), Keypair::new());
    chain.fund(&a.pubkey(), WALLET).await;
    chain.fund(&b.pubkey(), WALLET).await;
    chain
        .ledger()
        .request_tokens(&a.pubkey(), 100 * USD)
        .await
        .expect("the faucet mints tUSD");
    let channel = ChannelAddress::new_random_token(
        &paychan_interface::ID,
        &a.pubkey(),
        &b.pubkey(),
        TokenProgram::Spl,
        &TEST_USD_MINT,
        TEST_USD_DECIMALS,
    );
    let mut ledger = chain.ledger();
    submit_as(
        &mut ledger,
        &a,
        &[client::open(&channel, 50 * USD, chain.challenge_period())],
    )
    .await
    .expect("open");
    chain.advance_time(0).await;
    (a, b, channel)
}

#[test]
fn payments_in_tusd_then_a_cooperative_close_that_creates_the_payees_account() {
    paychan_tests::block_on(async {
        let mut chain = EmbeddedRpcChain::start();
        let (a, b, channel) = usd_channel(&mut chain).await;
        let (mut alice, mut bob) = join_in_memory(&chain, &a, &b, channel).await;
        for _ in 0..1_000 {
            alice.handle(payment(12_345)).await.expect("pay");
        }
        deliver(&mut alice, &mut bob).await.expect("rounds");
        let newest = bob.engine().newest_state();
        assert_eq!(newest.balance_b, 1_000 * 12_345);

        alice.handle(Input::Close).await.expect("close");
        deliver(&mut alice, &mut bob).await.expect("close agreed");
        assert_eq!(on_chain(&chain, &channel).await, None);
        assert_eq!(tokens(&chain, &channel, &b).await, 1_000 * 12_345);
        assert_eq!(
            tokens(&chain, &channel, &a).await,
            100 * USD - 1_000 * 12_345
        );
    });
}

#[test]
fn a_stale_token_close_is_punished_by_the_watcher_with_every_token() {
    paychan_tests::block_on(async {
        let mut chain = EmbeddedRpcChain::start();
        let (a, b, channel) = usd_channel(&mut chain).await;
        let (mut alice, mut bob) = join_in_memory(&chain, &a, &b, channel).await;
        let mut states = Vec::new();
        for _ in 0..5 {
            alice.handle(payment(USD)).await.expect("pay");
            deliver(&mut alice, &mut bob).await.expect("round");
            states.push(alice.engine().newest_co_signed().expect("signed"));
        }
        // Alice registers seq 3 while seq 5 is co-signed: Bob's watcher proves it
        alice
            .submit(&states[2].start_close(&channel, &a.pubkey()))
            .await
            .expect("stale start close lands");
        bob.sync_chain().await.expect("bob's watcher disputes");
        assert_eq!(on_chain(&chain, &channel).await, None, "closed at once");
        assert_eq!(
            tokens(&chain, &channel, &b).await,
            50 * USD,
            "Bob takes it all"
        );
        assert_eq!(tokens(&chain, &channel, &a).await, 50 * USD);
        let vault = channel.token.expect("token").vault;
        assert!(chain
            .ledger()
            .account(&vault)
            .await
            .expect("ledger")
            .is_none());
    });
}
