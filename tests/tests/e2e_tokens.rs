//! Token channels through the client's drivers on every chain (LiteSVM, solana-program-test,
//! the embedded ledger over JSON-RPC, a real validator when built), with a mint made by the
//! real SPL Token program: payments, a cooperative close that creates the payee's token
//! account, a stale close the honest party's watcher punishes in tokens, and a watchtower doing
//! it for an offline party.

use paychan_interface::{
    client::{self, ChannelAddress},
    token::{TokenProgram, MINT_LEN, SPL_TOKEN_ID},
    Address,
};
use paychan_node::{engine::Input, ledger::Ledger, watchtower::Watchtower};
use paychan_tests::{
    chain::TestChain,
    pair::{deliver, join_in_memory, on_chain, payment, submit_as, WALLET},
};
use solana_keypair::Keypair;
use solana_signer::Signer;
use spl_token_2022_interface::instruction as token_ix;

paychan_tests::on_every_chain!(
    payments_in_tokens_then_a_cooperative_close_that_creates_the_payees_account,
    a_stale_token_close_is_punished_by_the_watcher_with_every_token,
    a_watchtower_punishes_a_stale_token_close_for_an_offline_party,
);

/// One token in base units (6 decimals, as USDC).
const USD: u64 = 1_000_000;

async fn tokens<C: TestChain>(chain: &C, channel: &ChannelAddress, wallet: &Address) -> u64 {
    let account = channel.token_account_of(wallet).expect("a token channel");
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

/// A 6-decimal SPL Token mint whose authority `a` holds 100 tokens in its associated account.
async fn mint_for<C: TestChain>(chain: &mut C, a: &Keypair) -> Address {
    let mint = Keypair::new();
    let account = paychan_interface::pda::find_associated_token_address(
        &a.pubkey(),
        TokenProgram::Spl,
        &mint.pubkey(),
    );
    // System CreateAccount: tag 0, lamports (above the mint's rent), space, owner.
    let mut create = vec![0, 0, 0, 0];
    create.extend_from_slice(&10_000_000u64.to_le_bytes());
    create.extend_from_slice(&(MINT_LEN as u64).to_le_bytes());
    create.extend_from_slice(SPL_TOKEN_ID.as_ref());
    let instructions = [
        solana_instruction::Instruction {
            program_id: solana_sdk_ids::system_program::ID,
            accounts: vec![
                solana_instruction::AccountMeta::new(a.pubkey(), true),
                solana_instruction::AccountMeta::new(mint.pubkey(), true),
            ],
            data: create,
        },
        token_ix::initialize_mint2(&SPL_TOKEN_ID, &mint.pubkey(), &a.pubkey(), None, 6)
            .expect("initialize_mint2"),
    ];
    let mut ledger = chain.ledger();
    paychan_node::ledger::sign_and_submit(&mut ledger, &instructions, &[a, &mint])
        .await
        .expect("the mint is created");
    let probe = ChannelAddress::derive_token(
        &paychan_interface::ID,
        &a.pubkey(),
        &a.pubkey(),
        0,
        TokenProgram::Spl,
        &mint.pubkey(),
        6,
    );
    let mut fund = client::create_payout_accounts(&probe, &a.pubkey());
    fund.truncate(1);
    fund.push(
        token_ix::mint_to(
            &SPL_TOKEN_ID,
            &mint.pubkey(),
            &account,
            &a.pubkey(),
            &[],
            100 * USD,
        )
        .expect("mint_to"),
    );
    submit_as(&mut ledger, a, &fund).await.expect("A is funded");
    mint.pubkey()
}

/// A token channel A opens with 50 tokens to B, who holds none (nor a token account).
async fn token_channel<C: TestChain>(chain: &mut C) -> (Keypair, Keypair, ChannelAddress) {
    let (a, b) = (Keypair::new(), Keypair::new());
    chain.fund(&a.pubkey(), WALLET).await;
    chain.fund(&b.pubkey(), WALLET).await;
    let mint = mint_for(chain, &a).await;
    let channel = ChannelAddress::new_random_token(
        &paychan_interface::ID,
        &a.pubkey(),
        &b.pubkey(),
        TokenProgram::Spl,
        &mint,
        6,
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

async fn payments_in_tokens_then_a_cooperative_close_that_creates_the_payees_account<
    C: TestChain,
>(
    mut chain: C,
) {
    let (a, b, channel) = token_channel(&mut chain).await;
    let (mut alice, mut bob) = join_in_memory(&chain, &a, &b, channel).await;
    for _ in 0..1_000 {
        alice.handle(payment(12_345)).await.expect("pay");
    }
    deliver(&mut alice, &mut bob).await.expect("rounds");
    assert_eq!(bob.engine().newest_state().balance_b, 1_000 * 12_345);

    alice.handle(Input::Close).await.expect("close");
    deliver(&mut alice, &mut bob).await.expect("close agreed");
    assert_eq!(on_chain(&chain, &channel).await, None);
    assert_eq!(tokens(&chain, &channel, &b.pubkey()).await, 1_000 * 12_345);
    assert_eq!(
        tokens(&chain, &channel, &a.pubkey()).await,
        100 * USD - 1_000 * 12_345
    );
}

/// Five rounds of one token each from A to B, with every co-signed state A holds.
async fn five_rounds<C: TestChain>(
    chain: &mut C,
) -> (paychan_tests::pair::PaidRounds<C::Ledger>, ChannelAddress) {
    let (a, b, channel) = token_channel(chain).await;
    let (mut alice, mut bob) = join_in_memory(chain, &a, &b, channel).await;
    let mut states = Vec::new();
    for _ in 0..5 {
        alice.handle(payment(USD)).await.expect("pay");
        deliver(&mut alice, &mut bob).await.expect("round");
        states.push(alice.engine().newest_co_signed().expect("signed"));
    }
    let rounds = paychan_tests::pair::PaidRounds {
        alice,
        bob,
        states,
        a,
        b,
    };
    (rounds, channel)
}

async fn a_stale_token_close_is_punished_by_the_watcher_with_every_token<C: TestChain>(
    mut chain: C,
) {
    let (mut rounds, channel) = five_rounds(&mut chain).await;
    // Alice registers seq 3 while seq 5 is co-signed: Bob's watcher proves it
    let stale = rounds.states[2].start_close(&channel, &rounds.a.pubkey());
    rounds
        .alice
        .submit(&stale)
        .await
        .expect("stale start close lands");
    rounds
        .bob
        .sync_chain()
        .await
        .expect("bob's watcher disputes");
    assert_eq!(on_chain(&chain, &channel).await, None, "closed at once");
    assert_eq!(tokens(&chain, &channel, &rounds.b.pubkey()).await, 50 * USD);
    assert_eq!(tokens(&chain, &channel, &rounds.a.pubkey()).await, 50 * USD);
    let vault = channel.token.expect("token").vault;
    assert!(chain
        .ledger()
        .account(&vault)
        .await
        .expect("ledger")
        .is_none());
}

async fn a_watchtower_punishes_a_stale_token_close_for_an_offline_party<C: TestChain>(
    mut chain: C,
) {
    let (mut rounds, channel) = five_rounds(&mut chain).await;
    // Bob hands his newest state to a tower and goes offline
    let tower_key = Keypair::new();
    chain.fund(&tower_key.pubkey(), WALLET).await;
    let mut tower = Watchtower::new(chain.ledger(), tower_key);
    // The hand-off names no token accounts: the tower reads them from the chain
    let mut handed = channel;
    handed.token = None;
    let newest = rounds.bob.engine().newest_co_signed().expect("signed");
    tower.watch(handed, newest);
    drop(rounds.bob);
    let stale = rounds.states[1].start_close(&channel, &rounds.a.pubkey());
    rounds
        .alice
        .submit(&stale)
        .await
        .expect("stale start close lands");
    let report = tower.tick().await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(on_chain(&chain, &channel).await, None, "punished at once");
    assert_eq!(tokens(&chain, &channel, &rounds.b.pubkey()).await, 50 * USD);
}
