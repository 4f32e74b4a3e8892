//! Compute units and transaction sizes per instruction, on both backends, with each party paying
//! its own fees as it would for real. Prints a table (`cargo test --test budget -- --nocapture`)
//! and fails when an instruction exceeds its budget.

use paychan_interface::client;
use paychan_interface::token::TokenProgram;
use paychan_tests::{
    backend::{Backend, Landed, Rejected},
    fixture::{ChannelFixture, Party, PERIOD},
    litesvm_backend::LiteSvmBackend,
    program_test_backend::ProgramTestBackend,
    token::TestMint,
    SOL,
};

/// Solana's packet limit for one transaction.
const MAX_TX_BYTES: usize = 1_232;

struct Row {
    name: &'static str,
    budget_cu: u64,
    landed: Landed,
}

/// Runs every instruction once, in a realistic order, returning what each cost.
fn measure(backend: &mut dyn Backend) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut record = |name: &'static str, budget_cu, landed: Result<Landed, Rejected>| {
        let landed = landed.unwrap_or_else(|e| panic!("{name} failed: {e:?}"));
        rows.push(Row {
            name,
            budget_cu,
            landed,
        });
    };

    // Dual-funded channel, punished at the end (fixed keys: Open's bump search is reproducible)
    let f = ChannelFixture::seeded(backend, 1);
    let (a, b) = (&f.a.keypair, &f.b.keypair);
    record(
        "Open",
        3_000,
        backend.send(&[client::open(&f.channel, 5 * SOL, PERIOD)], a, &[]),
    );
    record(
        "Deposit",
        10_000,
        backend.send(
            &[client::deposit(&f.channel, &f.b.address(), 3 * SOL)],
            b,
            &[],
        ),
    );
    let binding = f.binding(backend);
    let deposits = (5 * SOL, 3 * SOL);
    let s1 = f.co_sign(
        &binding,
        ChannelFixture::state(1, deposits, (4 * SOL, 4 * SOL)),
    );
    let s2 = f.co_sign(
        &binding,
        ChannelFixture::state(2, deposits, (3 * SOL, 5 * SOL)),
    );
    let s4 = f.co_sign(
        &binding,
        ChannelFixture::state(4, deposits, (2 * SOL, 6 * SOL)),
    );
    record(
        "StartClose (co-signed state)",
        4_000,
        backend.send(&s1.start_close(&f.channel, &f.a.address()), a, &[]),
    );
    record(
        "Dispute (replace, seq + 1)",
        2_500,
        backend.send(&s2.dispute(&f.channel, &f.b.address()), b, &[]),
    );
    record(
        "Dispute (punish, seq + 2)",
        2_500,
        backend.send(&s4.dispute(&f.channel, &f.a.address()), a, &[]),
    );

    // Cooperative close
    let f = ChannelFixture::seeded(backend, 3);
    f.open(backend, 5 * SOL).expect("open");
    record(
        "CloseCooperative",
        2_000,
        backend.send(
            &[client::close_cooperative(&f.channel, 2 * SOL, 3 * SOL)],
            &f.a.keypair,
            &[&f.b.keypair],
        ),
    );

    // Seq-0 close, finalized by anyone
    let f = ChannelFixture::opened(backend, 5 * SOL, 0);
    record(
        "StartClose (seq 0)",
        4_000,
        backend.send(
            &[client::start_close(&f.channel, &f.b.address(), false)],
            &f.b.keypair,
            &[],
        ),
    );
    backend.advance_time(PERIOD as i64 + 1);
    record(
        "Finalize",
        2_000,
        backend.send(&[client::finalize(&f.channel)], &f.outsider.keypair, &[]),
    );

    // A share B's empty wallet could not take, withdrawn later
    let f = ChannelFixture::new(backend);
    backend.set_account(&f.b.address(), Default::default());
    f.open(backend, 5 * SOL).expect("open");
    let binding = f.binding(backend);
    let s1 = f.co_sign(
        &binding,
        ChannelFixture::state(1, (5 * SOL, 0), (5 * SOL - 100, 100)),
    );
    f.start_close(backend, &f.a, Some(&s1))
        .expect("start close");
    backend.advance_time(PERIOD as i64 + 1);
    record(
        "Finalize (share kept unclaimed)",
        2_000,
        backend.send(&[client::finalize(&f.channel)], &f.outsider.keypair, &[]),
    );
    let destination = Party::new();
    backend.fund(&destination.address(), SOL);
    record(
        "Withdraw",
        2_000,
        backend.send(
            &[client::withdraw(
                &f.channel,
                &f.b.address(),
                &destination.address(),
            )],
            &destination.keypair,
            &[&f.b.keypair],
        ),
    );
    for program in [TokenProgram::Spl, TokenProgram::Token2022] {
        measure_token(backend, program, &mut record);
    }
    rows
}

/// The token instructions of a channel on `program`, with the budgets.
fn measure_token(
    backend: &mut dyn Backend,
    program: TokenProgram,
    record: &mut impl FnMut(&'static str, u64, Result<Landed, Rejected>),
) {
    let name = |ix: &str| -> &'static str {
        let program = match program {
            TokenProgram::Spl => "SPL Token",
            TokenProgram::Token2022 => "Token-2022",
        };
        format!("{ix} ({program})").leak()
    };
    let mint = TestMint::create(backend, program, 6, &[]);

    // Open, top up, close cooperatively
    let f = ChannelFixture::token(backend, &mint);
    record(
        name("Open"),
        12_000,
        backend.send(&[client::open(&f.channel, 400, PERIOD)], &f.a.keypair, &[]),
    );
    record(
        name("Deposit"),
        6_000,
        backend.send(
            &[client::deposit(&f.channel, &f.b.address(), 100)],
            &f.b.keypair,
            &[],
        ),
    );
    record(
        name("CloseCooperative"),
        12_000,
        backend.send(
            &[client::close_cooperative(&f.channel, 250, 250)],
            &f.a.keypair,
            &[&f.b.keypair],
        ),
    );

    // A stale close punished
    let f = ChannelFixture::token(backend, &mint);
    f.open(backend, 400).expect("open");
    let binding = f.binding(backend);
    let s1 = f.co_sign(&binding, ChannelFixture::state(1, (400, 0), (300, 100)));
    let s3 = f.co_sign(&binding, ChannelFixture::state(3, (400, 0), (200, 200)));
    f.start_close(backend, &f.a, Some(&s1))
        .expect("start close");
    record(
        name("Dispute (punish, seq + 2)"),
        10_000,
        backend.send(&s3.dispute(&f.channel, &f.b.address()), &f.b.keypair, &[]),
    );

    // Finalize after the period
    let f = ChannelFixture::token(backend, &mint);
    f.open(backend, 400).expect("open");
    f.start_close(backend, &f.b, None).expect("start close");
    backend.advance_time(PERIOD as i64 + 1);
    record(
        name("Finalize"),
        12_000,
        backend.send(&[client::finalize(&f.channel)], &f.outsider.keypair, &[]),
    );
}

#[test]
fn every_instruction_stays_within_its_compute_and_size_budget() {
    let litesvm = measure(&mut LiteSvmBackend::new());
    let program_test = measure(&mut ProgramTestBackend::new());

    println!();
    println!("| instruction | CU (LiteSVM) | CU (program-test) | CU budget | tx bytes |");
    println!("|---|---:|---:|---:|---:|");
    let mut over = Vec::new();
    for (l, p) in litesvm.iter().zip(&program_test) {
        assert_eq!(l.name, p.name);
        println!(
            "| {} | {} | {} | {} | {} |",
            l.name, l.landed.compute_units, p.landed.compute_units, l.budget_cu, l.landed.tx_size
        );
        for row in [l, p] {
            if row.landed.compute_units > row.budget_cu || row.landed.tx_size > MAX_TX_BYTES {
                over.push(row.name);
            }
        }
    }
    println!();
    assert!(over.is_empty(), "over budget: {over:?}");
}
