//! Finalize: after the deadline, anyone pays out the registered state and closes the channel.

use paychan_interface::{channel::ChannelStatus, error::PaychanError, settlement::state_payouts};
use pinocchio::{AccountView, Address, ProgramResult};

use super::{now, split_accounts};
use crate::{
    accounts::load_channel,
    payout::{settle, SettlementAccounts},
};

/// Checks, in order:
/// 1. The channel is a live paychan channel and Closing.
/// 2. The deadline has passed.
/// 3. Accounts 1 and 2 are the parties' writable wallets.
pub fn process(program_id: &Address, accounts: &mut [AccountView]) -> ProgramResult {
    let ([channel_account, wallet_a, wallet_b], rest) = split_accounts(accounts)?;
    let mut channel = load_channel(program_id, channel_account)?;
    if channel.status != ChannelStatus::Closing {
        return Err(PaychanError::ChannelNotClosing.into());
    }
    if now()?.unix_timestamp <= channel.deadline {
        return Err(PaychanError::ChallengePeriodActive.into());
    }
    let accounts = SettlementAccounts::checked(&channel, channel_account, wallet_a, wallet_b)?
        .with_token(&channel, rest)?;
    let payouts = state_payouts(
        &channel.registered,
        channel.deposited_a,
        channel.deposited_b,
    )?;
    settle(accounts, &mut channel, &payouts)
}
