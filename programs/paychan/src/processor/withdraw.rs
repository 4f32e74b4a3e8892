//! Withdraw: a party takes the share its wallet could not receive at settlement to a
//! destination it names. The last withdrawal closes the account and returns the rent reserve.

use paychan_interface::{
    channel::{ChannelStatus, Party},
    error::PaychanError,
};
use pinocchio::{AccountView, Address, ProgramResult};

use super::take_accounts;
use crate::{
    accounts::{load_channel, require_wallet, require_writable, signing_party},
    payout::{can_receive, close_or_keep_settled, move_lamports},
    rent::Rent,
};

/// Checks, in order:
/// 1. The channel is a live paychan channel and Settled.
/// 2. The signer is A or B; account 3 is A's writable wallet; the destination is writable and
///    not the channel.
/// 3. The signer has something unclaimed (A may also sweep the reserve once all is claimed),
///    and the destination can receive it.
pub fn process(program_id: &Address, accounts: &mut [AccountView]) -> ProgramResult {
    let [signer, channel_account, destination, wallet_a] = take_accounts(accounts)?;
    let mut channel = load_channel(program_id, channel_account)?;
    if channel.status != ChannelStatus::Settled {
        return Err(PaychanError::ChannelNotSettled.into());
    }
    let party = signing_party(&channel, signer)?;
    require_wallet(&channel, Party::A, wallet_a)?;
    require_writable(destination)?;
    if destination.address() == channel_account.address() {
        return Err(PaychanError::DestinationIsChannel.into());
    }

    let (own, other) = match party {
        Party::A => (&mut channel.unclaimed_a, channel.unclaimed_b),
        Party::B => (&mut channel.unclaimed_b, channel.unclaimed_a),
    };
    let amount = *own;
    let sweeping_reserve = party == Party::A && other == 0;
    if amount == 0 && !sweeping_reserve {
        return Err(PaychanError::NothingToWithdraw.into());
    }
    let rent = Rent::get()?;
    if !can_receive(&rent, destination, amount) {
        return Err(PaychanError::DestinationCannotReceive.into());
    }
    move_lamports(channel_account, destination, amount)?;
    *own = 0;

    let reserve_recipient = match party {
        Party::A => destination,
        Party::B => wallet_a,
    };
    close_or_keep_settled(&rent, channel_account, &mut channel, reserve_recipient)
}
