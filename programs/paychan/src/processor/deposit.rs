//! Deposit: either party adds funds while the channel is Open (dual funding and top-ups).

use paychan_interface::{
    channel::{ChannelStatus, Party},
    error::PaychanError,
};
use pinocchio::{AccountView, Address, ProgramResult};
use pinocchio_system::instructions::Transfer;

use super::take_accounts;
use crate::accounts::{
    load_channel, require_system_program, require_writable, signing_party, store_channel,
};

/// Checks, in order:
/// 1. amount > 0; the depositor signed, is A or B, and is writable; the System program is real.
/// 2. The channel is a live paychan channel and Open.
/// 3. The new counters (and their total) do not overflow.
pub fn process(program_id: &Address, accounts: &mut [AccountView], amount: u64) -> ProgramResult {
    let [depositor, channel_account, system_program] = take_accounts(accounts)?;
    if amount == 0 {
        return Err(PaychanError::ZeroAmount.into());
    }
    require_system_program(system_program)?;
    let mut channel = load_channel(program_id, channel_account)?;
    let party = signing_party(&channel, depositor)?;
    require_writable(depositor)?;
    if channel.status != ChannelStatus::Open {
        return Err(PaychanError::ChannelNotOpen.into());
    }

    let counter = match party {
        Party::A => &mut channel.deposited_a,
        Party::B => &mut channel.deposited_b,
    };
    *counter = counter
        .checked_add(amount)
        .ok_or(PaychanError::ArithmeticOverflow)?;
    channel.total_deposits()?;

    Transfer {
        from: depositor,
        to: channel_account,
        lamports: amount,
    }
    .invoke()?;
    store_channel(channel_account, &channel)
}
