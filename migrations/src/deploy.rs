//! The deploy itself, over any [`Ledger`].

use paychan_interface::{channel::Channel, Address};
use paychan_node::ledger::{sign_and_submit, Ledger, LedgerError};
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_loader_v3_interface::{
    get_program_data_address, instruction as loader, state::UpgradeableLoaderState,
};
use solana_rent::Rent;
use solana_signer::Signer;

/// Program bytes per Write transaction: with two signatures and the accounts it stays well
/// inside the 1,232-byte packet.
pub const WRITE_CHUNK: usize = 900;

/// What `deploy` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deployed {
    /// The program was created.
    Created { transactions: usize },
    /// The program existed with other bytes and was upgraded.
    Upgraded { transactions: usize },
    /// The program already has exactly these bytes.
    Unchanged,
}

#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("the program is {0} bytes; the existing program data holds at most {1}")]
    TooLarge(usize, usize),
    #[error("account {0} exists but is not an upgradeable program")]
    NotAProgram(Address),
    #[error("the loader refused an instruction: {0}")]
    Loader(String),
    #[error("after deploying, the program account is still not executable")]
    NotExecutable,
    #[error(
        "refusing to upgrade: {count} live account(s) of the program have a layout this build \
         cannot read (first: {first}, layout version {version}), and every instruction on them \
         would fail; settle them first, or upgrade with a build that reads that layout"
    )]
    WouldStrandChannels {
        count: usize,
        first: Address,
        version: u8,
    },
}

/// Whether an upgrade may leave accounts of an older (or unknown) layout behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stranding {
    /// Refuse an upgrade while any account of the program has a layout the new build cannot
    /// read: the channels in it would be stranded, their deposits locked.
    Refuse,
    /// Upgrade anyway (a cluster whose old accounts are known to be abandoned).
    Allow,
}

/// Deploys (or upgrades) `elf` at `program.pubkey()`; `payer` pays and is the upgrade
/// authority. Idempotent. Refuses an upgrade that would strand live channels of a layout this
/// build cannot read ([`Stranding::Refuse`]).
pub async fn deploy<L: Ledger>(
    ledger: &mut L,
    payer: &Keypair,
    program: &Keypair,
    elf: &[u8],
) -> Result<Deployed, DeployError> {
    deploy_with(ledger, payer, program, elf, Stranding::Refuse).await
}

/// [`deploy`], saying what to do about accounts an upgrade would strand.
pub async fn deploy_with<L: Ledger>(
    ledger: &mut L,
    payer: &Keypair,
    program: &Keypair,
    elf: &[u8],
    stranding: Stranding,
) -> Result<Deployed, DeployError> {
    let program_id = program.pubkey();
    let programdata = get_program_data_address(&program_id);
    let metadata = UpgradeableLoaderState::size_of_programdata_metadata();
    let existing = match ledger.account(&program_id).await? {
        Some(account) if account.owner == solana_sdk_ids::bpf_loader_upgradeable::ID => {
            let data = ledger
                .account(&programdata)
                .await?
                .ok_or(DeployError::NotAProgram(program_id))?
                .data;
            Some(data)
        }
        Some(_) => return Err(DeployError::NotAProgram(program_id)),
        None => None,
    };
    if let Some(data) = &existing {
        let code = data.get(metadata..).unwrap_or_default();
        if code.len() < elf.len() {
            return Err(DeployError::TooLarge(elf.len(), code.len()));
        }
        let (current, padding) = code.split_at(elf.len());
        if current == elf && padding.iter().all(|b| *b == 0) {
            return Ok(Deployed::Unchanged);
        }
        if stranding == Stranding::Refuse {
            refuse_stranding(ledger, &program_id).await?;
        }
    }

    let rent = rent(ledger).await?;
    let buffer = Keypair::new();
    let mut transactions = 0;
    let create = loader::create_buffer(
        &payer.pubkey(),
        &buffer.pubkey(),
        &payer.pubkey(),
        rent.minimum_balance(UpgradeableLoaderState::size_of_buffer(elf.len())),
        elf.len(),
    )
    .map_err(|e| DeployError::Loader(e.to_string()))?;
    send(ledger, &create, &[payer, &buffer]).await?;
    transactions += 1;
    for (index, chunk) in elf.chunks(WRITE_CHUNK).enumerate() {
        let offset = u32::try_from(index * WRITE_CHUNK)
            .map_err(|_| DeployError::TooLarge(elf.len(), u32::MAX as usize))?;
        let write = loader::write(&buffer.pubkey(), &payer.pubkey(), offset, chunk.to_vec());
        send(ledger, &[write], &[payer]).await?;
        transactions += 1;
    }

    let outcome = if existing.is_some() {
        let upgrade = loader::upgrade(
            &program_id,
            &buffer.pubkey(),
            &payer.pubkey(),
            &payer.pubkey(),
            true,
        );
        send(ledger, &[upgrade], &[payer]).await?;
        Deployed::Upgraded {
            transactions: transactions + 1,
        }
    } else {
        // Room for upgrades: twice today's size.
        let max_len = elf.len().saturating_mul(2);
        let deploy = loader::deploy_with_max_program_len(
            &payer.pubkey(),
            &program_id,
            &buffer.pubkey(),
            &payer.pubkey(),
            rent.minimum_balance(UpgradeableLoaderState::size_of_program()),
            max_len,
            true,
        )
        .map_err(|e| DeployError::Loader(e.to_string()))?;
        send(ledger, &deploy, &[payer, program]).await?;
        Deployed::Created {
            transactions: transactions + 1,
        }
    };
    let deployed = ledger.account(&program_id).await?;
    if !deployed.is_some_and(|a| a.executable) {
        return Err(DeployError::NotExecutable);
    }
    Ok(outcome)
}

/// Refuses while the program owns an account this build's layout cannot read. This build
/// reads only its own layout (`CHANNEL_VERSION`); a build that settles older layouts would
/// list them here as readable.
async fn refuse_stranding<L: Ledger>(
    ledger: &mut L,
    program_id: &Address,
) -> Result<(), DeployError> {
    let stranded: Vec<(Address, u8)> = ledger
        .program_accounts(program_id)
        .await?
        .into_iter()
        .filter(|(_, account)| account.lamports > 0 && Channel::unpack(&account.data).is_err())
        .map(|(address, account)| (address, account.data.get(1).copied().unwrap_or(0)))
        .collect();
    match stranded.first() {
        None => Ok(()),
        Some(&(first, version)) => Err(DeployError::WouldStrandChannels {
            count: stranded.len(),
            first,
            version,
        }),
    }
}

async fn rent<L: Ledger>(ledger: &mut L) -> Result<Rent, DeployError> {
    let account = ledger
        .account(&solana_sdk_ids::sysvar::rent::ID)
        .await?
        .ok_or_else(|| LedgerError::Decode("no rent sysvar".into()))?;
    bincode::deserialize(&account.data).map_err(|e| LedgerError::Decode(e.to_string()).into())
}

async fn send<L: Ledger>(
    ledger: &mut L,
    instructions: &[Instruction],
    signers: &[&Keypair],
) -> Result<(), DeployError> {
    sign_and_submit(ledger, instructions, signers).await?;
    Ok(())
}
