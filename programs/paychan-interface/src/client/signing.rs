//! Signing and verifying channel states with ed25519-dalek, and the precompile instruction
//! that carries a co-signed state to the program.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use solana_instruction::Instruction;

use super::builders::{dispute, start_close, ChannelAddress};
use crate::{
    ed25519::{ed25519_instruction_data, PartySignature},
    state::{ChannelState, StateBinding},
    Address, ED25519_PROGRAM_ID,
};

/// Why a state signature was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signer key is not a valid Ed25519 public key")]
    InvalidPublicKey,
    #[error("the signature does not verify for this state and key")]
    InvalidSignature,
}

/// Signs the exact protocol §5 bytes of `state` for `binding`'s channel.
pub fn sign_state(
    key: &SigningKey,
    state: &ChannelState,
    binding: &StateBinding,
) -> PartySignature {
    PartySignature {
        pubkey: key.verifying_key().to_bytes(),
        signature: key.sign(&state.message(binding)).to_bytes(),
    }
}

/// Strict verification (no malleable or small-order signatures) of one party's signature.
pub fn verify_state_signature(
    signature: &PartySignature,
    state: &ChannelState,
    binding: &StateBinding,
) -> Result<(), SignatureError> {
    let key = VerifyingKey::from_bytes(&signature.pubkey)
        .map_err(|_| SignatureError::InvalidPublicKey)?;
    key.verify_strict(
        &state.message(binding),
        &Signature::from_bytes(&signature.signature),
    )
    .map_err(|_| SignatureError::InvalidSignature)
}

/// A state signed by both parties: a receipt for every payment up to `state.seq`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoSignedState {
    pub binding: StateBinding,
    pub state: ChannelState,
    pub a: PartySignature,
    pub b: PartySignature,
}

impl CoSignedState {
    /// Checks both signatures strictly, and that they are by `party_a` and `party_b`.
    pub fn verify(&self, party_a: &Address, party_b: &Address) -> Result<(), SignatureError> {
        if self.a.pubkey != party_a.to_bytes() || self.b.pubkey != party_b.to_bytes() {
            return Err(SignatureError::InvalidPublicKey);
        }
        verify_state_signature(&self.a, &self.state, &self.binding)?;
        verify_state_signature(&self.b, &self.state, &self.binding)
    }

    /// The Ed25519 precompile instruction proving both signatures.
    pub fn ed25519_instruction(&self) -> Instruction {
        let data = ed25519_instruction_data(&self.a, &self.b, &self.state.message(&self.binding));
        Instruction {
            program_id: ED25519_PROGRAM_ID,
            accounts: std::vec::Vec::new(),
            data: data.to_vec(),
        }
    }

    /// `[precompile, StartClose]`: register this state.
    pub fn start_close(&self, channel: &ChannelAddress, registrant: &Address) -> [Instruction; 2] {
        [
            self.ed25519_instruction(),
            start_close(channel, registrant, true),
        ]
    }

    /// `[precompile, Dispute]`: bring this state against an older registered one.
    pub fn dispute(&self, channel: &ChannelAddress, submitter: &Address) -> [Instruction; 2] {
        [self.ed25519_instruction(), dispute(channel, submitter)]
    }
}
