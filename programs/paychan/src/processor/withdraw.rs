//! Withdraw: moves a party's share that its wallet could not receive at settlement. Anyone may
//! move it to the party's own wallet once that wallet can receive it (so a parked share never
//! waits on its owner's key, nor holds the opener's rent reserve); the party itself may send it
//! to any destination. The last withdrawal closes the account and returns the rent reserve.

use paychan_interface::{
    channel::{ChannelStatus, Party},
    error::PaychanError,
};
use pinocchio::{AccountView, Address, ProgramResult};

use super::split_accounts;
use crate::{
    accounts::{load_channel, require_signer, require_wallet, require_writable},
    payout::{can_receive, move_lamports, take_rest, Closing},
    rent::Rent,
    token::{read_token_account, TokenAccounts, VaultTransfer},
};

/// Checks, in order:
/// 1. The submitter signed.
/// 2. The channel is a live paychan channel and Settled.
/// 3. Account 3 is A's writable wallet; the destination is writable and not the channel.
/// 4. Whose share: a destination that is a party's wallet takes that party's share, whoever
///    signs; any other destination takes the share of the party that signed (else NotAParty).
/// 5. That share is not zero (A may also sweep the reserve once all is claimed), and the
///    destination can receive it.
///
/// A token channel's destination is a token account of its mint: the party it names is its
/// token owner, and the rent reserve always returns to A's wallet.
pub fn process(program_id: &Address, accounts: &mut [AccountView]) -> ProgramResult {
    let ([signer, channel_account, destination, wallet_a], rest) = split_accounts(accounts)?;
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
    let token_channel = &channel.token;
    let token_accounts = match token_channel {
        None => None,
        Some(token) => {
            let [vault, mint, program] = take_rest(rest)?;
            Some(TokenAccounts::checked(token, vault, mint, program)?)
        }
    };
    // A token destination belongs to the owner its token account names.
    let destination_party = match &token_channel {
        None => channel.party_of(destination.address()),
        Some(token) => read_token_account(token, destination)
            .and_then(|account| channel.party_of(&account.owner)),
    };
    let party = match destination_party {
        Some(owner) => owner,
        None => channel
            .party_of(signer.address())
            .ok_or(PaychanError::NotAParty)?,
    };

    // Tokens others sent to the vault beyond the unclaimed shares are the opener's.
    let beyond_shares = match &token_accounts {
        Some(t) if party == Party::A => t
            .vault_amount()?
            .saturating_sub(channel.unclaimed_a)
            .saturating_sub(channel.unclaimed_b),
        _ => 0,
    };
    let (own, other) = match party {
        Party::A => (channel.unclaimed_a, channel.unclaimed_b),
        Party::B => (channel.unclaimed_b, channel.unclaimed_a),
    };
    let amount = own
        .checked_add(beyond_shares)
        .ok_or(PaychanError::ArithmeticOverflow)?;
    let sweeping_reserve = party == Party::A && other == 0;
    if amount == 0 && !sweeping_reserve {
        return Err(PaychanError::NothingToWithdraw.into());
    }
    let rent = Rent::get()?;
    match (token_channel, &token_accounts) {
        (Some(token), Some(t)) => {
            if amount > 0 {
                let usable = read_token_account(token, destination)
                    .is_some_and(|account| account.can_take(&token.mint, None, amount));
                if !usable {
                    return Err(PaychanError::DestinationCannotReceiveTokens.into());
                }
                VaultTransfer {
                    channel: &channel,
                    authority: channel_account,
                }
                .send(t, destination, amount)?;
            }
        }
        _ => {
            if !can_receive(&rent, destination, amount) {
                return Err(PaychanError::DestinationCannotReceive.into());
            }
            move_lamports(channel_account, destination, amount)?;
        }
    }
    match party {
        Party::A => channel.unclaimed_a = 0,
        Party::B => channel.unclaimed_b = 0,
    }

    // The reserve goes where A's lamports go: its destination, or (a token channel) its wallet.
    let reserve_recipient = match (party, token_channel) {
        (Party::A, None) => destination,
        _ => wallet_a,
    };
    Closing {
        rent: &rent,
        channel_account,
        reserve_recipient,
        token: token_accounts.as_ref(),
    }
    .close_or_keep_settled(&mut channel)
}
