//! The IDL is checked against the interface crate, not against itself: bytes the interface
//! writes (a channel account, every instruction) are decoded with nothing but the IDL's type
//! nodes, and every instruction's accounts are compared with the interface's builders.

// A no_std crate: what the std prelude would bring.
use std::{format, vec};
use std::{string::ToString, vec::Vec};

use crate::{
    channel::{Channel, ChannelStatus, Party, CHANNEL_ACCOUNT_LEN},
    client::{self as builders, ChannelAddress},
    state::ChannelState,
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

#[test]
fn the_channel_account_decodes_field_by_field() {
    let channel = Channel {
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
        token: None,
    };
    let mut data = [0u8; CHANNEL_ACCOUNT_LEN];
    channel.pack(&mut data).unwrap();

    let idl = codama_idl();
    let account = &idl["program"]["accounts"][0];
    assert_eq!(account["size"], CHANNEL_ACCOUNT_LEN);
    let decoded = decode_all(&idl, &account["data"]["fields"], &data);
    assert_eq!(
        decoded,
        json!({
            "discriminator": CHANNEL_DISCRIMINATOR,
            "version": CHANNEL_VERSION,
            "status": "closing",
            "bump": 254,
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
        })
    );
}

#[test]
fn every_status_and_registrant_byte_names_its_variant() {
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
}

/// Every instruction as the interface builds it, with the arguments the IDL should decode.
fn built_instructions(channel: &ChannelAddress) -> Vec<(&'static str, Instruction, Value)> {
    let tag = |t: u8| json!({ "discriminator": t });
    let with = |t: u8, args: Value| {
        let mut all = tag(t);
        all.as_object_mut()
            .unwrap()
            .extend(args.as_object().unwrap().clone());
        all
    };
    vec![
        (
            "open",
            builders::open_with_signers(channel, 500, 86_400, &key(7), &key(8)),
            with(
                tag::OPEN,
                json!({ "nonce": channel.nonce, "deposit": 500, "challengePeriodSecs": 86_400,
                        "signerA": key(7).to_string(), "signerB": key(8).to_string() }),
            ),
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
            builders::withdraw(channel, &channel.party_b, &key(9)),
            tag(tag::WITHDRAW),
        ),
    ]
}

#[test]
fn every_instruction_matches_the_interface_builders() {
    let idl = codama_idl();
    let channel = ChannelAddress::derive(&crate::ID, &key(1), &key(2), 77);
    let built = built_instructions(&channel);
    let described = idl["program"]["instructions"].as_array().unwrap();
    assert_eq!(
        described.len(),
        built.len(),
        "one IDL instruction per builder"
    );

    for (node, (name, instruction, arguments)) in described.iter().zip(built) {
        assert_eq!(node["name"], name);
        let decoded = decode_all(&idl, &node["arguments"], &instruction.data);
        assert_eq!(decoded, arguments, "{name}: arguments");

        let accounts = node["accounts"].as_array().unwrap();
        assert_eq!(
            accounts.len(),
            instruction.accounts.len(),
            "{name}: account count"
        );
        for (account, meta) in accounts.iter().zip(&instruction.accounts) {
            let what = format!("{name}.{}", account["name"]);
            assert_eq!(account["isSigner"], meta.is_signer, "{what}: signer");
            assert_eq!(account["isWritable"], meta.is_writable, "{what}: writable");
            let default = &account["defaultValue"];
            match default["kind"].as_str() {
                Some("publicKeyValueNode") => {
                    assert_eq!(default["publicKey"], meta.pubkey.to_string(), "{what}")
                }
                Some("pdaValueNode") => assert_eq!(meta.pubkey, channel.address, "{what}"),
                None => {}
                other => panic!("{what}: default {other:?}"),
            }
        }
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
