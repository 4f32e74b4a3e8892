//! The quick-start demo: Alice and Bob open a dual-funded channel on an embedded LiteSVM ledger
//! running the real `paychan.so`, exchange 10,000 co-signed payments off-chain, and close
//! cooperatively: three L1 transactions in all.

use std::time::Instant;

use paychan_interface::{
    client::{
        self,
        log::{genesis_log_root, next_log_root, Op},
        sign_state, verify_state_signature, ChannelAddress, CoSignedState,
    },
    state::{ChannelState, StateBinding},
};
use paychan_tests::{
    backend::{Backend, Landed},
    fixture::{Party, PERIOD},
    litesvm_backend::LiteSvmBackend,
    SOL,
};

const PAYMENTS: u64 = 10_000;

fn sol(lamports: u64) -> String {
    format!("{:.6} SOL", lamports as f64 / SOL as f64)
}

fn l1(step: &str, landed: &Landed, count: &mut u32) {
    *count += 1;
    println!(
        "  L1 tx {count}: {step:<34} {:>6} CU {:>5} bytes",
        landed.compute_units, landed.tx_size
    );
}

fn main() {
    let mut ledger = LiteSvmBackend::new();
    let (alice, bob) = (Party::new(), Party::new());
    for party in [&alice, &bob] {
        ledger.fund(&party.address(), 20 * SOL);
    }
    let before = [
        ledger.lamports(&alice.address()),
        ledger.lamports(&bob.address()),
    ];
    let channel = ChannelAddress::derive(
        &paychan_interface::ID,
        &alice.address(),
        &bob.address(),
        rand::random(),
    );
    println!(
        "paychan demo on LiteSVM with target/deploy/paychan.so ({})",
        paychan_interface::ID
    );
    println!("  channel {}", channel.address);
    let mut transactions = 0;

    let open = ledger
        .send(
            &[client::open(&channel, 10 * SOL, PERIOD)],
            &alice.keypair,
            &[],
        )
        .expect("open");
    l1("Alice opens with 10 SOL", &open, &mut transactions);
    let deposit = ledger
        .send(
            &[client::deposit(&channel, &bob.address(), 5 * SOL)],
            &bob.keypair,
            &[],
        )
        .expect("deposit");
    l1("Bob deposits 5 SOL", &deposit, &mut transactions);

    let opened = paychan_interface::channel::Channel::unpack(
        &ledger.account(&channel.address).expect("channel").data,
    )
    .expect("a paychan channel");
    let binding = StateBinding {
        program_id: paychan_interface::ID,
        channel: channel.address,
        opened_slot: opened.opened_slot,
    };

    // Off-chain: one co-signed state per payment, each signature checked strictly by the peer.
    let (alice_key, bob_key) = (alice.signing_key(), bob.signing_key());
    let mut state = ChannelState {
        log_root: genesis_log_root(&channel.address),
        ..ChannelState::opening(10 * SOL, 5 * SOL)
    };
    let started = Instant::now();
    let mut newest = None;
    for seq in 1..=PAYMENTS {
        let amount = 1_000 + seq % 7 * 100;
        let alice_pays = seq % 10 != 0;
        let op = Op::Pay {
            amount,
            payment_id: rand::random(),
        };
        state.seq = seq;
        if alice_pays {
            state.balance_a -= amount;
            state.balance_b += amount;
        } else {
            state.balance_b -= amount;
            state.balance_a += amount;
        }
        state.log_root = next_log_root(&state.log_root, seq, &[op]);
        let a = sign_state(&alice_key, &state, &binding);
        verify_state_signature(&a, &state, &binding).expect("Bob checks Alice's signature");
        let b = sign_state(&bob_key, &state, &binding);
        verify_state_signature(&b, &state, &binding).expect("Alice checks Bob's signature");
        newest = Some(CoSignedState {
            binding,
            state,
            a,
            b,
        });
    }
    let elapsed = started.elapsed();
    let newest = newest.expect("payments made");
    println!(
        "  off-chain: {PAYMENTS} payments, each a state signed and verified by both, in {:.2} s ({:.0} states/s, one process)",
        elapsed.as_secs_f64(),
        PAYMENTS as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  newest state: seq {}, Alice {}, Bob {}",
        newest.state.seq,
        sol(newest.state.balance_a),
        sol(newest.state.balance_b)
    );

    let close = ledger
        .send(
            &[client::close_cooperative(
                &channel,
                newest.state.balance_a,
                newest.state.balance_b,
            )],
            &alice.keypair,
            &[&bob.keypair],
        )
        .expect("cooperative close");
    l1("cooperative close (both sign)", &close, &mut transactions);

    let after = [
        ledger.lamports(&alice.address()),
        ledger.lamports(&bob.address()),
    ];
    println!(
        "  channel account closed: {}",
        ledger.account(&channel.address).is_none()
    );
    for (name, (b, a)) in ["Alice", "Bob"].iter().zip(before.iter().zip(after)) {
        println!(
            "  {name:<5} {} -> {} (net {:+.6} SOL incl. fees)",
            sol(*b),
            sol(a),
            (a as f64 - *b as f64) / SOL as f64
        );
    }
    println!("  {PAYMENTS} payments settled with {transactions} L1 transactions");
}
