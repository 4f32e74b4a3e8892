//! The channel lifecycle on the real SBF program, on LiteSVM and on solana-program-test.

use paychan_interface::{
    channel::{ChannelStatus, Party as Side, CHANNEL_ACCOUNT_LEN},
    client::{self, ChannelAddress},
    error::PaychanError,
};
use paychan_tests::{
    backend::Backend,
    fixture::{assert_rejected, ChannelFixture, Party, PERIOD, WALLET},
    on_both_backends, SOL,
};

on_both_backends!(
    open_deposit_and_cooperative_close_pay_the_agreed_balances,
    unilateral_close_with_newest_state_finalizes_after_the_deadline,
    dispute_with_seq_plus_one_replaces_without_punishment,
    dispute_with_seq_plus_two_punishes_the_registrant,
    implicit_seq_zero_close_returns_the_deposits,
    seq_zero_registration_disputed_two_ahead_is_punished,
    deposits_after_the_signed_state_return_to_their_depositor,
    share_a_wallet_cannot_take_stays_unclaimed_until_withdrawn,
    anyone_moves_a_parked_share_to_its_owners_wallet_and_the_reserve_returns_to_the_opener,
    watchtower_disputes_for_an_offline_party,
    open_stores_the_canonical_bump_whatever_it_is,
    open_succeeds_when_someone_prefunded_the_address,
    a_gift_beyond_the_reserve_never_pays_the_openers_deposit,
    a_wallet_turned_program_cannot_block_settlement,
);

fn rent(backend: &mut dyn Backend) -> u64 {
    backend.minimum_balance(CHANNEL_ACCOUNT_LEN)
}

fn open_deposit_and_cooperative_close_pay_the_agreed_balances(backend: &mut dyn Backend) {
    // Given a channel opened by A with 10 SOL and topped up by B with 5 SOL
    let f = ChannelFixture::opened(backend, 10 * SOL, 5 * SOL);
    let reserve = rent(backend);
    let channel = f.account(backend).expect("open channel");
    assert_eq!(channel.status, ChannelStatus::Open);
    assert_eq!(
        (channel.deposited_a, channel.deposited_b),
        (10 * SOL, 5 * SOL)
    );
    assert_eq!(backend.lamports(&f.channel.address), 15 * SOL + reserve);
    assert_eq!(
        backend.lamports(&f.a.address()),
        WALLET - 10 * SOL - reserve
    );

    // When both sign a cooperative close at (6, 9)
    f.close_cooperative(backend, 6 * SOL, 9 * SOL)
        .expect("cooperative close");

    // Then each gets its balance, A its rent reserve back, and the account is gone
    assert_eq!(backend.lamports(&f.a.address()), WALLET - 4 * SOL);
    assert_eq!(backend.lamports(&f.b.address()), WALLET + 4 * SOL);
    assert_eq!(backend.account(&f.channel.address), None);
}

fn unilateral_close_with_newest_state_finalizes_after_the_deadline(backend: &mut dyn Backend) {
    let f = ChannelFixture::opened(backend, 10 * SOL, 0);
    let binding = f.binding(backend);
    let newest = f.co_sign(
        &binding,
        ChannelFixture::state(3, (10 * SOL, 0), (7 * SOL, 3 * SOL)),
    );

    // B is silent; A registers the newest state
    let start = backend.unix_timestamp();
    f.start_close(backend, &f.a, Some(&newest))
        .expect("start close");
    let channel = f.account(backend).expect("closing channel");
    assert_eq!(channel.status, ChannelStatus::Closing);
    assert_eq!(channel.registered, newest.state);
    assert_eq!(channel.registered_by, Some(Side::A));
    assert_eq!(channel.deadline, start + PERIOD as i64);

    // Finalize is refused up to and including the deadline
    backend.set_unix_timestamp(start + PERIOD as i64);
    let early = f.finalize(backend);
    assert_rejected(&early, 0, PaychanError::ChallengePeriodActive);

    // and pays the registered state one second later
    backend.advance_time(1);
    f.finalize(backend).expect("finalize");
    assert_eq!(backend.lamports(&f.a.address()), WALLET - 3 * SOL);
    assert_eq!(backend.lamports(&f.b.address()), WALLET + 3 * SOL);
    assert_eq!(backend.account(&f.channel.address), None);
}

fn dispute_with_seq_plus_one_replaces_without_punishment(backend: &mut dyn Backend) {
    let f = ChannelFixture::opened(backend, 10 * SOL, 2 * SOL);
    let binding = f.binding(backend);
    let deposits = (10 * SOL, 2 * SOL);
    let older = f.co_sign(
        &binding,
        ChannelFixture::state(4, deposits, (8 * SOL, 4 * SOL)),
    );
    let newer = f.co_sign(
        &binding,
        ChannelFixture::state(5, deposits, (6 * SOL, 6 * SOL)),
    );

    // A registers seq 4 (it may have lacked B's countersignature on seq 5)
    f.start_close(backend, &f.a, Some(&older))
        .expect("start close");
    let deadline = f.account(backend).expect("closing").deadline;

    // B disputes with seq 5: replaced, nobody punished, deadline unchanged; A stays
    // accountable for its seq 4
    f.dispute(backend, &f.b, &newer).expect("dispute");
    let channel = f.account(backend).expect("still closing");
    assert_eq!(channel.status, ChannelStatus::Closing);
    assert_eq!(channel.registered, newer.state);
    assert_eq!(channel.accountable(), Some((Side::A, 4)));
    assert_eq!(channel.deadline, deadline);

    backend.set_unix_timestamp(deadline + 1);
    f.finalize(backend).expect("finalize");
    assert_eq!(backend.lamports(&f.a.address()), WALLET - 4 * SOL);
    assert_eq!(backend.lamports(&f.b.address()), WALLET + 4 * SOL);
}

fn dispute_with_seq_plus_two_punishes_the_registrant(backend: &mut dyn Backend) {
    let f = ChannelFixture::opened(backend, 10 * SOL, 5 * SOL);
    let binding = f.binding(backend);
    let deposits = (10 * SOL, 5 * SOL);
    let stale = f.co_sign(
        &binding,
        ChannelFixture::state(3, deposits, (12 * SOL, 3 * SOL)),
    );
    let newest = f.co_sign(
        &binding,
        ChannelFixture::state(5, deposits, (4 * SOL, 11 * SOL)),
    );

    // A registers seq 3 although seq 5 exists (so A held seq 4 fully signed)
    f.start_close(backend, &f.a, Some(&stale))
        .expect("start close");
    let b_before = backend.lamports(&f.b.address());

    // B's dispute with seq 5 hands B the whole channel at once
    f.dispute(backend, &f.b, &newest).expect("dispute");
    assert_eq!(backend.lamports(&f.b.address()), b_before + 15 * SOL);
    assert_eq!(
        backend.lamports(&f.a.address()),
        WALLET - 10 * SOL,
        "A keeps only its rent reserve"
    );
    assert_eq!(backend.account(&f.channel.address), None);
}

fn implicit_seq_zero_close_returns_the_deposits(backend: &mut dyn Backend) {
    let f = ChannelFixture::opened(backend, 3 * SOL, 2 * SOL);
    // B registers the implicit opening state (no co-signed state yet)
    f.start_close(backend, &f.b, None)
        .expect("start close without a state");
    let channel = f.account(backend).expect("closing");
    assert_eq!(channel.registered.seq, 0);
    assert_eq!(channel.accountable(), Some((Side::B, 0)));

    backend.advance_time(PERIOD as i64 + 1);
    f.finalize(backend).expect("finalize");
    assert_eq!(backend.lamports(&f.a.address()), WALLET);
    assert_eq!(backend.lamports(&f.b.address()), WALLET);
}

fn seq_zero_registration_disputed_two_ahead_is_punished(backend: &mut dyn Backend) {
    let f = ChannelFixture::opened(backend, 3 * SOL, 2 * SOL);
    let binding = f.binding(backend);
    let seq2 = f.co_sign(
        &binding,
        ChannelFixture::state(2, (3 * SOL, 2 * SOL), (SOL, 4 * SOL)),
    );
    f.start_close(backend, &f.b, None)
        .expect("B registers seq 0");
    f.dispute(backend, &f.a, &seq2)
        .expect("A disputes with seq 2");
    // B registered seq 0 while seq 1 was fully signed: A takes all 5 SOL (+ its reserve back)
    assert_eq!(backend.lamports(&f.a.address()), WALLET + 2 * SOL);
    assert_eq!(backend.lamports(&f.b.address()), WALLET - 2 * SOL);
    assert_eq!(backend.account(&f.channel.address), None);
}

fn deposits_after_the_signed_state_return_to_their_depositor(backend: &mut dyn Backend) {
    let f = ChannelFixture::opened(backend, 10 * SOL, 5 * SOL);
    let binding = f.binding(backend);
    let signed = f.co_sign(
        &binding,
        ChannelFixture::state(7, (10 * SOL, 5 * SOL), (9 * SOL, 6 * SOL)),
    );
    // Both top up after the newest state was signed
    f.deposit(backend, &f.a, 2 * SOL).expect("top-up by A");
    f.deposit(backend, &f.b, SOL).expect("top-up by B");

    f.start_close(backend, &f.b, Some(&signed))
        .expect("start close");
    backend.advance_time(PERIOD as i64 + 1);
    f.finalize(backend).expect("finalize");
    // A: 9 + 2 back; B: 6 + 1 back
    assert_eq!(
        backend.lamports(&f.a.address()),
        WALLET - 12 * SOL + 11 * SOL
    );
    assert_eq!(backend.lamports(&f.b.address()), WALLET - 6 * SOL + 7 * SOL);
}

/// B's share was parked (B's wallet could not take it) and B is away: once the wallet can
/// receive (here a stranger funds it), anyone moves the share there; the account closes and
/// the opener's rent reserve comes back without waiting on B's key.
fn anyone_moves_a_parked_share_to_its_owners_wallet_and_the_reserve_returns_to_the_opener(
    backend: &mut dyn Backend,
) {
    let f = ChannelFixture::settled_with_unclaimed_b(backend, 10 * SOL, 1_000);
    let a_before = backend.lamports(&f.a.address());
    let exempt = backend.minimum_balance(0); // what an empty wallet needs to exist
    backend.fund(&f.b.address(), exempt);
    let b_before = backend.lamports(&f.b.address());
    f.withdraw(backend, &f.outsider, &f.b.address())
        .expect("a stranger moves B's share to B");
    assert_eq!(backend.lamports(&f.b.address()), b_before + 1_000);
    assert_eq!(backend.lamports(&f.a.address()), a_before + rent(backend));
    assert_eq!(backend.account(&f.channel.address), None);
}

fn share_a_wallet_cannot_take_stays_unclaimed_until_withdrawn(backend: &mut dyn Backend) {
    // B's wallet does not exist on-chain: a 1,000-lamport credit would leave it below rent.
    // Finalize still succeeds: A is paid, B's share waits in the account.
    let f = ChannelFixture::settled_with_unclaimed_b(backend, 10 * SOL, 1_000);
    let channel = f.account(backend).expect("settled channel stays");
    assert_eq!(channel.status, ChannelStatus::Settled);
    assert_eq!((channel.unclaimed_a, channel.unclaimed_b), (0, 1_000));
    assert_eq!(
        backend.lamports(&f.a.address()),
        WALLET - rent(backend) - 1_000
    );
    assert_eq!(backend.lamports(&f.b.address()), 0);

    // B withdraws to a wallet it names; the account closes and A gets the reserve
    let destination = Party::new();
    backend.fund(&destination.address(), SOL);
    let empty = Party::new();
    let refused = f.withdraw(backend, &f.b, &empty.address());
    assert_rejected(&refused, 0, PaychanError::DestinationCannotReceive);
    f.withdraw(backend, &f.b, &destination.address())
        .expect("withdraw");
    assert_eq!(backend.lamports(&destination.address()), SOL + 1_000);
    assert_eq!(backend.lamports(&f.a.address()), WALLET - 1_000);
    assert_eq!(backend.account(&f.channel.address), None);
}

fn watchtower_disputes_for_an_offline_party(backend: &mut dyn Backend) {
    let f = ChannelFixture::opened(backend, 10 * SOL, 0);
    let binding = f.binding(backend);
    let stale = f.co_sign(
        &binding,
        ChannelFixture::state(1, (10 * SOL, 0), (9 * SOL, SOL)),
    );
    let newest = f.co_sign(
        &binding,
        ChannelFixture::state(2, (10 * SOL, 0), (5 * SOL, 5 * SOL)),
    );
    f.start_close(backend, &f.a, Some(&stale))
        .expect("A registers seq 1");

    // B is offline; its watchtower (a third key) brings seq 2
    f.dispute(backend, &f.outsider, &newest)
        .expect("watchtower dispute");
    let channel = f.account(backend).expect("closing");
    assert_eq!(channel.registered, newest.state);
    assert_eq!(
        channel.accountable(),
        Some((Side::A, 1)),
        "the registrant stays accountable; a watchtower never becomes so"
    );

    backend.advance_time(PERIOD as i64 + 1);
    f.finalize(backend).expect("finalize");
    assert_eq!(backend.lamports(&f.b.address()), WALLET + 5 * SOL);
    assert_eq!(backend.lamports(&f.outsider.address()), WALLET);
}

fn open_stores_the_canonical_bump_whatever_it_is(backend: &mut dyn Backend) {
    let f = ChannelFixture::new(backend);
    let (a, b) = (f.a.address(), f.b.address());
    let channel = (0u64..)
        .map(|nonce| ChannelAddress::derive(&paychan_interface::ID, &a, &b, nonce))
        .find(|c| c.bump < 254)
        .expect("some nonce has a lower bump");
    f.send(
        backend,
        &[client::open(&channel, SOL, PERIOD)],
        &[&f.a.keypair],
    )
    .expect("open");
    let account = backend.account(&channel.address).expect("created");
    let stored = paychan_interface::channel::Channel::unpack(&account.data).expect("channel");
    assert_eq!(stored.bump, channel.bump);
    assert_eq!(stored.nonce, channel.nonce);
}

fn open_succeeds_when_someone_prefunded_the_address(backend: &mut dyn Backend) {
    // A griefer sends lamports to the future channel address, which makes CreateAccount fail
    let f = ChannelFixture::new(backend);
    backend.fund(&f.channel.address, 1_000);
    f.open(backend, 2 * SOL)
        .expect("open takes over the prefunded address");
    let reserve = rent(backend);
    let channel = f.account(backend).expect("open channel");
    assert_eq!(channel.deposited_a, 2 * SOL);
    assert_eq!(backend.lamports(&f.channel.address), 2 * SOL + reserve);
    // A paid only what was missing; the gift goes to A with the reserve at close
    assert_eq!(
        backend.lamports(&f.a.address()),
        WALLET - 2 * SOL - (reserve - 1_000)
    );
    f.close_cooperative(backend, SOL, SOL).expect("close");
    assert_eq!(backend.lamports(&f.a.address()), WALLET - SOL + 1_000);
}

fn a_gift_beyond_the_reserve_never_pays_the_openers_deposit(backend: &mut dyn Backend) {
    // More than the reserve sent first: A's deposit still comes from A, in full
    let f = ChannelFixture::new(backend);
    let reserve = rent(backend);
    let gift = reserve + 5 * SOL;
    backend.fund(&f.channel.address, gift);
    f.open(backend, 2 * SOL).expect("open");
    assert_eq!(backend.lamports(&f.a.address()), WALLET - 2 * SOL);
    assert_eq!(backend.lamports(&f.channel.address), gift + 2 * SOL);
    // The gift is the opener's: it returns to A with the channel's lamports at close
    f.close_cooperative(backend, SOL, SOL).expect("close");
    assert_eq!(backend.lamports(&f.a.address()), WALLET - SOL + gift);
    assert_eq!(backend.lamports(&f.b.address()), WALLET + SOL);
}

fn a_wallet_turned_program_cannot_block_settlement(backend: &mut dyn Backend) {
    let f = ChannelFixture::opened(backend, 2 * SOL, SOL);
    // A's wallet becomes an executable account: crediting it would fail the transaction
    backend.deploy_program_at(&f.a.address());
    let wallet = backend
        .account(&f.a.address())
        .expect("A's program account");
    assert!(wallet.executable);
    f.start_close(backend, &f.b, None).expect("B closes");
    backend.advance_time(PERIOD as i64 + 1);
    f.finalize(backend).expect("finalize pays B despite A");
    let channel = f.account(backend).expect("settled");
    assert_eq!(channel.status, ChannelStatus::Settled);
    assert_eq!((channel.unclaimed_a, channel.unclaimed_b), (2 * SOL, 0));
    assert_eq!(backend.lamports(&f.b.address()), WALLET);
    assert_eq!(backend.lamports(&f.a.address()), wallet.lamports);

    // A (its key still signs) withdraws its share and the reserve to a wallet it names
    let destination = Party::new();
    f.withdraw(backend, &f.a, &destination.address())
        .expect("withdraw");
    assert_eq!(
        backend.lamports(&destination.address()),
        2 * SOL + rent(backend)
    );
    assert_eq!(backend.account(&f.channel.address), None);
}
