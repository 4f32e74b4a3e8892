//! Why the engine refused a command or a peer message. Refusals change nothing.

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("a payment must be greater than zero")]
    ZeroPayment,
    #[error("the balance is too small for this payment")]
    InsufficientBalance,
    #[error("a round must carry between 1 and 4096 operations, not {0}")]
    BadOpCount(usize),
    #[error("the proposal's deposit counters are lower than the newest state's")]
    DepositsWentBackwards,
    #[error("the peer counts a deposit this party's chain view does not show")]
    DepositsNotSeen,
    #[error("arithmetic overflow")]
    Overflow,
    #[error("the channel is closing: no more payments")]
    Closing,
    #[error("a close is registered on-chain: no more payments")]
    ClosingOnChain,
    #[error(
        "the peer already signed a different state for seq {0}, one this store does not hold: \
         the store lost writes (restored from an old copy?); stopped so nothing stale is signed"
    )]
    PeerSignedOtherState(u64),
    #[error("the proposed state does not follow from the newest state and its operations")]
    StateMismatch,
    #[error("the peer's signature does not verify")]
    BadSignature,
    #[error("the peer asked for a second, different signature on seq {0}")]
    Equivocation(u64),
    #[error("unexpected {message} for seq {seq}")]
    Unexpected { message: &'static str, seq: u64 },
    #[error("the close terms do not match this party's newest state")]
    CloseTermsMismatch,
}
