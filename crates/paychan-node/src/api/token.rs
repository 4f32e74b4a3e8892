//! The API's secret: a random token in a file only its owner can read. Whoever can read it
//! can spend from every channel of the node, so a file others can read is refused.

use std::{io::Write, os::unix::fs::PermissionsExt, path::Path};

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("cannot read the API token {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write the API token {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "the API token {path} is readable by others (mode {mode:o}): anyone who reads it can \
         spend; run `chmod 600 {path}`"
    )]
    Exposed { path: String, mode: u32 },
    #[error("the API token {0} is empty")]
    Empty(String),
}

/// Reads the token at `path`, creating one (mode 0600) if there is none.
pub fn load_or_create(path: &Path) -> Result<String, TokenError> {
    let shown = path.display().to_string();
    match std::fs::metadata(path) {
        Ok(metadata) => {
            let mode = metadata.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(TokenError::Exposed { path: shown, mode });
            }
            let token = std::fs::read_to_string(path).map_err(|source| TokenError::Read {
                path: shown.clone(),
                source,
            })?;
            let token = token.trim().to_string();
            if token.is_empty() {
                return Err(TokenError::Empty(shown));
            }
            Ok(token)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let bytes: [u8; 32] = rand::random();
            let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let write = |source| TokenError::Write {
                path: shown.clone(),
                source,
            };
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(write)?;
            file.write_all(token.as_bytes()).map_err(write)?;
            file.sync_all().map_err(write)?;
            Ok(token)
        }
        Err(source) => Err(TokenError::Read {
            path: shown,
            source,
        }),
    }
}

/// Compares in time independent of where the strings differ.
pub fn matches(given: &str, token: &str) -> bool {
    let (given, token) = (given.as_bytes(), token.as_bytes());
    given.len() == token.len() && given.iter().zip(token).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0
}

use std::os::unix::fs::OpenOptionsExt;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_owner_only_then_read_back() {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let path = dir.path().join("token");
        let token = load_or_create(&path).expect("created");
        assert_eq!(token.len(), 64);
        let mode = std::fs::metadata(&path).expect("file").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(load_or_create(&path).expect("read"), token);
    }

    #[test]
    fn a_token_others_can_read_is_refused() {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let path = dir.path().join("token");
        std::fs::write(&path, "secret").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        assert!(matches!(
            load_or_create(&path),
            Err(TokenError::Exposed { mode: 0o644, .. })
        ));
    }

    #[test]
    fn only_the_exact_token_matches() {
        assert!(matches("abc", "abc"));
        assert!(!matches("abd", "abc"));
        assert!(!matches("ab", "abc"));
        assert!(!matches("", "abc"));
    }
}
