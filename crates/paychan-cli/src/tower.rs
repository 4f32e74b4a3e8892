//! The watchtower hand-off: a party's node keeps a file with the newest co-signed state of
//! each channel (`paychan node --tower-dir`), and a third key guards the channel from it
//! (`paychan watch --tower FILE`), disputing a stale registration and finalizing after the
//! window while the party is offline. The file holds nothing secret: states are public once
//! registered, and anyone may submit them.

use std::path::Path;

use paychan_interface::{
    client::{ChannelAddress, CoSignedState},
    ed25519::PartySignature,
    state::{ChannelState, StateBinding},
    Address,
};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, PartialEq, Eq)]
struct TowerFile {
    program_id: String,
    channel: String,
    party_a: String,
    party_b: String,
    /// The keys that signed the state for A and B (the wallets, or session keys).
    signer_a: String,
    signer_b: String,
    nonce: u64,
    bump: u8,
    opened_slot: u64,
    /// For people reading the file; the signed message is what counts.
    seq: u64,
    /// The signed message (hex): the state and what binds it to this channel.
    message: String,
    signature_a: String,
    signature_b: String,
}

/// Writes `state` for `channel` to `path`, atomically (a tower never reads half a file).
pub fn write(path: &Path, channel: &ChannelAddress, state: &CoSignedState) -> Result<(), String> {
    let file = TowerFile {
        program_id: channel.program_id.to_string(),
        channel: channel.address.to_string(),
        party_a: channel.party_a.to_string(),
        party_b: channel.party_b.to_string(),
        signer_a: Address::new_from_array(state.a.pubkey).to_string(),
        signer_b: Address::new_from_array(state.b.pubkey).to_string(),
        nonce: channel.nonce,
        bump: channel.bump,
        opened_slot: state.binding.opened_slot,
        seq: state.state.seq,
        message: hex(&state.state.message(&state.binding)),
        signature_a: hex(&state.a.signature),
        signature_b: hex(&state.b.signature),
    };
    let text = serde_json::to_string_pretty(&file).map_err(|e| e.to_string())?;
    // A crash leaves the old file or the new one: a tower never reads half a file.
    paychan_durable::write_atomically(path, text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Reads a tower file. Nothing in it is trusted: the tower verifies the state against the chain.
pub fn read(path: &Path) -> Result<(ChannelAddress, CoSignedState), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let file: TowerFile = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a tower file: {e}", path.display()))?;
    let bad = |what: &str| format!("{}: invalid {what}", path.display());
    let address = |text: &str, what: &str| text.parse::<Address>().map_err(|_| bad(what));
    let channel = ChannelAddress {
        program_id: address(&file.program_id, "program_id")?,
        party_a: address(&file.party_a, "party_a")?,
        party_b: address(&file.party_b, "party_b")?,
        nonce: file.nonce,
        address: address(&file.channel, "channel")?,
        bump: file.bump,
        // The tower reads a token channel's mint and vault from the chain (`of_account`).
        token: None,
    };
    let (signer_a, signer_b) = (
        address(&file.signer_a, "signer_a")?,
        address(&file.signer_b, "signer_b")?,
    );
    let binding = StateBinding {
        program_id: channel.program_id,
        channel: channel.address,
        opened_slot: file.opened_slot,
    };
    let message = unhex(&file.message).ok_or_else(|| bad("message"))?;
    let state = ChannelState::from_message(&message, &binding).map_err(|e| bad(&e.to_string()))?;
    if state.seq != file.seq {
        return Err(bad("seq (it differs from the signed message)"));
    }
    let signature = |text: &str, party: &Address, what: &str| {
        let bytes: [u8; 64] = unhex(text)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| bad(what))?;
        Ok::<_, String>(PartySignature {
            pubkey: party.to_bytes(),
            signature: bytes,
        })
    };
    // Signatures are checked by the tower against the keys the chain records for the
    // channel: keys named in the file itself would prove nothing.
    Ok((
        channel,
        CoSignedState {
            binding,
            state,
            a: signature(&file.signature_a, &signer_a, "signature_a")?,
            b: signature(&file.signature_b, &signer_b, "signature_b")?,
        },
    ))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}
