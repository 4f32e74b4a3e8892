//! A token channel's accounts and the token CPIs that move its funds. Every check names its own
//! error; the CPIs go to the token program the channel recorded at Open, never to whatever
//! program a caller passed.

use paychan_interface::{
    channel::Channel,
    error::PaychanError,
    pda::CHANNEL_SEED,
    token::{TokenAccount, TokenChannel},
};
use pinocchio::{
    cpi::{Seed, Signer},
    error::ProgramError,
    AccountView, Address, ProgramResult,
};
use pinocchio_token::instructions::{CloseAccount, TransferChecked};

use crate::accounts::require_writable;

/// The vault and mint of a token channel, checked (with the token program, which the CPIs
/// need in the transaction) against what it recorded.
pub struct TokenAccounts<'a> {
    pub token: TokenChannel,
    pub vault: &'a mut AccountView,
    pub mint: &'a AccountView,
}

impl<'a> TokenAccounts<'a> {
    pub fn checked(
        token: &TokenChannel,
        vault: &'a mut AccountView,
        mint: &'a AccountView,
        program: &'a AccountView,
    ) -> Result<Self, PaychanError> {
        if program.address() != token.program.id() {
            return Err(PaychanError::InvalidTokenProgram);
        }
        if *mint.address() != token.mint {
            return Err(PaychanError::MintMismatch);
        }
        if *vault.address() != token.vault {
            return Err(PaychanError::VaultMismatch);
        }
        require_writable(vault)?;
        Ok(Self {
            token: *token,
            vault,
            mint,
        })
    }

    /// Tokens in the vault (the deposits not yet paid out, plus whatever others sent to it).
    pub fn vault_amount(&self) -> Result<u64, ProgramError> {
        let data = self.vault.try_borrow()?;
        Ok(TokenAccount::parse(self.token.program, &data)
            .ok_or(PaychanError::VaultMismatch)?
            .amount)
    }
}

/// Reads `account` as a token account of `token`'s program, if it is one.
pub fn read_token_account(token: &TokenChannel, account: &AccountView) -> Option<TokenAccount> {
    if !account.owned_by(token.program.id()) {
        return None;
    }
    let data = account.try_borrow().ok()?;
    TokenAccount::parse(token.program, &data)
}

/// Runs `f` with the channel PDA's signer seeds: the vault's token authority is the channel.
pub fn as_channel<R>(channel: &Channel, token: &TokenChannel, f: impl FnOnce(&[Signer]) -> R) -> R {
    let nonce_le = channel.nonce.to_le_bytes();
    let bump = [channel.bump];
    let seeds = [
        Seed::from(CHANNEL_SEED),
        Seed::from(channel.party_a.as_ref()),
        Seed::from(channel.party_b.as_ref()),
        Seed::from(&nonce_le),
        Seed::from(token.mint.as_ref()),
        Seed::from(&bump),
    ];
    f(&[Signer::from(&seeds)])
}

/// A transfer out of the vault, signed by the channel.
pub struct VaultTransfer<'a> {
    pub channel: &'a Channel,
    /// The channel account: the vault's token authority.
    pub authority: &'a AccountView,
}

impl VaultTransfer<'_> {
    pub fn send(
        &self,
        accounts: &TokenAccounts<'_>,
        to: &AccountView,
        amount: u64,
    ) -> ProgramResult {
        let token = &accounts.token;
        as_channel(self.channel, token, |signers| {
            TransferChecked::<&AccountView>::new(
                accounts.vault,
                accounts.mint,
                to,
                self.authority,
                amount,
                token.decimals,
            )
            .invoke_signed_with_unverified_program(signers, token.program.id())
        })
    }

    /// Closes the empty vault, its rent to `rent_to`.
    pub fn close(&self, accounts: &TokenAccounts<'_>, rent_to: &AccountView) -> ProgramResult {
        let token = &accounts.token;
        as_channel(self.channel, token, |signers| {
            CloseAccount::<&AccountView>::new(accounts.vault, rent_to, self.authority)
                .invoke_signed_with_unverified_program(signers, token.program.id())
        })
    }
}

/// Moves `amount` from `source` (checked: the depositor's own, unfrozen account of the mint)
/// into the vault; the depositor signed the transaction.
pub fn deposit(
    accounts: &TokenAccounts<'_>,
    source: &AccountView,
    depositor: &AccountView,
    amount: u64,
) -> ProgramResult {
    let token = &accounts.token;
    let account = read_token_account(token, source).ok_or(PaychanError::InvalidSourceAccount)?;
    if !account.can_give(&token.mint) {
        return Err(PaychanError::InvalidSourceAccount.into());
    }
    // Only the owner's own tokens: a delegate could otherwise lock a third party's tokens in a
    // channel whose payouts go to the delegate.
    if account.owner != *depositor.address() {
        return Err(PaychanError::SourceNotOwnedByDepositor.into());
    }
    TransferChecked::<&AccountView>::new(
        source,
        accounts.mint,
        accounts.vault,
        depositor,
        amount,
        token.decimals,
    )
    .invoke_with_unverified_program(token.program.id())
}

/// Where a party's payout goes.
pub enum Route {
    /// Transfer it: the destination is a usable token account of the party.
    Pay,
    /// Keep it unclaimed for Withdraw: the party's associated token account cannot take it
    /// (closed, frozen, reassigned, memo-only). Only the canonical associated account may be
    /// parked this way, so a caller cannot park a share by naming some other account.
    Park,
}

/// Decides `destination`'s route for `owner`'s payout of `amount`.
pub fn payout_route(
    token: &TokenChannel,
    destination: &AccountView,
    owner: &Address,
    amount: u64,
) -> Result<Route, PaychanError> {
    if read_token_account(token, destination)
        .is_some_and(|account| account.can_take(&token.mint, Some(owner), amount))
    {
        // A usable account passed read-only would otherwise park the share.
        require_writable(destination)?;
        return Ok(Route::Pay);
    }
    let seeds = paychan_interface::token::associated_token_seeds(owner, token.program, &token.mint);
    match crate::pda::canonical_pda(
        &seeds,
        &paychan_interface::token::ASSOCIATED_TOKEN_PROGRAM_ID,
    ) {
        Some(associated) if associated == *destination.address() => Ok(Route::Park),
        _ => Err(PaychanError::TokenPayoutAccountMismatch),
    }
}
