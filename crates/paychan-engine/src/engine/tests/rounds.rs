//! Two engines wired together in memory: rounds, batching, tie-breaks, resync, refusals,
//! closing and recovery.

use paychan_interface::{channel::Party, client::log::Op, state::ChannelState};

use super::harness::*;
use crate::engine::*;

#[test]
fn one_payment_is_one_round_that_both_store_fully_signed() {
    let (mut a, mut b) = pair();
    a.pay(SOL, 1).expect("pay");
    settle(&mut a, &mut b);
    let newest = a.engine.newest_state();
    assert_eq!(newest, b.engine.newest_state());
    assert_eq!(
        (newest.seq, newest.balance_a, newest.balance_b),
        (1, 9 * SOL, 6 * SOL)
    );
    assert_eq!(
        (newest.deposited_a, newest.deposited_b),
        (10 * SOL, 5 * SOL)
    );
    assert_eq!((paid(&a), received(&b)), (1, 1));
    // B persisted its signature before sending it, then the full state
    assert!(matches!(
        b.records[..],
        [Record::Signed(_), Record::FullySigned(_)]
    ));
    // A persisted its proposal before sending it, then the full state
    assert!(matches!(
        a.records[..],
        [Record::Proposed(_), Record::FullySigned(_)]
    ));
    let cosigned = a.engine.newest_co_signed().expect("signed");
    cosigned
        .verify(&a.engine.params().signer_a, &a.engine.params().signer_b)
        .expect("both signatures verify");
}

#[test]
fn payments_made_during_a_round_are_batched_into_the_next() {
    let (mut a, mut b) = pair();
    a.pay(100, 1).expect("pay");
    for id in 2..=200u8 {
        a.pay(100, id).expect("queued while the round is in flight");
    }
    assert_eq!(a.engine.queued(), 199);
    settle(&mut a, &mut b);
    // Two rounds: the first payment alone, then the 199 queued ones together.
    assert_eq!(a.engine.newest_state().seq, 2);
    assert_eq!(a.engine.newest_state().balance_b, 5 * SOL + 200 * 100);
    assert_eq!((paid(&a), received(&b)), (200, 200));
}

#[test]
fn both_directions_and_later_deposits_are_tracked() {
    let (mut a, mut b) = pair();
    a.pay(3 * SOL, 1).expect("pay");
    settle(&mut a, &mut b);
    b.pay(7 * SOL, 2)
        .expect("B pays back with what it received");
    settle(&mut a, &mut b);
    a.chain(12 * SOL, 5 * SOL);
    b.chain(12 * SOL, 5 * SOL);
    a.pay(1, 3).expect("pay");
    settle(&mut a, &mut b);
    let s = b.engine.newest_state();
    assert_eq!(
        (s.seq, s.deposited_a, s.balance_a, s.balance_b),
        (3, 12 * SOL, 16 * SOL - 1, SOL + 1)
    );
    assert_eq!(s.balance_a + s.balance_b, s.deposited_a + s.deposited_b);
}

#[test]
fn a_payment_above_the_spendable_balance_is_refused() {
    let (mut a, _b) = pair();
    assert_eq!(
        a.pay(10 * SOL + 1, 1),
        Err(EngineError::InsufficientBalance)
    );
    a.pay(6 * SOL, 2).expect("pay");
    assert_eq!(a.pay(4 * SOL + 1, 3), Err(EngineError::InsufficientBalance));
    assert_eq!(a.pay(0, 4), Err(EngineError::ZeroPayment));
}

#[test]
fn concurrent_proposals_resolve_to_a_and_b_retries() {
    let (mut a, mut b) = pair();
    a.pay(SOL, 1).expect("pay");
    b.pay(2 * SOL, 2).expect("pay");
    // Both proposed seq 1 before seeing the other's proposal
    settle(&mut a, &mut b);
    let s = a.engine.newest_state();
    assert_eq!(s.seq, 2, "A's round first, then B's re-proposal");
    assert_eq!((s.balance_a, s.balance_b), (11 * SOL, 4 * SOL));
    assert_eq!(s, b.engine.newest_state());
    for node in [&a, &b] {
        let seqs: Vec<u64> = node.signed_states().iter().map(|s| s.seq).collect();
        let mut unique = seqs.clone();
        unique.dedup();
        assert!(unique.len() >= 2, "{seqs:?}");
    }
}

#[test]
fn a_lost_commit_is_recovered_by_hello() {
    let (mut a, mut b) = pair();
    a.pay(SOL, 1).expect("pay");
    let propose = a.outbox.remove(0);
    b.run(Input::Peer(propose)).expect("propose");
    let accept = b.outbox.remove(0);
    a.run(Input::Peer(accept)).expect("accept");
    a.outbox.clear(); // the Commit is lost
    assert_eq!(a.engine.newest_state().seq, 1);
    assert_eq!(b.engine.newest_state().seq, 0);
    // B cannot sign seq 2 yet: it does not hold seq 1 fully signed
    b.run(Input::Connected).expect("reconnect");
    a.run(Input::Connected).expect("reconnect");
    settle(&mut a, &mut b);
    assert_eq!(b.engine.newest_state(), a.engine.newest_state());
    assert_eq!(received(&b), 1);
}

#[test]
fn a_lost_accept_gets_the_same_signature_again() {
    let (mut a, mut b) = pair();
    a.pay(SOL, 1).expect("pay");
    b.run(Input::Peer(a.outbox.remove(0))).expect("propose");
    let first = b.outbox.remove(0); // lost
    a.run(Input::Connected).expect("reconnect: re-propose");
    b.run(Input::Connected).expect("reconnect");
    settle(&mut a, &mut b);
    assert_eq!(a.engine.newest_state().seq, 1);
    assert_eq!(
        b.signed_states().iter().filter(|s| s.seq == 1).count(),
        2,
        "Signed then FullySigned"
    );
    let PeerMessage::Accept { signature, .. } = first else {
        panic!("expected an accept");
    };
    let newest = a.engine.newest_co_signed().expect("signed");
    assert_eq!(
        newest.b.signature, signature,
        "B signed seq 1 once, and repeated it"
    );
}

#[test]
fn a_second_different_state_for_a_signed_seq_is_refused() {
    let (mut a, mut b) = pair();
    a.pay(SOL, 1).expect("pay");
    b.run(Input::Peer(a.outbox.remove(0))).expect("propose");
    b.outbox.clear();
    let keys = keys();
    let mut other = Node::new(Party::A, &keys);
    other.chain(10 * SOL, 5 * SOL);
    other.pay(2 * SOL, 9).expect("pay");
    b.run(Input::Peer(other.outbox.remove(0)))
        .expect("answered, not an error");
    // Refused, pointing the peer at the one state B signed for seq 1
    match &b.outbox[..] {
        [PeerMessage::Reject {
            seq: 1,
            reason: RejectReason::AlreadySigned,
            ..
        }, PeerMessage::Hello {
            pending: Some(pending),
            ..
        }] => assert_eq!(pending.state.balance_b, 6 * SOL),
        other => panic!("unexpected answer {other:?}"),
    }
    assert!(b
        .events
        .contains(&Event::PeerFault(EngineError::Equivocation(1))));
    assert_eq!(b.signed_states().len(), 1);
}

#[test]
fn invalid_proposals_are_rejected_with_a_reason_and_change_nothing() {
    let (_a, mut b) = pair();
    let genesis = b.engine.newest_state();
    let pay = |amount| Op::Pay {
        amount,
        payment_id: [0; 16],
    };
    let valid = next_state(&genesis, Party::A, &[pay(SOL)], (10 * SOL, 5 * SOL)).expect("valid");
    let cases = [
        // A pays more than it has
        (
            vec![pay(11 * SOL)],
            ChannelState {
                balance_a: 0,
                ..valid
            },
            EngineError::InsufficientBalance,
        ),
        // balances that do not follow from the ops
        (
            vec![pay(SOL)],
            ChannelState {
                balance_b: valid.balance_b + 1,
                ..valid
            },
            EngineError::StateMismatch,
        ),
        // a log root that is not the chain's
        (
            vec![pay(SOL)],
            ChannelState {
                log_root: [7; 32],
                ..valid
            },
            EngineError::StateMismatch,
        ),
        (vec![], valid, EngineError::BadOpCount(0)),
    ];
    for (ops, state, error) in cases {
        b.outbox.clear();
        b.run(Input::Peer(PeerMessage::Propose { seq: 1, ops, state }))
            .expect("answered");
        assert!(matches!(
            b.outbox[..],
            [PeerMessage::Reject {
                seq: 1,
                reason: RejectReason::Invalid,
                ..
            }]
        ));
        assert_eq!(b.events.last(), Some(&Event::PeerFault(error)));
    }
    assert!(b.records.is_empty(), "nothing signed or stored");
}

#[test]
fn forged_accept_or_commit_signatures_are_refused() {
    let (mut a, mut b) = pair();
    a.pay(SOL, 1).expect("pay");
    b.run(Input::Peer(a.outbox.remove(0))).expect("propose");
    let PeerMessage::Accept { seq, mut signature } = b.outbox.remove(0) else {
        panic!("expected an accept");
    };
    signature[0] ^= 1;
    assert_eq!(
        a.run(Input::Peer(PeerMessage::Accept { seq, signature })),
        Err(EngineError::BadSignature)
    );
    assert!(
        matches!(a.records[..], [Record::Proposed(_)]),
        "nothing signed"
    );
    assert_eq!(
        b.run(Input::Peer(PeerMessage::Commit {
            seq,
            signature: [3; 64]
        })),
        Err(EngineError::BadSignature)
    );
    assert_eq!(b.engine.newest_state().seq, 0);
}

#[test]
fn cooperative_close_stops_payments_and_asks_for_the_close_transaction() {
    let (mut a, mut b) = pair();
    a.pay(2 * SOL, 1).expect("pay");
    settle(&mut a, &mut b);
    a.run(Input::Close).expect("close");
    settle(&mut a, &mut b);
    let terms = CloseTerms {
        seq: 1,
        balance_a: 8 * SOL,
        balance_b: 7 * SOL,
    };
    assert_eq!(a.engine.closing(), Some(terms));
    assert_eq!(b.engine.closing(), Some(terms));
    assert_eq!(a.submitted, vec![ChainRequest::CloseCooperative(terms)]);
    assert!(b.records.contains(&Record::Closing(terms)));
    assert_eq!(a.pay(1, 2), Err(EngineError::Closing));
    assert_eq!(b.pay(1, 3), Err(EngineError::Closing));
}

#[test]
fn a_restart_resumes_from_the_records() {
    let (mut a, mut b) = pair();
    for id in 0..5u8 {
        a.pay(SOL / 10, id).expect("pay");
        settle(&mut a, &mut b);
    }
    // B crashes after signing seq 6 but before the commit arrives
    a.pay(SOL / 10, 9).expect("pay");
    b.run(Input::Peer(a.outbox.remove(0))).expect("propose");
    b.restart();
    a.run(Input::Peer(PeerMessage::Accept {
        seq: 6,
        signature: match b.records.last() {
            Some(Record::Signed(s)) => s.signature,
            other => panic!("expected B's signature on record, got {other:?}"),
        },
    }))
    .expect("accept");
    a.outbox.clear(); // the commit is lost in the crash
    b.run(Input::Connected).expect("reconnect");
    a.run(Input::Connected).expect("reconnect");
    settle(&mut a, &mut b);
    assert_eq!(b.engine.newest_state().seq, 6);
    assert_eq!(b.engine.newest_state(), a.engine.newest_state());
    a.restart();
    a.pay(SOL, 10).expect("pay after A's restart");
    settle(&mut a, &mut b);
    assert_eq!(a.engine.newest_state().seq, 7);
}

#[test]
fn a_proposer_that_crashed_after_the_accept_completes_its_stored_proposal() {
    let (mut a, mut b) = pair();
    a.pay(SOL, 1).expect("pay");
    b.run(Input::Peer(a.outbox.remove(0))).expect("propose");
    b.outbox.clear(); // A crashes before B's accept arrives
    a.restart();
    a.run(Input::Connected).expect("reconnect");
    b.run(Input::Connected).expect("reconnect");
    settle(&mut a, &mut b);
    assert_eq!(a.engine.newest_state().seq, 1);
    assert_eq!(a.engine.newest_state(), b.engine.newest_state());
    assert_eq!((paid(&a), received(&b)), (1, 1));
}

#[test]
fn a_pending_state_the_proposer_never_stored_is_not_signed() {
    // B claims to hold its signature on a state where A pays it: A never proposed it.
    let (mut a, b) = pair();
    let genesis = a.engine.newest_state();
    let ops = vec![Op::Pay {
        amount: 5 * SOL,
        payment_id: [0; 16],
    }];
    let state = next_state(&genesis, Party::A, &ops, (10 * SOL, 5 * SOL)).expect("state");
    let signature =
        paychan_interface::client::sign_state(&b.key, &state, &a.engine.params().binding);
    a.run(Input::Peer(PeerMessage::Hello {
        newest: None,
        pending: Some(Box::new(SignedByMe {
            state,
            ops,
            signature: signature.signature,
        })),
    }))
    .expect("hello");
    assert!(a.records.is_empty(), "A signed nothing");
    assert_eq!(a.engine.newest_state().seq, 0);
}

#[test]
fn a_stale_registration_on_chain_triggers_a_dispute() {
    let (mut a, mut b) = pair();
    for id in 0..3u8 {
        a.pay(SOL, id).expect("pay");
        settle(&mut a, &mut b);
    }
    b.run(Input::Chain(ChainView {
        deposited_a: 10 * SOL,
        deposited_b: 5 * SOL,
        closing: Some(RegisteredClose {
            seq: 1,
            deadline: 1_000,
        }),
        now: 900,
    }))
    .expect("chain view");
    match &b.submitted[..] {
        [ChainRequest::Dispute(state)] => assert_eq!(state.state.seq, 3),
        other => panic!("expected a dispute, got {other:?}"),
    }
}
