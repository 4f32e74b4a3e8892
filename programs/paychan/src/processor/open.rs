//! Open: party A creates the channel PDA, pays its rent and locks its first deposit.

use paychan_interface::{
    channel::{Channel, ChannelStatus, CHANNEL_ACCOUNT_LEN},
    error::PaychanError,
    pda::channel_seeds,
    state::ChannelState,
    MAX_CHALLENGE_PERIOD_SECS, SYSTEM_PROGRAM_ID, SYSVAR_OWNER_ID,
};
use pinocchio::{
    cpi::{Seed, Signer},
    AccountView, Address, ProgramResult,
};
use pinocchio_system::instructions::{Allocate, Assign, CreateAccount, Transfer};

use super::{now, take_accounts};
use crate::{
    accounts::{require_signer, require_system_program, require_writable, store_channel},
    rent::Rent,
};

pub struct Args {
    pub nonce: u64,
    pub deposit: u64,
    pub challenge_period_secs: u64,
    pub signer_a: Address,
    pub signer_b: Address,
}

/// Checks, in order:
/// 1. A signed and is writable; the channel is writable; the System program is the real one.
/// 2. B differs from A and can receive a payout; each state-signing key belongs to one party;
///    the challenge period is within (0, 1 year].
/// 3. The channel address is the canonical PDA of (party_a, party_b, nonce).
/// 4. Nothing lives at that address yet (a prefunded empty address is taken over).
pub fn process(program_id: &Address, accounts: &mut [AccountView], args: Args) -> ProgramResult {
    let [party_a, party_b, channel_account, system_program] = take_accounts(accounts)?;
    require_signer(party_a)?;
    require_writable(party_a)?;
    require_writable(channel_account)?;
    require_system_program(system_program)?;

    if party_b.address() == party_a.address() {
        return Err(PaychanError::PartiesEqual.into());
    }
    require_can_receive(program_id, party_b)?;
    // One key signing for both parties could forge every co-signed state.
    if args.signer_a == args.signer_b
        || &args.signer_a == party_b.address()
        || &args.signer_b == party_a.address()
    {
        return Err(PaychanError::SignerKeysOverlap.into());
    }
    if args.challenge_period_secs == 0 || args.challenge_period_secs > MAX_CHALLENGE_PERIOD_SECS {
        return Err(PaychanError::InvalidChallengePeriod.into());
    }

    let nonce_le = args.nonce.to_le_bytes();
    let seeds = channel_seeds(party_a.address(), party_b.address(), &nonce_le);
    let (expected, bump) = Address::try_find_program_address(&seeds, program_id)
        .ok_or(PaychanError::ChannelAddressMismatch)?;
    if channel_account.address() != &expected {
        return Err(PaychanError::ChannelAddressMismatch.into());
    }
    if !channel_account.owned_by(&SYSTEM_PROGRAM_ID) || !channel_account.is_data_empty() {
        return Err(PaychanError::ChannelAlreadyExists.into());
    }

    let rent_reserve = Rent::get()?
        .minimum_balance(CHANNEL_ACCOUNT_LEN)
        .ok_or(PaychanError::ArithmeticOverflow)?;
    let bump_seed = [bump];
    let signer_seeds = [
        Seed::from(seeds[0]),
        Seed::from(seeds[1]),
        Seed::from(seeds[2]),
        Seed::from(seeds[3]),
        Seed::from(&bump_seed),
    ];
    let signer = [Signer::from(&signer_seeds)];
    let prefunded = channel_account.lamports();
    if prefunded == 0 {
        CreateAccount {
            from: party_a,
            to: channel_account,
            lamports: rent_reserve
                .checked_add(args.deposit)
                .ok_or(PaychanError::ArithmeticOverflow)?,
            space: CHANNEL_ACCOUNT_LEN as u64,
            owner: program_id,
        }
        .invoke_signed(&signer)?;
    } else {
        // Someone sent lamports to the address first, which makes CreateAccount fail; they
        // count towards the rent reserve, and the deposit still comes in full from A.
        let top_up = rent_reserve
            .saturating_sub(prefunded)
            .checked_add(args.deposit)
            .ok_or(PaychanError::ArithmeticOverflow)?;
        if top_up > 0 {
            Transfer {
                from: party_a,
                to: channel_account,
                lamports: top_up,
            }
            .invoke()?;
        }
        Allocate {
            account: channel_account,
            space: CHANNEL_ACCOUNT_LEN as u64,
        }
        .invoke_signed(&signer)?;
        Assign {
            account: channel_account,
            owner: program_id,
        }
        .invoke_signed(&signer)?;
    }

    let channel = Channel {
        status: ChannelStatus::Open,
        bump,
        party_a: *party_a.address(),
        party_b: *party_b.address(),
        nonce: args.nonce,
        opened_slot: now()?.slot,
        challenge_period_secs: args.challenge_period_secs,
        deposited_a: args.deposit,
        deposited_b: 0,
        registered: ChannelState::default(),
        registered_by: None,
        deadline: 0,
        unclaimed_a: 0,
        unclaimed_b: 0,
        accountable_seq: 0,
        signer_a: args.signer_a,
        signer_b: args.signer_b,
    };
    store_channel(channel_account, &channel)
}

/// A key the runtime keeps read-only (sysvars, builtin programs: it demotes them even when
/// passed writable), a program, or this program itself could never take B's payout: B's
/// deposits and winnings would be stuck and A's Finalize would fail forever.
fn require_can_receive(program_id: &Address, party_b: &AccountView) -> Result<(), PaychanError> {
    if !party_b.is_writable()
        || party_b.executable()
        || party_b.owned_by(&SYSVAR_OWNER_ID)
        || party_b.address() == program_id
    {
        return Err(PaychanError::PartyBCannotReceive);
    }
    Ok(())
}
