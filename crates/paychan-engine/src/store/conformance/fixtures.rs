//! Deterministic test data for store tests: real engine types, arbitrary signature bytes.

use paychan_interface::{
    channel::Party,
    client::log::Op,
    state::{ChannelState, StateBinding},
    Address,
};

use crate::engine::{ChannelParams, CloseTerms, LogEntry, SignedByMe};

/// Params of the channel whose address is `[channel; 32]`, played by `me`.
pub fn params(channel: u8, me: Party) -> ChannelParams {
    ChannelParams {
        binding: StateBinding {
            program_id: Address::new_from_array([0x50; 32]),
            channel: address(channel),
            opened_slot: 7,
        },
        signer_a: Address::new_from_array([0xAA; 32]),
        signer_b: Address::new_from_array([0xBB; 32]),
        me,
    }
}

pub fn address(channel: u8) -> Address {
    Address::new_from_array([channel; 32])
}

pub fn state(seq: u64) -> ChannelState {
    ChannelState {
        seq,
        deposited_a: 1_000,
        deposited_b: 500,
        balance_a: 1_000u64.saturating_sub(seq),
        balance_b: 500u64.saturating_add(seq),
        log_root: [seq.to_le_bytes()[0]; 32],
    }
}

pub fn ops(seq: u64) -> Vec<Op> {
    let mut payment_id = [0u8; 16];
    payment_id[..8].copy_from_slice(&seq.to_le_bytes());
    vec![Op::Pay {
        amount: 1,
        payment_id,
    }]
}

/// A signature that tells who signed which seq.
pub fn signature(party: Party, seq: u64) -> [u8; 64] {
    let mut signature = [party as u8; 64];
    signature[..8].copy_from_slice(&seq.to_le_bytes());
    signature
}

pub fn entry(seq: u64) -> LogEntry {
    LogEntry {
        state: state(seq),
        ops: ops(seq),
        signature_a: signature(Party::A, seq),
        signature_b: signature(Party::B, seq),
    }
}

/// What `me` signed for `seq`: also what a fully signed [`entry`] yields for `me`.
pub fn signed(seq: u64, me: Party) -> SignedByMe {
    SignedByMe {
        state: state(seq),
        ops: ops(seq),
        signature: signature(me, seq),
    }
}

pub fn terms(seq: u64) -> CloseTerms {
    CloseTerms {
        seq,
        balance_a: 1_000u64.saturating_sub(seq),
        balance_b: 500u64.saturating_add(seq),
    }
}
