//! Dispute: anyone brings a newer co-signed state during the challenge period. Two or more past
//! the seq the StartClose registrant registered proves it knowingly registered a stale state,
//! and the other party takes the whole channel (protocol §4); anything else newer replaces.

use paychan_interface::{
    channel::ChannelStatus,
    error::PaychanError,
    settlement::{check_state, dispute_outcome, DisputeOutcome, Payouts},
};
use pinocchio::{AccountView, Address, ProgramResult};
use solana_program_log::log;

use super::{now, split_accounts};
use crate::{
    accounts::{load_channel, require_signer, store_channel},
    ed25519::co_signed_state,
    payout::{settle, SettlementAccounts},
};

/// Checks, in order:
/// 1. The submitter signed (it pays the fee; it never becomes accountable).
/// 2. The channel is a live paychan channel, Closing, and the deadline has not passed.
/// 3. Accounts 3 and 4 are the parties' writable wallets.
/// 4. The preceding instruction proves a state of this channel signed by A and B, which claims
///    no unseen deposit, sums correctly and has a higher seq than the registered one.
pub fn process(program_id: &Address, accounts: &mut [AccountView]) -> ProgramResult {
    let ([submitter, channel_account, instructions_sysvar, wallet_a, wallet_b], rest) =
        split_accounts(accounts)?;
    require_signer(submitter)?;
    let mut channel = load_channel(program_id, channel_account)?;
    if channel.status != ChannelStatus::Closing {
        return Err(PaychanError::ChannelNotClosing.into());
    }
    if now()?.unix_timestamp > channel.deadline {
        return Err(PaychanError::ChallengePeriodOver.into());
    }
    let accounts = SettlementAccounts::checked(&channel, channel_account, wallet_a, wallet_b)?;

    let state = co_signed_state(
        instructions_sysvar,
        program_id,
        accounts.channel.address(),
        &channel,
    )?;
    check_state(&state, channel.deposited_a, channel.deposited_b)?;
    match dispute_outcome(channel.registered.seq, channel.accountable(), state.seq)? {
        DisputeOutcome::Replace => {
            // The StartClose registrant stays accountable for its seq (protocol §4).
            channel.registered = state;
            store_channel(accounts.channel, &channel)
        }
        DisputeOutcome::Punish { cheater } => {
            log("paychan: stale state registered, registrant punished");
            let payouts = Payouts::to(cheater.other(), channel.total_deposits()?);
            // A replacement moves nothing: only a punishment needs a token channel's accounts.
            settle(accounts.with_token(&channel, rest)?, &mut channel, &payouts)
        }
    }
}
