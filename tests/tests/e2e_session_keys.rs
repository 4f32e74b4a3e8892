//! Two client nodes whose states are signed by session keys while their wallets fund the
//! channel and sign its transactions (what a browser dApp does: one wallet prompt to open,
//! none per payment). A node refuses to transact with a key the channel does not name.

use ed25519_dalek::SigningKey;
use paychan_interface::client::{self, ChannelAddress};
use paychan_node::{
    driver::{ChannelDriver, DriverError},
    engine::Input,
    store::MemoryStore,
};
use paychan_tests::{
    chain::{SvmChain, TestChain},
    pair::{deliver, on_chain, payment, submit_as, WALLET},
    SOL,
};
use solana_keypair::Keypair;
use solana_signer::Signer;

fn session_key() -> SigningKey {
    SigningKey::from_bytes(&rand::random())
}

fn address_of(key: &SigningKey) -> paychan_interface::Address {
    paychan_interface::Address::new_from_array(key.verifying_key().to_bytes())
}

#[test]
fn session_keys_sign_every_payment_and_the_wallets_get_paid() {
    paychan_tests::block_on(async {
        let mut chain = SvmChain::new();
        let (a, b) = (Keypair::new(), Keypair::new());
        chain.fund(&a.pubkey(), WALLET).await;
        chain.fund(&b.pubkey(), WALLET).await;
        let (sa, sb) = (session_key(), session_key());
        let channel = ChannelAddress::new_random(&paychan_interface::ID, &a.pubkey(), &b.pubkey());
        submit_as(
            &mut chain.ledger(),
            &a,
            &[client::open_with_signers(
                &channel,
                4 * SOL,
                chain.challenge_period(),
                &address_of(&sa),
                &address_of(&sb),
            )],
        )
        .await
        .expect("open");
        chain.advance_time(0).await;

        // B's wallet alone cannot sign for B: the channel names B's session key.
        let refused = ChannelDriver::join(
            MemoryStore::new(),
            chain.ledger(),
            b.insecure_clone(),
            channel,
        )
        .await;
        assert!(
            matches!(refused, Err(DriverError::SignerMismatch { named, .. }) if named == address_of(&sb)),
            "{refused:?}"
        );

        let join = |wallet: &Keypair, signer: &SigningKey| {
            ChannelDriver::join_with_signer(
                MemoryStore::new(),
                chain.ledger(),
                wallet.insecure_clone(),
                signer.clone(),
                channel,
            )
        };
        let mut alice = join(&a, &sa).await.expect("A joins with its session key");
        let mut bob = join(&b, &sb).await.expect("B joins with its session key");
        for _ in 0..20 {
            alice.handle(payment(SOL / 10)).await.expect("pay");
        }
        deliver(&mut alice, &mut bob).await.expect("rounds");
        let newest = alice.engine().newest_co_signed().expect("co-signed");
        assert_eq!(
            (newest.a.pubkey, newest.b.pubkey),
            (sa.verifying_key().to_bytes(), sb.verifying_key().to_bytes())
        );

        alice.handle(Input::Close).await.expect("close");
        deliver(&mut alice, &mut bob)
            .await
            .expect("close agreed and submitted");
        assert!(on_chain(&chain, &channel).await.is_none(), "closed");
        let wallet = |key: &Keypair| {
            let mut ledger = chain.ledger();
            let address = key.pubkey();
            async move {
                paychan_node::ledger::Ledger::account(&mut ledger, &address)
                    .await
                    .expect("ledger")
                    .map_or(0, |a| a.lamports)
            }
        };
        // B got 2 SOL into its wallet (it paid no fee: A's wallet paid the close).
        assert_eq!(wallet(&b).await, WALLET + 2 * SOL);
        assert!(wallet(&a).await > WALLET - 2 * SOL - 100_000);
    });
}
