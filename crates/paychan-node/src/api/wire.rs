//! The API's JSON bodies, shared by the server and its clients (the `paychan` CLI). Amounts are
//! lamports; addresses base58; payment ids 32 hex digits.

use serde::{Deserialize, Serialize};

/// Every error: one readable line, with the HTTP status saying what kind.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ErrorBody {
    pub error: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    pub wallet: String,
    pub signer: String,
    pub channels: usize,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ChannelInfo {
    pub channel: String,
    /// This node's side: "a" opened the channel, "b" was opened to.
    pub me: String,
    /// The counterparty's wallet.
    pub peer: String,
    pub connected: bool,
    /// The newest state: its seq and balances.
    pub seq: u64,
    pub balance_a: u64,
    pub balance_b: u64,
    /// The newest state both signed (what a unilateral close registers).
    pub co_signed_seq: Option<u64>,
    /// Payments waiting for the current round.
    pub queued: usize,
    pub closing: bool,
    /// The mint a token channel locks (null: lamports). Every amount of the channel, here
    /// and in its events and payments, is in this mint's base units (else lamports).
    pub mint: Option<String>,
    /// Decimals of those base units: the mint's, or 9 for lamports.
    pub decimals: u8,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PayRequest {
    /// Base units per payment (lamports, or the channel mint's), at least 1.
    pub amount: u64,
    /// How many payments (default 1, at most 100,000).
    #[serde(default)]
    pub count: Option<u64>,
    /// How long to wait without progress (default 10 s); what is not final stays queued.
    #[serde(default)]
    pub timeout_ms: Option<u64>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Paid {
    /// The payments' ids are `batch` followed by their index (0 … count − 1) as 8 bytes
    /// little-endian: 32 hex digits each.
    pub batch: String,
    /// The first payment's id (the only one's, for a single payment).
    pub first_id: String,
    pub count: u64,
    pub amount: u64,
    /// The newest co-signed state, which holds them all: their receipt.
    pub seq: u64,
    pub balance_a: u64,
    pub balance_b: u64,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    /// Register the newest co-signed state now instead of asking the peer.
    #[serde(default)]
    pub unilateral: bool,
    /// How long to wait for the peer's agreement before closing unilaterally (default 10 s).
    #[serde(default)]
    pub timeout_ms: Option<u64>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    /// Both signed: the close lands at once. Otherwise `seq` is registered and the node
    /// finalizes after the challenge period.
    pub cooperative: bool,
    pub seq: u64,
    pub balance_a: u64,
    pub balance_b: u64,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// Transactions the look at the chain landed (a dispute, a finalize).
    pub landed: usize,
}

/// A fully signed state: the receipt for the payments it added.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub seq: u64,
    pub balance_a: u64,
    pub balance_b: u64,
    /// The hash chain over every payment up to this state (64 hex digits).
    pub log_root: String,
    pub payments: Vec<PaymentRef>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct PaymentRef {
    pub id: String,
    pub amount: u64,
}

/// One event on `GET /v1/events`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventBody {
    /// A payment to this node is final: grant what it pays for.
    PaymentReceived {
        channel: String,
        id: String,
        amount: u64,
        seq: u64,
    },
    /// A payment this node made is final.
    PaymentSent {
        channel: String,
        id: String,
        amount: u64,
        seq: u64,
    },
    /// A payment this node asked for will never be made.
    PaymentDropped {
        channel: String,
        id: String,
        amount: u64,
        reason: String,
    },
    ChannelStarted {
        channel: String,
        me: String,
    },
    /// A channel opened to this node does not meet its policy; it signs nothing for it.
    ChannelRefused {
        channel: String,
        reason: String,
    },
    ChannelEnded {
        channel: String,
        reason: String,
    },
    CloseAgreed {
        channel: String,
        seq: u64,
        balance_a: u64,
        balance_b: u64,
    },
    /// This stream fell behind and skipped `missed` events: read the history to catch up.
    Lagged {
        missed: u64,
    },
}

impl From<&crate::engine::LogEntry> for Receipt {
    fn from(entry: &crate::engine::LogEntry) -> Self {
        use paychan_interface::client::log::Op;
        Self {
            seq: entry.state.seq,
            balance_a: entry.state.balance_a,
            balance_b: entry.state.balance_b,
            log_root: crate::node::hex(&entry.state.log_root),
            payments: entry
                .ops
                .iter()
                .map(|Op::Pay { amount, payment_id }| PaymentRef {
                    id: crate::node::hex(payment_id),
                    amount: *amount,
                })
                .collect(),
        }
    }
}
