//! What the engine and the watcher need to know of a channel on-chain.

use paychan_interface::{
    channel::{Channel, ChannelStatus},
    Address,
};

use super::{Ledger, LedgerError};
use crate::engine::{ChainView, RegisteredClose};

/// Reads the channel and the clock into a [`ChainView`]; None once the channel is gone.
pub async fn chain_view<L: Ledger>(
    ledger: &mut L,
    channel: &Address,
) -> Result<Option<(Channel, ChainView)>, LedgerError> {
    let Some(account) = ledger.channel(channel).await? else {
        return Ok(None);
    };
    let now = ledger.unix_timestamp().await?;
    let closing = (account.status == ChannelStatus::Closing).then_some(RegisteredClose {
        seq: account.registered.seq,
        deadline: account.deadline,
    });
    Ok(Some((
        account,
        ChainView {
            deposited_a: account.deposited_a,
            deposited_b: account.deposited_b,
            closing,
            now,
        },
    )))
}
