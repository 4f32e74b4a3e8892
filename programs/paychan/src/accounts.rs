//! Account checks shared by every processor, each failing with its own error.

use paychan_interface::{
    channel::{Channel, Party},
    error::PaychanError,
    SYSTEM_PROGRAM_ID,
};
use pinocchio::{error::ProgramError, AccountView, Address};

pub fn require_signer(account: &AccountView) -> Result<(), PaychanError> {
    if account.is_signer() {
        Ok(())
    } else {
        Err(PaychanError::MissingSignature)
    }
}

pub fn require_writable(account: &AccountView) -> Result<(), PaychanError> {
    if account.is_writable() {
        Ok(())
    } else {
        Err(PaychanError::AccountNotWritable)
    }
}

pub fn require_system_program(account: &AccountView) -> Result<(), PaychanError> {
    if account.address() == &SYSTEM_PROGRAM_ID {
        Ok(())
    } else {
        Err(PaychanError::InvalidSystemProgram)
    }
}

/// Reads a live channel: writable, owned by this program, a valid v1 layout.
pub fn load_channel(program_id: &Address, account: &AccountView) -> Result<Channel, ProgramError> {
    if account.lamports() == 0 && account.is_data_empty() {
        return Err(PaychanError::ChannelNotFound.into());
    }
    if !account.owned_by(program_id) {
        return Err(PaychanError::ChannelNotOwnedByProgram.into());
    }
    require_writable(account)?;
    let data = account.try_borrow()?;
    Ok(Channel::unpack_aligned(&data)?)
}

pub fn store_channel(account: &mut AccountView, channel: &Channel) -> Result<(), ProgramError> {
    let mut data = account.try_borrow_mut()?;
    Ok(channel.pack_aligned(&mut data)?)
}

/// The party that `signer` is: it must have signed and be A or B of this channel.
pub fn signing_party(channel: &Channel, signer: &AccountView) -> Result<Party, PaychanError> {
    require_signer(signer)?;
    channel
        .party_of(signer.address())
        .ok_or(PaychanError::NotAParty)
}

/// A party's wallet passed for a payout: the right key, writable. Finalize and Dispute are
/// permissionless: a wallet passed read-only would let whoever submits park that party's share
/// as unclaimed (and the opener's rent reserve with it). A wallet that is writable but cannot
/// take its share (below rent exemption, executable) still parks it (`payout::can_receive`).
pub fn require_wallet(
    channel: &Channel,
    party: Party,
    wallet: &AccountView,
) -> Result<(), PaychanError> {
    if wallet.address() != channel.party_key(party) {
        return Err(PaychanError::PayoutAccountMismatch);
    }
    require_writable(wallet)
}
