//! One builder per instruction, with accounts in the order `PaychanInstruction` documents.

use solana_instruction::{AccountMeta, Instruction};

use crate::{
    instruction::PaychanInstruction, pda::find_channel_address, Address, INSTRUCTIONS_SYSVAR_ID,
    SYSTEM_PROGRAM_ID,
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
}

impl ChannelAddress {
    /// A channel for a fresh random nonce (never reuse one for the same pair), picked so the
    /// canonical bump is 255: Open's on-chain PDA search then stops at its first try (each
    /// further try costs 1,500 CU).
    pub fn new_random(program_id: &Address, party_a: &Address, party_b: &Address) -> Self {
        Self::first_with_top_bump(
            program_id,
            party_a,
            party_b,
            core::iter::repeat_with(rand_nonce),
        )
    }

    /// The first of `nonces` whose channel has canonical bump 255.
    pub fn first_with_top_bump(
        program_id: &Address,
        party_a: &Address,
        party_b: &Address,
        nonces: impl IntoIterator<Item = u64>,
    ) -> Self {
        let mut last = None;
        for nonce in nonces {
            let channel = Self::derive(program_id, party_a, party_b, nonce);
            if channel.bump == u8::MAX {
                return channel;
            }
            last = Some(channel);
        }
        last.expect("at least one nonce")
    }

    /// The parameters of the channel account `account` at `address`, as the chain records
    /// them (its payout wallets among them), whatever anyone claimed about it.
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
        }
    }
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
/// Open, Deposit, CloseCooperative and Withdraw, the signers every payment.
pub fn open_with_signers(
    channel: &ChannelAddress,
    deposit: u64,
    challenge_period_secs: u64,
    signer_a: &Address,
    signer_b: &Address,
) -> Instruction {
    paychan_instruction(
        &channel.program_id,
        PaychanInstruction::Open {
            nonce: channel.nonce,
            deposit,
            challenge_period_secs,
            signer_a: *signer_a,
            signer_b: *signer_b,
        },
        std::vec![
            AccountMeta::new(channel.party_a, true),
            AccountMeta::new(channel.party_b, false),
            AccountMeta::new(channel.address, false),
            AccountMeta::new_readonly(SYSTEM_PROGRAM_ID, false),
        ],
    )
}

/// Deposit: `depositor` (A or B) adds `amount`.
pub fn deposit(channel: &ChannelAddress, depositor: &Address, amount: u64) -> Instruction {
    paychan_instruction(
        &channel.program_id,
        PaychanInstruction::Deposit { amount },
        std::vec![
            AccountMeta::new(*depositor, true),
            AccountMeta::new(channel.address, false),
            AccountMeta::new_readonly(SYSTEM_PROGRAM_ID, false),
        ],
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
        std::vec![
            AccountMeta::new(channel.party_a, true),
            AccountMeta::new(channel.party_b, true),
            AccountMeta::new(channel.address, false),
        ],
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
        std::vec![
            AccountMeta::new_readonly(*submitter, true),
            AccountMeta::new(channel.address, false),
            AccountMeta::new_readonly(INSTRUCTIONS_SYSVAR_ID, false),
            AccountMeta::new(channel.party_a, false),
            AccountMeta::new(channel.party_b, false),
        ],
    )
}

/// Finalize after the deadline; anyone may send it.
pub fn finalize(channel: &ChannelAddress) -> Instruction {
    paychan_instruction(
        &channel.program_id,
        PaychanInstruction::Finalize,
        std::vec![
            AccountMeta::new(channel.address, false),
            AccountMeta::new(channel.party_a, false),
            AccountMeta::new(channel.party_b, false),
        ],
    )
}

/// Withdraw: `destination` a party's wallet moves that party's share (anyone may submit); any other
/// destination moves the share of the party that submits.
pub fn withdraw(
    channel: &ChannelAddress,
    submitter: &Address,
    destination: &Address,
) -> Instruction {
    paychan_instruction(
        &channel.program_id,
        PaychanInstruction::Withdraw,
        std::vec![
            AccountMeta::new_readonly(*submitter, true),
            AccountMeta::new(channel.address, false),
            AccountMeta::new(*destination, false),
            AccountMeta::new(channel.party_a, false),
        ],
    )
}

fn rand_nonce() -> u64 {
    rand::random()
}
