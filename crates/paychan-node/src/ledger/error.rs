//! Why a ledger operation failed, with the program's own error decoded for people.

use paychan_interface::{error::PaychanError, Address};
use solana_transaction_error::TransactionError;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("instruction {index} was refused by the paychan program: {error} (code {})", error.code())]
    Program { index: u8, error: PaychanError },
    #[error("the transaction was refused: {0}")]
    Transaction(TransactionError),
    #[error("account {0} is not a paychan channel: {1}")]
    NotAChannel(Address, PaychanError),
    #[error("the ledger could not be reached: {0}")]
    Unreachable(String),
    #[error("the ledger returned data that could not be decoded: {0}")]
    Decode(String),
    #[error("this ledger backend cannot do this: {0}")]
    Unsupported(String),
}

impl From<TransactionError> for LedgerError {
    fn from(error: TransactionError) -> Self {
        use solana_transaction_error::TransactionError::InstructionError;
        if let InstructionError(index, solana_instruction::error::InstructionError::Custom(code)) =
            &error
        {
            if let Some(paychan) = PaychanError::from_code(*code) {
                return Self::Program {
                    index: *index,
                    error: paychan,
                };
            }
        }
        Self::Transaction(error)
    }
}

impl LedgerError {
    /// The paychan error, if the program refused the transaction.
    pub fn paychan_error(&self) -> Option<PaychanError> {
        match self {
            Self::Program { error, .. } => Some(*error),
            _ => None,
        }
    }
}
