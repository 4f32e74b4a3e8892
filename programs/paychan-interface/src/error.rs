//! Every way a paychan instruction can fail, with a stable code and a message for people.

use solana_program_error::ProgramError;

/// Custom error codes returned by the paychan program (`InstructionError::Custom(code)`).
///
/// Codes are part of the interface: never renumber, only append.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[repr(u32)]
pub enum PaychanError {
    #[error("instruction data is malformed: unknown instruction or wrong length")]
    InvalidInstructionData = 0,
    #[error("the instruction is missing required accounts")]
    MissingAccounts = 1,
    #[error("a required signer did not sign the transaction")]
    MissingSignature = 2,
    #[error("an account that must be writable was passed read-only")]
    AccountNotWritable = 3,
    #[error("the channel account is not owned by the paychan program")]
    ChannelNotOwnedByProgram = 4,
    #[error("the channel account is not a paychan channel (wrong size, discriminator or version)")]
    InvalidChannelAccount = 5,
    #[error("the channel address is not the PDA of (party_a, party_b, nonce)")]
    ChannelAddressMismatch = 6,
    #[error("a channel already exists at this address")]
    ChannelAlreadyExists = 7,
    #[error("party_b must be a different key than party_a")]
    PartiesEqual = 8,
    #[error("the challenge period must be between 1 second and 1 year")]
    InvalidChallengePeriod = 9,
    #[error("the amount must be greater than zero")]
    ZeroAmount = 10,
    #[error("the signer is not a party of this channel")]
    NotAParty = 11,
    #[error("the channel is not open")]
    ChannelNotOpen = 12,
    #[error("the channel is not closing")]
    ChannelNotClosing = 13,
    #[error("the channel is not settled")]
    ChannelNotSettled = 14,
    #[error("the channel is already being closed or settled")]
    ChannelNotOpenOrClosing = 15,
    #[error("the balances do not sum to the deposits")]
    BalancesDoNotSumToDeposits = 16,
    #[error("the state's deposit counters exceed the channel's on-chain deposits")]
    DepositsExceedChain = 17,
    #[error("arithmetic overflow")]
    ArithmeticOverflow = 18,
    #[error("the account passed as the Instructions sysvar is not the Instructions sysvar")]
    InvalidInstructionsSysvar = 19,
    #[error("the instruction immediately before must be an Ed25519 precompile instruction")]
    MissingEd25519Instruction = 20,
    #[error("the Ed25519 instruction must carry exactly 2 signatures")]
    InvalidSignatureCount = 21,
    #[error("the Ed25519 instruction data has the wrong length or padding")]
    InvalidEd25519Layout = 22,
    #[error("the Ed25519 instruction offsets or instruction indices are not the canonical ones")]
    InvalidEd25519Offsets = 23,
    #[error("the Ed25519 signers are not party_a then party_b of this channel")]
    SignerKeysMismatch = 24,
    #[error("the signed message is not a paychan v1 state")]
    WrongStateDomain = 25,
    #[error("the signed state is for another program")]
    StateForOtherProgram = 26,
    #[error("the signed state is for another channel")]
    StateForOtherChannel = 27,
    #[error("the signed state belongs to an earlier channel at this address")]
    StateFromEarlierChannel = 28,
    #[error("signed states start at seq 1; seq 0 is the implicit opening state")]
    SignedSeqZero = 29,
    #[error("the disputing state must have a higher seq than the registered one")]
    StaleState = 30,
    #[error("the challenge period is over")]
    ChallengePeriodOver = 31,
    #[error("the challenge period has not ended yet")]
    ChallengePeriodActive = 32,
    #[error("a payout account is not the channel party's wallet")]
    PayoutAccountMismatch = 33,
    #[error("there is nothing to withdraw")]
    NothingToWithdraw = 34,
    #[error("the destination cannot receive lamports (executable or below rent exemption)")]
    DestinationCannotReceive = 35,
    #[error("the destination must not be the channel account")]
    DestinationIsChannel = 36,
    #[error("the account passed as the System program is not the System program")]
    InvalidSystemProgram = 37,
    #[error("there is no channel at this address (never opened, or already closed)")]
    ChannelNotFound = 38,
    #[error(
        "party B must be an account that can receive lamports: writable, not executable, not a \
         sysvar and not this program"
    )]
    PartyBCannotReceive = 39,
    #[error(
        "a channel cannot settle in the slot it was opened (retry in the next slot), so a \
         channel re-opened at its address can never share its opened_slot"
    )]
    ChannelOpenedThisSlot = 40,
}

impl PaychanError {
    /// All errors, in code order.
    pub const ALL: [PaychanError; 41] = {
        use PaychanError::*;
        [
            InvalidInstructionData,
            MissingAccounts,
            MissingSignature,
            AccountNotWritable,
            ChannelNotOwnedByProgram,
            InvalidChannelAccount,
            ChannelAddressMismatch,
            ChannelAlreadyExists,
            PartiesEqual,
            InvalidChallengePeriod,
            ZeroAmount,
            NotAParty,
            ChannelNotOpen,
            ChannelNotClosing,
            ChannelNotSettled,
            ChannelNotOpenOrClosing,
            BalancesDoNotSumToDeposits,
            DepositsExceedChain,
            ArithmeticOverflow,
            InvalidInstructionsSysvar,
            MissingEd25519Instruction,
            InvalidSignatureCount,
            InvalidEd25519Layout,
            InvalidEd25519Offsets,
            SignerKeysMismatch,
            WrongStateDomain,
            StateForOtherProgram,
            StateForOtherChannel,
            StateFromEarlierChannel,
            SignedSeqZero,
            StaleState,
            ChallengePeriodOver,
            ChallengePeriodActive,
            PayoutAccountMismatch,
            NothingToWithdraw,
            DestinationCannotReceive,
            DestinationIsChannel,
            InvalidSystemProgram,
            ChannelNotFound,
            PartyBCannotReceive,
            ChannelOpenedThisSlot,
        ]
    };

    /// The error for a custom program error code, if it is one of ours.
    pub fn from_code(code: u32) -> Option<Self> {
        Self::ALL.get(code as usize).copied()
    }

    pub const fn code(self) -> u32 {
        self as u32
    }
}

impl From<PaychanError> for ProgramError {
    fn from(e: PaychanError) -> Self {
        ProgramError::Custom(e.code())
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    #[test]
    fn every_code_round_trips_to_its_error_and_a_message() {
        for (i, e) in PaychanError::ALL.iter().enumerate() {
            assert_eq!(e.code(), i as u32, "{e:?} is out of order in ALL");
            assert_eq!(PaychanError::from_code(e.code()), Some(*e));
            assert_eq!(ProgramError::from(*e), ProgramError::Custom(i as u32));
            assert!(!e.to_string().is_empty());
        }
        assert_eq!(
            PaychanError::from_code(PaychanError::ALL.len() as u32),
            None
        );
    }
}
