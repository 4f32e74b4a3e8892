//! Watching the chain for a channel: given the newest co-signed state and what the chain shows,
//! decide what to submit. Pure, so a party's client and a watchtower (which holds only
//! co-signed states) share it. Dispute is permissionless, so a watchtower can submit it.

use paychan_interface::client::CoSignedState;

pub use crate::chain::ChainRequest;
use crate::chain::ChainView;

/// What to do about a channel now, if anything.
pub fn decide(newest: Option<&CoSignedState>, chain: &ChainView) -> Option<ChainRequest> {
    let registered = chain.closing?;
    if chain.now > registered.deadline {
        return Some(ChainRequest::Finalize);
    }
    let newest = newest?;
    (newest.state.seq > registered.seq).then_some(ChainRequest::Dispute(*newest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::RegisteredClose;
    use paychan_interface::{
        ed25519::PartySignature,
        state::{ChannelState, StateBinding},
        Address,
    };

    fn cosigned(seq: u64) -> CoSignedState {
        let sig = PartySignature {
            pubkey: [0; 32],
            signature: [0; 64],
        };
        CoSignedState {
            binding: StateBinding {
                program_id: paychan_interface::ID,
                channel: Address::new_from_array([1; 32]),
                opened_slot: 1,
            },
            state: ChannelState {
                seq,
                ..ChannelState::default()
            },
            a: sig,
            b: sig,
        }
    }

    fn closing(seq: u64, deadline: i64, now: i64) -> ChainView {
        ChainView {
            closing: Some(RegisteredClose { seq, deadline }),
            now,
            ..ChainView::default()
        }
    }

    #[test]
    fn disputes_an_older_registered_state_inside_the_window() {
        let newest = cosigned(7);
        assert_eq!(
            decide(Some(&newest), &closing(5, 100, 100)),
            Some(ChainRequest::Dispute(newest))
        );
    }

    #[test]
    fn does_nothing_when_the_registered_state_is_current_or_the_channel_open() {
        assert_eq!(decide(Some(&cosigned(7)), &closing(7, 100, 50)), None);
        assert_eq!(decide(Some(&cosigned(7)), &ChainView::default()), None);
        assert_eq!(decide(None, &closing(0, 100, 50)), None);
    }

    #[test]
    fn finalizes_after_the_deadline() {
        assert_eq!(
            decide(Some(&cosigned(7)), &closing(5, 100, 101)),
            Some(ChainRequest::Finalize)
        );
    }
}
