//! The operation log both parties replicate, and its SHA-256 hash chain (protocol §6). A state's
//! `log_root` commits to every operation up to its seq, so a fully signed state is a receipt
//! for each payment in the log.

use borsh::{BorshDeserialize, BorshSerialize};
use sha2::{Digest, Sha256};

use crate::Address;

pub const LOG_DOMAIN: &[u8] = b"paychan/log/v1";

/// One operation in a log entry. Room for more kinds: append variants, never reorder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, BorshSerialize, BorshDeserialize)]
pub enum Op {
    /// The proposer pays the other party `amount` lamports.
    Pay { amount: u64, payment_id: [u8; 16] },
}

/// `log_root_0 = SHA-256("paychan/log/v1" ‖ channel)`.
pub fn genesis_log_root(channel: &Address) -> [u8; 32] {
    Sha256::new()
        .chain_update(LOG_DOMAIN)
        .chain_update(channel.as_ref())
        .finalize()
        .into()
}

/// `log_root_k = SHA-256(log_root_{k−1} ‖ seq_k (u64 LE) ‖ borsh(ops_k))`.
pub fn next_log_root(previous: &[u8; 32], seq: u64, ops: &[Op]) -> [u8; 32] {
    let mut hasher = Sha256::new()
        .chain_update(previous)
        .chain_update(seq.to_le_bytes());
    ops.serialize(&mut hasher)
        .expect("writing into a hasher cannot fail");
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pay(amount: u64, id: u8) -> Op {
        Op::Pay {
            amount,
            payment_id: [id; 16],
        }
    }

    #[test]
    fn ops_encode_as_borsh_with_a_variant_tag() {
        let bytes = borsh::to_vec(&[pay(5, 1)][..]).expect("encode");
        let mut expected = 1u32.to_le_bytes().to_vec();
        expected.push(0);
        expected.extend_from_slice(&5u64.to_le_bytes());
        expected.extend_from_slice(&[1; 16]);
        assert_eq!(bytes, expected);
    }

    #[test]
    fn the_chain_commits_to_channel_seq_and_every_op() {
        let channel = Address::new_from_array([4; 32]);
        let root0 = genesis_log_root(&channel);
        assert_ne!(root0, genesis_log_root(&Address::new_from_array([5; 32])));
        let root1 = next_log_root(&root0, 1, &[pay(5, 1)]);
        assert_ne!(root1, next_log_root(&root0, 2, &[pay(5, 1)]));
        assert_ne!(root1, next_log_root(&root0, 1, &[pay(6, 1)]));
        assert_ne!(root1, next_log_root(&root0, 1, &[pay(5, 2)]));
        assert_ne!(root1, next_log_root(&root0, 1, &[pay(5, 1), pay(5, 1)]));
        assert_eq!(root1, next_log_root(&root0, 1, &[pay(5, 1)]));
    }
}
