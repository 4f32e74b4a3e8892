//! Random instruction sequences by an adversarial party against an honest party whose watcher
//! reacts after every step (the synchrony assumption), on the real SBF program in LiteSVM, for
//! lamport channels and token channels of SPL Token and Token-2022 alike.
//! Checks G5 (the channel always holds exactly the deposits — in its account, or its vault —
//! and pays out exactly what went in), G3 (the honest party ends with at least its newest
//! balance) and G4 (an adversary that registered a state two behind the newest loses all it
//! deposited, however it replaced the registration afterwards).

use std::cell::Cell;

use paychan_interface::{
    channel::{ChannelStatus, CHANNEL_ACCOUNT_LEN},
    client::CoSignedState,
    token::TokenProgram,
};
use paychan_tests::{
    backend::Backend,
    fixture::{ChannelFixture, Party, PERIOD, TOKENS, WALLET},
    litesvm_backend::LiteSvmBackend,
    token::{balance, TestMint},
    SOL,
};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Step {
    /// The adversary registers signed state `index` (or the seq-0 state).
    StartClose(Option<usize>),
    /// The adversary disputes with signed state `index`.
    Dispute(usize),
    /// The adversary registers signed state `index` and, in the same transaction, a second
    /// key of its own replaces it with the next one (trying to shed accountability).
    LaunderedStartClose(usize),
    /// A deposit by the adversary (`true`) or the honest party.
    Deposit {
        by_adversary: bool,
        lamports: u64,
    },
    AdvanceTime(i64),
    Finalize,
    /// Both sign a cooperative close at the newest balances (the only one honest signs).
    CloseCooperativeAtNewest,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => proptest::option::of(0usize..8).prop_map(Step::StartClose),
        3 => (0usize..8).prop_map(Step::Dispute),
        2 => (0usize..8).prop_map(Step::LaunderedStartClose),
        2 => (any::<bool>(), 1u64..3 * SOL).prop_map(|(by_adversary, lamports)| Step::Deposit { by_adversary, lamports }),
        2 => (0i64..2 * PERIOD as i64).prop_map(Step::AdvanceTime),
        2 => Just(Step::Finalize),
        1 => Just(Step::CloseCooperativeAtNewest),
    ]
}

/// Balances of the signed states: for each, A's share (in per-mille of the deposits).
fn shares() -> impl Strategy<Value = Vec<u64>> {
    proptest::collection::vec(0u64..=1000, 1..8)
}

struct Run {
    f: ChannelFixture,
    /// What the channel locks: lamports (None) or tokens of a mint of this program.
    asset: Option<TokenProgram>,
    /// The channel account's rent reserve.
    reserve: u64,
    adversary_is_a: bool,
    states: Vec<CoSignedState>,
    /// The adversary registered a state two or more behind the newest.
    cheated: Cell<bool>,
    /// Everything the adversary deposited that landed.
    adversary_deposits: Cell<u64>,
}

impl Run {
    fn adversary(&self) -> &Party {
        if self.adversary_is_a {
            &self.f.a
        } else {
            &self.f.b
        }
    }

    fn honest(&self) -> &Party {
        if self.adversary_is_a {
            &self.f.b
        } else {
            &self.f.a
        }
    }

    /// What `party` holds of the channel's asset: its wallet's lamports, or its tokens.
    fn value_of(&self, b: &mut dyn Backend, party: &Party) -> u64 {
        match self.asset {
            None => b.lamports(&party.address()),
            Some(_) => balance(b, &self.f.token_account(party)),
        }
    }

    /// What the channel holds of its asset beyond the rent: its lamports, or its vault's tokens.
    fn in_channel(&self, b: &mut dyn Backend) -> u64 {
        let lamports = b.lamports(&self.f.channel.address);
        match self.f.channel.token {
            None => lamports.saturating_sub(self.reserve),
            Some(token) => {
                if lamports > 0 {
                    assert_eq!(
                        lamports, self.reserve,
                        "a token channel holds only its rent"
                    );
                }
                balance(b, &token.vault)
            }
        }
    }

    fn newest(&self) -> &CoSignedState {
        self.states.last().expect("at least one state")
    }

    fn state(&self, index: usize) -> &CoSignedState {
        &self.states[index % self.states.len()]
    }

    /// Notes a registration of `seq` by the adversary that landed.
    fn registered(&self, seq: u64, landed: bool) {
        if landed && seq + 2 <= self.newest().state.seq {
            self.cheated.set(true);
        }
    }

    fn apply(&self, b: &mut dyn Backend, step: &Step) {
        // Any of these may be refused; the invariants must hold either way.
        let _ = match step {
            Step::StartClose(index) => {
                let state = index.map(|i| self.state(i));
                let result = self.f.start_close(b, self.adversary(), state);
                self.registered(state.map_or(0, |s| s.state.seq), result.is_ok());
                result
            }
            Step::LaunderedStartClose(index) => {
                let (stale, next) = (self.state(*index), self.state(index + 1));
                let mut laundering = stale
                    .start_close(&self.f.channel, &self.adversary().address())
                    .to_vec();
                let mut signers = vec![&self.adversary().keypair];
                if next.state.seq > stale.state.seq {
                    laundering.extend(next.dispute(&self.f.channel, &self.f.outsider.address()));
                    signers.push(&self.f.outsider.keypair);
                }
                let result = self.f.send(b, &laundering, &signers);
                self.registered(stale.state.seq, result.is_ok());
                result
            }
            Step::Dispute(index) => {
                let state = &self.states[index % self.states.len()];
                self.f.dispute(b, self.adversary(), state)
            }
            Step::Deposit {
                by_adversary,
                lamports,
            } => {
                let who = if *by_adversary {
                    self.adversary()
                } else {
                    self.honest()
                };
                let result = self.f.deposit(b, who, *lamports);
                if result.is_ok() && *by_adversary {
                    self.adversary_deposits
                        .set(self.adversary_deposits.get() + lamports);
                }
                result
            }
            Step::AdvanceTime(secs) => {
                b.advance_time(*secs);
                Ok(Default::default())
            }
            Step::Finalize => self.f.finalize(b),
            Step::CloseCooperativeAtNewest => {
                let newest = self.newest().state;
                match self.f.account(b) {
                    // Honest signs only the newest balances plus later deposits returned
                    Some(c) => self.f.close_cooperative(
                        b,
                        newest.balance_a + (c.deposited_a - newest.deposited_a),
                        newest.balance_b + (c.deposited_b - newest.deposited_b),
                    ),
                    None => Ok(Default::default()),
                }
            }
        };
    }

    /// The honest watcher: whenever an older state is registered, dispute with the newest.
    fn watch(&self, b: &mut dyn Backend) {
        if let Some(channel) = self.f.account(b) {
            let now = b.unix_timestamp();
            if channel.status == ChannelStatus::Closing
                && channel.registered.seq < self.newest().state.seq
                && now <= channel.deadline
            {
                self.f
                    .dispute(b, self.honest(), self.newest())
                    .expect("the honest dispute lands inside the window");
            }
        }
    }

    /// G5 while the channel lives: it holds exactly the deposits (or the unclaimed shares).
    fn check_holdings(&self, b: &mut dyn Backend) {
        if let Some(c) = self.f.account(b) {
            let held = match c.status {
                ChannelStatus::Settled => c.unclaimed_a + c.unclaimed_b,
                _ => c.deposited_a + c.deposited_b,
            };
            assert_eq!(
                self.in_channel(b),
                held,
                "channel holds exactly its value: {c:?}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn adversary_can_only_redistribute_and_never_below_the_honest_newest_balance(
        deposit_a in 1u64..10 * SOL,
        deposit_b in 0u64..10 * SOL,
        a_shares in shares(),
        adversary_is_a in any::<bool>(),
        asset in prop_oneof![Just(None), Just(Some(TokenProgram::Spl)), Just(Some(TokenProgram::Token2022))],
        steps in proptest::collection::vec(step(), 0..10),
    ) {
        let mut backend = LiteSvmBackend::new();
        let f = match asset {
            None => ChannelFixture::opened(&mut backend, deposit_a, deposit_b),
            Some(program) => {
                let mint = TestMint::create(&mut backend, program, 9, &[]);
                let f = ChannelFixture::token(&mut backend, &mint);
                f.open(&mut backend, deposit_a).expect("open");
                if deposit_b > 0 {
                    f.deposit(&mut backend, &f.b, deposit_b).expect("deposit");
                }
                f
            }
        };
        let reserve = backend.minimum_balance(CHANNEL_ACCOUNT_LEN);
        let binding = f.binding(&mut backend);
        let total = deposit_a + deposit_b;
        let states = a_shares
            .iter()
            .enumerate()
            .map(|(i, share)| {
                let balance_a = total / 1000 * share + if *share == 1000 { total % 1000 } else { 0 };
                f.co_sign(
                    &binding,
                    ChannelFixture::state(i as u64 + 1, (deposit_a, deposit_b), (balance_a, total - balance_a)),
                )
            })
            .collect();
        let start = match asset {
            None => [WALLET, WALLET],
            Some(_) => [TOKENS, TOKENS],
        };
        let run = Run {
            f,
            asset,
            reserve,
            adversary_is_a,
            states,
            cheated: Cell::new(false),
            adversary_deposits: Cell::new(if adversary_is_a { deposit_a } else { deposit_b }),
        };
        let b: &mut dyn Backend = &mut backend;

        for step in &steps {
            run.apply(b, step);
            run.check_holdings(b);
            run.watch(b);
            run.check_holdings(b);
        }

        // The honest party closes whatever is left, with the newest state
        if let Some(c) = run.f.account(b) {
            if c.status == ChannelStatus::Open {
                run.f.start_close(b, run.honest(), Some(run.newest())).expect("honest close");
            }
        }
        if run.f.account(b).map(|c| c.status) == Some(ChannelStatus::Closing) {
            b.advance_time(PERIOD as i64 + 1);
            run.f.finalize(b).expect("finalize after the window");
        }
        prop_assert_eq!(b.account(&run.f.channel.address), None, "wallets are funded: nothing stays unclaimed");

        // G5: the parties together end where they started (every deposit paid out, the
        // reserve back to A); the relayer paid all fees.
        let end = [run.value_of(b, &run.f.a), run.value_of(b, &run.f.b)];
        prop_assert_eq!(end[0] + end[1], start[0] + start[1]);
        if let Some(token) = run.f.channel.token {
            prop_assert_eq!(b.account(&token.vault), None, "the vault closed with the channel");
            prop_assert_eq!(b.lamports(&run.f.a.address()), WALLET, "every rent back to A");
        }

        // G3/G4: the honest party gets at least its newest balance (deposits made after that
        // state come back on top).
        let newest = run.newest().state;
        let (honest_index, newest_balance, newest_deposit) = if adversary_is_a {
            (1, newest.balance_b, newest.deposited_b)
        } else {
            (0, newest.balance_a, newest.deposited_a)
        };
        let net = end[honest_index] as i128 - start[honest_index] as i128;
        prop_assert!(
            net >= newest_balance as i128 - newest_deposit as i128,
            "honest net {} < newest balance {} - deposit {}", net, newest_balance, newest_deposit
        );

        // G4: a knowingly stale registration forfeits everything the adversary put in.
        if run.cheated.get() {
            let adversary_index = 1 - honest_index;
            let adversary_net = end[adversary_index] as i128 - start[adversary_index] as i128;
            prop_assert_eq!(adversary_net, -(run.adversary_deposits.get() as i128));
        }
    }
}
