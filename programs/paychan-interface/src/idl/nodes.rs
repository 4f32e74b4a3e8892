//! Builders for the Codama nodes the paychan IDL uses, named after Codama's own JavaScript
//! builders (`numberTypeNode`, `structFieldTypeNode`, …) so the two read alike.

// A no_std crate: what the std prelude would bring.
use std::vec::Vec;

use serde_json::{json, Value};

/// A little-endian number of `format` (`u8`, `u64`, `i64`).
pub fn number(format: &str) -> Value {
    json!({ "kind": "numberTypeNode", "format": format, "endian": "le" })
}

pub fn public_key() -> Value {
    json!({ "kind": "publicKeyTypeNode" })
}

/// Exactly `size` raw bytes.
pub fn fixed_bytes(size: usize) -> Value {
    json!({ "kind": "fixedSizeTypeNode", "size": size, "type": { "kind": "bytesTypeNode" } })
}

/// A one-byte boolean (0 or 1).
pub fn boolean() -> Value {
    json!({ "kind": "booleanTypeNode", "size": number("u8") })
}

/// `ty` followed by `padding` zero bytes.
pub fn padded(ty: Value, padding: usize) -> Value {
    json!({ "kind": "postOffsetTypeNode", "offset": padding, "strategy": "padded", "type": ty })
}

/// A type defined once in the program's `definedTypes`.
pub fn defined(name: &str) -> Value {
    json!({ "kind": "definedTypeLinkNode", "name": name })
}

pub fn defined_type(name: &str, docs: &[&str], ty: Value) -> Value {
    json!({ "kind": "definedTypeNode", "name": name, "docs": docs, "type": ty })
}

/// A one-byte enum without data; variant `i` is stored as byte `i`.
pub fn scalar_enum(variants: &[&str]) -> Value {
    let variants: Vec<Value> = variants
        .iter()
        .map(|name| json!({ "kind": "enumEmptyVariantTypeNode", "name": name }))
        .collect();
    json!({ "kind": "enumTypeNode", "variants": variants, "size": number("u8") })
}

pub fn structure(fields: Vec<Value>) -> Value {
    json!({ "kind": "structTypeNode", "fields": fields })
}

pub fn field(name: &str, docs: &[&str], ty: Value) -> Value {
    json!({ "kind": "structFieldTypeNode", "name": name, "docs": docs, "type": ty })
}

/// A `u8` field that always holds `value` (a discriminator or version): encoders fill it in.
pub fn constant_u8_field(name: &str, docs: &[&str], value: u8) -> Value {
    json!({
        "kind": "structFieldTypeNode",
        "name": name,
        "docs": docs,
        "type": number("u8"),
        "defaultValue": { "kind": "numberValueNode", "number": value },
        "defaultValueStrategy": "omitted",
    })
}

pub fn field_discriminator(name: &str, offset: usize) -> Value {
    json!({ "kind": "fieldDiscriminatorNode", "name": name, "offset": offset })
}

pub fn size_discriminator(size: usize) -> Value {
    json!({ "kind": "sizeDiscriminatorNode", "size": size })
}

pub fn utf8_seed(value: &str) -> Value {
    json!({
        "kind": "constantPdaSeedNode",
        "type": { "kind": "stringTypeNode", "encoding": "utf8" },
        "value": { "kind": "stringValueNode", "string": value },
    })
}

pub fn variable_seed(name: &str, docs: &[&str], ty: Value) -> Value {
    json!({ "kind": "variablePdaSeedNode", "name": name, "docs": docs, "type": ty })
}

/// How an instruction account is passed.
#[derive(Clone, Copy)]
pub enum Access {
    Readonly,
    Writable,
    Signer,
    WritableSigner,
}

pub fn account(name: &str, access: Access, docs: &[&str]) -> Value {
    let (writable, signer) = match access {
        Access::Readonly => (false, false),
        Access::Writable => (true, false),
        Access::Signer => (false, true),
        Access::WritableSigner => (true, true),
    };
    json!({
        "kind": "instructionAccountNode",
        "name": name,
        "isWritable": writable,
        "isSigner": signer,
        "isOptional": false,
        "docs": docs,
    })
}

/// `account`, passed only for some channels (a token channel's trailing accounts). With the
/// instructions' "omitted" strategy an absent optional account is left out of the list.
pub fn optional(mut account: Value) -> Value {
    account["isOptional"] = json!(true);
    account
}

/// `account` with a default value, so generated clients fill it in when the caller omits it.
pub fn defaulted(mut account: Value, default: Value) -> Value {
    account["defaultValue"] = default;
    account
}

/// A well-known address (`identifier` names it in generated code).
pub fn public_key_value(address: &str, identifier: &str) -> Value {
    json!({ "kind": "publicKeyValueNode", "publicKey": address, "identifier": identifier })
}

/// The value of the instruction account `name` (in a default, a seed or a condition).
pub fn account_value(name: &str) -> Value {
    json!({ "kind": "accountValueNode", "name": name })
}

/// The value of the instruction argument `name`.
pub fn argument_value(name: &str) -> Value {
    json!({ "kind": "argumentValueNode", "name": name })
}

/// The bump of the PDA the instruction account `name` defaults to.
pub fn account_bump(name: &str) -> Value {
    json!({ "kind": "accountBumpValueNode", "name": name })
}

/// `if_true` when the instruction account `account` is given, nothing otherwise.
pub fn if_account(account: &str, if_true: Value) -> Value {
    json!({ "kind": "conditionalValueNode", "condition": account_value(account), "ifTrue": if_true })
}

/// A PDA of the program, or of `program_id` when given.
pub fn pda(name: &str, docs: &[&str], seeds: Vec<Value>, program_id: Option<&str>) -> Value {
    let mut node = json!({ "kind": "pdaNode", "name": name, "docs": docs, "seeds": seeds });
    if let Some(program_id) = program_id {
        node["programId"] = json!(program_id);
    }
    node
}

/// The PDA `pda` with each of its variable seeds (by name) given a value.
pub fn pda_value(pda: &str, seeds: &[(&str, Value)]) -> Value {
    let seeds: Vec<Value> = seeds
        .iter()
        .map(|(name, value)| json!({ "kind": "pdaSeedValueNode", "name": name, "value": value }))
        .collect();
    json!({ "kind": "pdaValueNode", "pda": { "kind": "pdaLinkNode", "name": pda }, "seeds": seeds })
}

pub fn argument(name: &str, docs: &[&str], ty: Value) -> Value {
    json!({ "kind": "instructionArgumentNode", "name": name, "docs": docs, "type": ty })
}

/// An argument that generated clients fill in with `default` when the caller omits it.
pub fn defaulted_argument(name: &str, docs: &[&str], ty: Value, default: Value) -> Value {
    let mut node = argument(name, docs, ty);
    node["defaultValue"] = default;
    node
}

/// The instruction's one-byte tag, filled in by generated encoders.
pub fn tag_argument(tag: u8) -> Value {
    json!({
        "kind": "instructionArgumentNode",
        "name": "discriminator",
        "docs": [],
        "type": number("u8"),
        "defaultValue": { "kind": "numberValueNode", "number": tag },
        "defaultValueStrategy": "omitted",
    })
}

pub fn instruction(
    name: &str,
    docs: &[&str],
    accounts: Vec<Value>,
    arguments: Vec<Value>,
) -> Value {
    json!({
        "kind": "instructionNode",
        "name": name,
        "docs": docs,
        "optionalAccountStrategy": "omitted",
        "accounts": accounts,
        "arguments": arguments,
        "discriminators": [field_discriminator("discriminator", 0)],
    })
}

pub fn error(name: &str, code: u32, message: &str) -> Value {
    json!({ "kind": "errorNode", "name": name, "code": code, "message": message, "docs": [] })
}
