//! The README's error table lists every `PaychanError` under its code, so it cannot drift.

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
