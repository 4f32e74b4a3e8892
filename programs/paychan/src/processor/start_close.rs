//! StartClose: a party registers a co-signed state (or the implicit seq-0 state) and starts
//! the challenge period. The registrant is recorded: registering a stale state is punishable.

use paychan_interface::{
    channel::ChannelStatus, error::PaychanError, settlement::check_state, state::ChannelState,
};
use pinocchio::{AccountView, Address, ProgramResult};

use super::{now, take_accounts};
use crate::{
    accounts::{load_channel, require_signer, store_channel},
    ed25519::co_signed_state,
};

/// Checks, in order:
/// 1. The channel is a live paychan channel and Open (so StartClose runs once).
/// 2. The registrant signed and is A or B: its wallet, or its state-signing key (a session key
///    can close without the wallet; either way the party is accountable).
/// 3. With a state: the preceding instruction is the canonical precompile proof of a state of
///    this channel signed by A and B; the state claims no unseen deposit and sums correctly.
pub fn process(
    program_id: &Address,
    accounts: &mut [AccountView],
    with_state: bool,
) -> ProgramResult {
    let [registrant, channel_account, instructions_sysvar] = take_accounts(accounts)?;
    let mut channel = load_channel(program_id, channel_account)?;
    if channel.status != ChannelStatus::Open {
        return Err(PaychanError::ChannelNotOpen.into());
    }
    require_signer(registrant)?;
    let party = channel
        .party_or_signer_of(registrant.address())
        .ok_or(PaychanError::NotAParty)?;

    let state = if with_state {
        co_signed_state(
            instructions_sysvar,
            program_id,
            channel_account.address(),
            &channel,
        )?
    } else {
        ChannelState::opening(channel.deposited_a, channel.deposited_b)
    };
    check_state(&state, channel.deposited_a, channel.deposited_b)?;

    let period = i64::try_from(channel.challenge_period_secs)
        .map_err(|_| PaychanError::ArithmeticOverflow)?;
    channel.deadline = now()?
        .unix_timestamp
        .checked_add(period)
        .ok_or(PaychanError::ArithmeticOverflow)?;
    channel.registered = state;
    channel.registered_by = Some(party);
    channel.accountable_seq = state.seq;
    channel.status = ChannelStatus::Closing;
    store_channel(channel_account, &channel)
}
