//! Reads the co-signed state from the Ed25519 precompile instruction placed immediately before
//! the current one, through the Instructions sysvar (protocol §5).

use paychan_interface::{
    channel::Channel,
    ed25519::verified_state,
    error::PaychanError,
    state::{ChannelState, StateBinding},
    ED25519_PROGRAM_ID, INSTRUCTIONS_SYSVAR_ID,
};
use pinocchio::{error::ProgramError, sysvars::instructions::Instructions, AccountView, Address};

/// The state both parties of `channel` signed, proven by the preceding precompile instruction.
/// The precompile has already verified the signatures; this checks that they are the canonical
/// two signatures, by A's then B's state-signing key, over a state of this exact channel
/// incarnation.
pub fn co_signed_state(
    instructions_sysvar: &AccountView,
    program_id: &Address,
    channel_address: &Address,
    channel: &Channel,
) -> Result<ChannelState, ProgramError> {
    if instructions_sysvar.address() != &INSTRUCTIONS_SYSVAR_ID {
        return Err(PaychanError::InvalidInstructionsSysvar.into());
    }
    let instructions = Instructions::try_from(instructions_sysvar)?;
    let current = instructions.load_current_index();
    let previous = current
        .checked_sub(1)
        .ok_or(PaychanError::MissingEd25519Instruction)?;
    let precompile = instructions
        .load_instruction_at(usize::from(previous))
        .map_err(|_| PaychanError::MissingEd25519Instruction)?;
    if precompile.get_program_id() != &ED25519_PROGRAM_ID {
        return Err(PaychanError::MissingEd25519Instruction.into());
    }
    let binding = StateBinding {
        program_id: *program_id,
        channel: *channel_address,
        opened_slot: channel.opened_slot,
    };
    Ok(verified_state(
        precompile.get_instruction_data(),
        &channel.signer_a,
        &channel.signer_b,
        &binding,
    )?)
}
