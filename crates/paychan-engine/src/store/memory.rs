//! An in-memory [`ChannelStore`] for tests: the same semantics as the disk store, no durability.

use std::collections::BTreeMap;

use paychan_interface::Address;

use super::{latest::Latest, ChannelStore, StoreError};
use crate::engine::{ChannelParams, LogEntry, Record, Recovered};

#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    channels: BTreeMap<[u8; 32], Channel>,
}

#[derive(Clone, Debug)]
struct Channel {
    params: ChannelParams,
    latest: Latest,
    log: BTreeMap<u64, LogEntry>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn channel(&self, channel: &Address) -> Result<&Channel, StoreError> {
        self.channels
            .get(&channel.to_bytes())
            .ok_or(StoreError::UnknownChannel(*channel))
    }
}

impl ChannelStore for MemoryStore {
    async fn create_channel(&mut self, params: &ChannelParams) -> Result<(), StoreError> {
        let key = params.binding.channel;
        match self.channels.get(&key.to_bytes()) {
            Some(existing) if existing.params == *params => Ok(()),
            Some(_) => Err(StoreError::ParamsMismatch(key)),
            None => {
                let channel = Channel {
                    params: *params,
                    latest: Latest::default(),
                    log: BTreeMap::new(),
                };
                self.channels.insert(key.to_bytes(), channel);
                Ok(())
            }
        }
    }

    async fn persist(&mut self, channel: &Address, records: &[Record]) -> Result<(), StoreError> {
        let stored = self
            .channels
            .get_mut(&channel.to_bytes())
            .ok_or(StoreError::UnknownChannel(*channel))?;
        // Check first, then apply: the batch is all-or-nothing.
        let mut batch = std::collections::BTreeMap::new();
        for record in records {
            if let Record::FullySigned(entry) = record {
                let seq = entry.state.seq;
                let known = batch.get(&seq).copied().or_else(|| stored.log.get(&seq));
                if known.is_some_and(|known| known != entry) {
                    return Err(StoreError::Conflict(seq));
                }
                batch.insert(seq, entry);
            }
        }
        for record in records {
            stored.latest.apply(stored.params.me, record);
            if let Record::FullySigned(entry) = record {
                stored.log.insert(entry.state.seq, entry.clone());
            }
        }
        Ok(())
    }

    async fn recover(
        &self,
        channel: &Address,
    ) -> Result<Option<(ChannelParams, Recovered)>, StoreError> {
        let Some(stored) = self.channels.get(&channel.to_bytes()) else {
            return Ok(None);
        };
        let newest = match stored.latest.newest_seq {
            Some(seq) => Some(stored.log.get(&seq).cloned().ok_or_else(|| {
                StoreError::Corrupt(format!("newest entry {seq} missing from the log"))
            })?),
            None => None,
        };
        Ok(Some((
            stored.params,
            stored.latest.clone().into_recovered(newest),
        )))
    }

    async fn log(
        &self,
        channel: &Address,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<LogEntry>, StoreError> {
        Ok(self
            .channel(channel)?
            .log
            .range(from_seq..)
            .take(limit)
            .map(|(_, entry)| entry.clone())
            .collect())
    }

    async fn channels(&self) -> Result<Vec<Address>, StoreError> {
        Ok(self
            .channels
            .keys()
            .map(|key| Address::new_from_array(*key))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::MemoryStore;
    use crate::store::conformance;

    #[test]
    fn conformance() {
        crate::store::block_on(conformance::run_all(MemoryStore::new, |store| store));
    }
}
