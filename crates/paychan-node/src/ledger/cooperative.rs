//! Co-signing the CloseCooperative transaction: it needs both parties' signatures on one
//! message. The requester builds it with a blockhash it fetched itself, signs it (and pays the
//! fee); the peer checks it is exactly the close of this channel at the agreed terms and sends
//! back only its signature; the requester completes and submits it. So the peer never
//! submits a transaction whose blockhash the other side chose, and never waits on the chain
//! for it.

use paychan_interface::{client, client::ChannelAddress, Address};
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
    #[error("the peer's signature on the close transaction does not verify")]
    BadCountersignature,
}

/// The close at `terms`, paid for and signed by `requester`: the requester keeps it, and
/// sends it serialized ([`serialize`]) to the peer.
pub fn request(
    channel: &ChannelAddress,
    terms: CloseTerms,
    requester: &Keypair,
    blockhash: Hash,
) -> Transaction {
    let mut transaction = unsigned(channel, terms, &requester.pubkey(), blockhash);
    transaction.partial_sign(&[requester], blockhash);
    transaction
}

pub fn serialize(transaction: &Transaction) -> Vec<u8> {
    bincode::serialize(transaction).unwrap_or_default()
}

/// Checks the requester's transaction and returns `signer`'s signature on it.
pub fn countersign(
    bytes: &[u8],
    channel: &ChannelAddress,
    terms: CloseTerms,
    signer: &Keypair,
) -> Result<[u8; 64], CosignError> {
    let transaction: Transaction =
        bincode::deserialize(bytes).map_err(|_| CosignError::Malformed)?;
    let payer = *transaction
        .message
        .account_keys
        .first()
        .ok_or(CosignError::Malformed)?;
    let expected = unsigned(channel, terms, &payer, transaction.message.recent_blockhash);
    let is_party = payer == channel.party_a || payer == channel.party_b;
    if transaction.message != expected.message || !is_party || payer == signer.pubkey() {
        return Err(CosignError::NotTheAgreedClose);
    }
    if !signature_verifies(&transaction, &payer) {
        return Err(CosignError::BadSignature);
    }
    Ok(signer.sign_message(&transaction.message_data()).into())
}

/// Adds the peer's `signature` (by `peer`) to the requester's transaction: ready to submit.
pub fn complete(
    mut transaction: Transaction,
    peer: &Address,
    signature: [u8; 64],
) -> Result<Transaction, CosignError> {
    let index = transaction
        .message
        .account_keys
        .iter()
        .position(|key| key == peer)
        .filter(|index| *index < transaction.signatures.len())
        .ok_or(CosignError::NotTheAgreedClose)?;
    transaction.signatures[index] = signature.into();
    if !signature_verifies(&transaction, peer) {
        return Err(CosignError::BadCountersignature);
    }
    Ok(transaction)
}

/// Whether `key`'s signature on `transaction` verifies.
fn signature_verifies(transaction: &Transaction, key: &Address) -> bool {
    let message = transaction.message_data();
    transaction
        .message
        .account_keys
        .iter()
        .zip(&transaction.signatures)
        .any(|(signer, signature)| signer == key && signature.verify(key.as_ref(), &message))
}

fn unsigned(
    channel: &ChannelAddress,
    terms: CloseTerms,
    payer: &Address,
    blockhash: Hash,
) -> Transaction {
    // A token channel's payout accounts are created first where missing (the requester pays).
    let mut instructions = client::create_payout_accounts(channel, payer);
    instructions.push(client::close_cooperative(
        channel,
        terms.balance_a,
        terms.balance_b,
    ));
    let message =
        solana_message::Message::new_with_blockhash(&instructions, Some(payer), &blockhash);
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
    fn the_peer_countersigns_exactly_the_agreed_close_and_the_requester_completes_it() {
        let (a, b, channel, terms) = setup();
        let built = request(&channel, terms, &a, Hash::new_from_array([1; 32]));
        let signature =
            countersign(&serialize(&built), &channel, terms, &b).expect("countersigned");
        let complete = complete(built, &b.pubkey(), signature).expect("complete");
        assert!(complete.is_signed());
        assert!(complete.verify().is_ok());
    }

    #[test]
    fn other_terms_garbage_or_a_forged_signature_are_refused() {
        let (a, b, channel, terms) = setup();
        let built = request(&channel, terms, &a, Hash::new_from_array([1; 32]));
        let bytes = serialize(&built);
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
        let mut forged = built.clone();
        forged.signatures[0] = solana_transaction::Signature::from([7u8; 64]);
        assert_eq!(
            countersign(&serialize(&forged), &channel, terms, &b).err(),
            Some(CosignError::BadSignature)
        );
        assert_eq!(
            complete(built, &b.pubkey(), [7; 64]).err(),
            Some(CosignError::BadCountersignature)
        );
    }
}
