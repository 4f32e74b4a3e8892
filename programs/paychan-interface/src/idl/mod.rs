//! The paychan program as a [Codama](https://github.com/codama-idl/codama) IDL: instructions,
//! the channel account and its PDA, the registered state, and every error with its message.
//!
//! Built from the interface crate's constants (program id, tags, seed, discriminator, version,
//! sizes, the error table), so it cannot drift from the program; the tests decode bytes the
//! interface writes with nothing but this description. `paychan idl` prints it; the committed
//! copy is `idl/paychan.json`, from which `scripts/generate-clients.sh` renders the TypeScript
//! client. What Codama cannot describe (the 160 signed bytes, the two-signature Ed25519
//! instruction) is hand-written beside the generated code.

// A no_std crate: what the std prelude would bring.
use std::{format, vec};
use std::{
    string::{String, ToString},
    vec::Vec,
};

mod nodes;
#[cfg(test)]
mod tests;

use crate::{
    channel::{CHANNEL_ACCOUNT_LEN, CHANNEL_DISCRIMINATOR, CHANNEL_VERSION},
    error::PaychanError,
    instruction::tag,
    pda::CHANNEL_SEED,
    INSTRUCTIONS_SYSVAR_ID, SYSTEM_PROGRAM_ID,
};
use serde_json::{json, Value};

use nodes::*;

/// The Codama spec version of the document (what codama 1.10's `rootNode` writes).
const CODAMA_STANDARD_VERSION: &str = "1.8.0";

/// The IDL as pretty-printed JSON with a final newline, exactly as committed.
pub fn codama_idl_json() -> String {
    let mut text = serde_json::to_string_pretty(&codama_idl()).unwrap_or_default();
    text.push('\n');
    text
}

pub fn codama_idl() -> Value {
    json!({
        "kind": "rootNode",
        "standard": "codama",
        "version": CODAMA_STANDARD_VERSION,
        "program": {
            "kind": "programNode",
            "name": "paychan",
            "publicKey": crate::ID.to_string(),
            "version": env!("CARGO_PKG_VERSION"),
            "docs": ["Two-party payment channels: lock lamports, pay off-chain, settle the newest co-signed state."],
            "accounts": [channel_account()],
            "instructions": instructions(),
            "definedTypes": defined_types(),
            "pdas": [channel_pda()],
            "errors": errors(),
        },
        "additionalPrograms": [],
    })
}

fn u64_field(name: &str, docs: &str) -> Value {
    field(name, &[docs], number("u64"))
}

fn channel_account() -> Value {
    let data = structure(vec![
        constant_u8_field(
            "discriminator",
            &["Marks a paychan channel account."],
            CHANNEL_DISCRIMINATOR,
        ),
        constant_u8_field("version", &["The layout version."], CHANNEL_VERSION),
        field("status", &[], defined("channelStatus")),
        field(
            "bump",
            &["The canonical PDA bump."],
            padded(number("u8"), 4),
        ),
        field("partyA", &["The opener's wallet."], public_key()),
        field("partyB", &["The other party's wallet."], public_key()),
        u64_field("nonce", "Lets the same two parties open several channels."),
        u64_field(
            "openedSlot",
            "The slot of the Open; binds signed states to this channel.",
        ),
        u64_field(
            "challengePeriodSecs",
            "How long a registered state may be disputed.",
        ),
        u64_field("depositedA", "Lamports party A locked."),
        u64_field("depositedB", "Lamports party B locked."),
        field(
            "registered",
            &["The state registered by StartClose or Dispute (zero while Open)."],
            defined("channelState"),
        ),
        field(
            "registeredBy",
            &["The party that called StartClose."],
            padded(defined("registeredBy"), 7),
        ),
        field(
            "deadline",
            &["Unix seconds after which Finalize may run."],
            number("i64"),
        ),
        u64_field(
            "unclaimedA",
            "Party A's share that could not be paid out; Withdraw moves it.",
        ),
        u64_field(
            "unclaimedB",
            "Party B's share that could not be paid out; Withdraw moves it.",
        ),
        u64_field(
            "accountableSeq",
            "The seq the registrant registered; a Dispute two newer punishes it.",
        ),
        field(
            "signerA",
            &["The key that signs states for A (its wallet or a session key)."],
            public_key(),
        ),
        field(
            "signerB",
            &["The key that signs states for B (its wallet or a session key)."],
            public_key(),
        ),
    ]);
    json!({
        "kind": "accountNode",
        "name": "channel",
        "size": CHANNEL_ACCOUNT_LEN,
        "docs": ["A channel: a program-owned PDA holding the locked lamports."],
        "data": data,
        "pda": { "kind": "pdaLinkNode", "name": "channel" },
        "discriminators": [
            field_discriminator("discriminator", 0),
            field_discriminator("version", 1),
            size_discriminator(CHANNEL_ACCOUNT_LEN),
        ],
    })
}

fn channel_pda() -> Value {
    let seed = core::str::from_utf8(CHANNEL_SEED).unwrap_or_default();
    json!({
        "kind": "pdaNode",
        "name": "channel",
        "docs": ["One channel per (party A, party B, nonce)."],
        "seeds": [
            utf8_seed(seed),
            variable_seed("partyA", &["The opener's wallet."], public_key()),
            variable_seed("partyB", &["The other party's wallet."], public_key()),
            variable_seed("nonce", &[], number("u64")),
        ],
    })
}

fn defined_types() -> Vec<Value> {
    vec![
        defined_type(
            "channelStatus",
            &["Where the channel is in its life; `uninitialized` is never stored."],
            scalar_enum(&["uninitialized", "open", "closing", "settled"]),
        ),
        defined_type(
            "registeredBy",
            &["Who registered the close state with StartClose."],
            scalar_enum(&["none", "partyA", "partyB"]),
        ),
        defined_type(
            "channelState",
            &["A channel state as registered (the signed bytes add the program, channel and opened slot)."],
            structure(vec![
                u64_field("seq", "Seq 0 is the opening state; signed states start at 1."),
                u64_field("depositedA", "Party A's deposits this state counts."),
                u64_field("depositedB", "Party B's deposits this state counts."),
                u64_field("balanceA", "Party A's balance."),
                u64_field("balanceB", "Party B's balance."),
                field("logRoot", &["SHA-256 hash chain of the payment log."], fixed_bytes(32)),
            ]),
        ),
    ]
}

fn system_program() -> Value {
    defaulted(
        account("systemProgram", Access::Readonly, &[]),
        public_key_value(&SYSTEM_PROGRAM_ID.to_string(), "systemProgram"),
    )
}

fn instructions_sysvar() -> Value {
    defaulted(
        account(
            "instructionsSysvar",
            Access::Readonly,
            &["Where the program reads the Ed25519 instruction."],
        ),
        public_key_value(&INSTRUCTIONS_SYSVAR_ID.to_string(), "sysvarInstructions"),
    )
}

fn channel(access: Access) -> Value {
    account("channel", access, &[])
}

const CO_SIGNED: &str = "The Ed25519 instruction right before it must carry the co-signed state.";

fn instructions() -> Vec<Value> {
    vec![
        instruction(
            "open",
            &["Creates the channel PDA (rent paid by A) and locks `deposit` from A."],
            vec![
                account("partyA", Access::WritableSigner, &["The opener and payer."]),
                account("partyB", Access::Writable, &["The other party's wallet: it must be able to receive lamports."]),
                defaulted(channel(Access::Writable), pda_value("channel", &["partyA", "partyB"], &["nonce"])),
                system_program(),
            ],
            vec![
                tag_argument(tag::OPEN),
                argument("nonce", &[], number("u64")),
                argument("deposit", &["Lamports A locks now."], number("u64")),
                argument("challengePeriodSecs", &["1 second to 1 year."], number("u64")),
                argument("signerA", &["The key that signs states for A."], public_key()),
                argument("signerB", &["The key that signs states for B."], public_key()),
            ],
        ),
        instruction(
            "deposit",
            &["Adds `amount` to the signer's deposit while the channel is open."],
            vec![
                account("party", Access::WritableSigner, &["Party A's or party B's wallet."]),
                channel(Access::Writable),
                system_program(),
            ],
            vec![tag_argument(tag::DEPOSIT), argument("amount", &[], number("u64"))],
        ),
        instruction(
            "closeCooperative",
            &["Pays out balances both wallets agree on and closes the channel."],
            vec![
                account("partyA", Access::WritableSigner, &["Also receives the rent reserve."]),
                account("partyB", Access::WritableSigner, &[]),
                channel(Access::Writable),
            ],
            vec![
                tag_argument(tag::CLOSE_COOPERATIVE),
                argument("balanceA", &[], number("u64")),
                argument("balanceB", &[], number("u64")),
            ],
        ),
        instruction(
            "startClose",
            &["Registers a state and starts the challenge period.", CO_SIGNED],
            vec![
                account("registrant", Access::Signer, &["A party's wallet or state-signing key; accountable for the state."]),
                channel(Access::Writable),
                instructions_sysvar(),
            ],
            vec![
                tag_argument(tag::START_CLOSE),
                argument("withState", &["False registers the opening (seq 0) state; no Ed25519 instruction then."], boolean()),
            ],
        ),
        instruction(
            "dispute",
            &["Brings a newer co-signed state during the challenge period; two newer punishes the registrant.", CO_SIGNED],
            vec![
                account("submitter", Access::Signer, &["Anyone: a party or a watchtower."]),
                channel(Access::Writable),
                instructions_sysvar(),
                account("partyA", Access::Writable, &["Party A's wallet."]),
                account("partyB", Access::Writable, &["Party B's wallet."]),
            ],
            vec![tag_argument(tag::DISPUTE)],
        ),
        instruction(
            "finalize",
            &["Pays out the registered state after the deadline. Anyone may submit."],
            vec![
                channel(Access::Writable),
                account("partyA", Access::Writable, &["Party A's wallet."]),
                account("partyB", Access::Writable, &["Party B's wallet."]),
            ],
            vec![tag_argument(tag::FINALIZE)],
        ),
        instruction(
            "withdraw",
            &[
                "Moves an unclaimed share of a settled channel: anyone may move a party's share to \
                 that party's own wallet (`destination`); a party may move its own share to any \
                 `destination`.",
            ],
            vec![
                account(
                    "submitter",
                    Access::Signer,
                    &["Anyone; a party, to send its own share elsewhere."],
                ),
                channel(Access::Writable),
                account("destination", Access::Writable, &[]),
                account("partyA", Access::Writable, &["Receives the rent reserve when the account closes."]),
            ],
            vec![tag_argument(tag::WITHDRAW)],
        ),
    ]
}

fn errors() -> Vec<Value> {
    PaychanError::ALL
        .iter()
        .map(|e| error(&lower_first(&format!("{e:?}")), e.code(), e.message()))
        .collect()
}

/// `InvalidInstructionData` → `invalidInstructionData`, Codama's camelCase.
fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|first| first.to_ascii_lowercase().to_string() + chars.as_str())
        .unwrap_or_default()
}
