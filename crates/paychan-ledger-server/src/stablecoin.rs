//! The embedded ledger's test stablecoin: an SPL Token mint, `tUSD` with 6 decimals like USDC,
//! that exists from the ledger's first slot, and a faucet that mints it into any wallet's
//! associated token account (`paychan airdrop --mint tUSD`), so token channels can be tried
//! and tested with nothing else. Development only: the faucet's key is derived from a public
//! seed, so anyone can mint; it has no freeze authority.

use paychan_interface::{
    token::{TokenProgram, ASSOCIATED_TOKEN_PROGRAM_ID, MINT_LEN, SPL_TOKEN_ID},
    Address,
};
use solana_account::Account;
use solana_instruction::{AccountMeta, Instruction};
use solana_keypair::Keypair;
use solana_signer::Signer;

/// `EeR86jW1xoxBjPBtCNbbUskM3xKFM8b46zwVcpKLnmXT`: sha256("paychan test USD mint"), an
/// address no key signs for (the account is planted, not created).
pub const TEST_USD_MINT: Address = Address::new_from_array([
    202, 189, 177, 252, 75, 230, 185, 111, 255, 123, 167, 157, 252, 201, 176, 53, 227, 185, 131,
    116, 183, 201, 59, 252, 193, 214, 248, 28, 106, 134, 8, 206,
]);

pub const TEST_USD_DECIMALS: u8 = 6;

/// The faucet: the test stablecoin's mint authority and the fee payer of its airdrops.
pub fn faucet() -> Keypair {
    Keypair::new_from_array(*b"paychan test USD faucet, dev-key")
}

/// The mint account as SPL Token lays it out: authority the faucet, no supply yet, no freeze
/// authority.
pub fn mint_account(rent_exempt_lamports: u64) -> Account {
    let mut data = vec![0u8; MINT_LEN];
    data[..4].copy_from_slice(&1u32.to_le_bytes());
    data[4..36].copy_from_slice(faucet().pubkey().as_ref());
    data[44] = TEST_USD_DECIMALS;
    data[45] = 1;
    Account {
        lamports: rent_exempt_lamports,
        data,
        owner: SPL_TOKEN_ID,
        executable: false,
        rent_epoch: 0,
    }
}

/// Creates `wallet`'s associated tUSD account if needed, then mints `amount` base units to it.
pub fn airdrop_instructions(wallet: &Address, amount: u64) -> [Instruction; 2] {
    let faucet = faucet().pubkey();
    let account = paychan_interface::pda::find_associated_token_address(
        wallet,
        TokenProgram::Spl,
        &TEST_USD_MINT,
    );
    let create = Instruction {
        program_id: ASSOCIATED_TOKEN_PROGRAM_ID,
        accounts: vec![
            AccountMeta::new(faucet, true),
            AccountMeta::new(account, false),
            AccountMeta::new_readonly(*wallet, false),
            AccountMeta::new_readonly(TEST_USD_MINT, false),
            AccountMeta::new_readonly(Address::new_from_array([0; 32]), false),
            AccountMeta::new_readonly(SPL_TOKEN_ID, false),
        ],
        // CreateIdempotent
        data: vec![1],
    };
    // SPL Token MintTo: tag 7, amount.
    let mut data = vec![7];
    data.extend_from_slice(&amount.to_le_bytes());
    let mint_to = Instruction {
        program_id: SPL_TOKEN_ID,
        accounts: vec![
            AccountMeta::new(TEST_USD_MINT, false),
            AccountMeta::new(account, false),
            AccountMeta::new_readonly(faucet, true),
        ],
        data,
    };
    [create, mint_to]
}
