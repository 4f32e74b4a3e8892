//! Withdraw: moves a party's share that its wallet could not receive at settlement. Anyone may
//! move it to the party's own wallet once that wallet can receive it (so a parked share never
//! waits on its owner's key, nor holds the opener's rent reserve); the party itself may send it
//! to any destination. The last withdrawal closes the account and returns the rent reserve.

use paychan_interface::{
    channel::{ChannelStatus, Party},
    error::PaychanError,
};
use pinocchio::{AccountView, Address, ProgramResult};

use super::take_accounts;
use crate::{
    accounts::{load_channel, require_signer, require_wallet, require_writable},
    payout::{can_receive, close_or_keep_settled, move_lamports},
    rent::Rent,
};

/// Checks, in order:
/// 1. The submitter signed.
/// 2. The channel is a live paychan channel and Settled.
/// 3. Account 3 is A's writable wallet; the destination is writable and not the channel.
/// 4. Whose share: a destination that is a party's wallet takes that party's share, whoever
///    signs; any other destination takes the share of the party that signed (else NotAParty).
/// 5. That share is not zero (A may also sweep the reserve once all is claimed), and the
///    destination can receive it.
pub fn process(program_id: &Address, accounts: &mut [AccountView]) -> ProgramResult {
    let [signer, channel_account, destination, wallet_a] = take_accounts(accounts)?;
    require_signer(signer)?;
    let mut channel = load_channel(program_id, channel_account)?;
    if channel.status != ChannelStatus::Settled {
        return Err(PaychanError::ChannelNotSettled.into());
    }
    require_wallet(&channel, Party::A, wallet_a)?;
    require_writable(destination)?;
    if destination.address() == channel_account.address() {
        return Err(PaychanError::DestinationIsChannel.into());
    }
    let party = match channel.party_of(destination.address()) {
        Some(owner) => owner,
        None => channel
            .party_of(signer.address())
            .ok_or(PaychanError::NotAParty)?,
    };

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
