//! Two client nodes on one test chain, with the peer link simulated in process.

use paychan_interface::client::{self, ChannelAddress, CoSignedState};
use paychan_node::{
    driver::{ChannelDriver, DriverError},
    engine::{Input, Payment},
    ledger::Ledger,
    store::{ChannelStore, MemoryStore},
};
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::{chain::TestChain, SOL};

pub const WALLET: u64 = 100 * SOL;
/// The fee each signature costs on both test ledgers.
pub const FEE_PER_SIGNATURE: u64 = 5_000;

/// Signs with `payer` alone and lands the instructions.
pub async fn submit_as<L: Ledger>(
    ledger: &mut L,
    payer: &Keypair,
    instructions: &[solana_instruction::Instruction],
) -> Result<(), paychan_node::ledger::LedgerError> {
    paychan_node::ledger::sign_and_submit(ledger, instructions, &[payer])
        .await
        .map(|_| ())
}

/// Funded keys for A and B, and the channel A opens with `deposit_a` and B tops up with
/// `deposit_b` (two L1 transactions, one if B deposits nothing).
pub async fn open_channel<C: TestChain>(
    chain: &mut C,
    deposit_a: u64,
    deposit_b: u64,
) -> (Keypair, Keypair, ChannelAddress) {
    let b = Keypair::new();
    chain.fund(&b.pubkey(), WALLET).await;
    let (a, channel) = open_channel_to(chain, &b, deposit_a, deposit_b).await;
    (a, b, channel)
}

/// A fresh funded payer A and the channel it opens to `b` (funded already), as
/// [`open_channel`] does.
pub async fn open_channel_to<C: TestChain>(
    chain: &mut C,
    b: &Keypair,
    deposit_a: u64,
    deposit_b: u64,
) -> (Keypair, ChannelAddress) {
    let a = Keypair::new();
    chain.fund(&a.pubkey(), WALLET).await;
    let channel = ChannelAddress::new_random(&paychan_interface::ID, &a.pubkey(), &b.pubkey());
    let mut ledger = chain.ledger();
    submit_as(
        &mut ledger,
        &a,
        &[client::open(&channel, deposit_a, chain.challenge_period())],
    )
    .await
    .expect("open");
    if deposit_b > 0 {
        submit_as(
            &mut ledger,
            b,
            &[client::deposit(&channel, &b.pubkey(), deposit_b)],
        )
        .await
        .expect("deposit");
    }
    // A real chain has moved past the opening slot by the time the parties settle anything
    // (the program refuses to settle in it); program-test's bank only moves when warped.
    chain.advance_time(0).await;
    (a, channel)
}

/// Moves messages both ways until neither side has anything to say.
pub async fn deliver<S: ChannelStore, L: Ledger>(
    a: &mut ChannelDriver<S, L>,
    b: &mut ChannelDriver<S, L>,
) -> Result<(), DriverError> {
    loop {
        if a.outbox.is_empty() && b.outbox.is_empty() {
            return Ok(());
        }
        for message in std::mem::take(&mut a.outbox) {
            b.handle(Input::Peer(message)).await?;
        }
        for message in std::mem::take(&mut b.outbox) {
            a.handle(Input::Peer(message)).await?;
        }
    }
}

/// A payment with a fresh id.
pub fn payment(amount: u64) -> Input {
    Input::Pay(Payment {
        id: rand::random(),
        amount,
    })
}

/// `key`'s node for `channel` on `chain`, signing with the wallet, accepting the challenge
/// period the chain's channels open with.
pub async fn join<C: TestChain, S: ChannelStore>(
    chain: &C,
    store: S,
    key: &Keypair,
    channel: ChannelAddress,
) -> Result<ChannelDriver<S, C::Ledger>, DriverError> {
    let signer = ed25519_dalek::SigningKey::from_bytes(key.secret_bytes());
    ChannelDriver::join_with_policy(
        store,
        chain.ledger(),
        key.insecure_clone(),
        signer,
        channel,
        chain.join_policy(),
    )
    .await
}

/// Nodes for A and B on `chain`, each with a memory store.
pub async fn join_in_memory<C: TestChain>(
    chain: &C,
    a: &Keypair,
    b: &Keypair,
    channel: ChannelAddress,
) -> (
    ChannelDriver<paychan_node::store::MemoryStore, C::Ledger>,
    ChannelDriver<paychan_node::store::MemoryStore, C::Ledger>,
) {
    let memory = paychan_node::store::MemoryStore::new;
    (
        join(chain, memory(), a, channel).await.expect("A joins"),
        join(chain, memory(), b, channel).await.expect("B joins"),
    )
}

/// The lamports `key`'s wallet holds on `chain` now (0 if it does not exist).
pub async fn lamports<C: TestChain>(chain: &C, key: &Keypair) -> u64 {
    chain
        .ledger()
        .account(&key.pubkey())
        .await
        .expect("the ledger answers")
        .map_or(0, |a| a.lamports)
}

/// The channel account as the chain shows it now (None once closed).
pub async fn on_chain<C: TestChain>(
    chain: &C,
    channel: &ChannelAddress,
) -> Option<paychan_interface::channel::Channel> {
    chain
        .ledger()
        .channel(&channel.address)
        .await
        .expect("the ledger answers")
}

/// A channel where Alice pays Bob one SOL per round (A 10 SOL, B 2 SOL), with both nodes.
pub struct PaidRounds<L> {
    pub alice: ChannelDriver<MemoryStore, L>,
    pub bob: ChannelDriver<MemoryStore, L>,
    /// Every co-signed state Alice holds, oldest first.
    pub states: Vec<CoSignedState>,
    pub a: Keypair,
    pub b: Keypair,
}

impl<L: Ledger> PaidRounds<L> {
    pub fn channel(&self) -> ChannelAddress {
        *self.alice.channel()
    }
}

/// Opens a channel and pays `rounds` rounds through it.
pub async fn paid_rounds<C: TestChain>(chain: &mut C, rounds: u64) -> PaidRounds<C::Ledger> {
    let (a, b, channel) = open_channel(chain, 10 * SOL, 2 * SOL).await;
    let (mut alice, mut bob) = join_in_memory(chain, &a, &b, channel).await;
    let mut states = Vec::new();
    for _ in 0..rounds {
        alice.handle(payment(SOL)).await.expect("pay");
        deliver(&mut alice, &mut bob).await.expect("round");
        states.push(alice.engine().newest_co_signed().expect("signed"));
    }
    PaidRounds {
        alice,
        bob,
        states,
        a,
        b,
    }
}
