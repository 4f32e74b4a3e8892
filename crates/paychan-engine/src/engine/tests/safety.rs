//! The engine's side of the safety fixes: a party that registered (or saw) a close signs no
//! new seq; refused proposals stay refused across restarts; a deposit one side sees first is
//! waited for, not refused; close requests survive a reconnect; a store that lost writes stops.

use super::harness::*;
use crate::engine::*;

fn registered(deposits: (u64, u64), seq: u64) -> ChainView {
    ChainView {
        deposited_a: deposits.0,
        deposited_b: deposits.1,
        closing: Some(RegisteredClose {
            seq,
            deadline: 2_000,
        }),
        now: 1_000,
    }
}

fn pay_rounds(a: &mut Node, b: &mut Node, rounds: u8) {
    for id in 0..rounds {
        a.pay(SOL / 10, id).expect("pay");
        settle(a, b);
    }
}

/// The attack that cost an honest registrant everything: A force-closes at seq s, both go on
/// paying, and seq s + 2 co-signed would punish A for its own registration.
#[test]
fn a_party_that_force_closed_signs_no_new_seq() {
    let (mut a, mut b) = pair();
    pay_rounds(&mut a, &mut b, 3);
    a.run(Input::ForceClose).expect("force close");
    match &a.submitted[..] {
        [ChainRequest::StartClose(Some(state))] => assert_eq!(state.state.seq, 3),
        other => panic!("expected StartClose at seq 3, got {other:?}"),
    }
    assert!(a.records.contains(&Record::Unilateral));
    let a_signed = a.signed_states().len();

    // B has not seen the registration yet and keeps paying: A refuses every proposal.
    for id in 10..13u8 {
        b.pay(SOL / 10, id).expect("B queues");
        settle(&mut a, &mut b);
    }
    assert_eq!(a.pay(1, 20), Err(EngineError::ClosingOnChain));
    assert_eq!(a.signed_states().len(), a_signed, "A signed nothing new");
    assert_eq!(a.engine.newest_state().seq, 3);
    assert_eq!(b.engine.newest_state().seq, 3);

    // Across a restart too.
    a.restart();
    assert!(a.engine.is_closing_on_chain());
    b.run(Input::Connected).expect("reconnect");
    a.run(Input::Connected).expect("reconnect");
    settle(&mut a, &mut b);
    assert_eq!(a.signed_states().len(), a_signed);
}

#[test]
fn a_close_registered_on_chain_stops_both_sides_signing() {
    let (mut a, mut b) = pair();
    pay_rounds(&mut a, &mut b, 2);
    // A's proposal for seq 3 is in flight when B sees a registration on-chain.
    a.pay(SOL / 10, 7).expect("pay");
    let proposal = a.outbox.remove(0);
    b.run(Input::Chain(registered((10 * SOL, 5 * SOL), 2)))
        .expect("chain view");
    assert!(b.records.contains(&Record::Unilateral));
    b.run(Input::Peer(proposal)).expect("answered");
    assert!(matches!(
        b.outbox[..],
        [PeerMessage::Reject {
            reason: RejectReason::Closing,
            ..
        }]
    ));
    settle(&mut a, &mut b);
    // A's round failed for good and its payment is reported dropped, not queued.
    assert!(a.events.iter().any(|e| matches!(
        e,
        Event::Dropped { payments, reason: RejectReason::Closing } if payments.len() == 1
    )));
    assert_eq!(a.engine.queued(), 0);
    assert_eq!(b.pay(1, 8), Err(EngineError::ClosingOnChain));

    // A then sees it too; its own in-flight proposal (if any) is withdrawn, not completed.
    a.pay(SOL / 10, 9).expect("A has not seen the chain yet");
    let late = a.outbox.remove(0);
    a.run(Input::Chain(registered((10 * SOL, 5 * SOL), 2)))
        .expect("chain view");
    b.run(Input::Peer(late)).expect("refused");
    let accept_would_be = PeerMessage::Accept {
        seq: 3,
        signature: [0; 64],
    };
    a.run(Input::Peer(accept_would_be))
        .expect("ignored, not signed");
    assert!(!a
        .records
        .iter()
        .any(|r| matches!(r, Record::FullySigned(e) if e.state.seq == 3)));
}

#[test]
fn a_refused_proposal_is_never_completed_after_a_restart() {
    let (mut a, mut b) = pair();
    a.pay(SOL, 1).expect("pay");
    let PeerMessage::Propose { seq, state, .. } = a.outbox.remove(0) else {
        panic!("expected a proposal");
    };
    a.run(Input::Peer(PeerMessage::Reject {
        seq,
        log_root: state.log_root,
        reason: RejectReason::Invalid,
    }))
    .expect("rejection");
    assert!(a.events.iter().any(|e| matches!(e, Event::Dropped { .. })));
    a.restart();
    assert!(a.engine.is_idle(), "the refused proposal did not come back");
    a.run(Input::Connected).expect("reconnect");
    b.run(Input::Connected).expect("reconnect");
    settle(&mut a, &mut b);
    assert_eq!(a.engine.newest_state().seq, 0);
    assert_eq!((paid(&a), received(&b)), (0, 0));
}

/// A deposited 2 SOL and sees it; B's view lags. A's payment that needs it waits at B until
/// B's chain view shows the deposit, then goes through: nothing is refused or dropped.
#[test]
fn a_deposit_the_acceptor_has_not_seen_yet_is_waited_for() {
    let (mut a, mut b) = pair();
    a.chain(12 * SOL, 5 * SOL);
    a.pay(11 * SOL, 1).expect("A can spend its new deposit");
    let proposal = a.outbox.remove(0);
    b.run(Input::Peer(proposal)).expect("parked");
    assert!(b.outbox.is_empty(), "neither signed nor refused");
    assert!(b.engine.waits_for_chain());
    b.chain(12 * SOL, 5 * SOL);
    settle(&mut a, &mut b);
    assert_eq!((paid(&a), received(&b)), (1, 1));
    assert_eq!(b.engine.newest_state().deposited_a, 12 * SOL);
    assert!(!a
        .events
        .iter()
        .any(|e| matches!(e, Event::ProposalRejected { .. } | Event::Dropped { .. })));
}

/// A counts a deposit B's chain never shows (a fork, or a lie): B waits DEPOSIT_WAIT_SECS of
/// chain time, the proposal repeated meanwhile does not restart the wait, then B refuses it and
/// A's payment is dropped instead of waiting forever. Nothing was signed.
#[test]
fn a_deposit_that_never_shows_is_refused_after_the_wait() {
    const T0: i64 = 1_800_000_000;
    let (mut a, mut b) = pair();
    b.chain_at(10 * SOL, 5 * SOL, T0);
    a.chain(12 * SOL, 5 * SOL);
    a.pay(11 * SOL, 1).expect("A spends a deposit only it sees");
    let proposal = a.outbox.remove(0);
    b.run(Input::Peer(proposal.clone())).expect("parked");
    b.chain_at(10 * SOL, 5 * SOL, T0 + DEPOSIT_WAIT_SECS / 2);
    b.run(Input::Peer(proposal))
        .expect("the same proposal, again");
    b.chain_at(10 * SOL, 5 * SOL, T0 + DEPOSIT_WAIT_SECS - 1);
    assert!(
        b.outbox.is_empty(),
        "still waiting: neither signed nor refused"
    );
    assert!(b.engine.waits_for_chain());

    b.chain_at(10 * SOL, 5 * SOL, T0 + DEPOSIT_WAIT_SECS);
    assert!(!b.engine.waits_for_chain());
    assert!(b
        .events
        .contains(&Event::PeerFault(EngineError::DepositsNotSeen)));
    let refusal = b.outbox.remove(0);
    assert!(matches!(
        refusal,
        PeerMessage::Reject {
            reason: RejectReason::Invalid,
            ..
        }
    ));
    a.run(Input::Peer(refusal)).expect("refusal");
    assert!(a.events.iter().any(|e| matches!(e, Event::Dropped { .. })));
    assert!(a.engine.is_idle());
    assert_eq!((paid(&a), received(&b)), (0, 0));
    assert!(b.signed_states().is_empty(), "B signed nothing");
}

/// A close request counting a deposit that never shows is answered with B's newest state
/// after the wait, not held forever.
#[test]
fn a_close_request_counting_a_deposit_that_never_shows_is_answered_after_the_wait() {
    const T0: i64 = 1_800_000_000;
    let (mut a, mut b) = pair();
    b.chain_at(10 * SOL, 5 * SOL, T0);
    a.chain(12 * SOL, 5 * SOL);
    a.run(Input::Close).expect("close");
    b.run(Input::Peer(a.outbox.remove(0))).expect("parked");
    b.chain_at(10 * SOL, 5 * SOL, T0 + DEPOSIT_WAIT_SECS);
    assert!(!b.engine.waits_for_chain());
    assert_eq!(b.engine.closing(), None, "B agreed to nothing");
    assert!(matches!(b.outbox.as_slice(), [PeerMessage::Hello { .. }]));
    assert!(b
        .events
        .contains(&Event::PeerFault(EngineError::DepositsNotSeen)));
}

#[test]
fn a_close_in_the_deposit_race_is_agreed_whichever_side_saw_it_first() {
    // The requester saw the deposit first: the acceptor waits for its chain view.
    let (mut a, mut b) = pair();
    a.chain(12 * SOL, 5 * SOL);
    a.run(Input::Close).expect("close");
    b.run(Input::Peer(a.outbox.remove(0))).expect("parked");
    assert!(b.outbox.is_empty());
    b.chain(12 * SOL, 5 * SOL);
    settle(&mut a, &mut b);
    let terms = CloseTerms {
        seq: 0,
        balance_a: 12 * SOL,
        balance_b: 5 * SOL,
    };
    assert_eq!(
        (a.engine.closing(), b.engine.closing()),
        (Some(terms), Some(terms))
    );
    assert_eq!(a.submitted, vec![ChainRequest::CloseCooperative(terms)]);

    // The acceptor saw it first: the requester asks again at the new terms once it sees it.
    let (mut a, mut b) = pair();
    b.chain(10 * SOL, 6 * SOL);
    a.run(Input::Close).expect("close");
    let request = a.outbox.remove(0);
    assert_eq!(
        b.run(Input::Peer(request)),
        Err(EngineError::CloseTermsMismatch)
    );
    b.outbox.clear();
    a.chain(10 * SOL, 6 * SOL);
    settle(&mut a, &mut b);
    let terms = CloseTerms {
        seq: 0,
        balance_a: 10 * SOL,
        balance_b: 6 * SOL,
    };
    assert_eq!(b.engine.closing(), Some(terms));
    assert_eq!(a.submitted, vec![ChainRequest::CloseCooperative(terms)]);
}

#[test]
fn a_close_request_lost_with_the_link_is_sent_again_and_driven_once() {
    let (mut a, mut b) = pair();
    pay_rounds(&mut a, &mut b, 1);
    a.run(Input::Close).expect("close");
    a.outbox.clear(); // the link drops with the request on it
    a.run(Input::Connected).expect("reconnect");
    b.run(Input::Connected).expect("reconnect");
    settle(&mut a, &mut b);
    assert!(b.engine.closing().is_some());
    assert_eq!(a.submitted.len(), 1, "A drives the close");
    assert!(b.submitted.is_empty());

    // Another reconnect with both closing still builds exactly one transaction.
    a.run(Input::Connected).expect("reconnect");
    b.run(Input::Connected).expect("reconnect");
    settle(&mut a, &mut b);
    assert_eq!(
        a.submitted.len(),
        2,
        "A submits the same close again (idempotent)"
    );
    assert!(b.submitted.is_empty(), "B never builds a second one");
}

/// A's store lost its proposal (restored from an old copy) after B signed it: proposing the
/// seq again would loop Propose/Reject forever. A stops with a clear error instead.
#[test]
fn a_store_behind_the_peer_stops_with_a_clear_error() {
    let (mut a, mut b) = pair();
    a.pay(SOL, 1).expect("pay");
    b.run(Input::Peer(a.outbox.remove(0)))
        .expect("B signs seq 1");
    b.outbox.clear();
    a.records.clear(); // the rollback
    a.restart();
    a.chain(10 * SOL, 5 * SOL);
    a.pay(2 * SOL, 2).expect("A proposes seq 1 afresh");
    b.run(Input::Peer(a.outbox.remove(0))).expect("answered");
    let reject = b.outbox.remove(0);
    assert!(matches!(
        reject,
        PeerMessage::Reject {
            reason: RejectReason::AlreadySigned,
            ..
        }
    ));
    assert_eq!(
        a.run(Input::Peer(reject)),
        Err(EngineError::PeerSignedOtherState(1))
    );
}

/// A's store is restored from a backup two rounds old. B's Hello proves seq 3, signed by A: A
/// adopts it durably and a unilateral close registers seq 3, never the stale seq 1 that would
/// let B's watcher take the whole channel.
#[test]
fn a_store_restored_from_an_old_backup_adopts_the_peers_proven_state_and_closes_with_it() {
    let (mut a, mut b) = pair();
    pay_rounds(&mut a, &mut b, 1);
    let backup = a.records.clone();
    pay_rounds(&mut a, &mut b, 2);
    let proven = b.engine.newest_co_signed().expect("seq 3 co-signed");
    assert_eq!(proven.state.seq, 3);
    a.records = backup;
    a.restart();
    a.chain(10 * SOL, 5 * SOL);
    assert_eq!(
        a.engine.newest_state().seq,
        1,
        "the restored store is behind"
    );

    b.run(Input::Connected).expect("B says hello");
    a.run(Input::Peer(b.outbox.remove(0)))
        .expect("A catches up");

    assert!(a.events.contains(&Event::CaughtUp { from: 1, to: 3 }));
    assert_eq!(
        a.recovered().newest.map(|e| e.state.seq),
        Some(3),
        "durable"
    );
    a.run(Input::ForceClose).expect("force close");
    assert_eq!(
        a.submitted.last(),
        Some(&ChainRequest::StartClose(Some(proven))),
        "A registers the state B proved, not its stale one"
    );
}

/// Caught up, the restored party pays on from the adopted state: the next round is seq 4.
#[test]
fn a_restored_party_that_caught_up_pays_on_from_the_adopted_state() {
    let (mut a, mut b) = pair();
    pay_rounds(&mut a, &mut b, 1);
    let backup = a.records.clone();
    pay_rounds(&mut a, &mut b, 2);
    a.records = backup;
    a.restart();
    a.chain(10 * SOL, 5 * SOL);
    a.run(Input::Connected).expect("A says hello");
    b.run(Input::Connected).expect("B says hello");
    settle(&mut a, &mut b);
    a.pay(SOL / 10, 9).expect("pay");
    settle(&mut a, &mut b);
    assert_eq!(a.engine.newest_state().seq, 4);
    assert_eq!(a.engine.newest_state(), b.engine.newest_state());
    assert_eq!(a.engine.newest_state().balance_b, 5 * SOL + 4 * SOL / 10);
}

/// A Hello claiming a newer state that does not carry A's signature is refused; A keeps
/// its own newest state.
#[test]
fn a_hello_with_a_newer_state_a_never_signed_is_refused() {
    let (mut a, mut b) = pair();
    pay_rounds(&mut a, &mut b, 1);
    let mut forged = b.engine.newest_co_signed().expect("seq 1");
    forged.state.seq = 5;
    let entry = LogEntry {
        state: forged.state,
        ops: vec![],
        signature_a: forged.a.signature,
        signature_b: forged.b.signature,
    };
    assert_eq!(
        a.run(Input::Peer(PeerMessage::Hello {
            newest: Some(Box::new(entry)),
            pending: None,
        })),
        Err(EngineError::BadSignature)
    );
    assert_eq!(a.engine.newest_state().seq, 1);
}

/// B agrees to close but never countersigns A's transaction: once the chain has shown the
/// channel still open for the whole wait, A registers the newest co-signed state instead of
/// refusing payments forever.
#[test]
fn a_cooperative_close_the_peer_never_countersigns_falls_back_to_a_unilateral_close() {
    let (mut a, mut b) = pair();
    pay_rounds(&mut a, &mut b, 2);
    a.run(Input::Close).expect("close");
    settle(&mut a, &mut b);
    let terms = a.engine.closing().expect("agreed");
    assert_eq!(a.submitted, vec![ChainRequest::CloseCooperative(terms)]);

    a.chain_at(10 * SOL, 5 * SOL, 1_000);
    a.chain_at(10 * SOL, 5 * SOL, 1_000 + COOPERATIVE_CLOSE_WAIT_SECS - 1);
    assert_eq!(a.submitted.len(), 1, "still within the wait");
    a.chain_at(10 * SOL, 5 * SOL, 1_000 + COOPERATIVE_CLOSE_WAIT_SECS);

    let newest = a.engine.newest_co_signed().expect("seq 2");
    assert_eq!(
        a.submitted.last(),
        Some(&ChainRequest::StartClose(Some(newest)))
    );
    assert!(a.events.contains(&Event::CooperativeCloseStalled(terms)));
    assert!(a.recovered().unilateral, "durably signs nothing new");
    assert_eq!(a.pay(1, 9), Err(EngineError::ClosingOnChain));
}

/// Two proposals from A, each counting a deposit B's chain never shows, sent in turn: the
/// wait belongs to the peer, so the second does not restart it and B refuses at the end.
#[test]
fn alternating_two_fake_deposit_proposals_does_not_restart_the_wait() {
    const T0: i64 = 1_800_000_000;
    let keys = keys();
    let (mut a, mut b) = pair();
    b.chain_at(10 * SOL, 5 * SOL, T0);
    let mut other = Node::new(paychan_interface::channel::Party::A, &keys);
    for (node, amount) in [(&mut a, 11 * SOL), (&mut other, 11 * SOL + 1)] {
        node.chain(12 * SOL, 5 * SOL);
        node.pay(amount, 1)
            .expect("A spends a deposit only it sees");
    }
    let (first, second) = (a.outbox.remove(0), other.outbox.remove(0));
    assert_ne!(first, second);
    for (i, proposal) in [first, second.clone(), first_again(&a), second]
        .into_iter()
        .enumerate()
    {
        b.run(Input::Peer(proposal)).expect("parked");
        b.chain_at(10 * SOL, 5 * SOL, T0 + 30 * i as i64);
    }
    assert!(b.engine.waits_for_chain(), "90 s so far");
    b.chain_at(10 * SOL, 5 * SOL, T0 + DEPOSIT_WAIT_SECS);
    assert!(!b.engine.waits_for_chain(), "refused after 120 s in all");
    assert!(b
        .events
        .contains(&Event::PeerFault(EngineError::DepositsNotSeen)));
    assert!(b.signed_states().is_empty(), "B signed nothing");
}

/// A's proposal in flight, as it would send it again after a reconnect.
fn first_again(a: &Node) -> PeerMessage {
    let mut a = Node {
        engine: ChannelEngine::recover(*a.engine.params(), a.key.clone(), a.recovered()),
        key: a.key.clone(),
        records: vec![],
        outbox: vec![],
        events: vec![],
        submitted: vec![],
    };
    a.run(Input::Connected).expect("resync");
    a.outbox.remove(1)
}

/// A chain whose clock reads zero (a test ledger, or a node that reports none) still bounds the
/// wait: it starts with the first chain view, not with the first non-zero clock.
#[test]
fn a_chain_clock_at_zero_still_bounds_the_deposit_wait() {
    let (mut a, mut b) = pair();
    a.chain(12 * SOL, 5 * SOL);
    a.pay(11 * SOL, 1).expect("A spends a deposit only it sees");
    b.run(Input::Peer(a.outbox.remove(0))).expect("parked");
    b.chain_at(10 * SOL, 5 * SOL, 0);
    assert!(b.engine.waits_for_chain());
    b.chain_at(10 * SOL, 5 * SOL, DEPOSIT_WAIT_SECS);
    assert!(!b.engine.waits_for_chain(), "refused after the wait");
}

/// The close transaction goes A → B, B's signature goes B → A, and only A submits: B's answer
/// to the transaction is a signature to send, never a submission.
#[test]
fn the_countersigner_sends_its_signature_back_and_the_requester_submits() {
    let (mut a, mut b) = pair();
    pay_rounds(&mut a, &mut b, 1);
    a.run(Input::Close).expect("close");
    settle(&mut a, &mut b);
    let terms = a.engine.closing().expect("agreed");
    a.run(Input::CloseTransactionBuilt(vec![1, 2, 3]))
        .expect("built");
    let actions = b
        .engine
        .handle(Input::Peer(a.outbox.remove(0)))
        .expect("to countersign");
    assert_eq!(
        actions,
        vec![Action::CountersignClose {
            terms,
            transaction: vec![1, 2, 3]
        }],
        "B only signs: it submits nothing"
    );
    b.run(Input::CloseCountersigned {
        terms,
        signature: [5; 64],
    })
    .expect("signed");
    let answer = b.outbox.remove(0);
    assert_eq!(
        answer,
        PeerMessage::CloseSignature {
            terms,
            signature: [5; 64]
        }
    );
    assert_eq!(
        a.engine.handle(Input::Peer(answer)),
        Ok(vec![Action::SubmitCooperativeClose {
            terms,
            signature: [5; 64]
        }]),
        "A submits"
    );
    let other = CloseTerms { seq: 9, ..terms };
    assert_eq!(
        b.run(Input::CloseCountersigned {
            terms: other,
            signature: [5; 64]
        }),
        Err(EngineError::CloseTermsMismatch),
        "B signs only the agreed close"
    );
}
