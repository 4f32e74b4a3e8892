//! The paychan program as a [Codama](https://github.com/codama-idl/codama) IDL: instructions,
//! the channel account and the PDAs (lamport and token channels, vaults, associated token
//! accounts), the registered state, and every error with its message.
//!
//! A token channel's instructions take trailing token accounts a lamport channel's leave out:
//! Codama optional accounts with the "omitted" strategy, defaulted (vault, associated token
//! accounts) only when the mint is given, so a lamport channel's instruction carries none.
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
    token::{ASSOCIATED_TOKEN_PROGRAM_ID, VAULT_SEED},
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
            "docs": ["Two-party payment channels: lock lamports or tokens, pay off-chain, settle the newest co-signed state."],
            "accounts": [channel_account()],
            "instructions": instructions(),
            "definedTypes": defined_types(),
            "pdas": pdas(),
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
        field("bump", &["The channel PDA's bump (named at Open)."], number("u8")),
        field(
            "tokenProgram",
            &["What the channel locks: lamports, or tokens of SPL Token or Token-2022."],
            defined("tokenProgramKind"),
        ),
        field(
            "decimals",
            &["The mint's decimals (0 for a lamport channel)."],
            padded(number("u8"), 2),
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
        u64_field(
            "depositedA",
            "What party A locked (lamports, or the token's base units).",
        ),
        u64_field(
            "depositedB",
            "What party B locked (lamports, or the token's base units).",
        ),
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
        field(
            "mint",
            &["The token mint (zero for a lamport channel)."],
            public_key(),
        ),
        field(
            "vault",
            &["The token account at the vault PDA that holds the deposits (zero for a lamport channel)."],
            public_key(),
        ),
    ]);
    json!({
        "kind": "accountNode",
        "name": "channel",
        "size": CHANNEL_ACCOUNT_LEN,
        "docs": [
            "A channel: a program-owned PDA holding the locked lamports, or, for a token channel, \
             owning the vault that holds the locked tokens. A lamport channel's address is the \
             `channel` PDA, a token channel's the `tokenChannel` PDA.",
        ],
        "data": data,
        "pda": { "kind": "pdaLinkNode", "name": "channel" },
        "discriminators": [
            field_discriminator("discriminator", 0),
            field_discriminator("version", 1),
            size_discriminator(CHANNEL_ACCOUNT_LEN),
        ],
    })
}

fn utf8(seed: &[u8]) -> Value {
    utf8_seed(core::str::from_utf8(seed).unwrap_or_default())
}

fn pdas() -> Vec<Value> {
    let party_seeds = || {
        vec![
            utf8(CHANNEL_SEED),
            variable_seed("partyA", &["The opener's wallet."], public_key()),
            variable_seed("partyB", &["The other party's wallet."], public_key()),
            variable_seed("nonce", &[], number("u64")),
        ]
    };
    let mut token_channel = party_seeds();
    token_channel.push(variable_seed("mint", &["The token mint."], public_key()));
    vec![
        pda(
            "channel",
            &["A lamport channel: one per (party A, party B, nonce)."],
            party_seeds(),
            None,
        ),
        pda(
            "tokenChannel",
            &["A token channel: one per (party A, party B, nonce, mint)."],
            token_channel,
            None,
        ),
        pda(
            "vault",
            &["A token channel's vault: the token account, owned by the channel, that holds the deposits."],
            vec![
                utf8(VAULT_SEED),
                variable_seed("channel", &["The token channel."], public_key()),
            ],
            None,
        ),
        pda(
            "associatedToken",
            &["A wallet's associated token account for a mint (of the Associated Token Account program)."],
            vec![
                variable_seed("owner", &["The wallet."], public_key()),
                variable_seed("tokenProgram", &["SPL Token or Token-2022, the mint's owner."], public_key()),
                variable_seed("mint", &[], public_key()),
            ],
            Some(&ASSOCIATED_TOKEN_PROGRAM_ID.to_string()),
        ),
    ]
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
            "tokenProgramKind",
            &["What a channel locks: `none` is lamports, else tokens of that token program."],
            scalar_enum(&["none", "splToken", "token2022"]),
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

/// `owner`'s associated token account for the instruction's `mint` and `tokenProgram`.
fn associated_token_of(owner: &str) -> Value {
    pda_value(
        "associatedToken",
        &[
            ("owner", account_value(owner)),
            ("tokenProgram", account_value("tokenProgram")),
            ("mint", account_value("mint")),
        ],
    )
}

fn vault_of_channel() -> Value {
    pda_value("vault", &[("channel", account_value("channel"))])
}

const TOKEN_ONLY: &str = "A token channel only (leave it out for a lamport channel).";

/// The vault, mint and token program a token channel's instructions take after their own
/// accounts (nothing for a lamport channel): given the mint, clients derive the vault.
fn token_accounts() -> Vec<Value> {
    vec![
        optional(defaulted(
            account(
                "vault",
                Access::Writable,
                &[
                    TOKEN_ONLY,
                    "The channel's vault (derived from the channel when the mint is given).",
                ],
            ),
            if_account("mint", vault_of_channel()),
        )),
        optional(account(
            "mint",
            Access::Readonly,
            &[TOKEN_ONLY, "The channel's mint."],
        )),
        optional(account(
            "tokenProgram",
            Access::Readonly,
            &[
                TOKEN_ONLY,
                "The channel's token program (SPL Token or Token-2022).",
            ],
        )),
    ]
}

/// A token channel's payout accounts: `token_accounts`, then a token account of each party for
/// the mint (by default its associated token account).
fn payout_accounts() -> Vec<Value> {
    let mut accounts = token_accounts();
    for (name, party, docs) in [
        (
            "destinationA",
            "partyA",
            "Party A's token account for the mint (default: its associated token account).",
        ),
        (
            "destinationB",
            "partyB",
            "Party B's token account for the mint (default: its associated token account).",
        ),
    ] {
        accounts.push(optional(defaulted(
            account(name, Access::Writable, &[TOKEN_ONLY, docs]),
            if_account("mint", associated_token_of(party)),
        )));
    }
    accounts
}

const CO_SIGNED: &str = "The Ed25519 instruction right before it must carry the co-signed state.";

/// Open's arguments after its tag, for a lamport or a token channel.
fn open_arguments(deposit_docs: &str) -> Vec<Value> {
    vec![
        argument("nonce", &[], number("u64")),
        argument("deposit", &[deposit_docs], number("u64")),
        argument(
            "challengePeriodSecs",
            &["1 second to 1 year."],
            number("u64"),
        ),
        argument(
            "signerA",
            &["The key that signs states for A."],
            public_key(),
        ),
        argument(
            "signerB",
            &["The key that signs states for B."],
            public_key(),
        ),
        defaulted_argument(
            "bump",
            &["The channel PDA's bump (default: the canonical bump of the derived address)."],
            number("u8"),
            account_bump("channel"),
        ),
    ]
}

fn instructions() -> Vec<Value> {
    let party_a = || account("partyA", Access::WritableSigner, &["The opener and payer."]);
    let party_b = || {
        account(
            "partyB",
            Access::Writable,
            &["The other party's wallet: it must be able to receive lamports."],
        )
    };
    let party_seeds = || {
        vec![
            ("partyA", account_value("partyA")),
            ("partyB", account_value("partyB")),
            ("nonce", argument_value("nonce")),
        ]
    };
    let mut token_channel_seeds = party_seeds();
    token_channel_seeds.push(("mint", account_value("mint")));
    vec![
        instruction(
            "open",
            &["Creates a lamport channel's PDA (rent paid by A) and locks `deposit` lamports from A."],
            vec![
                party_a(),
                party_b(),
                defaulted(channel(Access::Writable), pda_value("channel", &party_seeds())),
                system_program(),
            ],
            [vec![tag_argument(tag::OPEN)], open_arguments("Lamports A locks now.")].concat(),
        ),
        instruction(
            "deposit",
            &[
                "Adds `amount` to the signer's deposit while the channel is open (for a token \
                 channel, from the `source` token account).",
            ],
            [
                vec![
                    account("party", Access::WritableSigner, &["Party A's or party B's wallet."]),
                    channel(Access::Writable),
                    system_program(),
                ],
                token_accounts(),
                vec![optional(defaulted(
                    account(
                        "source",
                        Access::Writable,
                        &[TOKEN_ONLY, "The depositor's token account (default: its associated token account)."],
                    ),
                    if_account("mint", associated_token_of("party")),
                ))],
            ]
            .concat(),
            vec![tag_argument(tag::DEPOSIT), argument("amount", &[], number("u64"))],
        ),
        instruction(
            "closeCooperative",
            &["Pays out balances both wallets agree on and closes the channel."],
            [
                vec![
                    account("partyA", Access::WritableSigner, &["Also receives the rent reserve."]),
                    account("partyB", Access::WritableSigner, &[]),
                    channel(Access::Writable),
                ],
                payout_accounts(),
            ]
            .concat(),
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
            [
                vec![
                    account("submitter", Access::Signer, &["Anyone: a party or a watchtower."]),
                    channel(Access::Writable),
                    instructions_sysvar(),
                    account("partyA", Access::Writable, &["Party A's wallet."]),
                    account("partyB", Access::Writable, &["Party B's wallet."]),
                ],
                payout_accounts(),
            ]
            .concat(),
            vec![tag_argument(tag::DISPUTE)],
        ),
        instruction(
            "finalize",
            &["Pays out the registered state after the deadline. Anyone may submit."],
            [
                vec![
                    channel(Access::Writable),
                    account("partyA", Access::Writable, &["Party A's wallet."]),
                    account("partyB", Access::Writable, &["Party B's wallet."]),
                ],
                payout_accounts(),
            ]
            .concat(),
            vec![tag_argument(tag::FINALIZE)],
        ),
        instruction(
            "withdraw",
            &[
                "Moves an unclaimed share of a settled channel: anyone may move a party's share to \
                 that party's own wallet (`destination`); a party may move its own share to any \
                 `destination`. For a token channel `destination` is a token account of the mint \
                 and its owner plays the wallet's part.",
            ],
            [
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
                token_accounts(),
            ]
            .concat(),
            vec![tag_argument(tag::WITHDRAW)],
        ),
        instruction(
            "openToken",
            &[
                "Creates a token channel's PDA and its vault (rent paid by A) and locks `deposit` \
                 tokens from A's `sourceA` token account.",
            ],
            vec![
                party_a(),
                party_b(),
                defaulted(channel(Access::Writable), pda_value("tokenChannel", &token_channel_seeds)),
                system_program(),
                account(
                    "mint",
                    Access::Readonly,
                    &["The token mint: SPL Token, or Token-2022 with only extensions safe for locked funds."],
                ),
                defaulted(
                    account("vault", Access::Writable, &["The vault PDA, created here."]),
                    vault_of_channel(),
                ),
                account(
                    "tokenProgram",
                    Access::Readonly,
                    &["SPL Token or Token-2022: the mint's owner."],
                ),
                defaulted(
                    account(
                        "sourceA",
                        Access::Writable,
                        &["A's token account for the mint (default: its associated token account)."],
                    ),
                    associated_token_of("partyA"),
                ),
            ],
            [
                vec![tag_argument(tag::OPEN_TOKEN)],
                open_arguments("Tokens (base units) A locks now."),
                vec![
                    defaulted_argument(
                        "vaultBump",
                        &["The vault PDA's bump (default: the canonical bump of the derived address)."],
                        number("u8"),
                        account_bump("vault"),
                    ),
                    argument("decimals", &["The mint's decimals, as A understood them (checked)."], number("u8")),
                ],
            ]
            .concat(),
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
