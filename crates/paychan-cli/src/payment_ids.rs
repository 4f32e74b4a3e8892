//! How `pay` names its payments, in one place: a random batch, then the payment's index in it,
//! so `history` shows which `pay` made each payment.

/// A payment's id: its batch, then its index in the batch (little-endian).
pub fn payment_id(batch: [u8; 8], index: u64) -> [u8; 16] {
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&batch);
    id[8..].copy_from_slice(&index.to_le_bytes());
    id
}

/// A payment id as `pay` shows it: its batch in hex, a dash, its index in the batch.
pub fn payment_label(id: &[u8; 16]) -> String {
    let (batch, index) = id.split_at(8);
    let mut le = [0u8; 8];
    le.copy_from_slice(index);
    format!("{}-{}", crate::tower::hex(batch), u64::from_le_bytes(le))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_shows_the_batch_and_index_of_its_id() {
        let id = payment_id([0xab; 8], 9_999);
        assert_eq!(payment_label(&id), "abababababababab-9999");
    }
}
