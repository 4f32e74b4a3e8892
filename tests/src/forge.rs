//! Building blocks for attacks: non-canonical Ed25519 precompile instructions and instructions
//! with tampered account metas.

use ed25519_dalek::{Signer as _, SigningKey};
use paychan_interface::{
    client::CoSignedState,
    ed25519::{ed25519_instruction_data, PartySignature},
    ED25519_PROGRAM_ID,
};
use solana_instruction::Instruction;

/// A valid precompile instruction in the common "pubkey ‖ signature ‖ message" layout, one
/// record per `(key, message)`, with every instruction index set to `instruction_index`.
/// The runtime verifies it; the program must still refuse anything but the canonical form.
pub fn ed25519_any_layout(signers: &[(&SigningKey, &[u8])], instruction_index: u16) -> Instruction {
    let header = 2 + 14 * signers.len();
    let mut offsets = Vec::new();
    let mut payload = Vec::new();
    for (key, message) in signers {
        let at = header + payload.len();
        let (pubkey_at, signature_at, message_at) = (at, at + 32, at + 96);
        payload.extend_from_slice(key.verifying_key().as_bytes());
        payload.extend_from_slice(&key.sign(message).to_bytes());
        payload.extend_from_slice(message);
        for v in [
            signature_at as u16,
            instruction_index,
            pubkey_at as u16,
            instruction_index,
            message_at as u16,
            message.len() as u16,
            instruction_index,
        ] {
            offsets.extend_from_slice(&v.to_le_bytes());
        }
    }
    let mut data = vec![signers.len() as u8, 0];
    data.extend(offsets);
    data.extend(payload);
    Instruction {
        program_id: ED25519_PROGRAM_ID,
        accounts: vec![],
        data,
    }
}

/// Signatures by A and B over one shared `message`, in the 382-byte "pubkey ‖ signature" order
/// (pk_a, sig_a, pk_b, sig_b, message): right length, valid signatures, other offsets.
pub fn ed25519_pubkey_first(a: &SigningKey, b: &SigningKey, message: &[u8; 160]) -> Instruction {
    let header = 2 + 2 * 14;
    let (pk_a, sig_a, pk_b, sig_b, msg) =
        (header, header + 32, header + 96, header + 128, header + 192);
    let mut data = vec![0u8; msg + message.len()];
    data[0] = 2;
    for (record, (sig, pk)) in [(sig_a, pk_a), (sig_b, pk_b)].into_iter().enumerate() {
        let fields = [sig, 0xFFFF, pk, 0xFFFF, msg, message.len(), 0xFFFF];
        for (i, v) in fields.into_iter().enumerate() {
            let at = 2 + record * 14 + i * 2;
            data[at..at + 2].copy_from_slice(&(v as u16).to_le_bytes());
        }
    }
    for (key, pk, sig) in [(a, pk_a, sig_a), (b, pk_b, sig_b)] {
        data[pk..pk + 32].copy_from_slice(key.verifying_key().as_bytes());
        data[sig..sig + 64].copy_from_slice(&key.sign(message).to_bytes());
    }
    data[msg..].copy_from_slice(message);
    data_instruction(data)
}

/// The canonical layout, but with the two signatures in the order B, A.
pub fn ed25519_swapped(state: &CoSignedState) -> Instruction {
    data_instruction(
        ed25519_instruction_data(&state.b, &state.a, &state.state.message(&state.binding)).to_vec(),
    )
}

/// The canonical layout, with every instruction index pointing at instruction `index` (the
/// precompile itself when it is first) instead of `u16::MAX`.
pub fn ed25519_indexed(state: &CoSignedState, index: u16) -> Instruction {
    let mut data = state.ed25519_instruction().data;
    for record in 0..2 {
        for field in [1, 3, 6] {
            let at = 2 + record * 14 + field * 2;
            data[at..at + 2].copy_from_slice(&index.to_le_bytes());
        }
    }
    data_instruction(data)
}

/// The canonical layout over arbitrary 160 bytes signed by both keys.
pub fn ed25519_over(a: &SigningKey, b: &SigningKey, message: &[u8; 160]) -> Instruction {
    let sign = |k: &SigningKey| PartySignature {
        pubkey: k.verifying_key().to_bytes(),
        signature: k.sign(message).to_bytes(),
    };
    data_instruction(ed25519_instruction_data(&sign(a), &sign(b), message).to_vec())
}

fn data_instruction(data: Vec<u8>) -> Instruction {
    Instruction {
        program_id: ED25519_PROGRAM_ID,
        accounts: vec![],
        data,
    }
}

/// `ix` with account `index` marked as not signing.
pub fn unsigned(mut ix: Instruction, index: usize) -> Instruction {
    ix.accounts[index].is_signer = false;
    ix
}

/// `ix` with account `index` marked read-only.
pub fn readonly(mut ix: Instruction, index: usize) -> Instruction {
    ix.accounts[index].is_writable = false;
    ix
}

/// `ix` with account `index` replaced by `address` (same signer/writable flags).
pub fn replaced(
    mut ix: Instruction,
    index: usize,
    address: paychan_interface::Address,
) -> Instruction {
    ix.accounts[index].pubkey = address;
    ix
}
