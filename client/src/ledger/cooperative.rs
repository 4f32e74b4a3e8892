//! Co-signing the CloseCooperative transaction: it needs both parties' signatures on one
//! message. The requester builds and signs it (and pays the fee); the peer checks it is exactly
//! the close of this channel at the agreed terms before adding its signature.

use paychan_interface::{client, client::ChannelAddress};
use solana_hash::Hash;
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction::Transaction;

use crate::engine::CloseTerms;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CosignError {
    #[error("the close transaction could not be decoded")]
    Malformed,
    #[error(
        "the transaction is not exactly the cooperative close of this channel at the agreed terms"
    )]
    NotTheAgreedClose,
    #[error("the requester's signature on the close transaction does not verify")]
    BadSignature,
}

/// The close at `terms`, paid for and signed by `requester`, serialized for the peer.
pub fn request(
    channel: &ChannelAddress,
    terms: CloseTerms,
    requester: &Keypair,
    blockhash: Hash,
) -> Vec<u8> {
    let mut transaction = unsigned(channel, terms, &requester.pubkey(), blockhash);
    transaction.partial_sign(&[requester], blockhash);
    bincode::serialize(&transaction).unwrap_or_default()
}

/// Checks the requester's transaction and adds `signer`'s signature: ready to submit.
pub fn countersign(
    bytes: &[u8],
    channel: &ChannelAddress,
    terms: CloseTerms,
    signer: &Keypair,
) -> Result<Transaction, CosignError> {
    let mut transaction: Transaction =
        bincode::deserialize(bytes).map_err(|_| CosignError::Malformed)?;
    let payer = *transaction
        .message
        .account_keys
        .first()
        .ok_or(CosignError::Malformed)?;
    let blockhash = transaction.message.recent_blockhash;
    let expected = unsigned(channel, terms, &payer, blockhash);
    let is_party = payer == channel.party_a || payer == channel.party_b;
    if transaction.message != expected.message || !is_party || payer == signer.pubkey() {
        return Err(CosignError::NotTheAgreedClose);
    }
    transaction.partial_sign(&[signer], blockhash);
    transaction
        .verify()
        .map_err(|_| CosignError::BadSignature)?;
    Ok(transaction)
}

fn unsigned(
    channel: &ChannelAddress,
    terms: CloseTerms,
    payer: &paychan_interface::Address,
    blockhash: Hash,
) -> Transaction {
    let instruction = client::close_cooperative(channel, terms.balance_a, terms.balance_b);
    let message =
        solana_message::Message::new_with_blockhash(&[instruction], Some(payer), &blockhash);
    Transaction::new_unsigned(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (Keypair, Keypair, ChannelAddress, CloseTerms) {
        let (a, b) = (Keypair::new(), Keypair::new());
        let channel = ChannelAddress::derive(&paychan_interface::ID, &a.pubkey(), &b.pubkey(), 7);
        let terms = CloseTerms {
            seq: 3,
            balance_a: 10,
            balance_b: 20,
        };
        (a, b, channel, terms)
    }

    #[test]
    fn the_peer_countersigns_exactly_the_agreed_close() {
        let (a, b, channel, terms) = setup();
        let bytes = request(&channel, terms, &a, Hash::new_from_array([1; 32]));
        let tx = countersign(&bytes, &channel, terms, &b).expect("countersigned");
        assert!(tx.is_signed());
    }

    #[test]
    fn other_terms_garbage_or_a_forged_signature_are_refused() {
        let (a, b, channel, terms) = setup();
        let bytes = request(&channel, terms, &a, Hash::new_from_array([1; 32]));
        let other = CloseTerms {
            balance_a: 0,
            balance_b: 30,
            ..terms
        };
        assert_eq!(
            countersign(&bytes, &channel, other, &b).err(),
            Some(CosignError::NotTheAgreedClose)
        );
        assert_eq!(
            countersign(&bytes[..10], &channel, terms, &b).err(),
            Some(CosignError::Malformed)
        );
        let mut forged: Transaction = bincode::deserialize(&bytes).expect("decode");
        forged.signatures[0] = solana_transaction::Signature::from([7u8; 64]);
        let forged = bincode::serialize(&forged).expect("encode");
        assert_eq!(
            countersign(&forged, &channel, terms, &b).err(),
            Some(CosignError::BadSignature)
        );
    }
}
