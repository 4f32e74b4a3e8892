//! Open: party A creates the channel PDA, pays its rent and locks its first deposit: lamports
//! in the channel account itself, or a token channel's tokens in a vault token account the
//! channel PDA owns.

use paychan_interface::{
    channel::{Channel, ChannelStatus, CHANNEL_ACCOUNT_LEN},
    error::PaychanError,
    instruction::OpenToken,
    pda::{channel_seeds, token_channel_seeds, vault_seeds},
    state::ChannelState,
    token::{check_mint, TokenChannel, TokenProgram, TOKEN_ACCOUNT_LEN},
    MAX_CHALLENGE_PERIOD_SECS, SYSTEM_PROGRAM_ID, SYSVAR_OWNER_ID,
};
use pinocchio::{
    cpi::{Seed, Signer},
    error::ProgramError,
    AccountView, Address, ProgramResult,
};
use pinocchio_system::instructions::{Allocate, Assign, CreateAccount, Transfer};
use pinocchio_token::instructions::InitializeAccount3;

use super::{now, split_accounts};
use crate::{
    accounts::{require_signer, require_system_program, require_writable, store_channel},
    payout::take_rest,
    pda::verify_pda,
    rent::Rent,
    token::{self, TokenAccounts},
};

pub struct Args {
    pub nonce: u64,
    pub deposit: u64,
    pub challenge_period_secs: u64,
    pub signer_a: Address,
    pub signer_b: Address,
    pub bump: u8,
    pub token: Option<OpenToken>,
}

/// Checks, in order:
/// 1. A signed and is writable; the channel is writable; the System program is the real one.
/// 2. B differs from A and can receive a payout; each state-signing key belongs to one party;
///    the challenge period is within (0, 1 year].
/// 3. A token channel: the token program is SPL Token or Token-2022 and owns the mint; the
///    mint is initialized, not wrapped SOL, has only safe extensions (`check_mint`) and the
///    decimals A named.
/// 4. The channel address is the PDA of (party_a, party_b, nonce[, mint]) and the bump; a
///    token channel's vault is the PDA of ("vault", channel) and its bump.
/// 5. Nothing lives at those addresses yet (a prefunded empty address is taken over).
/// 6. A token deposit comes from A's own unfrozen token account of the mint.
pub fn process(program_id: &Address, accounts: &mut [AccountView], args: Args) -> ProgramResult {
    let ([party_a, party_b, channel_account, system_program], rest) = split_accounts(accounts)?;
    require_signer(party_a)?;
    require_writable(party_a)?;
    require_writable(channel_account)?;
    require_system_program(system_program)?;

    if party_b.address() == party_a.address() {
        return Err(PaychanError::PartiesEqual.into());
    }
    require_can_receive(program_id, party_b)?;
    // One key signing for both parties could forge every co-signed state.
    if args.signer_a == args.signer_b
        || &args.signer_a == party_b.address()
        || &args.signer_b == party_a.address()
    {
        return Err(PaychanError::SignerKeysOverlap.into());
    }
    if args.challenge_period_secs == 0 || args.challenge_period_secs > MAX_CHALLENGE_PERIOD_SECS {
        return Err(PaychanError::InvalidChallengePeriod.into());
    }

    let mut channel = Channel {
        status: ChannelStatus::Open,
        bump: args.bump,
        party_a: *party_a.address(),
        party_b: *party_b.address(),
        nonce: args.nonce,
        opened_slot: now()?.slot,
        challenge_period_secs: args.challenge_period_secs,
        deposited_a: args.deposit,
        deposited_b: 0,
        registered: ChannelState::default(),
        registered_by: None,
        deadline: 0,
        unclaimed_a: 0,
        unclaimed_b: 0,
        accountable_seq: 0,
        signer_a: args.signer_a,
        signer_b: args.signer_b,
        token: None,
    };
    let rent = Rent::get()?;
    let reserve = rent
        .minimum_balance(CHANNEL_ACCOUNT_LEN)
        .ok_or(PaychanError::ArithmeticOverflow)?;
    let nonce_le = args.nonce.to_le_bytes();
    let bump = [args.bump];
    match args.token {
        None => {
            let seeds = channel_seeds(party_a.address(), party_b.address(), &nonce_le);
            verify_pda(
                &seeds,
                args.bump,
                program_id,
                channel_account.address(),
                PaychanError::ChannelAddressMismatch,
            )?;
            let signer_seeds = [
                Seed::from(seeds[0]),
                Seed::from(seeds[1]),
                Seed::from(seeds[2]),
                Seed::from(seeds[3]),
                Seed::from(&bump),
            ];
            NewAccount {
                payer: party_a,
                account: channel_account,
                rent: reserve,
                deposit: args.deposit,
                space: CHANNEL_ACCOUNT_LEN as u64,
                owner: program_id,
            }
            .create(
                &Signer::from(&signer_seeds),
                PaychanError::ChannelAlreadyExists,
            )?;
        }
        Some(open_token) => {
            let [mint, vault, token_program, source] = take_rest(rest)?;
            let program =
                TokenProgram::from_owner(&mint.owner()).ok_or(PaychanError::InvalidMint)?;
            if token_program.address() != program.id() {
                return Err(PaychanError::InvalidTokenProgram.into());
            }
            let decimals = check_mint(program, mint.address(), &mint.try_borrow()?)?;
            if decimals != open_token.decimals {
                return Err(PaychanError::DecimalsMismatch.into());
            }
            let seeds = token_channel_seeds(
                party_a.address(),
                party_b.address(),
                &nonce_le,
                mint.address(),
            );
            verify_pda(
                &seeds,
                args.bump,
                program_id,
                channel_account.address(),
                PaychanError::ChannelAddressMismatch,
            )?;
            let vault_address = vault_seeds(channel_account.address());
            verify_pda(
                &vault_address,
                open_token.vault_bump,
                program_id,
                vault.address(),
                PaychanError::VaultMismatch,
            )?;
            let token_channel = TokenChannel {
                program,
                mint: *mint.address(),
                vault: *vault.address(),
                decimals,
            };
            channel.token = Some(token_channel);

            let channel_signer = [
                Seed::from(seeds[0]),
                Seed::from(seeds[1]),
                Seed::from(seeds[2]),
                Seed::from(seeds[3]),
                Seed::from(seeds[4]),
                Seed::from(&bump),
            ];
            NewAccount {
                payer: party_a,
                account: channel_account,
                rent: reserve,
                deposit: 0,
                space: CHANNEL_ACCOUNT_LEN as u64,
                owner: program_id,
            }
            .create(
                &Signer::from(&channel_signer),
                PaychanError::ChannelAlreadyExists,
            )?;
            let vault_bump = [open_token.vault_bump];
            let vault_signer = [
                Seed::from(vault_address[0]),
                Seed::from(vault_address[1]),
                Seed::from(&vault_bump),
            ];
            NewAccount {
                payer: party_a,
                account: vault,
                rent: rent
                    .minimum_balance(TOKEN_ACCOUNT_LEN)
                    .ok_or(PaychanError::ArithmeticOverflow)?,
                deposit: 0,
                space: TOKEN_ACCOUNT_LEN as u64,
                owner: program.id(),
            }
            .create(&Signer::from(&vault_signer), PaychanError::VaultMismatch)?;
            InitializeAccount3::new(vault, mint, channel_account.address())
                .invoke_with_unverified_program(program.id())?;
            if args.deposit > 0 {
                let accounts = TokenAccounts::checked(&token_channel, vault, mint, token_program)?;
                token::deposit(&accounts, source, party_a, args.deposit)?;
            }
        }
    }
    store_channel(channel_account, &channel)
}

/// A program-owned account created at a PDA, paid by `payer`: its rent, and a lamport deposit.
struct NewAccount<'a> {
    payer: &'a AccountView,
    account: &'a AccountView,
    rent: u64,
    deposit: u64,
    space: u64,
    owner: &'a Address,
}

impl NewAccount<'_> {
    /// Creates the account; `taken` is the error when something already lives there.
    fn create(&self, signer: &Signer, taken: PaychanError) -> Result<(), ProgramError> {
        if !self.account.owned_by(&SYSTEM_PROGRAM_ID) || !self.account.is_data_empty() {
            return Err(taken.into());
        }
        let signers = core::slice::from_ref(signer);
        let prefunded = self.account.lamports();
        if prefunded == 0 {
            return CreateAccount {
                from: self.payer,
                to: self.account,
                lamports: self
                    .rent
                    .checked_add(self.deposit)
                    .ok_or(PaychanError::ArithmeticOverflow)?,
                space: self.space,
                owner: self.owner,
            }
            .invoke_signed(signers);
        }
        // Someone sent lamports to the address first, which makes CreateAccount fail: they
        // count towards the rent, and a lamport deposit still comes in full from A.
        let top_up = self
            .rent
            .saturating_sub(prefunded)
            .checked_add(self.deposit)
            .ok_or(PaychanError::ArithmeticOverflow)?;
        if top_up > 0 {
            Transfer {
                from: self.payer,
                to: self.account,
                lamports: top_up,
            }
            .invoke()?;
        }
        Allocate {
            account: self.account,
            space: self.space,
        }
        .invoke_signed(signers)?;
        Assign {
            account: self.account,
            owner: self.owner,
        }
        .invoke_signed(signers)
    }
}
/// A key the runtime keeps read-only (sysvars, builtin programs: it demotes them even when
/// passed writable), a program, or this program itself could never take B's payout: B's
/// deposits and winnings would be stuck and A's Finalize would fail forever.
fn require_can_receive(program_id: &Address, party_b: &AccountView) -> Result<(), PaychanError> {
    if !party_b.is_writable()
        || party_b.executable()
        || party_b.owned_by(&SYSVAR_OWNER_ID)
        || party_b.address() == program_id
    {
        return Err(PaychanError::PartyBCannotReceive);
    }
    Ok(())
}
