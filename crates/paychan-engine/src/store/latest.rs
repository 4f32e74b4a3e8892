//! The per-channel recovery summary every store keeps, and how records update it. Stores
//! persist it (borsh), so its layout is part of their on-disk format.

use borsh::{BorshDeserialize, BorshSerialize};
use paychan_interface::channel::Party;

use crate::engine::{CloseTerms, LogEntry, Proposed, Record, Recovered, SignedByMe};

/// Everything [`Recovered`] needs except the newest entry itself, which lives in the log.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Latest {
    pub newest_seq: Option<u64>,
    pub signed: Option<SignedByMe>,
    pub proposed: Option<Proposed>,
    pub closing: Option<CloseTerms>,
    pub unilateral: bool,
}

impl Latest {
    /// Folds one record in. Seqs never go back: a record for a lower seq than what is already
    /// known (a replayed or late write) leaves `newest` and `signed` alone.
    pub fn apply(&mut self, me: Party, record: &Record) {
        match record {
            Record::Signed(signed) => self.raise_signed(signed.clone()),
            Record::FullySigned(entry) => {
                let seq = entry.state.seq;
                if self.newest_seq.is_none_or(|newest| newest <= seq) {
                    self.newest_seq = Some(seq);
                }
                self.raise_signed(entry.signed_by(me));
            }
            Record::Proposed(proposed) => {
                if self
                    .proposed
                    .as_ref()
                    .is_none_or(|current| current.state.seq <= proposed.state.seq)
                {
                    self.proposed = Some(proposed.clone());
                }
            }
            Record::Closing(terms) => self.closing = Some(*terms),
            Record::Unilateral => self.unilateral = true,
            Record::ProposalWithdrawn { seq } => {
                if self.proposed.as_ref().is_some_and(|p| p.state.seq == *seq) {
                    self.proposed = None;
                }
            }
        }
    }

    fn raise_signed(&mut self, signed: SignedByMe) {
        if self
            .signed
            .as_ref()
            .is_none_or(|current| current.state.seq <= signed.state.seq)
        {
            self.signed = Some(signed);
        }
    }

    /// The snapshot, given the log entry at `newest_seq`.
    pub fn into_recovered(self, newest: Option<LogEntry>) -> Recovered {
        Recovered {
            newest,
            signed: self.signed,
            proposed: self.proposed,
            closing: self.closing,
            unilateral: self.unilateral,
        }
    }
}
