//! Moving funds out of the channel without letting a recipient block the payout (G6).
//!
//! A lamport credit the runtime would reject (the recipient is read-only or executable, or
//! would stay below rent exemption), or a token payout the party's associated token account
//! cannot take (closed, frozen, reassigned, memo-only), is kept in the channel as `unclaimed_*`
//! for a later Withdraw instead of failing the instruction.

use paychan_interface::{
    channel::{Channel, ChannelStatus, Party},
    error::PaychanError,
    settlement::Payouts,
};
use pinocchio::{
    error::ProgramError,
    sysvars::{clock::Clock, Sysvar},
    AccountView,
};

use crate::{
    accounts::{require_wallet, store_channel},
    rent::Rent,
    token::{payout_route, Route, TokenAccounts, VaultTransfer},
};

/// Whether `recipient` can be credited `amount` without failing the transaction.
pub fn can_receive(rent: &Rent, recipient: &AccountView, amount: u64) -> bool {
    if amount == 0 {
        return true;
    }
    if !recipient.is_writable() || recipient.executable() {
        return false;
    }
    match (
        recipient.lamports().checked_add(amount),
        rent.minimum_balance(recipient.data_len()),
    ) {
        (Some(after), Some(minimum)) => after >= minimum,
        _ => false,
    }
}

/// Moves `amount` lamports from the program-owned `from` to `to`.
pub fn move_lamports(
    from: &mut AccountView,
    to: &mut AccountView,
    amount: u64,
) -> Result<(), PaychanError> {
    let remaining = from
        .lamports()
        .checked_sub(amount)
        .ok_or(PaychanError::ArithmeticOverflow)?;
    let credited = to
        .lamports()
        .checked_add(amount)
        .ok_or(PaychanError::ArithmeticOverflow)?;
    from.set_lamports(remaining);
    to.set_lamports(credited);
    Ok(())
}

/// The accounts a settlement touches.
pub struct SettlementAccounts<'a> {
    pub channel: &'a mut AccountView,
    pub wallet_a: &'a mut AccountView,
    pub wallet_b: &'a mut AccountView,
    /// A token channel's vault, mint, token program and the parties' payout token accounts,
    /// checked in `settle`. Kept as a thin pointer: moving a struct with a `TokenChannel`
    /// inside costs the lamport path hundreds of CU in byte copies.
    pub token: Option<&'a mut [AccountView; 5]>,
}

impl<'a> SettlementAccounts<'a> {
    /// The channel account and the parties' wallets: the right keys, writable.
    pub fn checked(
        channel: &Channel,
        channel_account: &'a mut AccountView,
        wallet_a: &'a mut AccountView,
        wallet_b: &'a mut AccountView,
    ) -> Result<Self, PaychanError> {
        require_wallet(channel, Party::A, wallet_a)?;
        require_wallet(channel, Party::B, wallet_b)?;
        Ok(Self {
            channel: channel_account,
            wallet_a,
            wallet_b,
            token: None,
        })
    }

    /// A token channel's token accounts, from the accounts after the fixed ones.
    // Separate from `checked`: BPF passes at most 5 registers, and a slice takes two.
    pub fn with_token(
        mut self,
        channel: &Channel,
        rest: &'a mut [AccountView],
    ) -> Result<Self, PaychanError> {
        if channel.token.is_some() {
            self.token = Some(take_rest(rest)?);
        }
        Ok(self)
    }
}

struct TokenPayoutAccounts<'a> {
    accounts: TokenAccounts<'a>,
    destination_a: &'a AccountView,
    destination_b: &'a AccountView,
}

/// Pays `payouts` to the parties, keeping what a party cannot take as unclaimed, then closes
/// the channel (rent reserve to A) if nothing is left unclaimed, else marks it Settled.
// Upstream BPF passes at most 5 arguments in registers and has no stack arguments: keep
// signatures narrow (a `Payouts` by value counts as two).
pub fn settle(
    accounts: SettlementAccounts<'_>,
    channel: &mut Channel,
    payouts: &Payouts,
) -> Result<(), ProgramError> {
    let SettlementAccounts {
        channel: channel_account,
        wallet_a,
        wallet_b,
        token: token_accounts,
    } = accounts;
    let token_accounts = match (&channel.token, token_accounts) {
        (Some(token), Some([vault, mint, program, destination_a, destination_b])) => {
            Some(TokenPayoutAccounts {
                accounts: TokenAccounts::checked(token, vault, mint, program)?,
                destination_a,
                destination_b,
            })
        }
        (Some(_), None) => return Err(PaychanError::MissingAccounts.into()),
        (None, _) => None,
    };
    // Every settlement is in a later slot than the Open, so an incarnation re-opened at this
    // address (in the settling slot or after) never has this one's opened_slot: states signed
    // for this one can never be valid for it.
    if Clock::get()?.slot <= channel.opened_slot {
        return Err(PaychanError::ChannelOpenedThisSlot.into());
    }
    let rent = Rent::get()?;
    match &token_accounts {
        Some(t) => {
            let token = t.accounts.token;
            // Tokens sent to the vault beyond the deposits are the opener's, as extra lamports
            // are: the vault then empties and closes.
            let beyond_deposits = t
                .accounts
                .vault_amount()?
                .saturating_sub(channel.total_deposits()?);
            let to_a = payouts
                .a
                .checked_add(beyond_deposits)
                .ok_or(PaychanError::ArithmeticOverflow)?;
            let sender = VaultTransfer {
                channel: &*channel,
                authority: channel_account,
            };
            let mut parked = [0u64; 2];
            for (i, (destination, owner, amount)) in [
                (t.destination_a, &channel.party_a, to_a),
                (t.destination_b, &channel.party_b, payouts.b),
            ]
            .into_iter()
            .enumerate()
            {
                if amount == 0 {
                    continue;
                }
                match payout_route(&token, destination, owner, amount)? {
                    Route::Pay => sender.send(&t.accounts, destination, amount)?,
                    Route::Park => parked[i] = amount,
                }
            }
            add_unclaimed(channel, parked)?;
        }
        None => {
            for (wallet, amount, unclaimed) in [
                (&mut *wallet_a, payouts.a, &mut channel.unclaimed_a),
                (&mut *wallet_b, payouts.b, &mut channel.unclaimed_b),
            ] {
                if can_receive(&rent, wallet, amount) {
                    move_lamports(channel_account, wallet, amount)?;
                } else {
                    *unclaimed = unclaimed
                        .checked_add(amount)
                        .ok_or(PaychanError::ArithmeticOverflow)?;
                }
            }
        }
    }
    Closing {
        rent: &rent,
        channel_account,
        reserve_recipient: wallet_a,
        token: token_accounts.as_ref().map(|t| &t.accounts),
    }
    .close_or_keep_settled(channel)
}

fn add_unclaimed(channel: &mut Channel, [a, b]: [u64; 2]) -> Result<(), PaychanError> {
    channel.unclaimed_a = channel
        .unclaimed_a
        .checked_add(a)
        .ok_or(PaychanError::ArithmeticOverflow)?;
    channel.unclaimed_b = channel
        .unclaimed_b
        .checked_add(b)
        .ok_or(PaychanError::ArithmeticOverflow)?;
    Ok(())
}

/// What closing a settled channel touches.
pub struct Closing<'a, 'b> {
    pub rent: &'a Rent,
    pub channel_account: &'a mut AccountView,
    /// The opener's account for the rent reserve (and a token channel's vault rent).
    pub reserve_recipient: &'a mut AccountView,
    pub token: Option<&'a TokenAccounts<'b>>,
}

impl Closing<'_, '_> {
    /// Closes the channel account (and a token channel's empty vault), returning the rent to
    /// the opener, once nothing is left unclaimed and the opener can take it; otherwise keeps
    /// it Settled.
    pub fn close_or_keep_settled(self, channel: &mut Channel) -> Result<(), ProgramError> {
        let Closing {
            rent,
            channel_account,
            reserve_recipient,
            token,
        } = self;
        let reserve = channel_account.lamports();
        let vault_rent = token.map_or(0, |t| t.vault.lamports());
        let all_claimed = channel.unclaimed_a == 0 && channel.unclaimed_b == 0;
        let vault_empty = match token {
            Some(t) => t.vault_amount()? == 0,
            None => true,
        };
        if all_claimed
            && vault_empty
            && reserve
                .checked_add(vault_rent)
                .is_some_and(|total| can_receive(rent, reserve_recipient, total))
        {
            if let Some(t) = token {
                VaultTransfer {
                    channel: &*channel,
                    authority: channel_account,
                }
                .close(t, reserve_recipient)?;
            }
            move_lamports(channel_account, reserve_recipient, reserve)?;
            return channel_account.close();
        }
        channel.status = ChannelStatus::Settled;
        store_channel(channel_account, channel)
    }
}

/// The first `N` of the accounts after an instruction's fixed ones.
pub fn take_rest<const N: usize>(
    rest: &mut [AccountView],
) -> Result<&mut [AccountView; N], PaychanError> {
    rest.get_mut(..N)
        .and_then(|a| a.try_into().ok())
        .ok_or(PaychanError::MissingAccounts)
}
