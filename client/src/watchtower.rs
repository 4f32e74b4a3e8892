//! A watchtower: a third key holding the newest co-signed states of channels it guards, which
//! disputes a stale registration (Dispute is permissionless) and finalizes after the window.

use std::collections::BTreeMap;

use paychan_interface::{
    client::{self, ChannelAddress, CoSignedState},
    Address,
};
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::{
    ledger::{chain_view, sign_and_submit, Ledger, LedgerError},
    watcher::{decide, ChainRequest},
};

#[derive(Debug)]
pub struct Watchtower<L> {
    ledger: L,
    keypair: Keypair,
    guarded: BTreeMap<Address, (ChannelAddress, CoSignedState)>,
}

impl<L: Ledger> Watchtower<L> {
    /// `keypair` pays the fees of what the tower submits.
    pub fn new(ledger: L, keypair: Keypair) -> Self {
        Self {
            ledger,
            keypair,
            guarded: BTreeMap::new(),
        }
    }

    /// Guards `channel` with `state`, keeping whichever state is newer.
    pub fn watch(&mut self, channel: ChannelAddress, state: CoSignedState) {
        let entry = self
            .guarded
            .entry(channel.address)
            .or_insert((channel, state));
        if state.state.seq > entry.1.state.seq {
            entry.1 = state;
        }
    }

    /// Checks every guarded channel once and submits what is due; returns what it submitted.
    pub async fn tick(&mut self) -> Result<Vec<(Address, ChainRequest)>, LedgerError> {
        let mut submitted = Vec::new();
        let guarded: Vec<_> = self.guarded.values().copied().collect();
        for (channel, state) in guarded {
            let Some((_, view)) = chain_view(&mut self.ledger, &channel.address).await? else {
                self.guarded.remove(&channel.address);
                continue;
            };
            let Some(request) = decide(Some(&state), &view) else {
                continue;
            };
            let me = self.keypair.pubkey();
            let instructions = match &request {
                ChainRequest::Dispute(state) => state.dispute(&channel, &me).to_vec(),
                ChainRequest::Finalize => vec![client::finalize(&channel)],
                ChainRequest::StartClose(_) | ChainRequest::CloseCooperative(_) => continue,
            };
            sign_and_submit(&mut self.ledger, &instructions, &[&self.keypair]).await?;
            submitted.push((channel.address, request));
        }
        Ok(submitted)
    }
}
