//! Durable files: what a crash or a power loss leaves is the old version or the new one.
//! The redb store, the tower file and the embedded ledger's snapshot all rely on it.
#![forbid(unsafe_code)]

use std::{io::Write, path::Path};

/// Replaces `path` with `bytes` atomically and durably: the bytes go to `<path>.partial`, are
/// fsynced, renamed over `path`, and the directory is fsynced so the rename itself survives.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let mut file = std::fs::File::create(&partial)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&partial, path)?;
    sync_parent_dir(path)
}

/// Fsyncs the directory holding `path`, so a file just created (or renamed into place)
/// survives a power loss.
pub fn sync_parent_dir(path: &Path) -> std::io::Result<()> {
    let parent = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::File::open(parent)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_replaces_the_whole_file_and_leaves_no_partial_behind() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.json");
        write_atomically(&path, b"old, and longer").expect("first");
        write_atomically(&path, b"new").expect("second");
        assert_eq!(std::fs::read(&path).expect("read"), b"new");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("state.json")]);
    }

    #[test]
    fn a_directory_that_does_not_exist_is_an_error_not_a_panic() {
        let path = Path::new("/nonexistent-paychan-dir/state.json");
        assert!(write_atomically(path, b"x").is_err());
    }
}
