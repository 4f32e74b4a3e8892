//! Moving lamports out of the channel without letting a recipient block the payout (G6).
//!
//! A credit the runtime would reject (the recipient is read-only or executable, or would stay
//! below rent exemption) is kept in the channel as `unclaimed_*` for a later Withdraw instead
//! of failing the instruction.

use paychan_interface::{
    channel::{Channel, ChannelStatus, Party},
    error::PaychanError,
    settlement::Payouts,
};
use pinocchio::{
    error::ProgramError,
    sysvars::{clock::Clock, Sysvar},
    AccountView,
};

use crate::{
    accounts::{require_wallet, store_channel},
    rent::Rent,
};

/// Whether `recipient` can be credited `amount` without failing the transaction.
pub fn can_receive(rent: &Rent, recipient: &AccountView, amount: u64) -> bool {
    if amount == 0 {
        return true;
    }
    if !recipient.is_writable() || recipient.executable() {
        return false;
    }
    match (
        recipient.lamports().checked_add(amount),
        rent.minimum_balance(recipient.data_len()),
    ) {
        (Some(after), Some(minimum)) => after >= minimum,
        _ => false,
    }
}

/// Moves `amount` lamports from the program-owned `from` to `to`.
pub fn move_lamports(
    from: &mut AccountView,
    to: &mut AccountView,
    amount: u64,
) -> Result<(), PaychanError> {
    let remaining = from
        .lamports()
        .checked_sub(amount)
        .ok_or(PaychanError::ArithmeticOverflow)?;
    let credited = to
        .lamports()
        .checked_add(amount)
        .ok_or(PaychanError::ArithmeticOverflow)?;
    from.set_lamports(remaining);
    to.set_lamports(credited);
    Ok(())
}

/// The accounts a settlement touches.
pub struct SettlementAccounts<'a> {
    pub channel: &'a mut AccountView,
    pub wallet_a: &'a mut AccountView,
    pub wallet_b: &'a mut AccountView,
}

impl<'a> SettlementAccounts<'a> {
    /// The channel account and the parties' wallets: the right keys, writable.
    pub fn checked(
        channel: &Channel,
        channel_account: &'a mut AccountView,
        wallet_a: &'a mut AccountView,
        wallet_b: &'a mut AccountView,
    ) -> Result<Self, PaychanError> {
        require_wallet(channel, Party::A, wallet_a)?;
        require_wallet(channel, Party::B, wallet_b)?;
        Ok(Self {
            channel: channel_account,
            wallet_a,
            wallet_b,
        })
    }
}

/// Pays `payouts` to the parties' wallets, keeping what a wallet cannot take as unclaimed, then
/// closes the channel (rent reserve to A) if nothing is left unclaimed, else marks it Settled.
// Upstream BPF passes at most 5 arguments in registers and has no stack arguments: keep
// signatures narrow (a `Payouts` by value counts as two).
pub fn settle(
    accounts: SettlementAccounts<'_>,
    channel: &mut Channel,
    payouts: &Payouts,
) -> Result<(), ProgramError> {
    let SettlementAccounts {
        channel: channel_account,
        wallet_a,
        wallet_b,
    } = accounts;
    // Every settlement is in a later slot than the Open, so an incarnation re-opened at this
    // address (in the settling slot or after) never has this one's opened_slot: states signed
    // for this one can never be valid for it.
    if Clock::get()?.slot <= channel.opened_slot {
        return Err(PaychanError::ChannelOpenedThisSlot.into());
    }
    let rent = Rent::get()?;
    for (wallet, amount, unclaimed) in [
        (&mut *wallet_a, payouts.a, &mut channel.unclaimed_a),
        (&mut *wallet_b, payouts.b, &mut channel.unclaimed_b),
    ] {
        if can_receive(&rent, wallet, amount) {
            move_lamports(channel_account, wallet, amount)?;
        } else {
            *unclaimed = unclaimed
                .checked_add(amount)
                .ok_or(PaychanError::ArithmeticOverflow)?;
        }
    }
    close_or_keep_settled(&rent, channel_account, channel, wallet_a)
}

/// Closes the channel account, returning the rent reserve to the opener, once nothing is left
/// unclaimed and the opener's wallet can take it; otherwise keeps it Settled.
pub fn close_or_keep_settled(
    rent: &Rent,
    channel_account: &mut AccountView,
    channel: &mut Channel,
    reserve_recipient: &mut AccountView,
) -> Result<(), ProgramError> {
    let reserve = channel_account.lamports();
    if channel.unclaimed_a == 0
        && channel.unclaimed_b == 0
        && can_receive(rent, reserve_recipient, reserve)
    {
        move_lamports(channel_account, reserve_recipient, reserve)?;
        return channel_account.close();
    }
    channel.status = ChannelStatus::Settled;
    store_channel(channel_account, channel)
}
