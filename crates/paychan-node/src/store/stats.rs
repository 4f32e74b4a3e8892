//! How a store's committer has grouped writes: what the benchmark reports as writes per
//! fsync. Both disk stores keep one, shared by every handle.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct CommitStats {
    commits: AtomicU64,
    writes: AtomicU64,
}

impl CommitStats {
    /// Write transactions committed (each one fsync).
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Writes (`create_channel`, `persist`, `claim` calls) made durable by those commits.
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    /// One commit of `writes` writes.
    pub(super) fn committed(&self, writes: usize) {
        self.commits.fetch_add(1, Ordering::Relaxed);
        self.writes.fetch_add(writes as u64, Ordering::Relaxed);
    }
}
