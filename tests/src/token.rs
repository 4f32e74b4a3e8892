//! Mints and token accounts on the real SPL Token and Token-2022 programs, made with their own
//! instructions (the ones a wallet or issuer sends), for token-channel tests.

use paychan_interface::token::{TokenProgram, ASSOCIATED_TOKEN_PROGRAM_ID};
use solana_address::Address;
use solana_instruction::{AccountMeta, Instruction};
use solana_keypair::Keypair;
use solana_signer::Signer;
use spl_token_2022_interface::{
    extension::{
        confidential_transfer, default_account_state, metadata_pointer, pausable, transfer_fee,
        transfer_hook, ExtensionType,
    },
    instruction as token_ix,
    state::{AccountState, Mint},
};

use crate::backend::{Backend, SendResult};

/// A Token-2022 mint extension a test mint is created with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MintExtension {
    TransferFee,
    TransferHook,
    PermanentDelegate,
    NonTransferable,
    Pausable,
    DefaultFrozen,
    DefaultInitialized,
    ConfidentialTransfers,
    MintCloseAuthority,
    MetadataPointer,
}

impl MintExtension {
    fn extension_type(self) -> ExtensionType {
        match self {
            Self::TransferFee => ExtensionType::TransferFeeConfig,
            Self::TransferHook => ExtensionType::TransferHook,
            Self::PermanentDelegate => ExtensionType::PermanentDelegate,
            Self::NonTransferable => ExtensionType::NonTransferable,
            Self::Pausable => ExtensionType::Pausable,
            Self::DefaultFrozen | Self::DefaultInitialized => ExtensionType::DefaultAccountState,
            Self::ConfidentialTransfers => ExtensionType::ConfidentialTransferMint,
            Self::MintCloseAuthority => ExtensionType::MintCloseAuthority,
            Self::MetadataPointer => ExtensionType::MetadataPointer,
        }
    }

    fn initialize(self, program: &Address, mint: &Address, authority: &Address) -> Instruction {
        let ix = match self {
            Self::TransferFee => transfer_fee::instruction::initialize_transfer_fee_config(
                program,
                mint,
                Some(authority),
                Some(authority),
                100,
                u64::MAX,
            ),
            Self::TransferHook => {
                transfer_hook::instruction::initialize(program, mint, Some(*authority), None)
            }
            Self::PermanentDelegate => {
                token_ix::initialize_permanent_delegate(program, mint, authority)
            }
            Self::NonTransferable => token_ix::initialize_non_transferable_mint(program, mint),
            Self::Pausable => pausable::instruction::initialize(program, mint, authority),
            Self::DefaultFrozen => {
                default_account_state::instruction::initialize_default_account_state(
                    program,
                    mint,
                    &AccountState::Frozen,
                )
            }
            Self::DefaultInitialized => {
                default_account_state::instruction::initialize_default_account_state(
                    program,
                    mint,
                    &AccountState::Initialized,
                )
            }
            Self::ConfidentialTransfers => confidential_transfer::instruction::initialize_mint(
                program,
                mint,
                Some(*authority),
                true,
                None,
            ),
            Self::MintCloseAuthority => {
                token_ix::initialize_mint_close_authority(program, mint, Some(authority))
            }
            Self::MetadataPointer => {
                metadata_pointer::instruction::initialize(program, mint, Some(*authority), None)
            }
        };
        ix.expect("extension instruction")
    }
}

/// A mint whose authority (also its freeze authority) is held by the test.
pub struct TestMint {
    pub program: TokenProgram,
    pub address: Address,
    pub authority: Keypair,
    pub decimals: u8,
}

impl TestMint {
    /// Creates a mint on `program` with `extensions` (Token-2022 only), through the token
    /// program's own instructions.
    pub fn create(
        backend: &mut dyn Backend,
        program: TokenProgram,
        decimals: u8,
        extensions: &[MintExtension],
    ) -> Self {
        let authority = Keypair::new();
        backend.fund(&authority.pubkey(), 100 * crate::SOL);
        let mint = Keypair::new();
        let types: Vec<ExtensionType> = extensions.iter().map(|e| e.extension_type()).collect();
        let space = if types.is_empty() {
            paychan_interface::token::MINT_LEN
        } else {
            ExtensionType::try_calculate_account_len::<Mint>(&types).expect("mint size")
        };
        let program_id = *program.id();
        let mut instructions = vec![create_account(
            &authority.pubkey(),
            &mint.pubkey(),
            backend.minimum_balance(space),
            space as u64,
            &program_id,
        )];
        for extension in extensions {
            instructions.push(extension.initialize(
                &program_id,
                &mint.pubkey(),
                &authority.pubkey(),
            ));
        }
        instructions.push(
            token_ix::initialize_mint2(
                &program_id,
                &mint.pubkey(),
                &authority.pubkey(),
                Some(&authority.pubkey()),
                decimals,
            )
            .expect("initialize_mint2"),
        );
        backend
            .send(&instructions, &authority, &[&mint])
            .unwrap_or_else(|e| panic!("create mint {extensions:?}: {e:?}"));
        Self {
            program,
            address: mint.pubkey(),
            authority,
            decimals,
        }
    }

    /// `wallet`'s associated token account, created (by the mint authority, paying) if absent.
    pub fn associated_account(&self, backend: &mut dyn Backend, wallet: &Address) -> Address {
        let address = associated_token_address(wallet, self.program, &self.address);
        let create = Instruction {
            program_id: ASSOCIATED_TOKEN_PROGRAM_ID,
            accounts: vec![
                AccountMeta::new(self.authority.pubkey(), true),
                AccountMeta::new(address, false),
                AccountMeta::new_readonly(*wallet, false),
                AccountMeta::new_readonly(self.address, false),
                AccountMeta::new_readonly(solana_sdk_ids::system_program::ID, false),
                AccountMeta::new_readonly(*self.program.id(), false),
            ],
            // CreateIdempotent
            data: vec![1],
        };
        backend
            .send(&[create], &self.authority, &[])
            .unwrap_or_else(|e| panic!("create associated account: {e:?}"));
        address
    }

    /// A token account of this mint for `owner` at a fresh address (not the associated one).
    pub fn other_account(&self, backend: &mut dyn Backend, owner: &Address) -> Address {
        let account = Keypair::new();
        let space = paychan_interface::token::TOKEN_ACCOUNT_LEN;
        let instructions = [
            create_account(
                &self.authority.pubkey(),
                &account.pubkey(),
                backend.minimum_balance(space),
                space as u64,
                self.program.id(),
            ),
            token_ix::initialize_account3(
                self.program.id(),
                &account.pubkey(),
                &self.address,
                owner,
            )
            .expect("initialize_account3"),
        ];
        backend
            .send(&instructions, &self.authority, &[&account])
            .unwrap_or_else(|e| panic!("create token account: {e:?}"));
        account.pubkey()
    }

    pub fn mint_to(&self, backend: &mut dyn Backend, account: &Address, amount: u64) {
        let ix = token_ix::mint_to(
            self.program.id(),
            &self.address,
            account,
            &self.authority.pubkey(),
            &[],
            amount,
        )
        .expect("mint_to");
        backend
            .send(&[ix], &self.authority, &[])
            .unwrap_or_else(|e| panic!("mint_to: {e:?}"));
    }

    pub fn freeze(&self, backend: &mut dyn Backend, account: &Address) {
        let ix = token_ix::freeze_account(
            self.program.id(),
            account,
            &self.address,
            &self.authority.pubkey(),
            &[],
        )
        .expect("freeze");
        backend
            .send(&[ix], &self.authority, &[])
            .unwrap_or_else(|e| panic!("freeze: {e:?}"));
    }

    /// Sends `amount` from `owner`'s `from` to `to`.
    pub fn transfer(
        &self,
        backend: &mut dyn Backend,
        owner: &Keypair,
        from: &Address,
        to: &Address,
        amount: u64,
    ) -> SendResult {
        let ix = token_ix::transfer_checked(
            self.program.id(),
            from,
            &self.address,
            to,
            &owner.pubkey(),
            &[],
            amount,
            self.decimals,
        )
        .expect("transfer_checked");
        backend.send(&[ix], owner, &[])
    }

    /// Lets `delegate` move up to `amount` from `owner`'s `account`.
    pub fn approve(
        &self,
        backend: &mut dyn Backend,
        owner: &Keypair,
        account: &Address,
        delegate: &Address,
        amount: u64,
    ) {
        let ix = token_ix::approve(
            self.program.id(),
            account,
            delegate,
            &owner.pubkey(),
            &[],
            amount,
        )
        .expect("approve");
        backend
            .send(&[ix], owner, &[])
            .unwrap_or_else(|e| panic!("approve: {e:?}"));
    }

    /// Closes `owner`'s empty `account`, its rent to the owner.
    pub fn close_account(&self, backend: &mut dyn Backend, owner: &Keypair, account: &Address) {
        let ix = token_ix::close_account(
            self.program.id(),
            account,
            &owner.pubkey(),
            &owner.pubkey(),
            &[],
        )
        .expect("close_account");
        backend
            .send(&[ix], owner, &[])
            .unwrap_or_else(|e| panic!("close account: {e:?}"));
    }
}

/// The token balance of `account` (0 if it is not a token account).
pub fn balance(backend: &mut dyn Backend, account: &Address) -> u64 {
    backend
        .account(account)
        .and_then(|a| {
            a.data
                .get(64..72)
                .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
        })
        .unwrap_or(0)
}

pub fn associated_token_address(
    wallet: &Address,
    program: TokenProgram,
    mint: &Address,
) -> Address {
    paychan_interface::pda::find_associated_token_address(wallet, program, mint)
}

fn create_account(
    payer: &Address,
    account: &Address,
    lamports: u64,
    space: u64,
    owner: &Address,
) -> Instruction {
    // System program CreateAccount: tag 0, lamports, space, owner.
    let mut data = vec![0, 0, 0, 0];
    data.extend_from_slice(&lamports.to_le_bytes());
    data.extend_from_slice(&space.to_le_bytes());
    data.extend_from_slice(owner.as_ref());
    Instruction {
        program_id: solana_sdk_ids::system_program::ID,
        accounts: vec![
            AccountMeta::new(*payer, true),
            AccountMeta::new(*account, true),
        ],
        data,
    }
}
