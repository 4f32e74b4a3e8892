//! The IDL is checked against the interface crate, not against itself: bytes the interface
//! writes (a channel account, every instruction) are decoded with nothing but the IDL's type
//! nodes, every instruction's accounts are compared with the interface's builders for a lamport
//! channel and for token channels, and every default a generated client would fill in (PDAs,
//! associated token accounts, bumps) is derived from the IDL alone and compared with what the
//! builders chose.

// A no_std crate: what the std prelude would bring.
use std::{format, vec};
use std::{string::ToString, vec::Vec};

use crate::{
    channel::{Channel, ChannelStatus, Party, CHANNEL_ACCOUNT_LEN},
    client::{self as builders, ChannelAddress},
    pda::{
        find_associated_token_address, find_channel_address, find_token_channel_address,
        find_vault_address,
    },
    state::ChannelState,
    token::{TokenChannel, TokenProgram, ASSOCIATED_TOKEN_PROGRAM_ID},
    Address,
};
use serde_json::{json, Map, Value};
use solana_instruction::Instruction;

use super::*;

/// The type the IDL defines as `name` (in `definedTypes`).
fn defined_type<'a>(idl: &'a Value, name: &str) -> &'a Value {
    let types = idl["program"]["definedTypes"]
        .as_array()
        .expect("defined types");
    let defined = types.iter().find(|t| t["name"] == name);
    &defined.unwrap_or_else(|| panic!("the IDL defines {name}"))["type"]
}

/// Reads bytes the way a Codama-generated decoder would, for the node kinds the IDL uses.
struct Decoder<'a> {
    bytes: &'a [u8],
    at: usize,
    idl: &'a Value,
}

impl Decoder<'_> {
    fn take(&mut self, n: usize) -> &[u8] {
        let taken = &self.bytes[self.at..self.at + n];
        self.at += n;
        taken
    }

    fn decode(&mut self, ty: &Value) -> Value {
        match ty["kind"].as_str().expect("a node kind") {
            "numberTypeNode" => match ty["format"].as_str() {
                Some("u8") => json!(self.take(1)[0]),
                Some("u64") => json!(u64::from_le_bytes(self.take(8).try_into().unwrap())),
                Some("i64") => json!(i64::from_le_bytes(self.take(8).try_into().unwrap())),
                other => panic!("number format {other:?}"),
            },
            "publicKeyTypeNode" => {
                let key: [u8; 32] = self.take(32).try_into().unwrap();
                json!(Address::new_from_array(key).to_string())
            }
            "fixedSizeTypeNode" => {
                assert_eq!(ty["type"]["kind"], "bytesTypeNode");
                let size = ty["size"].as_u64().unwrap() as usize;
                json!(self.take(size).to_vec())
            }
            "booleanTypeNode" => match self.take(1)[0] {
                0 => json!(false),
                1 => json!(true),
                b => panic!("boolean byte {b}"),
            },
            "postOffsetTypeNode" => {
                assert_eq!(ty["strategy"], "padded");
                let value = self.decode(&ty["type"]);
                let padding = ty["offset"].as_u64().unwrap() as usize;
                assert!(
                    self.take(padding).iter().all(|&b| b == 0),
                    "padding is zero"
                );
                value
            }
            "definedTypeLinkNode" => {
                let name = ty["name"].as_str().expect("a link names its type");
                self.decode(defined_type(self.idl, name))
            }
            "enumTypeNode" => {
                assert_eq!(ty["size"]["format"], "u8");
                let index = self.take(1)[0] as usize;
                ty["variants"][index]["name"].clone()
            }
            "structTypeNode" => self.fields(ty["fields"].as_array().unwrap()),
            kind => panic!("the IDL uses {kind}, which this decoder does not know"),
        }
    }

    fn fields(&mut self, fields: &[Value]) -> Value {
        let mut object = Map::new();
        for field in fields {
            let name = field["name"].as_str().unwrap().to_string();
            object.insert(name, self.decode(&field["type"]));
        }
        Value::Object(object)
    }
}

/// Decodes all of `bytes` as `fields`; fails if any byte is left over.
fn decode_all(idl: &Value, fields: &Value, bytes: &[u8]) -> Value {
    let mut decoder = Decoder { bytes, at: 0, idl };
    let value = decoder.fields(fields.as_array().unwrap());
    assert_eq!(decoder.at, bytes.len(), "the IDL describes every byte");
    value
}

fn key(n: u8) -> Address {
    Address::new_from_array([n; 32])
}

fn sample_channel(token: Option<TokenChannel>) -> Channel {
    Channel {
        status: ChannelStatus::Closing,
        bump: 254,
        party_a: key(1),
        party_b: key(2),
        nonce: 3,
        opened_slot: 4,
        challenge_period_secs: 5,
        deposited_a: 6,
        deposited_b: 7,
        registered: ChannelState {
            seq: 8,
            deposited_a: 9,
            deposited_b: 10,
            balance_a: 11,
            balance_b: 12,
            log_root: [13; 32],
        },
        registered_by: Some(Party::B),
        accountable_seq: 14,
        deadline: -15,
        unclaimed_a: 16,
        unclaimed_b: 17,
        signer_a: key(18),
        signer_b: key(19),
        token,
    }
}

/// The channel account `channel` packs to, decoded with the IDL's account node only.
fn decode_channel(channel: &Channel) -> Value {
    let mut data = [0u8; CHANNEL_ACCOUNT_LEN];
    channel.pack(&mut data).unwrap();
    let idl = codama_idl();
    let account = &idl["program"]["accounts"][0];
    assert_eq!(account["size"], CHANNEL_ACCOUNT_LEN);
    decode_all(&idl, &account["data"]["fields"], &data)
}

/// What the IDL must decode from `sample_channel`, with the token fields given.
fn sample_fields(token_program: &str, decimals: u8, mint: Address, vault: Address) -> Value {
    json!({
        "discriminator": CHANNEL_DISCRIMINATOR,
        "version": CHANNEL_VERSION,
        "status": "closing",
        "bump": 254,
        "tokenProgram": token_program,
        "decimals": decimals,
        "partyA": key(1).to_string(),
        "partyB": key(2).to_string(),
        "nonce": 3,
        "openedSlot": 4,
        "challengePeriodSecs": 5,
        "depositedA": 6,
        "depositedB": 7,
        "registered": {
            "seq": 8, "depositedA": 9, "depositedB": 10, "balanceA": 11, "balanceB": 12,
            "logRoot": vec![13u8; 32],
        },
        "registeredBy": "partyB",
        "deadline": -15,
        "unclaimedA": 16,
        "unclaimedB": 17,
        "accountableSeq": 14,
        "signerA": key(18).to_string(),
        "signerB": key(19).to_string(),
        "mint": mint.to_string(),
        "vault": vault.to_string(),
    })
}

#[test]
fn a_token_channel_account_decodes_field_by_field() {
    let channel = sample_channel(Some(TokenChannel {
        program: TokenProgram::Token2022,
        mint: key(20),
        vault: key(21),
        decimals: 6,
    }));
    assert_eq!(
        decode_channel(&channel),
        sample_fields("token2022", 6, key(20), key(21))
    );
}

#[test]
fn a_lamport_channel_account_decodes_field_by_field() {
    assert_eq!(
        decode_channel(&sample_channel(None)),
        sample_fields("none", 0, key(0), key(0))
    );
}

#[test]
fn every_status_registrant_and_token_program_byte_names_its_variant() {
    let idl = codama_idl();
    let variants = |name: &str| -> Vec<Value> {
        defined_type(&idl, name)["variants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].clone())
            .collect()
    };
    let statuses = variants("channelStatus");
    for (status, name) in [
        (ChannelStatus::Open, "open"),
        (ChannelStatus::Closing, "closing"),
        (ChannelStatus::Settled, "settled"),
    ] {
        assert_eq!(statuses[status as usize], name);
    }
    let registrants = variants("registeredBy");
    assert_eq!(registrants[0], "none");
    assert_eq!(registrants[Party::A as usize], "partyA");
    assert_eq!(registrants[Party::B as usize], "partyB");
    let token_programs = variants("tokenProgramKind");
    assert_eq!(token_programs.len(), 3);
    assert_eq!(token_programs[0], "none");
    assert_eq!(token_programs[TokenProgram::Spl as usize], "splToken");
    assert_eq!(
        token_programs[TokenProgram::Token2022 as usize],
        "token2022"
    );
}

/// Every instruction as the interface builds it for `channel`, with the arguments the IDL
/// should decode (a token channel's Open is `openToken`).
fn built_instructions(channel: &ChannelAddress) -> Vec<(&'static str, Instruction, Value)> {
    let tag = |t: u8| json!({ "discriminator": t });
    let with = |t: u8, args: Value| {
        let mut all = tag(t);
        all.as_object_mut()
            .unwrap()
            .extend(args.as_object().unwrap().clone());
        all
    };
    let open_args = json!({ "nonce": channel.nonce, "deposit": 500, "challengePeriodSecs": 86_400,
                            "signerA": key(7).to_string(), "signerB": key(8).to_string(),
                            "bump": channel.bump });
    let open = match &channel.token {
        None => ("open", with(tag::OPEN, open_args)),
        Some(token) => {
            let (_, vault_bump) = find_vault_address(&channel.program_id, &channel.address);
            let mut args = with(tag::OPEN_TOKEN, open_args);
            args.as_object_mut().unwrap().extend(
                json!({ "vaultBump": vault_bump, "decimals": token.decimals })
                    .as_object()
                    .unwrap()
                    .clone(),
            );
            ("openToken", args)
        }
    };
    // A token channel's Withdraw destination is a token account of the mint.
    let destination = channel.token_account_of(&key(9)).unwrap_or(key(9));
    vec![
        (
            open.0,
            builders::open_with_signers(channel, 500, 86_400, &key(7), &key(8)),
            open.1,
        ),
        (
            "deposit",
            builders::deposit(channel, &channel.party_b, 42),
            with(tag::DEPOSIT, json!({ "amount": 42 })),
        ),
        (
            "closeCooperative",
            builders::close_cooperative(channel, 30, 12),
            with(
                tag::CLOSE_COOPERATIVE,
                json!({ "balanceA": 30, "balanceB": 12 }),
            ),
        ),
        (
            "startClose",
            builders::start_close(channel, &channel.party_a, true),
            with(tag::START_CLOSE, json!({ "withState": true })),
        ),
        (
            "dispute",
            builders::dispute(channel, &key(9)),
            tag(tag::DISPUTE),
        ),
        ("finalize", builders::finalize(channel), tag(tag::FINALIZE)),
        (
            "withdraw",
            builders::withdraw(channel, &channel.party_b, &destination),
            tag(tag::WITHDRAW),
        ),
    ]
}

/// The program ids a PDA node of the IDL may name.
fn known_program(id: &Value) -> Address {
    [crate::ID, ASSOCIATED_TOKEN_PROGRAM_ID]
        .into_iter()
        .find(|program| *id == program.to_string())
        .unwrap_or_else(|| panic!("a PDA of an unknown program {id}"))
}

/// The PDA node `pda` (a node, or a link to one of the program's PDAs).
fn pda_node<'a>(idl: &'a Value, pda: &'a Value) -> &'a Value {
    match pda["kind"].as_str() {
        Some("pdaNode") => pda,
        Some("pdaLinkNode") => idl["program"]["pdas"]
            .as_array()
            .unwrap()
            .iter()
            .find(|node| node["name"] == pda["name"])
            .unwrap_or_else(|| panic!("the IDL defines the PDA {}", pda["name"])),
        other => panic!("a PDA {other:?}"),
    }
}

/// Derives the PDA `pda` as a generated client would, `seed(name, type)` giving each variable
/// seed's bytes.
fn find_pda(pda: &Value, seed: impl Fn(&str, &Value) -> Vec<u8>) -> (Address, u8) {
    let seeds: Vec<Vec<u8>> = pda["seeds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| match node["kind"].as_str() {
            Some("constantPdaSeedNode") => {
                assert_eq!(node["type"]["encoding"], "utf8");
                node["value"]["string"]
                    .as_str()
                    .unwrap()
                    .as_bytes()
                    .to_vec()
            }
            Some("variablePdaSeedNode") => seed(node["name"].as_str().unwrap(), &node["type"]),
            other => panic!("a PDA seed {other:?}"),
        })
        .collect();
    let seeds: Vec<&[u8]> = seeds.iter().map(Vec::as_slice).collect();
    let program = match pda.get("programId") {
        Some(id) => known_program(id),
        None => crate::ID,
    };
    Address::find_program_address(&seeds, &program)
}

/// What a generated client knows while it fills in an instruction's defaults: the accounts it
/// was given and the arguments.
struct Inputs<'a> {
    idl: &'a Value,
    accounts: Vec<(&'a str, Address)>,
    arguments: &'a Value,
}

impl Inputs<'_> {
    fn account(&self, name: &str) -> Option<Address> {
        self.accounts
            .iter()
            .find(|(given, _)| *given == name)
            .map(|(_, address)| *address)
    }

    /// The address (and bump, for a PDA) a default resolves to; None when the client would
    /// leave the account out.
    fn resolve(&self, default: &Value) -> Option<(Address, Option<u8>)> {
        match default["kind"].as_str() {
            Some("publicKeyValueNode") => {
                let address = [crate::SYSTEM_PROGRAM_ID, crate::INSTRUCTIONS_SYSVAR_ID]
                    .into_iter()
                    .find(|known| default["publicKey"] == known.to_string())
                    .unwrap_or_else(|| panic!("an unknown address {}", default["publicKey"]));
                Some((address, None))
            }
            Some("pdaValueNode") => {
                let values = default["seeds"].as_array().unwrap();
                let (address, bump) = find_pda(pda_node(self.idl, &default["pda"]), |name, ty| {
                    let value = &values
                        .iter()
                        .find(|v| v["name"] == name)
                        .unwrap_or_else(|| panic!("a value for the seed {name}"))["value"];
                    let input = value["name"].as_str().unwrap();
                    match (value["kind"].as_str(), ty["kind"].as_str()) {
                        (Some("accountValueNode"), Some("publicKeyTypeNode")) => self
                            .account(input)
                            .unwrap_or_else(|| panic!("the seed {name} needs the account {input}"))
                            .to_bytes()
                            .to_vec(),
                        (Some("argumentValueNode"), Some("numberTypeNode")) => {
                            assert_eq!(ty["format"], "u64");
                            let number = self.arguments[input].as_u64().unwrap();
                            number.to_le_bytes().to_vec()
                        }
                        other => panic!("a seed value {other:?}"),
                    }
                });
                Some((address, Some(bump)))
            }
            Some("conditionalValueNode") => {
                let condition = &default["condition"];
                assert_eq!(condition["kind"], "accountValueNode");
                let branch = match self.account(condition["name"].as_str().unwrap()) {
                    Some(_) => &default["ifTrue"],
                    None => &default["ifFalse"],
                };
                if branch.is_null() {
                    None
                } else {
                    self.resolve(branch)
                }
            }
            other => panic!("a default {other:?}"),
        }
    }
}

/// Checks an instruction the interface built against the IDL's instruction `node`: the
/// arguments decode to `arguments`, the accounts are the IDL's (its optional ones exactly when
/// the channel locks tokens), and every default a generated client would fill in is what the
/// builder chose (and fills in nothing a lamport channel leaves out).
fn check_instruction(
    idl: &Value,
    node: &Value,
    instruction: &Instruction,
    arguments: &Value,
    token: bool,
) {
    let name = node["name"].as_str().unwrap();
    let decoded = decode_all(idl, &node["arguments"], &instruction.data);
    assert_eq!(&decoded, arguments, "{name}: arguments");

    let accounts = node["accounts"].as_array().unwrap();
    let (given, left_out): (Vec<&Value>, Vec<&Value>) = accounts
        .iter()
        .partition(|account| token || account["isOptional"] == false);
    assert_eq!(
        given.len(),
        instruction.accounts.len(),
        "{name}: account count (token channel: {token})"
    );
    let inputs = Inputs {
        idl,
        accounts: given
            .iter()
            .zip(&instruction.accounts)
            .map(|(account, meta)| (account["name"].as_str().unwrap(), meta.pubkey))
            .collect(),
        arguments: &decoded,
    };
    for (account, meta) in given.iter().zip(&instruction.accounts) {
        let what = format!("{name}.{}", account["name"]);
        assert_eq!(account["isSigner"], meta.is_signer, "{what}: signer");
        assert_eq!(account["isWritable"], meta.is_writable, "{what}: writable");
        if let Some(default) = account.get("defaultValue") {
            let resolved = inputs.resolve(default).map(|(address, _)| address);
            assert_eq!(resolved, Some(meta.pubkey), "{what}: default");
        }
    }
    for account in left_out {
        let what = format!("{name}.{}", account["name"]);
        if let Some(default) = account.get("defaultValue") {
            assert_eq!(inputs.resolve(default), None, "{what}: left out");
        }
    }
    for argument in node["arguments"].as_array().unwrap() {
        let default = &argument["defaultValue"];
        if default["kind"] == "accountBumpValueNode" {
            let what = format!("{name}.{}", argument["name"]);
            let account = accounts
                .iter()
                .find(|account| account["name"] == default["name"])
                .unwrap_or_else(|| panic!("{what}: the account of the bump"));
            let (_, bump) = inputs
                .resolve(&account["defaultValue"])
                .unwrap_or_else(|| panic!("{what}: a PDA account"));
            assert_eq!(
                Some(
                    decoded[argument["name"].as_str().unwrap()]
                        .as_u64()
                        .unwrap()
                ),
                bump.map(u64::from),
                "{what}: default"
            );
        }
    }
}

#[test]
fn every_instruction_matches_the_interface_builders() {
    let idl = codama_idl();
    let described = idl["program"]["instructions"].as_array().unwrap();
    let lamports = ChannelAddress::derive(&crate::ID, &key(1), &key(2), 77);
    // Token channels whose channel and vault bumps differ, so a bump default taken from the
    // wrong PDA cannot pass.
    let token_channel = |parties: (u8, u8), program: TokenProgram, mint: u8, decimals: u8| {
        (0..64u64)
            .map(|n| {
                let nonce = u64::MAX - n;
                let channel = ChannelAddress::derive_token(
                    &crate::ID,
                    &key(parties.0),
                    &key(parties.1),
                    nonce,
                    program,
                    &key(mint),
                    decimals,
                );
                (channel, find_vault_address(&crate::ID, &channel.address).1)
            })
            .find(|(channel, vault_bump)| channel.bump != *vault_bump)
            .expect("a nonce with different bumps")
            .0
    };
    let spl = token_channel((1, 2), TokenProgram::Spl, 3, 6);
    let token_2022 = token_channel((4, 5), TokenProgram::Token2022, 6, 9);
    let mut checked = Vec::new();
    for channel in [lamports, spl, token_2022] {
        for (name, instruction, arguments) in built_instructions(&channel) {
            let node = described
                .iter()
                .find(|node| node["name"] == name)
                .unwrap_or_else(|| panic!("the IDL describes {name}"));
            check_instruction(
                &idl,
                node,
                &instruction,
                &arguments,
                channel.token.is_some(),
            );
            checked.push(name);
        }
    }
    for node in described {
        assert!(
            checked.iter().any(|name| node["name"] == *name),
            "{} is checked against a builder",
            node["name"]
        );
    }
}

#[test]
fn the_pdas_are_the_interface_s() {
    let idl = codama_idl();
    let pda = |name: &str| pda_node(&idl, &json!({ "kind": "pdaLinkNode", "name": name })).clone();
    let (a, b, mint, nonce) = (key(1), key(2), key(3), 0x0102_0304_0506_0708u64);
    let seed = |name: &str, _: &Value| match name {
        "partyA" => a.to_bytes().to_vec(),
        "partyB" | "owner" => b.to_bytes().to_vec(),
        "nonce" => nonce.to_le_bytes().to_vec(),
        "mint" => mint.to_bytes().to_vec(),
        other => panic!("seed {other}"),
    };
    assert_eq!(
        find_pda(&pda("channel"), seed),
        find_channel_address(&crate::ID, &a, &b, nonce)
    );
    let token_channel = find_token_channel_address(&crate::ID, &a, &b, nonce, &mint);
    assert_eq!(find_pda(&pda("tokenChannel"), seed), token_channel);
    assert_eq!(
        find_pda(&pda("vault"), |name, _| {
            assert_eq!(name, "channel");
            token_channel.0.to_bytes().to_vec()
        }),
        find_vault_address(&crate::ID, &token_channel.0)
    );
    for program in [TokenProgram::Spl, TokenProgram::Token2022] {
        let ata = find_pda(&pda("associatedToken"), |name, ty| match name {
            "tokenProgram" => program.id().to_bytes().to_vec(),
            _ => seed(name, ty),
        });
        assert_eq!(ata.0, find_associated_token_address(&b, program, &mint));
    }
}

#[test]
fn every_error_is_described_with_its_code_and_message() {
    let idl = codama_idl();
    let errors = idl["program"]["errors"].as_array().unwrap();
    assert_eq!(errors.len(), PaychanError::ALL.len());
    for (node, error) in errors.iter().zip(PaychanError::ALL) {
        assert_eq!(node["code"], error.code());
        assert_eq!(node["message"], error.message());
        assert_eq!(node["name"], lower_first(&format!("{error:?}")));
    }
}

#[test]
fn the_committed_idl_is_up_to_date() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../idl/paychan.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == codama_idl_json(),
        "idl/paychan.json is out of date: run scripts/generate-clients.sh and commit the result"
    );
}
