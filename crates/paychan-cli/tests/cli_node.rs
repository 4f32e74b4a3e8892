//! The `paychan` CLI end to end on the embedded ledger (`paychan ledger`): real processes, real
//! ports on 127.0.0.1, real redb stores, the encrypted link, the nodes' HTTP API. Two nodes
//! pay, survive a crash and reconnect, close cooperatively, fall back to a unilateral close,
//! and a third key's watchtower punishes a stale close; bad input is refused with one readable
//! line; a ledger kept in a directory survives a restart.

mod support;

use std::{io::Write, time::Duration};

use support::{exit_within, node_status, status, until, Ledger, Party, FEE, SOL};

#[test]
fn nodes_pay_survive_a_crash_and_close_cooperatively() {
    let ledger = Ledger::start();
    let (a, b) = (Party::new(&ledger), Party::new(&ledger));
    let channel = a.open(&b, "2");
    b.ok(&["deposit", &channel, "--amount", "1"]);

    let b_node = b.node_running(&channel, &["--listen", "127.0.0.1:0"]);
    let b_address = b_node.listening.clone().expect("B listens");
    let peer = format!("{}={b_address}", b.pubkey);
    let a_node = a.node_running(&channel, &["--peer", &peer]);
    let paid = a.ok(&["pay", &channel, "--amount", "0.0001", "--count", "1000"]);
    assert!(paid.starts_with("paid 1000 × 0.0001 SOL"), "{paid}");
    let paid = b.ok(&["pay", &channel, "--amount", "0.01", "--count", "3"]);
    assert!(paid.contains("A 1.93 SOL, B 1.07 SOL"), "{paid}");

    // B crashes and comes back on the same port: A's node redials and they resync.
    b_node.kill();
    let b_node = b.node_running(&channel, &["--listen", &b_address]);
    let paid = a.ok(&[
        "pay", &channel, "--amount", "0.0001", "--count", "10", "--output", "json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&paid).expect("json");
    assert_eq!(json["balance_b"], 1_071_000_000);

    let closed = a.ok(&["close", &channel, "--output", "json"]);
    let json: serde_json::Value = serde_json::from_str(&closed).expect("json");
    assert_eq!(json["cooperative"], true);
    assert_eq!(
        (json["balance_a"].as_u64(), json["balance_b"].as_u64()),
        (Some(1_929_000_000), Some(1_071_000_000))
    );
    assert_eq!(a_node.ended(&channel), "ChannelClosed");
    assert_eq!(b_node.ended(&channel), "ChannelClosed");

    // B paid one fee (its deposit); A paid the open and both signatures of the close.
    assert_eq!(b.balance(), 10 * SOL - SOL - FEE + 1_071_000_000);
    assert_eq!(a.balance(), 10 * SOL - 2 * SOL - 3 * FEE + 1_929_000_000);
    let history = b.ok(&["history", &channel]);
    assert_eq!(history.matches("pay 0.0001 SOL").count(), 1_010);
    assert_eq!(history.matches("pay 0.01 SOL").count(), 3);
}

#[test]
fn close_falls_back_to_unilateral_and_the_node_finalizes_after_the_window() {
    let ledger = Ledger::start();
    let (a, b) = (Party::new(&ledger), Party::new(&ledger));
    let channel = a.open(&b, "2");
    let (a_node, b_node) = b.linked_nodes(&a, &channel, &[], &[]);
    a.ok(&["pay", &channel, "--amount", "0.01", "--count", "5"]);
    b_node.kill();

    // B does not answer: after a second A registers its newest state and waits out the window.
    let mut close = a
        .command(&["close", &channel, "--timeout", "1", "--wait"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("close runs");
    until("the unilateral close", || {
        status(&a, &channel)["status"] == "closing"
    });
    assert_eq!(
        status(&a, &channel)["registered_seq"]
            .as_u64()
            .map(|s| s > 0),
        Some(true)
    );
    a.ok(&["warp", "86401"]);
    assert!(
        exit_within(&mut close, Duration::from_secs(30)).success(),
        "{}",
        a.node_log()
    );
    let mut out = String::new();
    std::io::Read::read_to_string(&mut close.stdout.take().expect("stdout"), &mut out)
        .expect("read");
    assert!(
        out.contains("closed") && out.contains("unilaterally") && out.contains("paid out"),
        "{out}"
    );
    assert_eq!(a_node.ended(&channel), "ChannelClosed");

    // B was paid without taking part; A paid the open, the registration (its signature and
    // the precompile's two) and the finalize.
    assert_eq!(b.balance(), 10 * SOL + 5 * SOL / 100);
    assert_eq!(a.balance(), 10 * SOL - 5 * SOL / 100 - 5 * FEE);
}

#[test]
fn a_third_key_watchtower_punishes_a_stale_close_while_the_party_is_offline() {
    let ledger = Ledger::start();
    let (a, b, tower) = (
        Party::new(&ledger),
        Party::new(&ledger),
        Party::new(&ledger),
    );
    let channel = a.open(&b, "2");
    b.ok(&["deposit", &channel, "--amount", "1"]);
    let tower_dir = a.home().join("towers");
    let tower_file = tower_dir.join(format!("{channel}.json"));
    let tower_arg = tower_file.to_str().expect("path");
    let pay_rounds = |rounds: usize| {
        let b_node = b.node_running(&channel, &["--listen", "127.0.0.1:0"]);
        let peer = format!(
            "{}={}",
            b.pubkey,
            b_node.listening.as_deref().expect("B listens")
        );
        let link = [
            "--peer",
            peer.as_str(),
            "--tower-dir",
            tower_dir.to_str().expect("path"),
        ];
        let a_node = a.node_running(&channel, &link);
        let mut seq = 0;
        for _ in 0..rounds {
            let paid = a.ok(&["pay", &channel, "--amount", "0.1", "--output", "json"]);
            seq = serde_json::from_str::<serde_json::Value>(&paid).expect("json")["seq"]
                .as_u64()
                .expect("seq");
        }
        // B holds the co-signed state once A's last signature arrives; A's node rewrites
        // the tower file right after the round.
        until("B's co-signed state", || {
            node_status(&b, &channel)["co_signed_seq"] == seq
        });
        until("the tower file", || {
            std::fs::read_to_string(&tower_file)
                .is_ok_and(|t| t.contains(&format!("\"seq\": {seq}")))
        });
        a_node.kill();
        b_node.kill();
    };
    pay_rounds(1);
    let stale = b.home().join("stale.redb");
    std::fs::copy(b.store(), &stale).expect("copy B's store");
    pay_rounds(3);

    // A is offline; a third key guards the channel from A's tower file. An attacker first
    // swaps in a forged file (seq 9, "signed" by keys the file itself names): the tower refuses
    // it, and takes the real state when the file holds it again.
    let real = std::fs::read_to_string(&tower_file).expect("the tower file");
    std::fs::write(&tower_file, forged_tower_file(&real, 9)).expect("forged");
    let mut watch = tower
        .command(&[
            "watch",
            &channel,
            "--tower",
            tower_arg,
            "--interval-ms",
            "100",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("watch runs");
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(
        watch.stdout.take().expect("stdout"),
    ));
    let mut warnings = std::io::BufRead::lines(std::io::BufReader::new(
        watch.stderr.take().expect("stderr"),
    ));
    support::line_starting(&mut warnings, "warning: refused the state for seq 9");
    std::fs::write(&tower_file, &real).expect("the real state again");
    // B registers seq 1 from its old store, knowing seq 4 exists.
    let registered = b.ok(&[
        "force-close",
        &channel,
        "--store",
        stale.to_str().expect("path"),
    ]);
    assert!(registered.contains("registered seq 1"), "{registered}");
    support::line_starting(&mut lines, "tower submitted a dispute");
    a.ok(&["warp", "86401"]);
    assert!(exit_within(&mut watch, Duration::from_secs(30)).success());

    // B forfeits the whole channel (3 SOL) to A; the tower paid for the dispute.
    assert_eq!(a.balance(), 10 * SOL - 2 * SOL - FEE + 3 * SOL);
    // Registering carries the precompile's two signatures: three fees.
    assert_eq!(b.balance(), 10 * SOL - SOL - FEE - 3 * FEE);
    assert!(tower.balance() < 10 * SOL);
}

/// `real` (a tower file) turned into a forgery: the same channel, `seq`, signed by a key of the
/// forger's own that the file names as both signers.
fn forged_tower_file(real: &str, seq: u64) -> String {
    use ed25519_dalek::Signer;
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let mut file: serde_json::Value = serde_json::from_str(real).expect("a tower file");
    let text = file["message"].as_str().expect("message");
    let mut message: Vec<u8> = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect();
    message[88..96].copy_from_slice(&seq.to_le_bytes()); // protocol §5: seq at byte 88
    let forger = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let signature = hex(&forger.sign(&message).to_bytes());
    let key = paychan_interface::Address::new_from_array(forger.verifying_key().to_bytes());
    file["seq"] = seq.into();
    file["message"] = hex(&message).into();
    for field in ["signer_a", "signer_b"] {
        file[field] = key.to_string().into();
    }
    for field in ["signature_a", "signature_b"] {
        file[field] = signature.clone().into();
    }
    serde_json::to_string_pretty(&file).expect("json")
}

#[test]
fn bad_input_is_refused_with_one_readable_line_and_changes_nothing() {
    let ledger = Ledger::start();
    let (a, b) = (Party::new(&ledger), Party::new(&ledger));
    assert!(a
        .fails(&["open", "--peer", "nobody", "--deposit", "1"])
        .contains("nobody is not a valid address"));
    assert!(a
        .fails(&["open", "--peer", &b.pubkey, "--deposit", "-1"])
        .contains("not a positive amount"));
    let channel = a.open(&b, "2");
    assert!(a
        .fails(&["pay", &channel, "--amount", "0.0000000001"])
        .contains("finer than a lamport"));
    assert!(a
        .fails(&["deposit", &channel, "--amount", "1e3"])
        .contains("not a positive amount"));
    assert!(a
        .fails(&["pay", &channel, "--amount", "0.1"])
        .contains("no node is running"));
    assert!(a.fails(&["close", &channel]).contains("no node is running"));
    assert!(a
        .fails(&["warp", "10", "-u", "http://127.0.0.1:1"])
        .contains("cannot warp"));

    let (a_node, b_node) = b.linked_nodes(&a, &channel, &[], &[]);
    let b_address = b_node.listening.clone().expect("B listens");
    assert!(a
        .fails(&["node", "--api", "127.0.0.1:0"])
        .contains("is in use"));
    assert!(a
        .fails(&["history", &channel])
        .contains("no payments stored"));
    let refused = a.fails(&["pay", &channel, "--amount", "5"]);
    assert!(
        refused.contains("payment refused: the balance is too small"),
        "{refused}"
    );
    assert!(a
        .fails(&[
            "pay",
            &channel,
            "--amount",
            "0.1",
            "--api",
            &a_node.api,
            "--api-token",
            "/nonexistent"
        ])
        .contains("cannot read the API token"));
    let wrong_token = a.home().join("wrong-token");
    std::fs::write(&wrong_token, "not the token").expect("write");
    assert!(a
        .fails(&[
            "pay",
            &channel,
            "--amount",
            "0.1",
            "--api",
            &a_node.api,
            "--api-token",
            wrong_token.to_str().expect("path")
        ])
        .contains("wrong token"));

    // Garbage and a wrong key on B's peer port, garbage on A's API: all refused.
    std::net::TcpStream::connect(&b_address)
        .and_then(|mut s| s.write_all(&[0x5a; 4096]))
        .expect("garbage sent");
    wrong_key_handshake(&b_address, &channel, &a.pubkey);
    let api = a_node.api.trim_start_matches("http://");
    let mut garbage = std::net::TcpStream::connect(api).expect("the API");
    garbage
        .write_all(b"POST /v1/channels/x/pay HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{{{{{")
        .expect("write");
    let mut reply = String::new();
    std::io::Read::read_to_string(&mut garbage, &mut reply).expect("reply");
    assert!(reply.starts_with("HTTP/1.1 401"), "{reply}");

    // Nothing moved: the first real payment is seq 1, and the parties are still linked.
    let paid = a.ok(&["pay", &channel, "--amount", "0.1", "--output", "json"]);
    let json: serde_json::Value = serde_json::from_str(&paid).expect("json");
    assert_eq!(
        (json["seq"].as_u64(), json["balance_b"].as_u64()),
        (Some(1), Some(SOL / 10))
    );
    assert_eq!(status(&a, &channel)["status"], "open");
}

/// Someone who is not A dials B claiming A's channel: the handshake proof fails.
fn wrong_key_handshake(address: &str, channel: &str, a: &str) {
    use paychan_node::transport::PeerLink;
    let channel: paychan_interface::Address = channel.parse().expect("channel");
    let a: paychan_interface::Address = a.parse().expect("a");
    let impostor = ed25519_dalek::SigningKey::from_bytes(&rand::random());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let result = runtime.block_on(PeerLink::connect(
        address,
        &impostor,
        &a.to_bytes(),
        channel.to_bytes(),
    ));
    assert!(result.is_err(), "B accepted an impostor");
}

/// A party that closes unilaterally while both nodes run is never punished for it: its
/// node signs nothing more, so the peer's payments after the registration are refused or
/// dropped, and the window ends with the registered balances.
#[test]
fn a_unilateral_close_with_both_nodes_running_pays_the_registered_state() {
    let ledger = Ledger::start();
    let (a, b) = (Party::new(&ledger), Party::new(&ledger));
    let channel = a.open(&b, "2");
    let (a_node, b_node) = b.linked_nodes(&a, &channel, &[], &[]);
    a.ok(&["pay", &channel, "--amount", "0.5", "--count", "2"]);
    let closed = a.ok(&["close", &channel, "--unilateral", "--output", "json"]);
    let json: serde_json::Value = serde_json::from_str(&closed).expect("json");
    assert_eq!(json["cooperative"], false);
    let registered_a = json["balance_a"].as_u64().expect("balance_a");
    assert_eq!(registered_a, SOL);

    // B keeps paying A back: every attempt fails, none is made.
    for _ in 0..3 {
        let refused = b.fails(&["pay", &channel, "--amount", "0.1", "--timeout", "30"]);
        assert!(
            refused.contains("registered on-chain") || refused.contains("were not made"),
            "{refused}"
        );
    }
    a.ok(&["warp", "86401"]);
    assert_eq!(a_node.ended(&channel), "ChannelClosed", "{}", a.node_log());
    assert_eq!(b_node.ended(&channel), "ChannelClosed");
    // A registered (its signature and the precompile's two) and paid the open; one of the
    // nodes finalized. A got its registered balance, not nothing.
    let a_balance = a.balance();
    assert!(
        a_balance >= 10 * SOL - 2 * SOL - 5 * FEE + registered_a,
        "A was punished: {a_balance}"
    );
    assert!(b.balance() <= 10 * SOL + SOL);
}

/// Each party's states are signed by a session key file (`--signer`) while its wallet pays:
/// B refuses to fund a channel that does not name its own session key, and both nodes
/// authenticate the link and sign every payment with their session keys.
#[test]
fn session_keys_sign_the_payments_and_the_wallets_are_paid() {
    let ledger = Ledger::start();
    let (a, b) = (Party::new(&ledger), Party::new(&ledger));
    let session = |party: &Party| {
        let path = party.home().join("session.json");
        let text = path.to_str().expect("path").to_string();
        let address = party.ok(&["keygen", "-o", &text]).trim().to_string();
        (text, address)
    };
    let ((a_signer, _), (b_signer, b_signer_address)) = (session(&a), session(&b));
    let opened = a.ok(&[
        "open",
        "--peer",
        &b.pubkey,
        "--peer-signer",
        &b_signer_address,
        "--deposit",
        "2",
        "--signer",
        &a_signer,
        "--output",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&opened).expect("json");
    let channel = json["channel"].as_str().expect("channel").to_string();
    assert!(b
        .fails(&["deposit", &channel, "--amount", "1"])
        .contains("state-signing key"));
    b.ok(&["deposit", &channel, "--amount", "1", "--signer", &b_signer]);

    let (a_node, b_node) = b.linked_nodes(
        &a,
        &channel,
        &["--signer", &a_signer],
        &["--signer", &b_signer],
    );
    let paid = a.ok(&["pay", &channel, "--amount", "0.25", "--count", "2"]);
    assert!(paid.contains("A 1.5 SOL, B 1.5 SOL"), "{paid}");
    let closed = a.ok(&["close", &channel, "--output", "json"]);
    let json: serde_json::Value = serde_json::from_str(&closed).expect("json");
    assert_eq!(json["cooperative"], true);
    assert_eq!(a_node.ended(&channel), "ChannelClosed");
    assert_eq!(b_node.ended(&channel), "ChannelClosed");
    // B paid one fee (its deposit): its wallet got 1.5 SOL back for its 1 SOL.
    assert_eq!(b.balance(), 10 * SOL - SOL - FEE + 3 * SOL / 2);
}

/// `paychan ledger --ledger DIR` keeps its state: killed and started again on the same port,
/// it still has every wallet and the open channel, and goes on from there.
#[test]
fn a_ledger_kept_in_a_directory_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kept = dir.path().to_str().expect("path");
    let ledger = Ledger::start_with("127.0.0.1:0", &["--ledger", kept]);
    let (a, b) = (Party::new(&ledger), Party::new(&ledger));
    let channel = a.open(&b, "2");
    let a_balance = a.balance();
    let bind = ledger.url.trim_start_matches("http://").to_string();
    drop(ledger);

    let _ledger = Ledger::start_with(&bind, &["--ledger", kept]);
    assert_eq!(a.balance(), a_balance);
    let restored = status(&a, &channel);
    assert_eq!(restored["status"], "open");
    assert_eq!(restored["deposited_a"], 2 * SOL);
    b.ok(&["deposit", &channel, "--amount", "1"]);
    assert_eq!(status(&b, &channel)["deposited_b"], SOL);
}

/// A hostile opener picks a 1-second challenge period: Bob's `deposit` and `watch` refuse the
/// channel and his node does not join it (nothing locked, nothing signed) unless told
/// explicitly that this is a local test; a node that looks at the chain too rarely for the
/// period does not join it either.
#[test]
fn a_joining_party_refuses_a_channel_whose_challenge_period_is_too_short() {
    let ledger = Ledger::start();
    let (a, b) = (Party::new(&ledger), Party::new(&ledger));
    let out = a.ok(&[
        "open",
        "--peer",
        &b.pubkey,
        "--deposit",
        "2",
        "--period",
        "1",
        "--allow-short-period",
        "--output",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    let channel = json["channel"].as_str().expect("channel").to_string();
    let before = b.balance();

    for command in [
        vec!["deposit", &channel, "--amount", "1"],
        vec!["watch", &channel],
    ] {
        let refused = b.fails(&command);
        assert!(
            refused.contains("challenge period is 1 s, below this client's minimum of 86400 s"),
            "{command:?}: {refused}"
        );
    }
    let refused =
        format!("not joining {channel}: the challenge period is 1 s, below the minimum of 86400 s");
    let node = b.node(&[]);
    until("the node's refusal", || b.node_log().contains(&refused));
    assert!(b
        .fails(&["status", &channel, "--node"])
        .contains("no channel"));
    drop(node);
    assert_eq!(b.balance(), before, "nothing locked");

    let node = b.node(&["--min-period", "1", "--interval-ms", "1000"]);
    until("the node's refusal", || {
        b.node_log()
            .contains("looking at the chain every 1000 ms is fewer than 8 times")
    });
    drop(node);
    b.ok(&["deposit", &channel, "--amount", "1", "--min-period", "1"]);
    assert!(
        b.balance() < before - SOL,
        "an explicit minimum lets Bob deposit"
    );
}

#[test]
fn a_stablecoin_channel_pays_in_tokens_and_a_node_joins_only_mints_it_accepts() {
    let ledger = Ledger::start();
    let (a, b) = (Party::new(&ledger), Party::new(&ledger));
    let got = a.ok(&["airdrop", "100", "--mint", "tUSD"]);
    assert!(got.contains("received 100 tUSD"), "{got}");
    let opened = a.ok(&[
        "open",
        "--peer",
        &b.pubkey,
        "--deposit",
        "25.5",
        "--mint",
        "tUSD",
        "--output",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&opened).expect("json");
    let channel = json["channel"].as_str().expect("channel").to_string();
    assert_eq!(json["deposit"], 25_500_000);
    let shown = status(&a, &channel);
    assert_eq!(shown["deposited_a"], 25_500_000);
    assert_eq!(shown["decimals"], 6);

    // A node that accepts no mint refuses the channel, and signs nothing for it
    let refusing = b.node(&["--listen", "127.0.0.1:0"]);
    let refusal = format!("not joining {channel}: the channel locks tokens of");
    until("the node to refuse the mint", || {
        b.node_log().contains(&refusal)
    });
    refusing.kill();

    let b_node = b.node_running(
        &channel,
        &["--listen", "127.0.0.1:0", "--accept-mint", "tUSD=10"],
    );
    let peer = format!(
        "{}={}",
        b.pubkey,
        b_node.listening.as_deref().expect("B listens")
    );
    let _a_node = a.node_running(&channel, &["--peer", &peer]);
    let paid = a.ok(&["pay", &channel, "--amount", "0.25", "--count", "40"]);
    assert!(paid.contains("A 15.5 tUSD, B 10 tUSD"), "{paid}");
    assert!(a
        .fails(&["pay", &channel, "--amount", "0.0000001"])
        .contains("at most 6 decimals"));

    let closed = a.ok(&["close", &channel]);
    assert!(
        closed.contains("A got 15.5 tUSD, B got 10 tUSD"),
        "{closed}"
    );
    let balance = |party: &Party| {
        let out = party.ok(&["balance", "--mint", "tUSD", "--output", "json"]);
        serde_json::from_str::<serde_json::Value>(&out).expect("json")["amount"].clone()
    };
    // B never held tUSD: the close created its token account
    assert_eq!(balance(&a), 90_000_000);
    assert_eq!(balance(&b), 10_000_000);
}
