//! protocol §7 account attacks: wrong or missing signers, read-only accounts, foreign owners, fake
//! sysvars and programs, wrong payout accounts. Each is refused with its own error and moves
//! nothing.

use paychan_interface::{
    channel::{Channel, CHANNEL_ACCOUNT_LEN},
    client::{self, ChannelAddress},
    error::PaychanError,
    instruction::PaychanInstruction,
    Address,
};
use paychan_tests::{
    backend::Backend,
    fixture::{assert_attack_fails, ChannelFixture, PERIOD},
    forge::{readonly, replaced, unsigned},
    on_both_backends, SOL,
};
use solana_account::Account;
use solana_instruction::Instruction;

on_both_backends!(
    open_without_the_openers_signature_is_refused,
    open_with_party_b_equal_to_party_a_is_refused,
    open_at_an_address_that_is_not_the_pda_is_refused,
    open_with_a_fake_system_program_is_refused,
    open_with_a_zero_or_overlong_challenge_period_is_refused,
    reopening_an_existing_channel_is_refused,
    deposit_by_a_third_party_is_refused,
    deposit_into_a_read_only_channel_is_refused,
    deposit_of_zero_is_refused,
    cooperative_close_without_both_signatures_is_refused,
    start_close_without_the_registrants_signature_is_refused,
    start_close_by_a_third_party_is_refused,
    a_fake_instructions_sysvar_is_refused,
    payouts_to_accounts_that_are_not_the_parties_are_refused,
    a_read_only_payout_wallet_is_refused_by_finalize_and_dispute,
    a_stranger_cannot_move_a_parked_share_anywhere_but_its_owners_wallet,
    open_with_a_party_b_that_can_never_receive_is_refused,
    a_channel_sized_account_owned_by_another_program_is_refused,
    a_channel_account_with_a_bad_layout_is_refused,
    unknown_instruction_data_is_refused,
    missing_accounts_are_refused,
);

fn open_without_the_openers_signature_is_refused(backend: &mut dyn Backend) {
    let f = ChannelFixture::new(backend);
    let ix = unsigned(client::open(&f.channel, SOL, PERIOD), 0);
    assert_attack_fails(backend, &f, 0, PaychanError::MissingSignature, |b| {
        f.send(b, &[ix], &[])
    });
}

fn open_with_party_b_equal_to_party_a_is_refused(backend: &mut dyn Backend) {
    let f = ChannelFixture::new(backend);
    let a = f.a.address();
    let channel = ChannelAddress::derive(&paychan_interface::ID, &a, &a, 1);
    let ix = client::open(&channel, SOL, PERIOD);
    assert_attack_fails(backend, &f, 0, PaychanError::PartiesEqual, |b| {
        f.send(b, &[ix], &[&f.a.keypair])
    });
}

fn open_at_an_address_that_is_not_the_pda_is_refused(backend: &mut dyn Backend) {
    let f = ChannelFixture::new(backend);
    let mut wrong = f.channel;
    wrong.nonce = f.channel.nonce.wrapping_add(1);
    let ix = client::open(&wrong, SOL, PERIOD);
    assert_attack_fails(backend, &f, 0, PaychanError::ChannelAddressMismatch, |b| {
        f.send(b, &[ix], &[&f.a.keypair])
    });
}

fn open_with_a_fake_system_program_is_refused(backend: &mut dyn Backend) {
    let f = ChannelFixture::new(backend);
    let ix = replaced(
        client::open(&f.channel, SOL, PERIOD),
        3,
        paychan_interface::ID,
    );
    assert_attack_fails(backend, &f, 0, PaychanError::InvalidSystemProgram, |b| {
        f.send(b, &[ix], &[&f.a.keypair])
    });
}

fn open_with_a_zero_or_overlong_challenge_period_is_refused(backend: &mut dyn Backend) {
    let f = ChannelFixture::new(backend);
    for period in [0, paychan_interface::MAX_CHALLENGE_PERIOD_SECS + 1] {
        let ix = client::open(&f.channel, SOL, period);
        assert_attack_fails(backend, &f, 0, PaychanError::InvalidChallengePeriod, |b| {
            f.send(b, &[ix], &[&f.a.keypair])
        });
    }
}

fn reopening_an_existing_channel_is_refused(backend: &mut dyn Backend) {
    let f = ChannelFixture::opened(backend, SOL, 0);
    let ix = client::open(&f.channel, 2 * SOL, PERIOD);
    assert_attack_fails(backend, &f, 0, PaychanError::ChannelAlreadyExists, |b| {
        f.send(b, &[ix], &[&f.a.keypair])
    });
}

fn deposit_by_a_third_party_is_refused(backend: &mut dyn Backend) {
    let f = ChannelFixture::opened(backend, SOL, 0);
    assert_attack_fails(backend, &f, 0, PaychanError::NotAParty, |b| {
        f.deposit(b, &f.outsider, SOL)
    });
}

fn deposit_into_a_read_only_channel_is_refused(backend: &mut dyn Backend) {
    let f = ChannelFixture::opened(backend, SOL, 0);
    let ix = readonly(client::deposit(&f.channel, &f.b.address(), SOL), 1);
    assert_attack_fails(backend, &f, 0, PaychanError::AccountNotWritable, |b| {
        f.send(b, &[ix], &[&f.b.keypair])
    });
}

fn deposit_of_zero_is_refused(backend: &mut dyn Backend) {
    let f = ChannelFixture::opened(backend, SOL, 0);
    assert_attack_fails(backend, &f, 0, PaychanError::ZeroAmount, |b| {
        f.deposit(b, &f.b, 0)
    });
}

fn cooperative_close_without_both_signatures_is_refused(backend: &mut dyn Backend) {
    let f = ChannelFixture::opened(backend, 2 * SOL, 0);
    // A tries to take everything with only its own signature
    let ix = unsigned(client::close_cooperative(&f.channel, 2 * SOL, 0), 1);
    assert_attack_fails(backend, &f, 0, PaychanError::MissingSignature, |b| {
        f.send(b, &[ix], &[&f.a.keypair])
    });
    let ix = unsigned(client::close_cooperative(&f.channel, 0, 2 * SOL), 0);
    assert_attack_fails(backend, &f, 0, PaychanError::MissingSignature, |b| {
        f.send(b, &[ix], &[&f.b.keypair])
    });
}

fn start_close_without_the_registrants_signature_is_refused(backend: &mut dyn Backend) {
    let f = ChannelFixture::opened(backend, SOL, 0);
    let ix = unsigned(client::start_close(&f.channel, &f.a.address(), false), 0);
    assert_attack_fails(backend, &f, 0, PaychanError::MissingSignature, |b| {
        f.send(b, &[ix], &[])
    });
}

fn start_close_by_a_third_party_is_refused(backend: &mut dyn Backend) {
    let f = ChannelFixture::opened(backend, SOL, 0);
    let binding = f.binding(backend);
    let state = f.co_sign(&binding, ChannelFixture::state(1, (SOL, 0), (0, SOL)));
    assert_attack_fails(backend, &f, 1, PaychanError::NotAParty, |b| {
        f.start_close(b, &f.outsider, Some(&state))
    });
    assert_attack_fails(backend, &f, 0, PaychanError::NotAParty, |b| {
        f.start_close(b, &f.outsider, None)
    });
}

fn a_fake_instructions_sysvar_is_refused(backend: &mut dyn Backend) {
    let f = ChannelFixture::opened(backend, SOL, 0);
    let binding = f.binding(backend);
    let state = f.co_sign(&binding, ChannelFixture::state(1, (SOL, 0), (0, SOL)));
    // A look-alike account holding a copy of real-looking sysvar data
    let fake = Address::new_unique();
    backend.set_account(
        &fake,
        Account {
            lamports: SOL,
            data: vec![0; 1024],
            owner: solana_sdk_ids::sysvar::ID,
            executable: false,
            rent_epoch: 0,
        },
    );
    let [precompile, start] = state.start_close(&f.channel, &f.a.address());
    let start = replaced(start, 2, fake);
    assert_attack_fails(
        backend,
        &f,
        1,
        PaychanError::InvalidInstructionsSysvar,
        |b| f.send(b, &[precompile, start], &[&f.a.keypair]),
    );
}

fn payouts_to_accounts_that_are_not_the_parties_are_refused(backend: &mut dyn Backend) {
    let f = ChannelFixture::opened(backend, SOL, 0);
    f.start_close(backend, &f.a, None).expect("start close");
    backend.advance_time(PERIOD as i64 + 1);
    for index in [1, 2] {
        let ix = replaced(client::finalize(&f.channel), index, f.outsider.address());
        assert_attack_fails(backend, &f, 0, PaychanError::PayoutAccountMismatch, |b| {
            f.send(b, &[ix], &[])
        });
    }
    // and in a punishing dispute
    let f = ChannelFixture::opened(backend, SOL, 0);
    let binding = f.binding(backend);
    let state = f.co_sign(&binding, ChannelFixture::state(2, (SOL, 0), (0, SOL)));
    f.start_close(backend, &f.a, None).expect("start close");
    let [precompile, dispute] = state.dispute(&f.channel, &f.b.address());
    let dispute = replaced(dispute, 4, f.outsider.address());
    assert_attack_fails(backend, &f, 1, PaychanError::PayoutAccountMismatch, |b| {
        f.send(b, &[precompile, dispute], &[&f.b.keypair])
    });
}

/// Finalize and Dispute are permissionless: a wallet passed read-only would park that party's
/// share as unclaimed (and the opener's rent reserve with it) at the submitter's whim. Both
/// refuse it, and nothing moves.
fn a_read_only_payout_wallet_is_refused_by_finalize_and_dispute(backend: &mut dyn Backend) {
    let f = ChannelFixture::opened(backend, 3 * SOL, SOL);
    let binding = f.binding(backend);
    let newer = f.co_sign(
        &binding,
        ChannelFixture::state(1, (3 * SOL, SOL), (2 * SOL, 2 * SOL)),
    );
    f.start_close(backend, &f.a, None).expect("start close");
    let [precompile, dispute] = newer.dispute(&f.channel, &f.outsider.address());
    for wallet in [3, 4] {
        let dispute = readonly(dispute.clone(), wallet);
        assert_attack_fails(backend, &f, 1, PaychanError::AccountNotWritable, |b| {
            f.send(b, &[precompile.clone(), dispute], &[&f.outsider.keypair])
        });
    }
    backend.advance_time(PERIOD as i64 + 1);
    for wallet in [1, 2] {
        let finalize = readonly(client::finalize(&f.channel), wallet);
        assert_attack_fails(backend, &f, 0, PaychanError::AccountNotWritable, |b| {
            f.send(b, &[finalize], &[])
        });
    }
}

/// Anyone may move a parked share, but only to its owner's wallet: a stranger naming its own
/// destination is refused, and nothing moves.
fn a_stranger_cannot_move_a_parked_share_anywhere_but_its_owners_wallet(backend: &mut dyn Backend) {
    let f = ChannelFixture::settled_with_unclaimed_b(backend, 10 * SOL, 1_000);
    assert_attack_fails(backend, &f, 0, PaychanError::NotAParty, |b| {
        f.withdraw(b, &f.outsider, &f.outsider.address())
    });
}

/// A party B that could never be paid (the default address, which is the System program, a
/// sysvar, a program, or paychan itself) would lock A's deposit for good: Open refuses it.
fn open_with_a_party_b_that_can_never_receive_is_refused(backend: &mut dyn Backend) {
    let f = ChannelFixture::new(backend);
    let program = Address::new_unique();
    backend.deploy_program_at(&program);
    for party_b in [
        Address::default(),
        solana_sdk_ids::sysvar::clock::ID,
        solana_sdk_ids::sysvar::rent::ID,
        paychan_interface::ID,
        program,
    ] {
        let channel = ChannelAddress::new_random(&paychan_interface::ID, &f.a.address(), &party_b);
        let ix = client::open(&channel, SOL, PERIOD);
        assert_attack_fails(backend, &f, 0, PaychanError::PartyBCannotReceive, |b| {
            f.send(b, &[ix], &[&f.a.keypair])
        });
        assert!(backend.account(&channel.address).is_none(), "{party_b}");
    }
}

/// Plants a byte-perfect channel (A's deposit 5 SOL, Closing, past deadline) at a new address.
fn plant_channel(backend: &mut dyn Backend, f: &ChannelFixture, owner: Address) -> ChannelAddress {
    let mut data = vec![0u8; CHANNEL_ACCOUNT_LEN];
    Channel {
        status: paychan_interface::channel::ChannelStatus::Closing,
        bump: 255,
        party_a: f.a.address(),
        party_b: f.outsider.address(),
        nonce: 0,
        opened_slot: 1,
        challenge_period_secs: 1,
        deposited_a: 0,
        deposited_b: 5 * SOL,
        registered: Default::default(),
        registered_by: None,
        deadline: 0,
        unclaimed_a: 0,
        unclaimed_b: 0,
        accountable_seq: 0,
        signer_a: f.a.address(),
        signer_b: f.outsider.address(),
        token: None,
    }
    .pack(&mut data)
    .expect("pack");
    let mut fake = f.channel;
    fake.address = Address::new_unique();
    fake.party_b = f.outsider.address();
    backend.set_account(
        &fake.address,
        Account {
            lamports: 10 * SOL,
            data,
            owner,
            executable: false,
            rent_epoch: 0,
        },
    );
    fake
}

fn a_channel_sized_account_owned_by_another_program_is_refused(backend: &mut dyn Backend) {
    let f = ChannelFixture::new(backend);
    let fake = plant_channel(backend, &f, solana_sdk_ids::system_program::ID);
    let ix = client::finalize(&fake);
    let before = backend.lamports(&fake.address);
    assert_attack_fails(
        backend,
        &f,
        0,
        PaychanError::ChannelNotOwnedByProgram,
        |b| f.send(b, &[ix], &[]),
    );
    assert_eq!(backend.lamports(&fake.address), before);
}

fn a_channel_account_with_a_bad_layout_is_refused(backend: &mut dyn Backend) {
    let f = ChannelFixture::new(backend);
    let fake = plant_channel(backend, &f, paychan_interface::ID);
    let mut account = backend.account(&fake.address).expect("planted");
    account.data[1] = 99; // unknown layout version
    backend.set_account(&fake.address, account);
    let ix = client::finalize(&fake);
    assert_attack_fails(backend, &f, 0, PaychanError::InvalidChannelAccount, |b| {
        f.send(b, &[ix], &[])
    });
}

fn unknown_instruction_data_is_refused(backend: &mut dyn Backend) {
    let f = ChannelFixture::opened(backend, SOL, 0);
    for data in [
        vec![],
        vec![7],
        vec![5, 0],
        PaychanInstruction::Deposit { amount: 1 }.pack()[..8].to_vec(),
    ] {
        let ix = Instruction {
            data,
            ..client::deposit(&f.channel, &f.a.address(), 1)
        };
        assert_attack_fails(backend, &f, 0, PaychanError::InvalidInstructionData, |b| {
            f.send(b, &[ix], &[&f.a.keypair])
        });
    }
}

fn missing_accounts_are_refused(backend: &mut dyn Backend) {
    let f = ChannelFixture::opened(backend, SOL, 0);
    let mut ix = client::deposit(&f.channel, &f.a.address(), 1);
    ix.accounts.truncate(2);
    assert_attack_fails(backend, &f, 0, PaychanError::MissingAccounts, |b| {
        f.send(b, &[ix], &[&f.a.keypair])
    });
}
