//! The JSON-RPC methods a Solana client needs to open, pay through and close channels: the
//! same names, parameters and result shapes as a validator, so `RpcClient` (and `paychan
//! --url`) cannot tell the difference. One extension, `paychan_warpClock`, skips time.

use base64::{engine::general_purpose::STANDARD as BASE64, Engine};
use paychan_interface::Address;
use serde_json::{json, Value};
use solana_hash::Hash;
use solana_rpc_client_api::response::RpcSimulateTransactionResult;
use solana_signature::Signature;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_status_client_types::UiTransactionError;

use super::state::{EmbeddedLedger, Refused};

/// JSON-RPC error codes, as a validator sends them.
const INVALID_PARAMS: i64 = -32602;
const METHOD_NOT_FOUND: i64 = -32601;
const PARSE_ERROR: i64 = -32700;
const PREFLIGHT_FAILURE: i64 = -32002;

struct RpcError {
    code: i64,
    message: String,
    data: Option<Value>,
}

fn invalid(message: impl Into<String>) -> RpcError {
    RpcError {
        code: INVALID_PARAMS,
        message: message.into(),
        data: None,
    }
}

/// Answers one HTTP body: a request or a batch of them.
pub fn handle(ledger: &mut EmbeddedLedger, body: &[u8]) -> Vec<u8> {
    let response = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Array(batch)) => Value::Array(batch.iter().map(|r| call(ledger, r)).collect()),
        Ok(request) => call(ledger, &request),
        Err(e) => reply(
            Value::Null,
            Err(RpcError {
                code: PARSE_ERROR,
                message: format!("Parse error: {e}"),
                data: None,
            }),
        ),
    };
    response.to_string().into_bytes()
}

fn call(ledger: &mut EmbeddedLedger, request: &Value) -> Value {
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let params = request.get("params").cloned().unwrap_or(json!([]));
    let result = match request.get("method").and_then(Value::as_str) {
        Some(method) => {
            ledger.tick();
            dispatch(ledger, method, &params)
        }
        None => Err(invalid("no method")),
    };
    reply(id, result)
}

fn reply(id: Value, result: Result<Value, RpcError>) -> Value {
    match result {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err(RpcError {
            code,
            message,
            data,
        }) => {
            let mut error = json!({"code": code, "message": message});
            if let Some(data) = data {
                error["data"] = data;
            }
            json!({"jsonrpc": "2.0", "id": id, "error": error})
        }
    }
}

fn dispatch(ledger: &mut EmbeddedLedger, method: &str, params: &Value) -> Result<Value, RpcError> {
    let context = json!({"slot": ledger.slot(), "apiVersion": "4.2.2"});
    let with_context = |value: Value| json!({"context": context, "value": value});
    Ok(match method {
        "getHealth" => json!("ok"),
        "getVersion" => json!({"solana-core": "4.2.2", "feature-set": 0}),
        "getSlot" | "getBlockHeight" => json!(ledger.slot()),
        "getTransactionCount" => json!(ledger.transaction_count()),
        "getLatestBlockhash" => {
            let hash = ledger.new_blockhash();
            let valid_until = ledger.slot() + super::state::RECENT_BLOCKHASHES as u64;
            let context = json!({"slot": ledger.slot(), "apiVersion": "4.2.2"});
            json!({"context": context, "value": {"blockhash": hash.to_string(), "lastValidBlockHeight": valid_until}})
        }
        "isBlockhashValid" => {
            let hash: Hash = parse(param(params, 0)?, "blockhash")?;
            with_context(json!(ledger.is_blockhash_valid(&hash)))
        }
        "getAccountInfo" => {
            let address = address(param(params, 0)?)?;
            let slice = config(params, 1, "dataSlice");
            with_context(
                ledger
                    .account(&address)
                    .map_or(Value::Null, |a| sliced(&a, slice)),
            )
        }
        "getMultipleAccounts" => {
            let addresses = param(params, 0)?
                .as_array()
                .ok_or_else(|| invalid("expected a list of addresses"))?;
            let slice = config(params, 1, "dataSlice");
            let accounts = addresses
                .iter()
                .map(|a| {
                    Ok(ledger
                        .account(&address(a)?)
                        .map_or(Value::Null, |a| sliced(&a, slice)))
                })
                .collect::<Result<Vec<_>, RpcError>>()?;
            with_context(Value::Array(accounts))
        }
        "getBalance" => {
            let address = address(param(params, 0)?)?;
            with_context(json!(ledger.account(&address).map_or(0, |a| a.lamports)))
        }
        "getMinimumBalanceForRentExemption" => {
            let length = param(params, 0)?
                .as_u64()
                .ok_or_else(|| invalid("expected a data length"))?;
            json!(ledger.minimum_balance_for_rent_exemption(length as usize))
        }
        "requestAirdrop" => {
            let to = address(param(params, 0)?)?;
            let lamports = param(params, 1)?
                .as_u64()
                .ok_or_else(|| invalid("expected lamports"))?;
            json!(ledger.airdrop(&to, lamports).map_err(refused)?.to_string())
        }
        "sendTransaction" => {
            let transaction = transaction(params)?;
            let preflight = !config(params, 1, "skipPreflight")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            json!(ledger
                .send(transaction, preflight)
                .map_err(refused)?
                .to_string())
        }
        "simulateTransaction" => {
            let simulated = ledger.simulate(transaction(params)?);
            with_context(json!({
                "err": simulated.err.map(UiTransactionError::from),
                "logs": simulated.logs,
                "accounts": null,
                "unitsConsumed": simulated.units_consumed,
                "returnData": null,
            }))
        }
        "getProgramAccounts" => {
            let owner = address(param(params, 0)?)?;
            let filters = config(params, 1, "filters").cloned().unwrap_or(json!([]));
            let slice = config(params, 1, "dataSlice").cloned();
            let accounts = ledger
                .program_accounts(&owner)
                .into_iter()
                .filter(|(_, a)| matches_filters(&a.data, &filters))
                .map(|(key, a)| json!({"pubkey": key.to_string(), "account": sliced(&a, slice.as_ref())}))
                .collect::<Vec<_>>();
            if config(params, 1, "withContext").and_then(Value::as_bool) == Some(true) {
                with_context(Value::Array(accounts))
            } else {
                Value::Array(accounts)
            }
        }
        "getSignaturesForAddress" => {
            let address = address(param(params, 0)?)?;
            let limit = config(params, 1, "limit")
                .and_then(Value::as_u64)
                .unwrap_or(1_000)
                .min(1_000) as usize;
            let signatures = ledger
                .signatures_for(&address)
                .take(limit)
                .filter_map(|signature| {
                    let landed = ledger.landed(signature)?;
                    Some(
                        json!({"signature": signature.to_string(), "slot": landed.slot,
                                "err": outcome(&landed.err).0,
                                "memo": null, "blockTime": null,
                                "confirmationStatus": "finalized"}),
                    )
                })
                .collect::<Vec<_>>();
            Value::Array(signatures)
        }
        "getTransaction" => {
            let signature: Signature = parse(param(params, 0)?, "signature")?;
            let json_encoding =
                config(params, 1, "encoding").and_then(Value::as_str) != Some("base64");
            match ledger.landed(&signature) {
                Some(landed) => landed_transaction(landed, json_encoding)?,
                None => Value::Null,
            }
        }
        "getEpochInfo" => json!({
            "absoluteSlot": ledger.slot(), "blockHeight": ledger.slot(), "epoch": 0,
            "slotIndex": ledger.slot(), "slotsInEpoch": 432_000,
            "transactionCount": ledger.transaction_count(),
        }),
        // Nothing competes for block space here: every fee a transaction could pay is zero.
        "getRecentPrioritizationFees" => json!([{"slot": ledger.slot(), "prioritizationFee": 0}]),
        "getEpochSchedule" => json!({
            "slotsPerEpoch": 432_000, "leaderScheduleSlotOffset": 432_000, "warmup": false,
            "firstNormalEpoch": 0, "firstNormalSlot": 0,
        }),
        "getBlock" => {
            let slot = param(params, 0)?
                .as_u64()
                .ok_or_else(|| invalid("expected a slot"))?;
            let details = config(params, 1, "transactionDetails")
                .and_then(Value::as_str)
                .unwrap_or("full");
            let json_encoding =
                config(params, 1, "encoding").and_then(Value::as_str) != Some("base64");
            block(ledger, slot, details, json_encoding)?
        }
        "getFeeForMessage" => {
            let encoded = param(params, 0)?
                .as_str()
                .ok_or_else(|| invalid("expected a base64 message"))?;
            let bytes = BASE64
                .decode(encoded)
                .map_err(|_| invalid("the message is not valid base64"))?;
            let message: solana_message::VersionedMessage = bincode::deserialize(&bytes)
                .map_err(|e| invalid(format!("failed to deserialize the message: {e}")))?;
            let signatures = u64::from(message.header().num_required_signatures);
            with_context(json!(super::state::LAMPORTS_PER_SIGNATURE * signatures))
        }
        "getGenesisHash" => json!(ledger.genesis_hash().to_string()),
        "getSignatureStatuses" => {
            let signatures = param(params, 0)?
                .as_array()
                .ok_or_else(|| invalid("expected a list of signatures"))?;
            let statuses = signatures
                .iter()
                .map(|s| {
                    let signature: Signature = parse(s, "signature")?;
                    Ok(ledger.landed(&signature).map_or(Value::Null, |landed| {
                        let (err, status) = outcome(&landed.err);
                        json!({"slot": landed.slot, "confirmations": null, "err": err,
                               "status": status, "confirmationStatus": "finalized"})
                    }))
                })
                .collect::<Result<Vec<_>, RpcError>>()?;
            with_context(Value::Array(statuses))
        }
        paychan_interface::REQUEST_TOKENS_METHOD => {
            let to = address(param(params, 0)?)?;
            let amount = param(params, 1)?
                .as_u64()
                .filter(|a| *a > 0)
                .ok_or_else(|| invalid("expected an amount of base units > 0"))?;
            json!(ledger
                .request_tokens(&to, amount)
                .map_err(refused)?
                .to_string())
        }
        paychan_interface::WARP_CLOCK_METHOD => {
            let seconds = param(params, 0)?
                .as_i64()
                .filter(|s| *s >= 0)
                .ok_or_else(|| invalid("expected a number of seconds >= 0"))?;
            json!(ledger.warp(seconds))
        }
        other => {
            return Err(RpcError {
                code: METHOD_NOT_FOUND,
                message: format!(
                    "Method not found: {other} (the embedded paychan ledger serves a subset)"
                ),
                data: None,
            })
        }
    })
}

fn param(params: &Value, index: usize) -> Result<&Value, RpcError> {
    params
        .get(index)
        .ok_or_else(|| invalid(format!("missing parameter {index}")))
}

fn parse<T: std::str::FromStr>(value: &Value, what: &str) -> Result<T, RpcError> {
    value
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid(format!("invalid {what}: {value}")))
}

fn address(value: &Value) -> Result<Address, RpcError> {
    parse(value, "address")
}

/// A landed transaction's `err` and `status`, as a validator shows them.
pub(super) fn outcome(err: &Option<solana_transaction_error::TransactionError>) -> (Value, Value) {
    match err {
        None => (Value::Null, json!({"Ok": null})),
        Some(err) => {
            let err = json!(UiTransactionError::from(err.clone()));
            (err.clone(), json!({"Err": err}))
        }
    }
}

/// A field of the config object at `index` of the params, if given (a null is not given:
/// `RpcClient` sends `"dataSlice": null`).
fn config<'a>(params: &'a Value, index: usize, field: &str) -> Option<&'a Value> {
    params
        .get(index)
        .and_then(|config| config.get(field))
        .filter(|value| !value.is_null())
}

/// The account as a validator encodes it (base64), its data cut to `dataSlice` if asked.
fn sliced(account: &solana_account::Account, slice: Option<&Value>) -> Value {
    let data = match slice {
        Some(slice) => {
            let offset = slice.get("offset").and_then(Value::as_u64).unwrap_or(0) as usize;
            let length = slice.get("length").and_then(Value::as_u64).unwrap_or(0) as usize;
            let start = offset.min(account.data.len());
            let end = start.saturating_add(length).min(account.data.len());
            &account.data[start..end]
        }
        None => &account.data[..],
    };
    json!({
        "lamports": account.lamports,
        "owner": account.owner.to_string(),
        "data": [BASE64.encode(data), "base64"],
        "executable": account.executable,
        "rentEpoch": account.rent_epoch,
        "space": account.data.len(),
    })
}

/// `getProgramAccounts` filters: every `dataSize` and `memcmp` (base58 or base64 bytes) holds.
fn matches_filters(data: &[u8], filters: &Value) -> bool {
    filters.as_array().into_iter().flatten().all(|filter| {
        if let Some(size) = filter.get("dataSize").and_then(Value::as_u64) {
            return data.len() as u64 == size;
        }
        let Some(memcmp) = filter.get("memcmp") else {
            return false; // a filter we do not know matches nothing, rather than everything
        };
        let offset = memcmp.get("offset").and_then(Value::as_u64).unwrap_or(0) as usize;
        let encoded = memcmp.get("bytes").and_then(Value::as_str).unwrap_or("");
        let bytes = match memcmp.get("encoding").and_then(Value::as_str) {
            Some("base64") => BASE64.decode(encoded).ok(),
            _ => bs58::decode(encoded).into_vec().ok(),
        };
        bytes.is_some_and(|bytes| {
            data.get(offset..offset.saturating_add(bytes.len())) == Some(&bytes[..])
        })
    })
}

/// A transaction in the validator's "json" encoding (static account keys only).
fn json_transaction(transaction: &VersionedTransaction) -> Value {
    let message = &transaction.message;
    let header = message.header();
    json!({
        "signatures": transaction.signatures.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        "message": {
            "header": {
                "numRequiredSignatures": header.num_required_signatures,
                "numReadonlySignedAccounts": header.num_readonly_signed_accounts,
                "numReadonlyUnsignedAccounts": header.num_readonly_unsigned_accounts,
            },
            "accountKeys": message.static_account_keys().iter().map(|k| k.to_string()).collect::<Vec<_>>(),
            "recentBlockhash": message.recent_blockhash().to_string(),
            "instructions": message.instructions().iter().map(|ix| json!({
                "programIdIndex": ix.program_id_index,
                "accounts": ix.accounts,
                "data": bs58::encode(&ix.data).into_string(),
                "stackHeight": null,
            })).collect::<Vec<_>>(),
        },
    })
}

/// `getBlock` for a slot this ledger has produced: the transactions that landed in it (the
/// blocks hold no votes, and no rewards), in the validator's shape. A slot ahead of the ledger
/// is "not available", as on a validator. Its blockhash is a stable hash of the slot: this
/// ledger keeps blockhashes per request, not per slot.
fn block(
    ledger: &EmbeddedLedger,
    slot: u64,
    details: &str,
    json_encoding: bool,
) -> Result<Value, RpcError> {
    if slot > ledger.slot() {
        return Err(RpcError {
            code: -32004,
            message: format!("Block not available for slot {slot}"),
            data: None,
        });
    }
    let hash_of = |slot: u64| {
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&slot.to_le_bytes());
        bytes[8..].copy_from_slice(&ledger.genesis_hash().to_bytes()[..24]);
        Hash::new_from_array(bytes).to_string()
    };
    let landed = ledger.landed_in(slot);
    let mut block = json!({
        "blockhash": hash_of(slot),
        "previousBlockhash": hash_of(slot.saturating_sub(1)),
        "parentSlot": slot.saturating_sub(1),
        "blockHeight": slot,
        "blockTime": null,
        "rewards": [],
    });
    match details {
        "none" => {}
        "signatures" => {
            block["signatures"] = landed.iter().map(|(s, _)| json!(s.to_string())).collect();
        }
        "full" => {
            block["transactions"] = landed
                .iter()
                .map(|(_, l)| {
                    let mut entry = landed_transaction(l, json_encoding)?;
                    entry.as_object_mut().map(|o| o.remove("slot"));
                    Ok(entry)
                })
                .collect::<Result<Vec<_>, RpcError>>()?
                .into();
        }
        other => {
            return Err(invalid(format!(
                "transactionDetails {other} is not served (full, signatures or none)"
            )))
        }
    }
    Ok(block)
}

/// `getTransaction` in the validator's shape, the transaction in "json" or "base64" encoding.
fn landed_transaction(
    landed: &super::state::LandedTransaction,
    json_encoding: bool,
) -> Result<Value, RpcError> {
    let encoded = match (&landed.transaction, json_encoding) {
        (Some(transaction), true) => json_transaction(transaction),
        (Some(transaction), false) => json!([
            BASE64.encode(bincode::serialize(transaction).map_err(|e| invalid(e.to_string()))?),
            "base64"
        ]),
        (None, _) => Value::Null,
    };
    let (err, status) = outcome(&landed.err);
    Ok(json!({
        "slot": landed.slot,
        "blockTime": null,
        "version": "legacy",
        "transaction": encoded,
        "meta": {
            "err": err,
            "status": status,
            "fee": landed.fee,
            "preBalances": [], "postBalances": [],
            "innerInstructions": [], "preTokenBalances": [], "postTokenBalances": [],
            "rewards": [],
            "logMessages": landed.logs,
            "computeUnitsConsumed": landed.units_consumed,
            "loadedAddresses": {"writable": [], "readonly": []},
        },
    }))
}

fn transaction(params: &Value) -> Result<VersionedTransaction, RpcError> {
    let encoded = param(params, 0)?
        .as_str()
        .ok_or_else(|| invalid("expected an encoded transaction"))?;
    let encoding = params
        .get(1)
        .and_then(|config| config.get("encoding"))
        .and_then(Value::as_str)
        .unwrap_or("base58");
    let bytes = match encoding {
        "base64" => BASE64.decode(encoded).ok(),
        "base58" => bs58::decode(encoded).into_vec().ok(),
        _ => return Err(invalid(format!("unsupported encoding {encoding}"))),
    }
    .ok_or_else(|| invalid(format!("transaction is not valid {encoding}")))?;
    bincode::deserialize(&bytes)
        .map_err(|e| invalid(format!("failed to deserialize transaction: {e}")))
}

/// A refused transaction in the shape `RpcClient` turns back into a `TransactionError`.
fn refused(refused: Refused) -> RpcError {
    let result = RpcSimulateTransactionResult {
        err: Some(UiTransactionError::from(refused.err.clone())),
        logs: Some(refused.logs),
        accounts: None,
        units_consumed: Some(refused.units_consumed),
        loaded_accounts_data_size: None,
        return_data: None,
        inner_instructions: None,
        replacement_blockhash: None,
        fee: None,
        pre_balances: None,
        post_balances: None,
        pre_token_balances: None,
        post_token_balances: None,
        loaded_addresses: None,
    };
    RpcError {
        code: PREFLIGHT_FAILURE,
        message: format!("Transaction simulation failed: {}", refused.err),
        data: Some(json!(result)),
    }
}
