//! What the README documents byte by byte is what the code does: every error code, the
//! instruction data example, the Ed25519 offsets, and the TypeScript quick start is the example
//! file `scripts/test.sh` runs.

use paychan_interface::error::PaychanError;

#[test]
fn the_readme_lists_every_error_code() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let mut listed = std::collections::BTreeMap::new();
    for line in readme.lines().filter(|l| l.starts_with("| ")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        for pair in cells.windows(2) {
            if let (Ok(code), name) = (pair[0].parse::<u32>(), pair[1]) {
                if name.chars().next().is_some_and(char::is_uppercase) && !name.contains(' ') {
                    listed.insert(code, name.to_string());
                }
            }
        }
    }
    for error in PaychanError::ALL {
        assert_eq!(
            listed.get(&error.code()).map(String::as_str),
            Some(format!("{error:?}").as_str()),
            "README error table, code {}",
            error.code()
        );
    }
    assert_eq!(listed.len(), PaychanError::ALL.len(), "no extra codes");
}

#[test]
fn the_readme_open_example_is_what_the_builder_encodes() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let encoded = paychan_interface::instruction::PaychanInstruction::Open {
        nonce: 7,
        deposit: 1_000_000_000,
        challenge_period_secs: 86_400,
        signer_a: paychan_interface::Address::new_from_array([0x11; 32]),
        signer_b: paychan_interface::Address::new_from_array([0x22; 32]),
        bump: 254,
        token: None,
    }
    .pack();
    let hex: String = encoded.iter().map(|b| format!("{b:02x}")).collect();
    let shown = format!(
        "    {} {} {} {}\n    {}\n    {}\n    {}\n",
        &hex[..2],
        &hex[2..18],
        &hex[18..34],
        &hex[34..50],
        &hex[50..114],
        &hex[114..178],
        &hex[178..]
    );
    assert!(readme.contains(&shown), "README should show `{shown}`");
    assert_eq!(paychan_interface::ed25519::ED25519_DATA_LEN, 382);
    assert_eq!(
        paychan_interface::ed25519::CANONICAL_OFFSETS,
        [
            [30, 65535, 94, 65535, 222, 160, 65535],
            [126, 65535, 190, 65535, 222, 160, 65535]
        ]
    );
}

#[test]
fn the_readme_typescript_quick_start_is_the_example_file() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).expect("README.md");
    let example = std::fs::read_to_string(format!("{root}/ts/examples/quickstart.ts"))
        .expect("ts/examples/quickstart.ts");
    assert!(
        readme.contains(&format!("```ts\n{example}```")),
        "README's TypeScript quick start must be ts/examples/quickstart.ts, verbatim"
    );
}
