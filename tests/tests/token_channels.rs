//! Token channels on the real SPL Token and Token-2022 programs (LiteSVM and
//! solana-program-test): the lifecycle, payouts that cannot be blocked, the mint policy, and
//! the attacks the issue lists, each refused with its own error and nothing moved.

use paychan_interface::{
    channel::{ChannelStatus, CHANNEL_ACCOUNT_LEN},
    client::{self, ChannelAddress},
    error::PaychanError,
    token::{TokenProgram, TOKEN_ACCOUNT_LEN},
};
use paychan_tests::{
    backend::{Backend, SendResult},
    fixture::{assert_rejected, ChannelFixture, Party, PERIOD, TOKENS, WALLET},
    on_both_backends,
    token::{balance, MintExtension, TestMint},
};
use solana_address::Address;

on_both_backends!(
    open_deposit_and_cooperative_close_move_tokens_and_return_every_rent,
    a_stale_close_is_punished_with_the_whole_channel_in_tokens,
    finalize_pays_the_registered_state_in_tokens,
    a_frozen_destination_parks_the_share_until_withdrawn_elsewhere,
    a_closed_destination_parks_the_share_and_anyone_moves_it_once_it_exists_again,
    a_usable_destination_passed_read_only_is_refused,
    a_destination_of_another_owner_or_mint_is_refused,
    wrong_mint_vault_or_token_program_is_refused,
    a_delegated_source_cannot_deposit_another_owners_tokens,
    open_refuses_a_decimals_mismatch_and_a_vault_that_is_not_the_channels,
    open_refuses_each_unsafe_token_2022_extension_and_accepts_the_safe_ones,
    tokens_sent_to_the_vault_go_to_the_opener,
    open_takes_over_prefunded_channel_and_vault_addresses,
    token_balances_are_conserved_across_random_channels,
);

const PROGRAMS: [TokenProgram; 2] = [TokenProgram::Spl, TokenProgram::Token2022];

/// A token channel of a fresh 6-decimal mint, opened by A with `deposit_a` and topped up by B.
fn opened(
    backend: &mut dyn Backend,
    program: TokenProgram,
    deposit_a: u64,
    deposit_b: u64,
) -> (TestMint, ChannelFixture) {
    let mint = TestMint::create(backend, program, 6, &[]);
    let f = ChannelFixture::token(backend, &mint);
    f.open(backend, deposit_a).expect("open");
    if deposit_b > 0 {
        f.deposit(backend, &f.b, deposit_b).expect("deposit by B");
    }
    (mint, f)
}

fn vault(f: &ChannelFixture) -> Address {
    f.channel.token.expect("a token channel").vault
}

/// Token balances of A's and B's associated accounts and of the vault.
fn tokens(backend: &mut dyn Backend, f: &ChannelFixture) -> [u64; 3] {
    [
        balance(backend, &f.token_account(&f.a)),
        balance(backend, &f.token_account(&f.b)),
        balance(backend, &vault(f)),
    ]
}

/// Runs `attack`, asserting it fails with `expected` at `index` and moves no token, lamport or
/// channel byte.
#[track_caller]
fn assert_refused(
    backend: &mut dyn Backend,
    f: &ChannelFixture,
    index: u8,
    expected: PaychanError,
    attack: impl FnOnce(&mut dyn Backend) -> SendResult,
) {
    let before = (tokens(backend, f), f.account(backend), lamports(backend, f));
    let result = attack(backend);
    assert_rejected(&result, index, expected);
    assert_eq!(
        (tokens(backend, f), f.account(backend), lamports(backend, f)),
        before,
        "a refused {expected:?} moved something"
    );
}

fn lamports(backend: &mut dyn Backend, f: &ChannelFixture) -> [u64; 4] {
    [
        backend.lamports(&f.a.address()),
        backend.lamports(&f.b.address()),
        backend.lamports(&f.channel.address),
        backend.lamports(&vault(f)),
    ]
}

fn open_deposit_and_cooperative_close_move_tokens_and_return_every_rent(backend: &mut dyn Backend) {
    for program in PROGRAMS {
        let (mint, f) = opened(backend, program, 400, 100);
        let channel = f.account(backend).expect("open");
        let token = channel.token.expect("token channel");
        assert_eq!(
            (token.program, token.mint, token.decimals),
            (program, mint.address, 6)
        );
        assert_eq!((channel.deposited_a, channel.deposited_b), (400, 100));
        assert_eq!(tokens(backend, &f), [TOKENS - 400, TOKENS - 100, 500]);
        let rents = backend.minimum_balance(CHANNEL_ACCOUNT_LEN)
            + backend.minimum_balance(TOKEN_ACCOUNT_LEN);
        assert_eq!(backend.lamports(&f.a.address()), WALLET - rents);

        f.close_cooperative(backend, 150, 350).expect("close");
        assert_eq!(tokens(backend, &f), [TOKENS - 250, TOKENS + 250, 0]);
        assert!(backend.account(&vault(&f)).is_none(), "vault closed");
        assert!(f.account(backend).is_none(), "channel closed");
        assert_eq!(backend.lamports(&f.a.address()), WALLET, "both rents back");
    }
}

fn a_stale_close_is_punished_with_the_whole_channel_in_tokens(backend: &mut dyn Backend) {
    for program in PROGRAMS {
        let (_, f) = opened(backend, program, 400, 100);
        let binding = f.binding(backend);
        let deposits = (400, 100);
        let s1 = f.co_sign(&binding, ChannelFixture::state(1, deposits, (350, 150)));
        let s3 = f.co_sign(&binding, ChannelFixture::state(3, deposits, (100, 400)));
        f.start_close(backend, &f.a, Some(&s1))
            .expect("A registers s1");
        f.dispute(backend, &f.b, &s3).expect("B proves s3");
        assert_eq!(tokens(backend, &f), [TOKENS - 400, TOKENS + 400, 0]);
        assert!(f.account(backend).is_none());
        assert!(backend.account(&vault(&f)).is_none());
    }
}

fn finalize_pays_the_registered_state_in_tokens(backend: &mut dyn Backend) {
    for program in PROGRAMS {
        let (_, f) = opened(backend, program, 400, 0);
        let binding = f.binding(backend);
        let s2 = f.co_sign(&binding, ChannelFixture::state(2, (400, 0), (390, 10)));
        f.start_close(backend, &f.b, Some(&s2)).expect("B closes");
        backend.advance_time(PERIOD as i64 + 1);
        f.finalize(backend).expect("anyone finalizes");
        assert_eq!(tokens(backend, &f), [TOKENS - 10, TOKENS + 10, 0]);
        assert_eq!(backend.lamports(&f.a.address()), WALLET);
    }
}

fn a_frozen_destination_parks_the_share_until_withdrawn_elsewhere(backend: &mut dyn Backend) {
    for program in PROGRAMS {
        let (mint, f) = opened(backend, program, 400, 100);
        mint.freeze(backend, &f.token_account(&f.b));
        f.start_close(backend, &f.a, None).expect("seq-0 close");
        backend.advance_time(PERIOD as i64 + 1);
        f.finalize(backend)
            .expect("B's frozen account does not block A");
        let channel = f.account(backend).expect("settled");
        assert_eq!(channel.status, ChannelStatus::Settled);
        assert_eq!((channel.unclaimed_a, channel.unclaimed_b), (0, 100));
        assert_eq!(tokens(backend, &f), [TOKENS, TOKENS - 100, 100]);

        // B takes its share to an account of its choice; everything closes
        let elsewhere = mint.other_account(backend, &f.b.address());
        f.withdraw(backend, &f.b, &elsewhere).expect("withdraw");
        assert_eq!(balance(backend, &elsewhere), 100);
        assert!(f.account(backend).is_none());
        assert!(backend.account(&vault(&f)).is_none());
        assert_eq!(backend.lamports(&f.a.address()), WALLET);
    }
}

fn a_closed_destination_parks_the_share_and_anyone_moves_it_once_it_exists_again(
    backend: &mut dyn Backend,
) {
    for program in PROGRAMS {
        let (mint, f) = opened(backend, program, 400, 100);
        let account_b = f.token_account(&f.b);
        let elsewhere = mint.other_account(backend, &f.b.address());
        mint.transfer(backend, &f.b.keypair, &account_b, &elsewhere, TOKENS - 100)
            .expect("B empties its account");
        mint.close_account(backend, &f.b.keypair, &account_b);
        f.start_close(backend, &f.a, None).expect("seq-0 close");
        backend.advance_time(PERIOD as i64 + 1);
        f.finalize(backend)
            .expect("B's closed account does not block A");
        assert_eq!(f.account(backend).expect("settled").unclaimed_b, 100);

        // Once B's associated account exists again, anyone (here the outsider) moves the share
        mint.associated_account(backend, &f.b.address());
        f.withdraw(backend, &f.outsider, &account_b)
            .expect("anyone moves B's share to B's own account");
        assert_eq!(balance(backend, &account_b), 100);
        assert!(f.account(backend).is_none());
    }
}

fn a_usable_destination_passed_read_only_is_refused(backend: &mut dyn Backend) {
    for program in PROGRAMS {
        let (_, f) = opened(backend, program, 400, 100);
        f.start_close(backend, &f.a, None).expect("seq-0 close");
        backend.advance_time(PERIOD as i64 + 1);
        let mut finalize = client::finalize(&f.channel);
        finalize.accounts[7].is_writable = false;
        assert_refused(
            backend,
            &f,
            0,
            PaychanError::AccountNotWritable,
            |backend| f.send(backend, &[finalize], &[]),
        );
    }
}

fn a_destination_of_another_owner_or_mint_is_refused(backend: &mut dyn Backend) {
    for program in PROGRAMS {
        let (mint, f) = opened(backend, program, 400, 100);
        f.start_close(backend, &f.a, None).expect("seq-0 close");
        backend.advance_time(PERIOD as i64 + 1);
        let outsiders = mint.other_account(backend, &f.outsider.address());
        let other_mint = TestMint::create(backend, program, 6, &[]);
        let b_other_mint = other_mint.associated_account(backend, &f.b.address());
        for destination in [outsiders, b_other_mint] {
            let mut finalize = client::finalize(&f.channel);
            finalize.accounts[7].pubkey = destination;
            assert_refused(
                backend,
                &f,
                0,
                PaychanError::TokenPayoutAccountMismatch,
                |backend| f.send(backend, &[finalize], &[]),
            );
        }
    }
}

fn wrong_mint_vault_or_token_program_is_refused(backend: &mut dyn Backend) {
    for program in PROGRAMS {
        let (_, f) = opened(backend, program, 400, 0);
        let (_, other) = opened(backend, program, 10, 0);
        let other_token = other.channel.token.expect("token");
        let wrong_program = match program {
            TokenProgram::Spl => TokenProgram::Token2022,
            TokenProgram::Token2022 => TokenProgram::Spl,
        };
        for (at, substitute, expected) in [
            (4, other_token.mint, PaychanError::MintMismatch),
            (3, other_token.vault, PaychanError::VaultMismatch),
            (5, *wrong_program.id(), PaychanError::InvalidTokenProgram),
        ] {
            let mut deposit = client::deposit(&f.channel, &f.b.address(), 50);
            deposit.accounts[at].pubkey = substitute;
            assert_refused(backend, &f, 0, expected, |backend| {
                f.send(backend, &[deposit], &[&f.b.keypair])
            });
        }
        // A channel's state can never settle another one: the mint is a seed of the address
        let binding = f.binding(backend);
        let s1 = f.co_sign(&binding, ChannelFixture::state(1, (400, 0), (0, 400)));
        let mut forged = other.channel;
        forged.party_a = f.a.address();
        forged.party_b = f.b.address();
        let result = f.send(
            backend,
            &s1.start_close(&forged, &f.a.address()),
            &[&f.a.keypair],
        );
        assert!(
            result.is_err(),
            "a state for one channel never closes another"
        );
    }
}

fn a_delegated_source_cannot_deposit_another_owners_tokens(backend: &mut dyn Backend) {
    for program in PROGRAMS {
        let (mint, f) = opened(backend, program, 400, 0);
        // The outsider lets B spend its tokens; B tries to lock them as its own deposit
        let outsiders = mint.other_account(backend, &f.outsider.address());
        mint.mint_to(backend, &outsiders, 1_000);
        mint.approve(
            backend,
            &f.outsider.keypair,
            &outsiders,
            &f.b.address(),
            1_000,
        );
        let mut deposit = client::deposit(&f.channel, &f.b.address(), 500);
        deposit.accounts[6].pubkey = outsiders;
        assert_refused(
            backend,
            &f,
            0,
            PaychanError::SourceNotOwnedByDepositor,
            |backend| f.send(backend, &[deposit], &[&f.b.keypair]),
        );
        // A frozen source is not a source
        mint.freeze(backend, &f.token_account(&f.b));
        assert_refused(
            backend,
            &f,
            0,
            PaychanError::InvalidSourceAccount,
            |backend| f.deposit(backend, &f.b, 10),
        );
        assert_eq!(balance(backend, &outsiders), 1_000);
    }
}

fn open_refuses_a_decimals_mismatch_and_a_vault_that_is_not_the_channels(
    backend: &mut dyn Backend,
) {
    for program in PROGRAMS {
        let mint = TestMint::create(backend, program, 6, &[]);
        let f = ChannelFixture::token(backend, &mint);
        let mut channel = f.channel;
        let mut token = channel.token.expect("token");
        token.decimals = 9;
        channel.token = Some(token);
        let before = balance(backend, &f.token_account(&f.a));
        let result = f.send(
            backend,
            &[client::open(&channel, 100, PERIOD)],
            &[&f.a.keypair],
        );
        assert_rejected(&result, 0, PaychanError::DecimalsMismatch);

        let mut open = client::open(&f.channel, 100, PERIOD);
        open.accounts[5].pubkey = Address::new_unique();
        let result = f.send(backend, &[open], &[&f.a.keypair]);
        assert_rejected(&result, 0, PaychanError::VaultMismatch);
        assert_eq!(balance(backend, &f.token_account(&f.a)), before);
        assert!(f.account(backend).is_none());
    }
}

fn open_refuses_each_unsafe_token_2022_extension_and_accepts_the_safe_ones(
    backend: &mut dyn Backend,
) {
    use MintExtension::*;
    for (extension, expected) in [
        (TransferFee, Some(PaychanError::MintHasTransferFee)),
        (TransferHook, Some(PaychanError::MintHasTransferHook)),
        (
            PermanentDelegate,
            Some(PaychanError::MintHasPermanentDelegate),
        ),
        (NonTransferable, Some(PaychanError::MintNonTransferable)),
        (Pausable, Some(PaychanError::MintPausable)),
        (DefaultFrozen, Some(PaychanError::MintDefaultFrozen)),
        (
            ConfidentialTransfers,
            Some(PaychanError::MintHasConfidentialTransfers),
        ),
        (DefaultInitialized, None),
        (MintCloseAuthority, None),
        (MetadataPointer, None),
    ] {
        let mint = TestMint::create(backend, TokenProgram::Token2022, 6, &[extension]);
        let a = Party::new();
        let b = Party::new();
        backend.fund(&a.address(), WALLET);
        backend.fund(&b.address(), WALLET);
        let channel = ChannelAddress::new_random_token(
            &paychan_interface::ID,
            &a.address(),
            &b.address(),
            mint.program,
            &mint.address,
            mint.decimals,
        );
        // No deposit: the mint alone decides (a non-transferable or frozen mint could not
        // even fund a source account)
        let result = backend.send(&[client::open(&channel, 0, PERIOD)], &a.keypair, &[]);
        match expected {
            Some(error) => {
                assert_rejected(&result, 0, error);
                assert!(backend.account(&channel.address).is_none(), "{extension:?}");
            }
            None => {
                result.unwrap_or_else(|e| panic!("{extension:?} is safe: {e:?}"));
                assert!(backend.account(&channel.address).is_some(), "{extension:?}");
            }
        }
    }
}

fn tokens_sent_to_the_vault_go_to_the_opener(backend: &mut dyn Backend) {
    for program in PROGRAMS {
        let (mint, f) = opened(backend, program, 400, 100);
        let gift = mint.other_account(backend, &f.outsider.address());
        mint.mint_to(backend, &gift, 7);
        mint.transfer(backend, &f.outsider.keypair, &gift, &vault(&f), 7)
            .expect("anyone can send tokens to the vault");
        f.close_cooperative(backend, 250, 250).expect("close");
        assert_eq!(tokens(backend, &f), [TOKENS - 150 + 7, TOKENS + 150, 0]);
        assert!(backend.account(&vault(&f)).is_none());
    }
}

fn open_takes_over_prefunded_channel_and_vault_addresses(backend: &mut dyn Backend) {
    for program in PROGRAMS {
        let mint = TestMint::create(backend, program, 6, &[]);
        let f = ChannelFixture::token(backend, &mint);
        // A griefer sends lamports to both future addresses, which makes CreateAccount fail
        backend.fund(&f.channel.address, 1_000);
        backend.fund(&vault(&f), 2_000);
        f.open(backend, 400)
            .expect("open takes both addresses over");
        assert_eq!(tokens(backend, &f), [TOKENS - 400, TOKENS, 400]);
        let rents = backend.minimum_balance(CHANNEL_ACCOUNT_LEN)
            + backend.minimum_balance(TOKEN_ACCOUNT_LEN);
        assert_eq!(backend.lamports(&f.a.address()), WALLET - rents + 3_000);
        f.close_cooperative(backend, 400, 0).expect("close");
        assert_eq!(
            backend.lamports(&f.a.address()),
            WALLET + 3_000,
            "gifts go to A"
        );
    }
}

/// Random deposits and closes on both programs: every token stays with A, B or the vault,
/// and a closed channel leaves nothing in the vault.
fn token_balances_are_conserved_across_random_channels(backend: &mut dyn Backend) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(17);
    for round in 0..8 {
        let program = PROGRAMS[round % 2];
        let deposit_a = rng.gen_range(1..1_000_000u64);
        let deposit_b = rng.gen_range(0..1_000_000u64);
        let (_, f) = opened(backend, program, deposit_a, deposit_b);
        let total = deposit_a + deposit_b;
        let to_a = rng.gen_range(0..=total);
        assert_eq!(tokens(backend, &f).iter().sum::<u64>(), 2 * TOKENS);
        match rng.gen_range(0..3) {
            0 => f
                .close_cooperative(backend, to_a, total - to_a)
                .expect("close"),
            1 => {
                let binding = f.binding(backend);
                let state = ChannelFixture::state(1, (deposit_a, deposit_b), (to_a, total - to_a));
                let s1 = f.co_sign(&binding, state);
                f.start_close(backend, &f.b, Some(&s1)).expect("start");
                backend.advance_time(PERIOD as i64 + 1);
                f.finalize(backend).expect("finalize")
            }
            _ => {
                let binding = f.binding(backend);
                let deposits = (deposit_a, deposit_b);
                let s1 = f.co_sign(&binding, ChannelFixture::state(1, deposits, (total, 0)));
                let s3 = f.co_sign(
                    &binding,
                    ChannelFixture::state(3, deposits, (to_a, total - to_a)),
                );
                f.start_close(backend, &f.a, Some(&s1)).expect("stale");
                f.dispute(backend, &f.b, &s3).expect("punish")
            }
        };
        let [a, b, in_vault] = tokens(backend, &f);
        assert_eq!(a + b, 2 * TOKENS, "round {round}");
        assert_eq!(in_vault, 0);
        assert!(f.account(backend).is_none());
    }
}
