//! Instruction dispatch: one file per instruction, each parse accounts → check → mutate.

mod close_cooperative;
mod deposit;
mod dispute;
mod finalize;
mod open;
mod start_close;
mod withdraw;

use paychan_interface::{error::PaychanError, instruction::PaychanInstruction};
use pinocchio::{
    error::ProgramError, sysvars::clock::Clock, sysvars::Sysvar, AccountView, Address,
    ProgramResult,
};
use solana_program_log::log;

/// Runs one instruction; a paychan error is logged by name and message before it is returned,
/// so logs and simulations say what went wrong, not only its code.
// Inlined: SBF has five argument registers, and the slices and the returned result need six.
#[inline(always)]
pub fn process_instruction(
    program_id: &Address,
    accounts: &mut [AccountView],
    data: &[u8],
) -> ProgramResult {
    let result = dispatch(program_id, accounts, data);
    if let Err(ProgramError::Custom(code)) = result {
        if let Some(error) = PaychanError::from_code(code) {
            log(error.log_line());
        }
    }
    result
}

#[inline(always)]
fn dispatch(program_id: &Address, accounts: &mut [AccountView], data: &[u8]) -> ProgramResult {
    match PaychanInstruction::unpack(data)? {
        PaychanInstruction::Open {
            nonce,
            deposit,
            challenge_period_secs,
            signer_a,
            signer_b,
            bump,
            token,
        } => open::process(
            program_id,
            accounts,
            open::Args {
                nonce,
                deposit,
                challenge_period_secs,
                signer_a,
                signer_b,
                bump,
                token,
            },
        ),
        PaychanInstruction::Deposit { amount } => deposit::process(program_id, accounts, amount),
        PaychanInstruction::CloseCooperative {
            balance_a,
            balance_b,
        } => close_cooperative::process(program_id, accounts, balance_a, balance_b),
        PaychanInstruction::StartClose { with_state } => {
            start_close::process(program_id, accounts, with_state)
        }
        PaychanInstruction::Dispute => dispute::process(program_id, accounts),
        PaychanInstruction::Finalize => finalize::process(program_id, accounts),
        PaychanInstruction::Withdraw => withdraw::process(program_id, accounts),
    }
}

/// Splits off the accounts an instruction needs, in order.
fn take_accounts<const N: usize>(
    accounts: &mut [AccountView],
) -> Result<&mut [AccountView; N], PaychanError> {
    Ok(split_accounts(accounts)?.0)
}

/// The accounts every channel needs, and the rest (a token channel's token accounts).
fn split_accounts<const N: usize>(
    accounts: &mut [AccountView],
) -> Result<(&mut [AccountView; N], &mut [AccountView]), PaychanError> {
    if accounts.len() < N {
        return Err(PaychanError::MissingAccounts);
    }
    let (fixed, rest) = accounts.split_at_mut(N);
    let fixed = fixed
        .try_into()
        .map_err(|_| PaychanError::MissingAccounts)?;
    Ok((fixed, rest))
}

fn now() -> Result<Clock, ProgramError> {
    Clock::get()
}
