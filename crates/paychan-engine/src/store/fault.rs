//! A store wrapper that "crashes" at a chosen `persist` call, for crash-recovery tests.
//!
//! Run a scenario once through [`FaultyStore::new`] to learn how many persistence points it has
//! ([`FaultyStore::persist_calls`]), then once per point and [`FaultPoint`] with
//! [`FaultyStore::failing_at`], restart from [`FaultyStore::into_inner`], and check recovery.

use paychan_interface::Address;

use super::{ChannelStore, StoreError};
use crate::engine::{ChannelParams, LogEntry, Record, Recovered};

/// Where, relative to the write, the injected crash happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultPoint {
    /// Nothing of the failing call is applied.
    BeforeWrite,
    /// The failing call is applied durably, then the process dies before it learns so.
    AfterWrite,
}

#[derive(Debug)]
pub struct FaultyStore<S> {
    inner: S,
    fault: Option<(u64, FaultPoint)>,
    persist_calls: u64,
    dead: bool,
}

impl<S: ChannelStore> FaultyStore<S> {
    /// A transparent wrapper that only counts `persist` calls.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            fault: None,
            persist_calls: 0,
            dead: false,
        }
    }

    /// Fails the `call`-th `persist` (counting from 1) at `point`; from then on every call
    /// fails with [`StoreError::Injected`], as the process is dead.
    pub fn failing_at(inner: S, call: u64, point: FaultPoint) -> Self {
        Self {
            fault: Some((call, point)),
            ..Self::new(inner)
        }
    }

    /// `persist` calls that reached the store: up to and including the failing one.
    pub fn persist_calls(&self) -> u64 {
        self.persist_calls
    }

    /// Whether the injected crash has happened.
    pub fn is_dead(&self) -> bool {
        self.dead
    }

    /// The wrapped store, as a restarted process would find it.
    pub fn into_inner(self) -> S {
        self.inner
    }

    fn alive(&self) -> Result<(), StoreError> {
        if self.dead {
            Err(StoreError::Injected)
        } else {
            Ok(())
        }
    }
}

impl<S: ChannelStore> ChannelStore for FaultyStore<S> {
    async fn create_channel(&mut self, params: &ChannelParams) -> Result<(), StoreError> {
        self.alive()?;
        self.inner.create_channel(params).await
    }

    async fn persist(&mut self, channel: &Address, records: &[Record]) -> Result<(), StoreError> {
        self.alive()?;
        self.persist_calls = self.persist_calls.saturating_add(1);
        match self.fault {
            Some((call, point)) if call == self.persist_calls => {
                self.dead = true;
                if point == FaultPoint::AfterWrite {
                    self.inner.persist(channel, records).await?;
                }
                Err(StoreError::Injected)
            }
            _ => self.inner.persist(channel, records).await,
        }
    }

    async fn recover(
        &self,
        channel: &Address,
    ) -> Result<Option<(ChannelParams, Recovered)>, StoreError> {
        self.alive()?;
        self.inner.recover(channel).await
    }

    async fn log(
        &self,
        channel: &Address,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<LogEntry>, StoreError> {
        self.alive()?;
        self.inner.log(channel, from_seq, limit).await
    }

    async fn channels(&self) -> Result<Vec<Address>, StoreError> {
        self.alive()?;
        self.inner.channels().await
    }
}

#[cfg(test)]
mod tests;
