//! Token channels: which token programs and mints a channel may lock, and which token accounts
//! can take a deposit or a payout. Byte-level checks on the token programs' own layouts, shared
//! by the program (which must decide without a CPI) and by clients (which preview the same
//! decision before they send anything).
//!
//! The rule for mints: a channel locks only tokens that nobody but the parties can move, block
//! or re-price while they are locked. SPL Token mints qualify; a Token-2022 mint qualifies when
//! each of its extensions is on the known-safe list (metadata, groups, close authority, display
//! scaling, a default account state that is not frozen, permissioned burn). A mint's freeze
//! authority is accepted: stablecoin issuers keep one, and a frozen vault is the issuer's act,
//! which no channel design can undo; frozen *payout* accounts never block the other party.

use crate::{error::PaychanError, Address};

/// `TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA`, SPL Token.
pub const SPL_TOKEN_ID: Address = Address::new_from_array([
    6, 221, 246, 225, 215, 101, 161, 147, 217, 203, 225, 70, 206, 235, 121, 172, 28, 180, 133, 237,
    95, 91, 55, 145, 58, 140, 245, 133, 126, 255, 0, 169,
]);

/// `TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb`, SPL Token-2022.
pub const TOKEN_2022_ID: Address = Address::new_from_array([
    6, 221, 246, 225, 238, 117, 143, 222, 24, 66, 93, 188, 228, 108, 205, 218, 182, 26, 252, 77,
    131, 185, 13, 39, 254, 189, 249, 40, 216, 161, 139, 252,
]);

/// `ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL`, the Associated Token Account program.
pub const ASSOCIATED_TOKEN_PROGRAM_ID: Address = Address::new_from_array([
    140, 151, 37, 143, 78, 36, 137, 241, 187, 61, 16, 41, 20, 142, 13, 131, 11, 90, 19, 153, 218,
    255, 16, 132, 4, 142, 123, 216, 219, 233, 248, 89,
]);

/// `So11111111111111111111111111111111111111112`, wrapped SOL (SPL Token).
pub const NATIVE_MINT: Address = Address::new_from_array([
    6, 155, 136, 87, 254, 171, 129, 132, 251, 104, 127, 99, 70, 24, 192, 53, 218, 196, 57, 220, 26,
    235, 59, 85, 152, 160, 240, 0, 0, 0, 0, 1,
]);

/// `9pan9bMn5HatX4EJdBwg9VgCa7Uz5HL8N1m5D3NdXejP`, wrapped SOL (Token-2022).
pub const NATIVE_MINT_2022: Address = Address::new_from_array([
    131, 13, 252, 159, 222, 95, 230, 184, 170, 124, 4, 164, 118, 233, 30, 138, 198, 187, 38, 74,
    173, 144, 250, 25, 201, 223, 73, 216, 92, 62, 91, 94,
]);

/// Bytes of a token account without extensions (both programs); the vault is always this size,
/// since no accepted mint requires an account extension.
pub const TOKEN_ACCOUNT_LEN: usize = 165;
/// Bytes of a mint without extensions.
pub const MINT_LEN: usize = 82;

/// Seed of the vault PDA: `["vault", channel]`.
pub const VAULT_SEED: &[u8] = b"vault";

/// Token-2022 writes its account type right after the 165-byte base, then the TLV extensions.
const ACCOUNT_TYPE_AT: usize = TOKEN_ACCOUNT_LEN;
const ACCOUNT_TYPE_MINT: u8 = 1;
const ACCOUNT_TYPE_ACCOUNT: u8 = 2;
const TLV_START: usize = ACCOUNT_TYPE_AT + 1;

/// Token account `state` byte.
const STATE_INITIALIZED: u8 = 1;

/// The token program a channel's vault belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum TokenProgram {
    Spl = 1,
    Token2022 = 2,
}

impl TokenProgram {
    pub const fn from_tag(tag: u8) -> Option<Self> {
        match tag {
            1 => Some(Self::Spl),
            2 => Some(Self::Token2022),
            _ => None,
        }
    }

    /// The token program that owns an account, if it is one of the two.
    pub fn from_owner(owner: &Address) -> Option<Self> {
        if *owner == SPL_TOKEN_ID {
            Some(Self::Spl)
        } else if *owner == TOKEN_2022_ID {
            Some(Self::Token2022)
        } else {
            None
        }
    }

    pub const fn id(self) -> &'static Address {
        match self {
            Self::Spl => &SPL_TOKEN_ID,
            Self::Token2022 => &TOKEN_2022_ID,
        }
    }
}

/// What a token channel records about the token it locks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenChannel {
    pub program: TokenProgram,
    pub mint: Address,
    /// The token account at the PDA `["vault", channel]`, owned (as token authority) by the
    /// channel PDA: only this program, signing for the channel, can move its tokens.
    pub vault: Address,
    pub decimals: u8,
}

/// Token-2022 extension types this module names (`ExtensionType` in spl-token-2022).
mod extension {
    pub const UNINITIALIZED: u16 = 0;
    pub const TRANSFER_FEE_CONFIG: u16 = 1;
    pub const MINT_CLOSE_AUTHORITY: u16 = 3;
    pub const CONFIDENTIAL_TRANSFER_MINT: u16 = 4;
    pub const DEFAULT_ACCOUNT_STATE: u16 = 6;
    pub const MEMO_TRANSFER: u16 = 8;
    pub const NON_TRANSFERABLE: u16 = 9;
    pub const INTEREST_BEARING_CONFIG: u16 = 10;
    pub const PERMANENT_DELEGATE: u16 = 12;
    pub const TRANSFER_HOOK: u16 = 14;
    pub const CONFIDENTIAL_TRANSFER_FEE_CONFIG: u16 = 16;
    pub const METADATA_POINTER: u16 = 18;
    pub const TOKEN_METADATA: u16 = 19;
    pub const GROUP_POINTER: u16 = 20;
    pub const TOKEN_GROUP: u16 = 21;
    pub const GROUP_MEMBER_POINTER: u16 = 22;
    pub const TOKEN_GROUP_MEMBER: u16 = 23;
    pub const CONFIDENTIAL_MINT_BURN: u16 = 24;
    pub const SCALED_UI_AMOUNT: u16 = 25;
    pub const PAUSABLE: u16 = 26;
    pub const PERMISSIONED_BURN: u16 = 28;
}

/// Walks the TLV extensions of a Token-2022 mint or account (`data` longer than the base).
/// Calls `each(type, value)` until it returns an error; malformed TLV is `malformed`.
fn for_each_extension(
    data: &[u8],
    account_type: u8,
    malformed: PaychanError,
    mut each: impl FnMut(u16, &[u8]) -> Result<(), PaychanError>,
) -> Result<(), PaychanError> {
    if data.get(ACCOUNT_TYPE_AT) != Some(&account_type) {
        return Err(malformed);
    }
    let mut at = TLV_START;
    while let Some(header) = data.get(at..at.saturating_add(4)) {
        let ty = u16::from_le_bytes([header[0], header[1]]);
        let len = usize::from(u16::from_le_bytes([header[2], header[3]]));
        if ty == extension::UNINITIALIZED {
            break;
        }
        let start = at.saturating_add(4);
        let end = start.checked_add(len).ok_or(malformed)?;
        let value = data.get(start..end).ok_or(malformed)?;
        each(ty, value)?;
        at = end;
    }
    Ok(())
}

/// Checks that `data`, a mint account of `program`, is initialized and safe to lock; returns
/// its decimals. Each unsafe Token-2022 extension has its own error.
pub fn check_mint(program: TokenProgram, mint: &Address, data: &[u8]) -> Result<u8, PaychanError> {
    let base = data.get(..MINT_LEN).ok_or(PaychanError::InvalidMint)?;
    if base[45] != 1 {
        return Err(PaychanError::InvalidMint);
    }
    if *mint == NATIVE_MINT || *mint == NATIVE_MINT_2022 {
        return Err(PaychanError::NativeMintNotSupported);
    }
    let decimals = base[44];
    match program {
        TokenProgram::Spl if data.len() == MINT_LEN => Ok(decimals),
        TokenProgram::Spl => Err(PaychanError::InvalidMint),
        TokenProgram::Token2022 if data.len() == MINT_LEN => Ok(decimals),
        TokenProgram::Token2022 => {
            // Between the 82-byte base and the account type, Token-2022 pads with zeros.
            if data.len() <= TLV_START {
                return Err(PaychanError::InvalidMint);
            }
            for_each_extension(
                data,
                ACCOUNT_TYPE_MINT,
                PaychanError::InvalidMint,
                |ty, value| {
                    use extension::*;
                    match ty {
                        TRANSFER_FEE_CONFIG => Err(PaychanError::MintHasTransferFee),
                        TRANSFER_HOOK => Err(PaychanError::MintHasTransferHook),
                        PERMANENT_DELEGATE => Err(PaychanError::MintHasPermanentDelegate),
                        NON_TRANSFERABLE => Err(PaychanError::MintNonTransferable),
                        PAUSABLE => Err(PaychanError::MintPausable),
                        CONFIDENTIAL_TRANSFER_MINT
                        | CONFIDENTIAL_TRANSFER_FEE_CONFIG
                        | CONFIDENTIAL_MINT_BURN => Err(PaychanError::MintHasConfidentialTransfers),
                        DEFAULT_ACCOUNT_STATE => match value.first() {
                            Some(&STATE_INITIALIZED) => Ok(()),
                            _ => Err(PaychanError::MintDefaultFrozen),
                        },
                        MINT_CLOSE_AUTHORITY
                        | INTEREST_BEARING_CONFIG
                        | METADATA_POINTER
                        | TOKEN_METADATA
                        | GROUP_POINTER
                        | TOKEN_GROUP
                        | GROUP_MEMBER_POINTER
                        | TOKEN_GROUP_MEMBER
                        | SCALED_UI_AMOUNT
                        | PERMISSIONED_BURN => Ok(()),
                        _ => Err(PaychanError::MintExtensionNotSupported),
                    }
                },
            )?;
            Ok(decimals)
        }
    }
}

/// The fields of a token account that decide whether it can pay or be paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenAccount {
    pub mint: Address,
    pub owner: Address,
    pub amount: u64,
    pub state: u8,
    /// Token-2022 only: incoming transfers need a memo instruction before them.
    pub requires_memo: bool,
}

fn address_at(data: &[u8], at: usize) -> Option<Address> {
    data.get(at..at.checked_add(32)?)
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .map(Address::new_from_array)
}

impl TokenAccount {
    /// Reads the data of an account owned by `program`; None when it is not a token account.
    pub fn parse(program: TokenProgram, data: &[u8]) -> Option<Self> {
        let amount = data
            .get(64..72)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)?;
        let mut account = Self {
            mint: address_at(data, 0)?,
            owner: address_at(data, 32)?,
            amount,
            state: *data.get(108)?,
            requires_memo: false,
        };
        match (program, data.len()) {
            (_, TOKEN_ACCOUNT_LEN) => {}
            (TokenProgram::Spl, _) => return None,
            (TokenProgram::Token2022, _) => {
                let mut requires_memo = false;
                for_each_extension(
                    data,
                    ACCOUNT_TYPE_ACCOUNT,
                    PaychanError::InvalidSourceAccount,
                    |ty, value| {
                        if ty == extension::MEMO_TRANSFER && value.first().is_some_and(|&b| b != 0)
                        {
                            requires_memo = true;
                        }
                        Ok(())
                    },
                )
                .ok()?;
                account.requires_memo = requires_memo;
            }
        }
        Some(account)
    }

    /// Whether a transfer of `amount` tokens of `mint` into this account, owned by `owner`,
    /// would succeed: initialized, not frozen, the right mint and owner, no memo required, no
    /// overflow. A payout to an account that fails this is never attempted (it would fail the
    /// whole settlement and block the other party).
    pub fn can_take(&self, mint: &Address, owner: Option<&Address>, amount: u64) -> bool {
        self.state == STATE_INITIALIZED
            && self.mint == *mint
            && owner.is_none_or(|owner| self.owner == *owner)
            && !self.requires_memo
            && self.amount.checked_add(amount).is_some()
    }

    /// Whether tokens of `mint` can be transferred out of this account (by its owner).
    pub fn can_give(&self, mint: &Address) -> bool {
        self.state == STATE_INITIALIZED && self.mint == *mint
    }
}

/// The seeds of a party's associated token account (under `ASSOCIATED_TOKEN_PROGRAM_ID`).
pub fn associated_token_seeds<'a>(
    wallet: &'a Address,
    program: TokenProgram,
    mint: &'a Address,
) -> [&'a [u8]; 3] {
    [wallet.as_ref(), program.id().as_ref(), mint.as_ref()]
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use super::*;

    const MINT: Address = Address::new_from_array([9; 32]);

    fn base_mint(decimals: u8) -> Vec<u8> {
        let mut data = std::vec![0u8; MINT_LEN];
        data[44] = decimals;
        data[45] = 1;
        data
    }

    /// A Token-2022 mint with these TLV entries.
    fn mint_with(extensions: &[(u16, &[u8])]) -> Vec<u8> {
        let mut data = base_mint(6);
        data.resize(ACCOUNT_TYPE_AT, 0);
        data.push(ACCOUNT_TYPE_MINT);
        for (ty, value) in extensions {
            data.extend_from_slice(&ty.to_le_bytes());
            data.extend_from_slice(&(value.len() as u16).to_le_bytes());
            data.extend_from_slice(value);
        }
        data
    }

    #[test]
    fn plain_mints_of_both_programs_are_accepted_with_their_decimals() {
        assert_eq!(check_mint(TokenProgram::Spl, &MINT, &base_mint(6)), Ok(6));
        assert_eq!(
            check_mint(TokenProgram::Token2022, &MINT, &base_mint(0)),
            Ok(0)
        );
        let mut uninitialized = base_mint(6);
        uninitialized[45] = 0;
        assert_eq!(
            check_mint(TokenProgram::Spl, &MINT, &uninitialized),
            Err(PaychanError::InvalidMint)
        );
        assert_eq!(
            check_mint(TokenProgram::Spl, &MINT, &mint_with(&[])),
            Err(PaychanError::InvalidMint),
            "SPL Token mints have no extensions"
        );
        for native in [NATIVE_MINT, NATIVE_MINT_2022] {
            assert_eq!(
                check_mint(TokenProgram::Spl, &native, &base_mint(9)),
                Err(PaychanError::NativeMintNotSupported)
            );
        }
    }

    #[test]
    fn each_unsafe_extension_has_its_own_error_and_safe_ones_pass() {
        use extension::*;
        for (ty, value, expected) in [
            (
                TRANSFER_FEE_CONFIG,
                &[0u8; 4][..],
                Err(PaychanError::MintHasTransferFee),
            ),
            (
                TRANSFER_HOOK,
                &[0; 64],
                Err(PaychanError::MintHasTransferHook),
            ),
            (
                PERMANENT_DELEGATE,
                &[1; 32],
                Err(PaychanError::MintHasPermanentDelegate),
            ),
            (
                NON_TRANSFERABLE,
                &[],
                Err(PaychanError::MintNonTransferable),
            ),
            (PAUSABLE, &[0; 33], Err(PaychanError::MintPausable)),
            (
                DEFAULT_ACCOUNT_STATE,
                &[2],
                Err(PaychanError::MintDefaultFrozen),
            ),
            (
                CONFIDENTIAL_TRANSFER_MINT,
                &[0; 65],
                Err(PaychanError::MintHasConfidentialTransfers),
            ),
            (
                CONFIDENTIAL_MINT_BURN,
                &[0; 8],
                Err(PaychanError::MintHasConfidentialTransfers),
            ),
            (27, &[0; 8], Err(PaychanError::MintExtensionNotSupported)),
            (600, &[], Err(PaychanError::MintExtensionNotSupported)),
            (DEFAULT_ACCOUNT_STATE, &[1], Ok(6)),
            (MINT_CLOSE_AUTHORITY, &[0; 32], Ok(6)),
            (METADATA_POINTER, &[0; 64], Ok(6)),
            (SCALED_UI_AMOUNT, &[0; 56], Ok(6)),
        ] {
            let data = mint_with(&[(MINT_CLOSE_AUTHORITY, &[0; 32]), (ty, value)]);
            assert_eq!(
                check_mint(TokenProgram::Token2022, &MINT, &data),
                expected,
                "extension {ty}"
            );
        }
    }

    #[test]
    fn malformed_extensions_are_not_a_mint() {
        let mut truncated = mint_with(&[(extension::METADATA_POINTER, &[0; 64])]);
        truncated.truncate(truncated.len() - 1);
        let mut wrong_type = mint_with(&[]);
        wrong_type[ACCOUNT_TYPE_AT] = ACCOUNT_TYPE_ACCOUNT;
        for data in [truncated, wrong_type, base_mint(6)[..81].to_vec()] {
            assert_eq!(
                check_mint(TokenProgram::Token2022, &MINT, &data),
                Err(PaychanError::InvalidMint)
            );
        }
    }

    fn account(owner: u8, amount: u64, state: u8) -> Vec<u8> {
        let mut data = std::vec![0u8; TOKEN_ACCOUNT_LEN];
        data[..32].copy_from_slice(MINT.as_ref());
        data[32..64].copy_from_slice(&[owner; 32]);
        data[64..72].copy_from_slice(&amount.to_le_bytes());
        data[108] = state;
        data
    }

    #[test]
    fn a_payout_goes_only_where_the_token_program_would_take_it() {
        let owner = Address::new_from_array([4; 32]);
        let usable = TokenAccount::parse(TokenProgram::Spl, &account(4, 10, 1)).expect("parses");
        assert!(usable.can_take(&MINT, Some(&owner), 5));
        assert!(usable.can_take(&MINT, None, 5));
        assert!(!usable.can_take(&MINT, Some(&Address::new_from_array([5; 32])), 5));
        assert!(!usable.can_take(&Address::new_from_array([1; 32]), Some(&owner), 5));
        assert!(!usable.can_take(&MINT, Some(&owner), u64::MAX), "overflow");
        let frozen = TokenAccount::parse(TokenProgram::Spl, &account(4, 10, 2)).expect("parses");
        assert!(!frozen.can_take(&MINT, Some(&owner), 5));
        assert!(!frozen.can_give(&MINT));

        // Token-2022: an account requiring memos cannot take a CPI transfer
        let mut memo = account(4, 10, 1);
        memo.push(ACCOUNT_TYPE_ACCOUNT);
        memo.extend_from_slice(&8u16.to_le_bytes());
        memo.extend_from_slice(&1u16.to_le_bytes());
        memo.push(1);
        let parsed = TokenAccount::parse(TokenProgram::Token2022, &memo).expect("parses");
        assert!(parsed.requires_memo && !parsed.can_take(&MINT, Some(&owner), 5));
        assert_eq!(TokenAccount::parse(TokenProgram::Spl, &memo), None);
        assert_eq!(TokenAccount::parse(TokenProgram::Spl, &memo[..100]), None);
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics(data in proptest::collection::vec(0u8.., 0..400)) {
            for program in [TokenProgram::Spl, TokenProgram::Token2022] {
                let _ = check_mint(program, &MINT, &data);
                let _ = TokenAccount::parse(program, &data);
            }
        }
    }
}
