//! Deposit: either party adds funds while the channel is Open (dual funding and top-ups):
//! lamports by a System transfer, a token channel's tokens by TransferChecked into its vault.

use paychan_interface::{
    channel::{ChannelStatus, Party},
    error::PaychanError,
};
use pinocchio::{AccountView, Address, ProgramResult};
use pinocchio_system::instructions::Transfer;

use super::split_accounts;
use crate::{
    accounts::{
        load_channel, require_system_program, require_writable, signing_party, store_channel,
    },
    payout::take_rest,
    token::{self, TokenAccounts},
};

/// Checks, in order:
/// 1. amount > 0; the depositor signed, is A or B, and is writable; the System program is real.
/// 2. The channel is a live paychan channel and Open.
/// 3. The new counters (and their total) do not overflow.
/// 4. A token channel: its vault, mint and token program; the source is the depositor's own
///    unfrozen token account of the mint.
pub fn process(program_id: &Address, accounts: &mut [AccountView], amount: u64) -> ProgramResult {
    let ([depositor, channel_account, system_program], rest) = split_accounts(accounts)?;
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

    match &channel.token {
        None => Transfer {
            from: depositor,
            to: channel_account,
            lamports: amount,
        }
        .invoke()?,
        Some(token_channel) => {
            let [vault, mint, program, source] = take_rest(rest)?;
            let accounts = TokenAccounts::checked(token_channel, vault, mint, program)?;
            token::deposit(&accounts, source, depositor, amount)?;
        }
    }
    store_channel(channel_account, &channel)
}
