//! The chain as the engine sees it, and what it asks of the chain: the vocabulary that the
//! engine and the watcher share, so that the watcher needs nothing of the engine.

use borsh::{BorshDeserialize, BorshSerialize};
use paychan_interface::{
    client::{self, ChannelAddress, CoSignedState},
    settlement::Payouts,
    Address,
};
use solana_instruction::Instruction;

/// What the engine knows of the channel account on-chain.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChainView {
    pub deposited_a: u64,
    pub deposited_b: u64,
    /// Set once a close is registered on-chain.
    pub closing: Option<RegisteredClose>,
    /// Unix seconds of the newest observation.
    pub now: i64,
}

impl ChainView {
    /// The engine's view of the channel account `account` at unix time `now`.
    pub fn of(account: &paychan_interface::channel::Channel, now: i64) -> Self {
        use paychan_interface::channel::ChannelStatus;
        let closing = (account.status == ChannelStatus::Closing).then_some(RegisteredClose {
            seq: account.registered.seq,
            deadline: account.deadline,
        });
        Self {
            deposited_a: account.deposited_a,
            deposited_b: account.deposited_b,
            closing,
            now,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegisteredClose {
    pub seq: u64,
    pub deadline: i64,
}

/// The balances a cooperative close pays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CloseTerms {
    pub seq: u64,
    pub balance_a: u64,
    pub balance_b: u64,
}

impl From<CloseTerms> for Payouts {
    fn from(t: CloseTerms) -> Self {
        Payouts {
            a: t.balance_a,
            b: t.balance_b,
        }
    }
}

/// A transaction the driver should build (from the interface builders) and submit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainRequest {
    /// Register this state (or the seq-0 state) and start the challenge period.
    StartClose(Option<CoSignedState>),
    /// Replace (or punish) an older registered state with this one.
    Dispute(CoSignedState),
    /// Pay out the registered state after the deadline.
    Finalize,
    /// Close cooperatively at these terms (needs the peer's signature on the transaction).
    CloseCooperative(CloseTerms),
}

impl ChainRequest {
    /// The instructions that carry it out for `channel`, sent by `submitter` (the registrant of
    /// a StartClose, the fee payer of a Dispute).
    /// A request that pays out first creates a token channel's missing payout accounts.
    pub fn instructions(&self, channel: &ChannelAddress, submitter: &Address) -> Vec<Instruction> {
        let pays_out = !matches!(self, ChainRequest::StartClose(_));
        let mut instructions = if pays_out {
            client::create_payout_accounts(channel, submitter)
        } else {
            Vec::new()
        };
        match self {
            ChainRequest::StartClose(Some(state)) => {
                instructions.extend(state.start_close(channel, submitter))
            }
            ChainRequest::StartClose(None) => {
                instructions.push(client::start_close(channel, submitter, false))
            }
            ChainRequest::Dispute(state) => instructions.extend(state.dispute(channel, submitter)),
            ChainRequest::Finalize => instructions.push(client::finalize(channel)),
            ChainRequest::CloseCooperative(terms) => instructions.push(client::close_cooperative(
                channel,
                terms.balance_a,
                terms.balance_b,
            )),
        }
        instructions
    }
}
