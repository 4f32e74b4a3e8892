//! CloseCooperative: both parties sign the final balances; pay out and close at once.

use paychan_interface::{
    channel::{ChannelStatus, Party},
    error::PaychanError,
    settlement::cooperative_payouts,
};
use pinocchio::{AccountView, Address, ProgramResult};

use super::split_accounts;
use crate::{
    accounts::{load_channel, require_signer},
    payout::{settle, SettlementAccounts},
};

/// Checks, in order:
/// 1. The channel is a live paychan channel, Open or Closing.
/// 2. Accounts 0 and 1 are party A's and party B's wallets, both signed and writable.
/// 3. The balances sum to the channel's total deposits.
pub fn process(
    program_id: &Address,
    accounts: &mut [AccountView],
    balance_a: u64,
    balance_b: u64,
) -> ProgramResult {
    let ([wallet_a, wallet_b, channel_account], rest) = split_accounts(accounts)?;
    let mut channel = load_channel(program_id, channel_account)?;
    if !matches!(channel.status, ChannelStatus::Open | ChannelStatus::Closing) {
        return Err(PaychanError::ChannelNotOpenOrClosing.into());
    }
    for (party, wallet) in [(Party::A, &*wallet_a), (Party::B, &*wallet_b)] {
        if wallet.address() != channel.party_key(party) {
            return Err(PaychanError::NotAParty.into());
        }
        require_signer(wallet)?;
    }
    let accounts = SettlementAccounts::checked(&channel, channel_account, wallet_a, wallet_b)?
        .with_token(&channel, rest)?;
    let payouts = cooperative_payouts(
        balance_a,
        balance_b,
        channel.deposited_a,
        channel.deposited_b,
    )?;
    settle(accounts, &mut channel, &payouts)
}
