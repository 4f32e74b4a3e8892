//! What the engine and the watcher need to know of a channel on-chain, and when a guard may
//! conclude that nothing is left to guard.

use paychan_interface::{
    channel::{Channel, ChannelStatus},
    Address,
};

use super::{Ledger, LedgerError};
use crate::engine::ChainView;

/// Reads the channel and the clock into a [`ChainView`]; None when no channel account shows
/// (which alone proves nothing: see [`GoneEvidence`]).
pub async fn chain_view<L: Ledger>(
    ledger: &mut L,
    channel: &Address,
) -> Result<Option<(Channel, ChainView)>, LedgerError> {
    let Some(account) = ledger.channel(channel).await? else {
        return Ok(None);
    };
    let now = ledger.unix_timestamp().await?;
    Ok(Some((account, view_of(&account, now))))
}

/// The engine's view of `account` at unix time `now`.
pub fn view_of(account: &Channel, now: i64) -> ChainView {
    ChainView::of(account, now)
}

/// Reads in a row that must find no channel account before a guard stops.
pub const GONE_AFTER_READS: u32 = 3;

/// What a guard (a runtime, `paychan watch`, a watchtower) sees of its channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sighting {
    /// The channel is there, open or closing: guard it.
    Live(Channel),
    /// Settled, a share waiting for Withdraw: nothing left to guard.
    Settled(Channel),
    /// Gone for good, on the evidence [`GoneEvidence`] asks for.
    Gone,
    /// No account showed, which alone proves nothing yet.
    Unseen,
}

/// Whether a channel is gone for good. One null or 0-lamport reply from a lagging or
/// load-balanced RPC node must not end a guard (the opener would then register a stale
/// state unopposed): the channel counts as gone only after [`GONE_AFTER_READS`] reads in a
/// row found nothing and a read at the `finalized` commitment agrees.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GoneEvidence {
    absent_reads: u32,
}

impl GoneEvidence {
    /// Reads `channel` and says what a guard should make of it, counting empty reads.
    pub async fn look<L: Ledger>(
        &mut self,
        ledger: &mut L,
        channel: &Address,
    ) -> Result<Sighting, LedgerError> {
        if let Some(account) = ledger.channel(channel).await? {
            // The channel showed up: any run of empty reads was a lagging node.
            self.absent_reads = 0;
            return Ok(match account.status {
                ChannelStatus::Settled => Sighting::Settled(account),
                ChannelStatus::Open | ChannelStatus::Closing => Sighting::Live(account),
            });
        }
        self.absent_reads = self.absent_reads.saturating_add(1);
        if self.absent_reads < GONE_AFTER_READS {
            return Ok(Sighting::Unseen);
        }
        if ledger.channel_finalized(channel).await?.is_some() {
            self.absent_reads = 0;
            return Ok(Sighting::Unseen);
        }
        Ok(Sighting::Gone)
    }
}
