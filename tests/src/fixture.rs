//! A channel between two funded parties on a backend, with helpers to sign states and send each
//! instruction. A separate relayer pays every fee, so party balances move only by the program.

use ed25519_dalek::SigningKey;
use paychan_interface::{
    channel::Channel,
    client::{self, sign_state, ChannelAddress, CoSignedState},
    error::PaychanError,
    state::{ChannelState, StateBinding},
    Address,
};
use solana_instruction::{error::InstructionError, Instruction};
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction_error::TransactionError;

use crate::{
    backend::{Backend, SendResult},
    SOL,
};

/// Default challenge period for tests: one day.
/// Base units each party holds in a token fixture.
pub const TOKENS: u64 = 100_000_000_000;

pub const PERIOD: u64 = 86_400;
/// What every fixture wallet starts with.
pub const WALLET: u64 = 100 * SOL;

/// A key that can sign both transactions and channel states.
#[derive(Debug)]
pub struct Party {
    pub keypair: Keypair,
}

impl Party {
    pub fn new() -> Self {
        Self {
            keypair: Keypair::new(),
        }
    }

    /// A fixed key, for reproducible measurements (PDA bump search depends on the keys).
    pub fn from_seed(seed: u8) -> Self {
        Self {
            keypair: Keypair::new_from_array([seed; 32]),
        }
    }

    pub fn address(&self) -> Address {
        self.keypair.pubkey()
    }

    pub fn signing_key(&self) -> SigningKey {
        SigningKey::from_bytes(self.keypair.secret_bytes())
    }
}

impl Default for Party {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Debug)]
pub struct ChannelFixture {
    pub a: Party,
    pub b: Party,
    /// A third key: a watchtower, or an attacker.
    pub outsider: Party,
    pub relayer: Keypair,
    pub channel: ChannelAddress,
}

impl ChannelFixture {
    /// Funds A, B, the outsider and the relayer; derives a channel with a random nonce.
    pub fn new(backend: &mut dyn Backend) -> Self {
        let fixture = Self::unfunded();
        fixture.fund(backend);
        fixture
    }

    pub fn unfunded() -> Self {
        let (a, b) = (Party::new(), Party::new());
        let channel =
            ChannelAddress::new_random(&paychan_interface::ID, &a.address(), &b.address());
        Self::from_parties(a, b, channel)
    }

    /// A token channel of `mint` between two funded parties, each holding `TOKENS` base units
    /// in its associated token account.
    pub fn token(backend: &mut dyn Backend, mint: &crate::token::TestMint) -> Self {
        let (a, b) = (Party::new(), Party::new());
        let channel = ChannelAddress::new_random_token(
            &paychan_interface::ID,
            &a.address(),
            &b.address(),
            mint.program,
            &mint.address,
            mint.decimals,
        );
        let fixture = Self::from_parties(a, b, channel);
        fixture.fund(backend);
        for party in [&fixture.a, &fixture.b] {
            let account = mint.associated_account(backend, &party.address());
            mint.mint_to(backend, &account, TOKENS);
        }
        fixture
    }

    /// A party's associated token account for a token channel's mint.
    pub fn token_account(&self, party: &Party) -> Address {
        self.channel
            .token_account_of(&party.address())
            .expect("a token channel")
    }

    /// A funded fixture with fixed keys and nonce derived from `seed`.
    pub fn seeded(backend: &mut dyn Backend, seed: u8) -> Self {
        let (a, b) = (
            Party::from_seed(seed),
            Party::from_seed(seed.wrapping_add(1)),
        );
        let channel = ChannelAddress::derive(
            &paychan_interface::ID,
            &a.address(),
            &b.address(),
            u64::from(seed),
        );
        let fixture = Self::from_parties(a, b, channel);
        fixture.fund(backend);
        fixture
    }

    fn from_parties(a: Party, b: Party, channel: ChannelAddress) -> Self {
        Self {
            a,
            b,
            outsider: Party::new(),
            relayer: Keypair::new(),
            channel,
        }
    }

    fn fund(&self, backend: &mut dyn Backend) {
        for key in [
            self.a.address(),
            self.b.address(),
            self.outsider.address(),
            self.relayer.pubkey(),
        ] {
            backend.fund(&key, WALLET);
        }
    }

    /// Sends with the relayer paying fees.
    pub fn send(
        &self,
        backend: &mut dyn Backend,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> SendResult {
        backend.send(instructions, &self.relayer, signers)
    }

    pub fn open(&self, backend: &mut dyn Backend, deposit: u64) -> SendResult {
        self.send(
            backend,
            &[client::open(&self.channel, deposit, PERIOD)],
            &[&self.a.keypair],
        )
    }

    pub fn deposit(&self, backend: &mut dyn Backend, who: &Party, amount: u64) -> SendResult {
        self.send(
            backend,
            &[client::deposit(&self.channel, &who.address(), amount)],
            &[&who.keypair],
        )
    }

    /// A-funded (`deposit_a`) and B-funded (`deposit_b`) open channel; panics if it fails.
    pub fn opened(backend: &mut dyn Backend, deposit_a: u64, deposit_b: u64) -> Self {
        let fixture = Self::new(backend);
        fixture.open(backend, deposit_a).expect("open");
        if deposit_b > 0 {
            fixture
                .deposit(backend, &fixture.b, deposit_b)
                .expect("deposit by B");
        }
        fixture
    }

    /// A channel A opened with `deposit` and B never funded, closed on a state that gives B
    /// `share` (below rent exemption) and finalized while B's wallet does not exist: B's share
    /// waits in the Settled account.
    pub fn settled_with_unclaimed_b(backend: &mut dyn Backend, deposit: u64, share: u64) -> Self {
        let f = Self::new(backend);
        backend.set_account(&f.b.address(), Default::default());
        f.open(backend, deposit).expect("open");
        let binding = f.binding(backend);
        let state = f.co_sign(
            &binding,
            Self::state(1, (deposit, 0), (deposit - share, share)),
        );
        f.start_close(backend, &f.a, Some(&state))
            .expect("start close");
        backend.advance_time(PERIOD as i64 + 1);
        f.finalize(backend)
            .expect("finalize is not blocked by B's empty wallet");
        f
    }

    pub fn close_cooperative(
        &self,
        backend: &mut dyn Backend,
        balance_a: u64,
        balance_b: u64,
    ) -> SendResult {
        self.send(
            backend,
            &[client::close_cooperative(
                &self.channel,
                balance_a,
                balance_b,
            )],
            &[&self.a.keypair, &self.b.keypair],
        )
    }

    pub fn start_close(
        &self,
        backend: &mut dyn Backend,
        registrant: &Party,
        state: Option<&CoSignedState>,
    ) -> SendResult {
        match state {
            Some(state) => self.send(
                backend,
                &state.start_close(&self.channel, &registrant.address()),
                &[&registrant.keypair],
            ),
            None => self.send(
                backend,
                &[client::start_close(
                    &self.channel,
                    &registrant.address(),
                    false,
                )],
                &[&registrant.keypair],
            ),
        }
    }

    pub fn dispute(
        &self,
        backend: &mut dyn Backend,
        submitter: &Party,
        state: &CoSignedState,
    ) -> SendResult {
        self.send(
            backend,
            &state.dispute(&self.channel, &submitter.address()),
            &[&submitter.keypair],
        )
    }

    pub fn finalize(&self, backend: &mut dyn Backend) -> SendResult {
        self.send(backend, &[client::finalize(&self.channel)], &[])
    }

    pub fn withdraw(
        &self,
        backend: &mut dyn Backend,
        party: &Party,
        destination: &Address,
    ) -> SendResult {
        self.send(
            backend,
            &[client::withdraw(
                &self.channel,
                &party.address(),
                destination,
            )],
            &[&party.keypair],
        )
    }

    pub fn account(&self, backend: &mut dyn Backend) -> Option<Channel> {
        backend
            .account(&self.channel.address)
            .map(|a| Channel::unpack(&a.data).expect("a paychan channel"))
    }

    /// The binding of the channel's current incarnation (its opened_slot is read on-chain).
    pub fn binding(&self, backend: &mut dyn Backend) -> StateBinding {
        let channel = self.account(backend).expect("channel is open");
        StateBinding {
            program_id: paychan_interface::ID,
            channel: self.channel.address,
            opened_slot: channel.opened_slot,
        }
    }

    /// A state with the given counters; its log root is derived from seq so states differ.
    pub fn state(seq: u64, deposited: (u64, u64), balances: (u64, u64)) -> ChannelState {
        let mut log_root = [0u8; 32];
        log_root[..8].copy_from_slice(&seq.to_le_bytes());
        ChannelState {
            seq,
            deposited_a: deposited.0,
            deposited_b: deposited.1,
            balance_a: balances.0,
            balance_b: balances.1,
            log_root,
        }
    }

    /// `state` signed by A and B for `binding`.
    pub fn co_sign(&self, binding: &StateBinding, state: ChannelState) -> CoSignedState {
        CoSignedState {
            binding: *binding,
            state,
            a: sign_state(&self.a.signing_key(), &state, binding),
            b: sign_state(&self.b.signing_key(), &state, binding),
        }
    }

    /// The addresses whose lamports an instruction may move.
    pub fn watched(&self) -> Vec<Address> {
        vec![
            self.a.address(),
            self.b.address(),
            self.outsider.address(),
            self.channel.address,
        ]
    }
}

/// The paychan error code a rejected transaction carries, with the failing instruction index.
pub fn paychan_error(result: &SendResult) -> Option<(u8, PaychanError)> {
    match result {
        Err(rejected) => match &rejected.error {
            TransactionError::InstructionError(index, InstructionError::Custom(code)) => {
                PaychanError::from_code(*code).map(|e| (*index, e))
            }
            _ => None,
        },
        Ok(_) => None,
    }
}

/// Asserts the transaction failed in its last instruction with exactly `expected`.
#[track_caller]
pub fn assert_rejected(result: &SendResult, instruction_index: u8, expected: PaychanError) {
    assert_eq!(
        paychan_error(result),
        Some((instruction_index, expected)),
        "expected {expected:?} ({expected}) at instruction {instruction_index}, got {result:?}"
    );
    if let Err(rejected) = result {
        // The program names the error in its log, not only its code.
        let line = format!("Program log: {}", expected.log_line());
        assert!(
            rejected.logs.contains(&line),
            "no `{line}` in the logs: {:?}",
            rejected.logs
        );
    }
}

/// Lamports of each address, to compare before and after an attack.
pub fn snapshot(backend: &mut dyn Backend, addresses: &[Address]) -> Vec<u64> {
    addresses.iter().map(|a| backend.lamports(a)).collect()
}

/// Runs `attack`, asserting it fails with `expected` at `instruction_index` and that no lamports
/// moved between the parties, the outsider and the channel (the relayer pays the fee).
#[track_caller]
pub fn assert_attack_fails(
    backend: &mut dyn Backend,
    fixture: &ChannelFixture,
    instruction_index: u8,
    expected: PaychanError,
    attack: impl FnOnce(&mut dyn Backend) -> SendResult,
) {
    let watched = fixture.watched();
    let before = snapshot(backend, &watched);
    let channel_before = fixture.account(backend);
    let result = attack(backend);
    assert_rejected(&result, instruction_index, expected);
    assert_eq!(
        snapshot(backend, &watched),
        before,
        "lamports moved on a rejected transaction"
    );
    assert_eq!(
        fixture.account(backend),
        channel_before,
        "channel state changed"
    );
}
