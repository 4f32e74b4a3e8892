//! Every way a paychan instruction can fail, with a stable code and a message for people.
//!
//! One table defines each error once: its code, its name and its message. The program logs
//! `paychan error <code> <Name>: <message>` before failing, so explorers and `simulateTransaction`
//! name the error, not only its number.

use solana_program_error::ProgramError;

macro_rules! errors {
    ($($code:literal $name:ident $message:literal,)*) => {
        /// Custom error codes returned by the paychan program (`InstructionError::Custom(code)`).
        ///
        /// Codes are part of the interface: never renumber, only append.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u32)]
        pub enum PaychanError {
            $(#[doc = $message] $name = $code,)*
        }

        impl PaychanError {
            /// All errors, in code order.
            pub const ALL: &'static [PaychanError] = &[$(PaychanError::$name,)*];

            /// What went wrong, for people.
            pub const fn message(self) -> &'static str {
                match self { $(PaychanError::$name => $message,)* }
            }

            /// The line the program logs when it fails with this error.
            pub const fn log_line(self) -> &'static str {
                match self {
                    $(PaychanError::$name => concat!(
                        "paychan error ", stringify!($code), " ", stringify!($name), ": ", $message
                    ),)*
                }
            }
        }
    };
}

errors! {
    0 InvalidInstructionData "instruction data is malformed: unknown instruction or wrong length",
    1 MissingAccounts "the instruction is missing required accounts",
    2 MissingSignature "a required signer did not sign the transaction",
    3 AccountNotWritable "an account that must be writable was passed read-only",
    4 ChannelNotOwnedByProgram "the channel account is not owned by the paychan program",
    5 InvalidChannelAccount "the channel account is not a paychan channel (wrong size, discriminator or version)",
    6 ChannelAddressMismatch "the channel address is not the PDA of (party_a, party_b, nonce[, mint]) with the given bump",
    7 ChannelAlreadyExists "a channel already exists at this address",
    8 PartiesEqual "party_b must be a different key than party_a",
    9 InvalidChallengePeriod "the challenge period must be between 1 second and 1 year",
    10 ZeroAmount "the amount must be greater than zero",
    11 NotAParty "the signer is not a party of this channel",
    12 ChannelNotOpen "the channel is not open",
    13 ChannelNotClosing "the channel is not closing",
    14 ChannelNotSettled "the channel is not settled",
    15 ChannelNotOpenOrClosing "the channel is already being closed or settled",
    16 BalancesDoNotSumToDeposits "the balances do not sum to the deposits",
    17 DepositsExceedChain "the state's deposit counters exceed the channel's on-chain deposits",
    18 ArithmeticOverflow "arithmetic overflow",
    19 InvalidInstructionsSysvar "the account passed as the Instructions sysvar is not the Instructions sysvar",
    20 MissingEd25519Instruction "the instruction immediately before must be an Ed25519 precompile instruction",
    21 InvalidSignatureCount "the Ed25519 instruction must carry exactly 2 signatures",
    22 InvalidEd25519Layout "the Ed25519 instruction data has the wrong length or padding",
    23 InvalidEd25519Offsets "the Ed25519 instruction offsets or instruction indices are not the canonical ones",
    24 SignerKeysMismatch "the Ed25519 signers are not signer_a then signer_b of this channel",
    25 WrongStateDomain "the signed message is not a paychan v1 state",
    26 StateForOtherProgram "the signed state is for another program",
    27 StateForOtherChannel "the signed state is for another channel",
    28 StateFromEarlierChannel "the signed state belongs to an earlier channel at this address",
    29 SignedSeqZero "signed states start at seq 1; seq 0 is the implicit opening state",
    30 StaleState "the disputing state must have a higher seq than the registered one",
    31 ChallengePeriodOver "the challenge period is over",
    32 ChallengePeriodActive "the challenge period has not ended yet",
    33 PayoutAccountMismatch "a payout account is not the channel party's wallet",
    34 NothingToWithdraw "there is nothing to withdraw",
    35 DestinationCannotReceive "the destination cannot receive lamports (executable or below rent exemption)",
    36 DestinationIsChannel "the destination must not be the channel account",
    37 InvalidSystemProgram "the account passed as the System program is not the System program",
    38 ChannelNotFound "there is no channel at this address (never opened, or already closed)",
    39 PartyBCannotReceive "party B must be an account that can receive lamports: writable, not executable, not a sysvar and not this program",
    40 ChannelOpenedThisSlot "a channel cannot settle in the slot it was opened (retry in the next slot), so a channel re-opened at its address can never share its opened_slot",
    41 SignerKeysOverlap "a state-signing key must belong to one party only: signer_a and signer_b must differ, and neither may be the other party's wallet",
    42 PdaOnCurve "the address derived with this bump lies on the ed25519 curve, so no program can sign for it: use the canonical bump",
    43 InvalidTokenProgram "the token program account is not the channel's token program (SPL Token or Token-2022)",
    44 InvalidMint "the mint is not an initialized mint of SPL Token or Token-2022",
    45 MintMismatch "the mint is not the channel's mint",
    46 VaultMismatch "the vault is not the channel's vault (the token account at the PDA of [\"vault\", channel])",
    47 DecimalsMismatch "the decimals named in the instruction are not the mint's",
    48 NativeMintNotSupported "wrapped SOL cannot be a token channel's mint: open a lamport channel instead",
    49 MintHasTransferFee "the mint charges transfer fees (Token-2022 TransferFeeConfig), so deposits and payouts would not move the amounts both parties signed",
    50 MintHasTransferHook "the mint has a transfer hook: another program could block every deposit and payout",
    51 MintHasPermanentDelegate "the mint has a permanent delegate, who could take the locked tokens out of the vault",
    52 MintNonTransferable "the mint is non-transferable: locked tokens could never be paid out",
    53 MintPausable "the mint is pausable: its authority could stop every payout",
    54 MintDefaultFrozen "new token accounts of the mint start frozen (DefaultAccountState), so the vault could never take deposits",
    55 MintHasConfidentialTransfers "the mint has confidential transfers or confidential mint and burn, which move balances the channel cannot see",
    56 MintExtensionNotSupported "the mint has a Token-2022 extension paychan does not know to be safe for locked funds",
    57 InvalidSourceAccount "the source is not an initialized, unfrozen token account of the channel's mint",
    58 SourceNotOwnedByDepositor "the source token account is not owned by the depositor (a delegate may not deposit another owner's tokens)",
    59 TokenPayoutAccountMismatch "a payout token account is neither a usable token account of the party for the channel's mint nor the party's associated token account",
    60 DestinationCannotReceiveTokens "the destination is not an initialized, unfrozen token account of the channel's mint that takes transfers without a memo",
}

impl core::fmt::Display for PaychanError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.message())
    }
}

impl core::error::Error for PaychanError {}

impl PaychanError {
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
            assert!(e.to_string().len() > 10, "{e:?} has a message");
            let line = std::format!("paychan error {i} {e:?}: {e}");
            assert_eq!(e.log_line(), line);
        }
        assert_eq!(
            PaychanError::from_code(PaychanError::ALL.len() as u32),
            None
        );
    }
}
