//! A person's storage: the one aggregate (id: the user's id) that owns the sizes of their
//! confirmed documents, so a quota is decided by a single consistency boundary and N
//! concurrent confirms can never push usage past it (DOC-4, SECURITY 18). Its state is
//! only ids and sizes.

use crate::{Aggregate, DomainEvent, SnapshotPolicy};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use thiserror::Error;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub enum StorageCommand {
    /// Counts a confirmed document's bytes, if they fit in `quota`. Admitting a document
    /// that is already counted with the same size changes nothing (a repeated confirm).
    Admit {
        document_id: Uuid,
        size: u64,
        quota: u64,
        at: DateTime<Utc>,
    },
    /// Frees a deleted document's bytes; nothing happens for one not counted.
    Release {
        document_id: Uuid,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StorageAdmitted {
    pub document_id: Uuid,
    pub size: u64,
    pub used_after: u64,
    pub admitted_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StorageReleased {
    pub document_id: Uuid,
    pub size: u64,
    pub used_after: u64,
    pub released_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StorageEvent {
    StorageAdmitted(StorageAdmitted),
    StorageReleased(StorageReleased),
}

impl DomainEvent for StorageEvent {
    fn event_type(&self) -> &'static str {
        match self {
            StorageEvent::StorageAdmitted(_) => "StorageAdmitted",
            StorageEvent::StorageReleased(_) => "StorageReleased",
        }
    }

    fn event_version(&self) -> &'static str {
        "1.0"
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StorageError {
    #[error("{size} more bytes do not fit: {used} of {quota} are used")]
    QuotaExceeded { used: u64, size: u64, quota: u64 },
    #[error("this document is counted already with another size")]
    SizeMismatch,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Storage {
    used: u64,
    sizes: BTreeMap<Uuid, u64>,
}

impl Storage {
    pub fn used(&self) -> u64 {
        self.used
    }

    /// Whether a document's bytes are counted.
    pub fn counts(&self, document_id: Uuid) -> bool {
        self.sizes.contains_key(&document_id)
    }
}

impl Aggregate for Storage {
    const TYPE: &'static str = "storage";
    type Command = StorageCommand;
    type Event = StorageEvent;
    type Error = StorageError;
    type Services = ();
    /// A person's storage gains an event per upload and per deletion for as long as the
    /// account lives; folding them all made a confirm cost ~11 µs per past event.
    const SNAPSHOTS: Option<SnapshotPolicy> = Some(SnapshotPolicy {
        every: 100,
        shape: 1,
    });

    fn handle(&self, command: StorageCommand, _: &()) -> Result<Vec<StorageEvent>, StorageError> {
        match command {
            StorageCommand::Admit {
                document_id,
                size,
                quota,
                at,
            } => {
                if let Some(counted) = self.sizes.get(&document_id) {
                    return if *counted == size {
                        Ok(Vec::new())
                    } else {
                        Err(StorageError::SizeMismatch)
                    };
                }
                let used_after = self.used.saturating_add(size);
                if used_after > quota {
                    return Err(StorageError::QuotaExceeded {
                        used: self.used,
                        size,
                        quota,
                    });
                }
                Ok(vec![StorageEvent::StorageAdmitted(StorageAdmitted {
                    document_id,
                    size,
                    used_after,
                    admitted_at: at,
                })])
            }
            StorageCommand::Release { document_id, at } => {
                let Some(size) = self.sizes.get(&document_id).copied() else {
                    return Ok(Vec::new());
                };
                Ok(vec![StorageEvent::StorageReleased(StorageReleased {
                    document_id,
                    size,
                    used_after: self.used.saturating_sub(size),
                    released_at: at,
                })])
            }
        }
    }

    fn apply(&mut self, event: StorageEvent) {
        match event {
            StorageEvent::StorageAdmitted(admitted) => {
                self.sizes.insert(admitted.document_id, admitted.size);
                self.used = self.used.saturating_add(admitted.size);
            }
            StorageEvent::StorageReleased(released) => {
                if self.sizes.remove(&released.document_id).is_some() {
                    self.used = self.used.saturating_sub(released.size);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::AggregateTest;
    use chrono::TimeZone;

    const MB: u64 = 1_000_000;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
    }

    fn admitted(n: u128, size: u64, used_after: u64) -> StorageEvent {
        StorageEvent::StorageAdmitted(StorageAdmitted {
            document_id: Uuid::from_u128(n),
            size,
            used_after,
            admitted_at: at(),
        })
    }

    fn admit(n: u128, size: u64) -> StorageCommand {
        StorageCommand::Admit {
            document_id: Uuid::from_u128(n),
            size,
            quota: 100 * MB,
            at: at(),
        }
    }

    #[test]
    fn a_document_that_fits_is_counted() {
        AggregateTest::<Storage>::with(())
            .given(vec![admitted(1, 90 * MB, 90 * MB)])
            .when(admit(2, 5 * MB))
            .then_expect_events(vec![admitted(2, 5 * MB, 95 * MB)]);
    }

    #[test]
    fn exactly_the_quota_fits_and_one_byte_more_does_not() {
        AggregateTest::<Storage>::with(())
            .given(vec![admitted(1, 95 * MB, 95 * MB)])
            .when(admit(2, 5 * MB))
            .then_expect_events(vec![admitted(2, 5 * MB, 100 * MB)]);
        AggregateTest::<Storage>::with(())
            .given(vec![admitted(1, 95 * MB, 95 * MB)])
            .when(admit(2, 5 * MB + 1))
            .then_expect_error(StorageError::QuotaExceeded {
                used: 95 * MB,
                size: 5 * MB + 1,
                quota: 100 * MB,
            });
    }

    #[test]
    fn a_repeated_admission_changes_nothing() {
        AggregateTest::<Storage>::with(())
            .given(vec![admitted(1, 5 * MB, 5 * MB)])
            .when(admit(1, 5 * MB))
            .then_expect_events(vec![]);
        AggregateTest::<Storage>::with(())
            .given(vec![admitted(1, 5 * MB, 5 * MB)])
            .when(admit(1, 6 * MB))
            .then_expect_error(StorageError::SizeMismatch);
    }

    #[test]
    fn releasing_frees_the_bytes_once() {
        let released = StorageEvent::StorageReleased(StorageReleased {
            document_id: Uuid::from_u128(1),
            size: 5 * MB,
            used_after: 0,
            released_at: at(),
        });
        let release = StorageCommand::Release {
            document_id: Uuid::from_u128(1),
            at: at(),
        };
        AggregateTest::<Storage>::with(())
            .given(vec![admitted(1, 5 * MB, 5 * MB)])
            .when(release.clone())
            .then_expect_events(vec![released.clone()]);
        AggregateTest::<Storage>::with(())
            .given(vec![admitted(1, 5 * MB, 5 * MB), released])
            .when(release)
            .then_expect_events(vec![]);
    }

    #[test]
    fn usage_follows_the_events() {
        let mut storage = Storage::default();
        storage.apply(admitted(1, 3 * MB, 3 * MB));
        storage.apply(admitted(2, 4 * MB, 7 * MB));
        assert_eq!(storage.used(), 7 * MB);
    }
}
