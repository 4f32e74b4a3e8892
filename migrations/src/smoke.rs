//! The smoke migration: after a deploy, prove the program works on the cluster end to end —
//! two fresh parties funded by the payer open a channel, make payments through their client
//! nodes, and close cooperatively.

use paychan_interface::client::{self, ChannelAddress};
use paychan_node::{
    driver::{ChannelDriver, DriverError},
    engine::{Input, Payment},
    ledger::{sign_and_submit, Ledger, LedgerError},
    store::MemoryStore,
};
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;

const SOL: u64 = 1_000_000_000;

/// What the smoke run did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmokeReport {
    pub payments: u64,
    pub rounds: u64,
    /// Transactions sent, funding included.
    pub transactions: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SmokeError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Node(#[from] DriverError),
    #[error("the channel is still open after the cooperative close")]
    StillOpen,
}

async fn send<L: Ledger>(
    ledger: &mut L,
    payer: &Keypair,
    instructions: &[Instruction],
) -> Result<(), LedgerError> {
    sign_and_submit(ledger, instructions, &[payer])
        .await
        .map(|_| ())
}

/// Runs `payments` payments through a fresh channel. `ledger` makes one handle per party.
pub async fn smoke<L: Ledger>(
    mut ledger: impl FnMut() -> L,
    payer: &Keypair,
    payments: u64,
) -> Result<SmokeReport, SmokeError> {
    let (alice, bob) = (Keypair::new(), Keypair::new());
    let mut chain = ledger();
    let fund = [alice.pubkey(), bob.pubkey()]
        .map(|to| solana_system_interface::instruction::transfer(&payer.pubkey(), &to, SOL));
    send(&mut chain, payer, &fund).await?;
    let channel =
        ChannelAddress::new_random(&paychan_interface::ID, &alice.pubkey(), &bob.pubkey());
    // The period parties accept by default; the smoke channel closes cooperatively anyway.
    let period = paychan_node::driver::DEFAULT_MIN_CHALLENGE_PERIOD_SECS;
    send(
        &mut chain,
        &alice,
        &[client::open(&channel, SOL / 2, period)],
    )
    .await?;
    send(
        &mut chain,
        &bob,
        &[client::deposit(&channel, &bob.pubkey(), SOL / 4)],
    )
    .await?;

    let mut a = ChannelDriver::join(
        MemoryStore::new(),
        ledger(),
        alice.insecure_clone(),
        channel,
    )
    .await?;
    let mut b =
        ChannelDriver::join(MemoryStore::new(), ledger(), bob.insecure_clone(), channel).await?;
    for i in 0..payments {
        let id = u128::from(i).to_le_bytes();
        a.handle(Input::Pay(Payment { id, amount: 1_000 })).await?;
        if i % 10 == 9 {
            deliver(&mut a, &mut b).await?;
        }
    }
    deliver(&mut a, &mut b).await?;
    let rounds = a.engine().newest_state().seq;
    a.handle(Input::Close).await?;
    deliver(&mut a, &mut b).await?;
    if chain.channel(&channel.address).await?.is_some() {
        return Err(SmokeError::StillOpen);
    }
    Ok(SmokeReport {
        payments,
        rounds,
        transactions: 3 + a.landed.len() + b.landed.len(),
    })
}

async fn deliver<L: Ledger>(
    a: &mut ChannelDriver<MemoryStore, L>,
    b: &mut ChannelDriver<MemoryStore, L>,
) -> Result<(), DriverError> {
    while !a.outbox.is_empty() || !b.outbox.is_empty() {
        for message in std::mem::take(&mut a.outbox) {
            b.handle(Input::Peer(message)).await?;
        }
        for message in std::mem::take(&mut b.outbox) {
            a.handle(Input::Peer(message)).await?;
        }
    }
    Ok(())
}
