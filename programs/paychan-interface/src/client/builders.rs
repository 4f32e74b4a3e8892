//! One builder per instruction, with accounts in the order `PaychanInstruction` documents.

use solana_instruction::{AccountMeta, Instruction};

use crate::{
    instruction::{OpenToken, PaychanInstruction},
    pda::{
        find_associated_token_address, find_channel_address, find_token_channel_address,
        find_vault_address,
    },
    token::{TokenChannel, TokenProgram, ASSOCIATED_TOKEN_PROGRAM_ID},
    Address, INSTRUCTIONS_SYSVAR_ID, SYSTEM_PROGRAM_ID,
};

fn paychan_instruction(
    program_id: &Address,
    ix: PaychanInstruction,
    accounts: std::vec::Vec<AccountMeta>,
) -> Instruction {
    Instruction {
        program_id: *program_id,
        accounts,
        data: ix.pack(),
    }
}

/// The address of a channel, with the parameters that derive it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChannelAddress {
    pub program_id: Address,
    pub party_a: Address,
    pub party_b: Address,
    pub nonce: u64,
    pub address: Address,
    pub bump: u8,
    /// The token a token channel locks (None: lamports).
    pub token: Option<TokenChannel>,
}

impl ChannelAddress {
    /// A lamport channel for a fresh random nonce (never reuse one for the same pair).
    pub fn new_random(program_id: &Address, party_a: &Address, party_b: &Address) -> Self {
        Self::derive(program_id, party_a, party_b, rand_nonce())
    }

    /// A token channel of `mint` (of `program`, with `decimals`) for a fresh random nonce.
    pub fn new_random_token(
        program_id: &Address,
        party_a: &Address,
        party_b: &Address,
        program: TokenProgram,
        mint: &Address,
        decimals: u8,
    ) -> Self {
        Self::derive_token(
            program_id,
            party_a,
            party_b,
            rand_nonce(),
            program,
            mint,
            decimals,
        )
    }

    /// The parameters of the channel account `account` at `address`, as the chain records
    /// them (its payout wallets and token among them), whatever anyone claimed about it.
    pub fn of_account(
        program_id: &Address,
        address: &Address,
        account: &crate::channel::Channel,
    ) -> Self {
        Self {
            program_id: *program_id,
            party_a: account.party_a,
            party_b: account.party_b,
            nonce: account.nonce,
            address: *address,
            bump: account.bump,
            token: account.token,
        }
    }

    pub fn derive(program_id: &Address, party_a: &Address, party_b: &Address, nonce: u64) -> Self {
        let (address, bump) = find_channel_address(program_id, party_a, party_b, nonce);
        Self {
            program_id: *program_id,
            party_a: *party_a,
            party_b: *party_b,
            nonce,
            address,
            bump,
            token: None,
        }
    }

    pub fn derive_token(
        program_id: &Address,
        party_a: &Address,
        party_b: &Address,
        nonce: u64,
        program: TokenProgram,
        mint: &Address,
        decimals: u8,
    ) -> Self {
        let (address, bump) = find_token_channel_address(program_id, party_a, party_b, nonce, mint);
        let (vault, _) = find_vault_address(program_id, &address);
        Self {
            program_id: *program_id,
            party_a: *party_a,
            party_b: *party_b,
            nonce,
            address,
            bump,
            token: Some(TokenChannel {
                program,
                mint: *mint,
                vault,
                decimals,
            }),
        }
    }

    /// A party's associated token account for this channel's mint (None: a lamport channel).
    pub fn token_account_of(&self, wallet: &Address) -> Option<Address> {
        self.token
            .map(|t| find_associated_token_address(wallet, t.program, &t.mint))
    }
}

/// The vault, mint and token program, in the order every token instruction lists them.
fn token_accounts(token: &TokenChannel) -> [AccountMeta; 3] {
    [
        AccountMeta::new(token.vault, false),
        AccountMeta::new_readonly(token.mint, false),
        AccountMeta::new_readonly(*token.program.id(), false),
    ]
}

/// A token channel's payout accounts: its vault, mint, token program and each party's
/// associated token account (nothing for a lamport channel).
fn payout_accounts(channel: &ChannelAddress) -> std::vec::Vec<AccountMeta> {
    let Some(token) = &channel.token else {
        return std::vec::Vec::new();
    };
    let mut accounts = token_accounts(token).to_vec();
    for wallet in [&channel.party_a, &channel.party_b] {
        let destination = find_associated_token_address(wallet, token.program, &token.mint);
        accounts.push(AccountMeta::new(destination, false));
    }
    accounts
}

/// For a token channel: creates each party's associated token account where it is missing
/// (`payer` pays its rent), so a settlement pays it instead of parking the share; goes before
/// the settling instruction. Nothing for a lamport channel.
pub fn create_payout_accounts(
    channel: &ChannelAddress,
    payer: &Address,
) -> std::vec::Vec<Instruction> {
    let Some(token) = &channel.token else {
        return std::vec::Vec::new();
    };
    [&channel.party_a, &channel.party_b]
        .into_iter()
        .map(|wallet| Instruction {
            program_id: ASSOCIATED_TOKEN_PROGRAM_ID,
            accounts: std::vec![
                AccountMeta::new(*payer, true),
                AccountMeta::new(
                    find_associated_token_address(wallet, token.program, &token.mint),
                    false,
                ),
                AccountMeta::new_readonly(*wallet, false),
                AccountMeta::new_readonly(token.mint, false),
                AccountMeta::new_readonly(SYSTEM_PROGRAM_ID, false),
                AccountMeta::new_readonly(*token.program.id(), false),
            ],
            // CreateIdempotent: succeeds without change when the account exists.
            data: std::vec![1],
        })
        .collect()
}

/// Open: A creates the channel and locks `deposit`; each party's wallet signs its states.
pub fn open(channel: &ChannelAddress, deposit: u64, challenge_period_secs: u64) -> Instruction {
    open_with_signers(
        channel,
        deposit,
        challenge_period_secs,
        &channel.party_a,
        &channel.party_b,
    )
}

/// Open with state-signing keys apart from the wallets (session keys): the wallets sign only
/// Open, Deposit, CloseCooperative and Withdraw, the signers every payment. A token channel's
/// deposit comes from A's associated token account.
pub fn open_with_signers(
    channel: &ChannelAddress,
    deposit: u64,
    challenge_period_secs: u64,
    signer_a: &Address,
    signer_b: &Address,
) -> Instruction {
    let mut accounts = std::vec![
        AccountMeta::new(channel.party_a, true),
        AccountMeta::new(channel.party_b, false),
        AccountMeta::new(channel.address, false),
        AccountMeta::new_readonly(SYSTEM_PROGRAM_ID, false),
    ];
    let token = channel.token.map(|token| {
        let (vault, vault_bump) = find_vault_address(&channel.program_id, &channel.address);
        accounts.extend([
            AccountMeta::new_readonly(token.mint, false),
            AccountMeta::new(vault, false),
            AccountMeta::new_readonly(*token.program.id(), false),
            AccountMeta::new(
                find_associated_token_address(&channel.party_a, token.program, &token.mint),
                false,
            ),
        ]);
        OpenToken {
            vault_bump,
            decimals: token.decimals,
        }
    });
    paychan_instruction(
        &channel.program_id,
        PaychanInstruction::Open {
            nonce: channel.nonce,
            deposit,
            challenge_period_secs,
            signer_a: *signer_a,
            signer_b: *signer_b,
            bump: channel.bump,
            token,
        },
        accounts,
    )
}

/// Deposit: `depositor` (A or B) adds `amount` (for a token channel, from its associated
/// token account).
pub fn deposit(channel: &ChannelAddress, depositor: &Address, amount: u64) -> Instruction {
    let mut accounts = std::vec![
        AccountMeta::new(*depositor, true),
        AccountMeta::new(channel.address, false),
        AccountMeta::new_readonly(SYSTEM_PROGRAM_ID, false),
    ];
    if let Some(token) = &channel.token {
        accounts.extend(token_accounts(token));
        accounts.push(AccountMeta::new(
            find_associated_token_address(depositor, token.program, &token.mint),
            false,
        ));
    }
    paychan_instruction(
        &channel.program_id,
        PaychanInstruction::Deposit { amount },
        accounts,
    )
}

/// CloseCooperative: both parties sign one transaction with the final balances.
pub fn close_cooperative(channel: &ChannelAddress, balance_a: u64, balance_b: u64) -> Instruction {
    paychan_instruction(
        &channel.program_id,
        PaychanInstruction::CloseCooperative {
            balance_a,
            balance_b,
        },
        [
            AccountMeta::new(channel.party_a, true),
            AccountMeta::new(channel.party_b, true),
            AccountMeta::new(channel.address, false),
        ]
        .into_iter()
        .chain(payout_accounts(channel))
        .collect(),
    )
}

/// StartClose. With a state, put the co-signed state's Ed25519 instruction right before it
/// (see [`CoSignedState::start_close`]).
pub fn start_close(
    channel: &ChannelAddress,
    registrant: &Address,
    with_state: bool,
) -> Instruction {
    paychan_instruction(
        &channel.program_id,
        PaychanInstruction::StartClose { with_state },
        std::vec![
            AccountMeta::new_readonly(*registrant, true),
            AccountMeta::new(channel.address, false),
            AccountMeta::new_readonly(INSTRUCTIONS_SYSVAR_ID, false),
        ],
    )
}

/// Dispute by `submitter` (a party or a watchtower). Put the Ed25519 instruction right before.
pub fn dispute(channel: &ChannelAddress, submitter: &Address) -> Instruction {
    paychan_instruction(
        &channel.program_id,
        PaychanInstruction::Dispute,
        [
            AccountMeta::new_readonly(*submitter, true),
            AccountMeta::new(channel.address, false),
            AccountMeta::new_readonly(INSTRUCTIONS_SYSVAR_ID, false),
            AccountMeta::new(channel.party_a, false),
            AccountMeta::new(channel.party_b, false),
        ]
        .into_iter()
        .chain(payout_accounts(channel))
        .collect(),
    )
}

/// Finalize after the deadline; anyone may send it.
pub fn finalize(channel: &ChannelAddress) -> Instruction {
    paychan_instruction(
        &channel.program_id,
        PaychanInstruction::Finalize,
        [
            AccountMeta::new(channel.address, false),
            AccountMeta::new(channel.party_a, false),
            AccountMeta::new(channel.party_b, false),
        ]
        .into_iter()
        .chain(payout_accounts(channel))
        .collect(),
    )
}

/// Withdraw: `destination` a party's wallet moves that party's share (anyone may submit); any other
/// destination moves the share of the party that submits. For a token channel `destination` is
/// a token account of its mint, and its owner plays the wallet's part.
pub fn withdraw(
    channel: &ChannelAddress,
    submitter: &Address,
    destination: &Address,
) -> Instruction {
    paychan_instruction(
        &channel.program_id,
        PaychanInstruction::Withdraw,
        [
            AccountMeta::new_readonly(*submitter, true),
            AccountMeta::new(channel.address, false),
            AccountMeta::new(*destination, false),
            AccountMeta::new(channel.party_a, false),
        ]
        .into_iter()
        .chain(channel.token.iter().flat_map(token_accounts))
        .collect(),
    )
}

fn rand_nonce() -> u64 {
    rand::random()
}
