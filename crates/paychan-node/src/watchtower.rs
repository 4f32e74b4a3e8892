//! A watchtower: a third key holding the newest co-signed states of channels it guards, which
//! disputes a stale registration (Dispute is permissionless) and finalizes after the window.
//!
//! It trusts nothing it is handed. Every state is checked against the channel's keys and
//! opening slot as the chain shows them, and the party wallets a payout names come from the
//! chain too: a forged or stale hand-off is refused and the best verified state stays. Each
//! channel is checked on its own, so one channel's failure never starves the others.

use std::collections::BTreeMap;

use paychan_interface::{
    client::{ChannelAddress, CoSignedState},
    state::StateBinding,
    Address,
};
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::{
    ledger::{sign_and_submit, view_of, GoneEvidence, Ledger, LedgerError, Sighting},
    watcher::{decide, ChainRequest},
};

/// States handed in between two ticks that wait for their check, per channel (the highest
/// seqs are kept): a flood of hand-offs costs bounded memory.
pub const MAX_UNVERIFIED: usize = 8;

/// Why a channel's check failed this tick; the tower tries again at the next.
#[derive(Debug, thiserror::Error)]
pub enum TowerError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(
        "refused the state for seq {seq}: it is not signed by the channel's keys on-chain for \
         this incarnation of the channel"
    )]
    Unverified { seq: u64 },
}

/// What one tick did, channel by channel.
#[derive(Debug, Default)]
pub struct TickReport {
    /// Transactions the tower landed.
    pub submitted: Vec<(Address, ChainRequest)>,
    /// Failures (refused states, unreadable chain, refused transactions): none stops the tower.
    pub errors: Vec<(Address, TowerError)>,
    /// Channels no longer guarded: settled, or gone on the evidence of [`GoneEvidence`].
    pub released: Vec<Address>,
}

#[derive(Debug)]
struct Guarded {
    program_id: Address,
    /// The newest state verified against the chain.
    best: Option<CoSignedState>,
    unverified: Vec<CoSignedState>,
    gone: GoneEvidence,
}

#[derive(Debug)]
pub struct Watchtower<L> {
    ledger: L,
    keypair: Keypair,
    guarded: BTreeMap<Address, Guarded>,
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

    /// Hands in `state` for the channel at `channel.address`, to be checked against the chain at
    /// the next tick. Only the program id and address are taken from `channel`.
    pub fn watch(&mut self, channel: ChannelAddress, state: CoSignedState) {
        let guarded = self
            .guarded
            .entry(channel.address)
            .or_insert_with(|| Guarded {
                program_id: channel.program_id,
                best: None,
                unverified: Vec::new(),
                gone: GoneEvidence::default(),
            });
        if guarded
            .best
            .as_ref()
            .is_some_and(|best| best.state.seq >= state.state.seq)
            || guarded.unverified.contains(&state)
        {
            return;
        }
        guarded.unverified.push(state);
        guarded
            .unverified
            .sort_by_key(|s| std::cmp::Reverse(s.state.seq));
        guarded.unverified.truncate(MAX_UNVERIFIED);
    }

    /// The newest verified state of a guarded channel.
    pub fn best(&self, channel: &Address) -> Option<&CoSignedState> {
        self.guarded.get(channel)?.best.as_ref()
    }

    /// Whether the tower still guards `channel`.
    pub fn guards(&self, channel: &Address) -> bool {
        self.guarded.contains_key(channel)
    }

    /// Checks every guarded channel once and submits what is due.
    pub async fn tick(&mut self) -> TickReport {
        let mut report = TickReport::default();
        let addresses: Vec<Address> = self.guarded.keys().copied().collect();
        for address in addresses {
            match self.check(&address, &mut report).await {
                Ok(true) => {
                    self.guarded.remove(&address);
                    report.released.push(address);
                }
                Ok(false) => {}
                Err(e) => report.errors.push((address, e)),
            }
        }
        report
    }

    /// One channel: verify what was handed in, then act. True once nothing is left to guard.
    async fn check(
        &mut self,
        address: &Address,
        report: &mut TickReport,
    ) -> Result<bool, TowerError> {
        let Some(guarded) = self.guarded.get_mut(address) else {
            return Ok(true);
        };
        let account = match guarded.gone.look(&mut self.ledger, address).await? {
            Sighting::Live(account) => account,
            Sighting::Unseen => return Ok(false),
            Sighting::Settled(_) | Sighting::Gone => return Ok(true),
        };
        let binding = StateBinding {
            program_id: guarded.program_id,
            channel: *address,
            opened_slot: account.opened_slot,
        };
        for state in std::mem::take(&mut guarded.unverified) {
            let verified = state.binding == binding
                && state.verify(&account.signer_a, &account.signer_b).is_ok();
            if !verified {
                report.errors.push((
                    *address,
                    TowerError::Unverified {
                        seq: state.state.seq,
                    },
                ));
            } else if guarded
                .best
                .is_none_or(|best| best.state.seq < state.state.seq)
            {
                guarded.best = Some(state);
            }
        }
        // A state of an earlier incarnation at this address proves nothing about this one.
        if guarded.best.is_some_and(|best| best.binding != binding) {
            guarded.best = None;
        }
        let best = guarded.best;
        let channel = ChannelAddress::of_account(&guarded.program_id, address, &account);
        let now = self.ledger.unix_timestamp().await?;
        let Some(request) = decide(best.as_ref(), &view_of(&account, now)) else {
            return Ok(false);
        };
        if !matches!(request, ChainRequest::Dispute(_) | ChainRequest::Finalize) {
            return Ok(false); // only a party registers or closes cooperatively
        }
        let instructions = request.instructions(&channel, &self.keypair.pubkey());
        sign_and_submit(&mut self.ledger, &instructions, &[&self.keypair]).await?;
        report.submitted.push((*address, request));
        Ok(false)
    }
}
