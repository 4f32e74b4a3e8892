//! The `paychan` binary as a user runs it: clear one-line errors with a non-zero exit code, and
//! a two-process bench over real 127.0.0.1 ports.

use std::process::{Command, Output};

/// Runs the binary with a HOME of its own, so no default path of the user's is touched.
fn paychan(args: &[&str]) -> Output {
    let home = tempfile::tempdir().expect("tempdir");
    Command::new(env!("CARGO_BIN_EXE_paychan"))
        .args(args)
        .env("HOME", home.path())
        .output()
        .expect("the binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn idl_prints_the_committed_codama_idl() {
    let printed = paychan(&["idl"]);
    assert!(printed.status.success(), "{}", stderr(&printed));
    let committed = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../idl/paychan.json"
    ))
    .expect("idl/paychan.json");
    assert!(
        printed.stdout == committed,
        "`paychan idl` prints idl/paychan.json"
    );
    let idl: serde_json::Value = serde_json::from_slice(&printed.stdout).expect("JSON");
    assert_eq!(
        idl["program"]["publicKey"],
        paychan_node::interface::ID.to_string()
    );
}

#[test]
fn keygen_writes_a_solana_keypair_and_refuses_to_overwrite_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("id.json");
    let file = file.to_str().expect("utf-8 path");
    let made = paychan(&["keygen", "-o", file]);
    assert!(made.status.success(), "{}", stderr(&made));
    let pubkey = String::from_utf8_lossy(&made.stdout).trim().to_string();
    let keypair = solana_keypair::read_keypair_file(file).expect("a Solana keypair file");
    assert_eq!(solana_signer::Signer::pubkey(&keypair).to_string(), pubkey);

    let again = paychan(&["keygen", "-o", file]);
    assert_eq!(again.status.code(), Some(1));
    let message = stderr(&again);
    assert_eq!(message.lines().count(), 1, "one readable line: {message}");
    assert!(
        message.starts_with("error: ") && message.contains("--force"),
        "{message}"
    );
    assert!(!message.contains("panicked"));
}

#[test]
fn bad_arguments_are_refused_without_a_panic() {
    for args in [
        &["no-such-command"][..],
        &["bench", "--rounds", "many"],
        &["pay", "CLLg1pABEENBveUk3p5TuQtfrFfLDSNB8m16dSy1ou3p"],
        &["node", "--max-channels", "lots"],
        &["keygen", "--outfile"],
    ] {
        let output = paychan(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let message = stderr(&output);
        assert!(message.starts_with("error: "), "{message}");
        assert!(!message.contains("panicked"), "{message}");
    }
}

#[test]
fn channel_commands_refuse_bad_input_and_unreachable_clusters_in_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("id.json");
    let key = key.to_str().expect("utf-8 path");
    assert!(paychan(&["keygen", "-o", key]).status.success());
    let peer = "CLLg1pABEENBveUk3p5TuQtfrFfLDSNB8m16dSy1ou3p";
    let cases: [(&[&str], &str); 5] = [
        (
            &["open", "--peer", "not-a-key", "--deposit", "1", "-k", key],
            "not a valid address",
        ),
        (
            &["open", "--peer", peer, "--deposit", "0", "-k", key],
            "not a positive amount",
        ),
        (
            &[
                "open",
                "--peer",
                peer,
                "--deposit",
                "1",
                "--period",
                "60",
                "-k",
                key,
            ],
            "--allow-short-period",
        ),
        (
            &["status", peer, "-u", "http://127.0.0.1:9"],
            "could not be reached",
        ),
        (
            &["finalize", peer, "-k", "/nonexistent/id.json"],
            "cannot read keypair",
        ),
    ];
    for (args, expected) in cases {
        let output = paychan(args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let message = stderr(&output);
        assert_eq!(message.lines().count(), 1, "{message}");
        assert!(
            message.starts_with("error: ") && message.contains(expected),
            "{args:?}: {message}"
        );
    }
}

#[test]
fn bench_runs_two_processes_over_the_encrypted_link() {
    let output = paychan(&[
        "bench",
        "--rounds",
        "20",
        "--payments",
        "2000",
        "--concurrency",
        "100",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let table = String::from_utf8_lossy(&output.stdout);
    let rows: Vec<&str> = table
        .lines()
        .filter(|l| l.starts_with("| redb") || l.starts_with("| memory"))
        .collect();
    assert_eq!(rows.len(), 4, "{table}");
    assert!(
        rows[1].contains("| 2000 |"),
        "every batched payment confirmed: {}",
        rows[1]
    );
}
