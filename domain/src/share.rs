//! Sharing by handle (ORG-3, SECURITY 16): a person lets another read one of their
//! documents, or a whole folder with everything below it. One aggregate per owner (id: the
//! owner's id) holds every share they granted, so a revocation is decided against the
//! same record every read is checked against, and counts from the very next request.
//!
//! A share only ever reads: there is no other permission to raise, and only the owner of
//! what is shared can share it, so a grantee can never pass it on.

use crate::{Aggregate, DomainEvent, SnapshotPolicy};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use thiserror::Error;
use uuid::Uuid;

/// How many shares one person may have granted at once.
pub const MAX_SHARES: usize = 10_000;

/// What a share opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum ShareTarget {
    Document(Uuid),
    /// The folder, the folders below it and every document in them, as they are at each
    /// request.
    Folder(Uuid),
}

/// What a grantee may do: read (list, preview, download). Nothing else exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    Read,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ShareCommand {
    Grant {
        owner: Uuid,
        share_id: Uuid,
        target: ShareTarget,
        /// Who owns the target, as the command layer found it: only its owner may share.
        target_owner: Uuid,
        grantee: Uuid,
        at: DateTime<Utc>,
    },
    Revoke {
        share_id: Uuid,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShareGranted {
    pub share_id: Uuid,
    pub owner: Uuid,
    pub target: ShareTarget,
    pub grantee: Uuid,
    pub permission: Permission,
    pub granted_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShareRevoked {
    pub share_id: Uuid,
    pub owner: Uuid,
    pub target: ShareTarget,
    pub grantee: Uuid,
    pub revoked_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ShareEvent {
    ShareGranted(ShareGranted),
    ShareRevoked(ShareRevoked),
}

impl DomainEvent for ShareEvent {
    fn event_type(&self) -> &'static str {
        match self {
            ShareEvent::ShareGranted(_) => "ShareGranted",
            ShareEvent::ShareRevoked(_) => "ShareRevoked",
        }
    }

    fn event_version(&self) -> &'static str {
        "1.0"
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ShareError {
    /// No such share, or the target is not the sharer's: one answer (DOC-7).
    #[error("no such share")]
    NotFound,
    #[error("the share exists already")]
    AlreadyExists,
    /// The owner is not someone to share with.
    #[error("this person cannot receive shares")]
    CannotReceive,
    #[error("A person may have at most {max} shares at once.")]
    TooMany { max: usize },
}

/// One share as the book keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub target: ShareTarget,
    pub grantee: Uuid,
}

/// Every live share one person granted.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShareBook {
    owner: Option<Uuid>,
    grants: BTreeMap<Uuid, Grant>,
}

impl ShareBook {
    /// The live share of `target` with `grantee`, if there is one.
    pub fn share_of(&self, target: ShareTarget, grantee: Uuid) -> Option<Uuid> {
        self.grants
            .iter()
            .find(|(_, grant)| grant.target == target && grant.grantee == grantee)
            .map(|(id, _)| *id)
    }

    pub fn grant(&self, share_id: Uuid) -> Option<Grant> {
        self.grants.get(&share_id).copied()
    }

    /// Whether `reader` may read document `document_id`, which sits in the folders
    /// `folder_path` (its folder first, then each parent up to the top; empty at the top).
    pub fn lets_read(&self, reader: Uuid, document_id: Uuid, folder_path: &[Uuid]) -> bool {
        self.grants.values().any(|grant| {
            grant.grantee == reader
                && match grant.target {
                    ShareTarget::Document(id) => id == document_id,
                    ShareTarget::Folder(id) => folder_path.contains(&id),
                }
        })
    }

    /// Whether `reader` may read folder `folder_id` (with `folder_path` its parents, up to
    /// the top): shared itself or inside a shared folder.
    pub fn lets_browse(&self, reader: Uuid, folder_id: Uuid, folder_path: &[Uuid]) -> bool {
        self.grants.values().any(|grant| {
            grant.grantee == reader
                && matches!(grant.target,
                    ShareTarget::Folder(id) if id == folder_id || folder_path.contains(&id))
        })
    }
}

impl Aggregate for ShareBook {
    const TYPE: &'static str = "shares";
    type Command = ShareCommand;
    type Event = ShareEvent;
    type Error = ShareError;
    type Services = ();
    const SNAPSHOTS: Option<SnapshotPolicy> = Some(SnapshotPolicy {
        every: 100,
        shape: 1,
    });

    fn handle(&self, command: ShareCommand, _: &()) -> Result<Vec<ShareEvent>, ShareError> {
        match command {
            ShareCommand::Grant {
                owner,
                share_id,
                target,
                target_owner,
                grantee,
                at,
            } => {
                if target_owner != owner || self.owner.is_some_and(|known| known != owner) {
                    return Err(ShareError::NotFound);
                }
                if grantee == owner {
                    return Err(ShareError::CannotReceive);
                }
                if self.grants.contains_key(&share_id) {
                    return Err(ShareError::AlreadyExists);
                }
                if self.share_of(target, grantee).is_some() {
                    return Ok(Vec::new());
                }
                if self.grants.len() >= MAX_SHARES {
                    return Err(ShareError::TooMany { max: MAX_SHARES });
                }
                Ok(vec![ShareEvent::ShareGranted(ShareGranted {
                    share_id,
                    owner,
                    target,
                    grantee,
                    permission: Permission::Read,
                    granted_at: at,
                })])
            }
            ShareCommand::Revoke { share_id, at } => {
                let (Some(owner), Some(grant)) = (self.owner, self.grant(share_id)) else {
                    return Err(ShareError::NotFound);
                };
                Ok(vec![ShareEvent::ShareRevoked(ShareRevoked {
                    share_id,
                    owner,
                    target: grant.target,
                    grantee: grant.grantee,
                    revoked_at: at,
                })])
            }
        }
    }

    fn apply(&mut self, event: ShareEvent) {
        match event {
            ShareEvent::ShareGranted(granted) => {
                self.owner = Some(granted.owner);
                self.grants.insert(
                    granted.share_id,
                    Grant {
                        target: granted.target,
                        grantee: granted.grantee,
                    },
                );
            }
            ShareEvent::ShareRevoked(revoked) => {
                self.grants.remove(&revoked.share_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::AggregateTest;
    use chrono::TimeZone;

    const OWNER: Uuid = Uuid::from_u128(1);
    const FRIEND: Uuid = Uuid::from_u128(2);
    const THIRD: Uuid = Uuid::from_u128(3);
    const DOC: Uuid = Uuid::from_u128(10);
    const FOLDER: Uuid = Uuid::from_u128(20);

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
    }

    fn share(n: u128) -> Uuid {
        Uuid::from_u128(100 + n)
    }

    fn grant(n: u128, target: ShareTarget, grantee: Uuid) -> ShareCommand {
        ShareCommand::Grant {
            owner: OWNER,
            share_id: share(n),
            target,
            target_owner: OWNER,
            grantee,
            at: at(),
        }
    }

    fn granted(n: u128, target: ShareTarget, grantee: Uuid) -> ShareEvent {
        ShareEvent::ShareGranted(ShareGranted {
            share_id: share(n),
            owner: OWNER,
            target,
            grantee,
            permission: Permission::Read,
            granted_at: at(),
        })
    }

    #[test]
    fn an_owner_shares_a_document_for_reading_once_per_grantee() {
        let doc = ShareTarget::Document(DOC);
        AggregateTest::<ShareBook>::with(())
            .given_no_previous_events()
            .when(grant(1, doc, FRIEND))
            .then_expect_events(vec![granted(1, doc, FRIEND)]);
        // Sharing it again with the same person changes nothing; with another, it is a
        // share of its own.
        AggregateTest::<ShareBook>::with(())
            .given(vec![granted(1, doc, FRIEND)])
            .when(grant(2, doc, FRIEND))
            .then_expect_events(vec![]);
        AggregateTest::<ShareBook>::with(())
            .given(vec![granted(1, doc, FRIEND)])
            .when(grant(2, doc, THIRD))
            .then_expect_events(vec![granted(2, doc, THIRD)]);
    }

    #[test]
    fn only_the_owner_of_what_is_shared_can_share_it() {
        // A grantee passing on what was shared with them: the target is not theirs.
        AggregateTest::<ShareBook>::with(())
            .given_no_previous_events()
            .when(ShareCommand::Grant {
                owner: FRIEND,
                share_id: share(1),
                target: ShareTarget::Document(DOC),
                target_owner: OWNER,
                grantee: THIRD,
                at: at(),
            })
            .then_expect_error(ShareError::NotFound);
        // Another person's book is not theirs to write in either.
        AggregateTest::<ShareBook>::with(())
            .given(vec![granted(1, ShareTarget::Document(DOC), FRIEND)])
            .when(ShareCommand::Grant {
                owner: FRIEND,
                share_id: share(2),
                target: ShareTarget::Folder(FOLDER),
                target_owner: FRIEND,
                grantee: THIRD,
                at: at(),
            })
            .then_expect_error(ShareError::NotFound);
        AggregateTest::<ShareBook>::with(())
            .given_no_previous_events()
            .when(grant(1, ShareTarget::Document(DOC), OWNER))
            .then_expect_error(ShareError::CannotReceive);
    }

    #[test]
    fn a_revoked_share_reads_nothing_and_cannot_be_revoked_twice() {
        let doc = ShareTarget::Document(DOC);
        let revoked = ShareEvent::ShareRevoked(ShareRevoked {
            share_id: share(1),
            owner: OWNER,
            target: doc,
            grantee: FRIEND,
            revoked_at: at(),
        });
        AggregateTest::<ShareBook>::with(())
            .given(vec![granted(1, doc, FRIEND)])
            .when(ShareCommand::Revoke {
                share_id: share(1),
                at: at(),
            })
            .then_expect_events(vec![revoked.clone()]);
        AggregateTest::<ShareBook>::with(())
            .given(vec![granted(1, doc, FRIEND), revoked.clone()])
            .when(ShareCommand::Revoke {
                share_id: share(1),
                at: at(),
            })
            .then_expect_error(ShareError::NotFound);
        let mut book = ShareBook::default();
        book.apply(granted(1, doc, FRIEND));
        assert!(book.lets_read(FRIEND, DOC, &[]));
        book.apply(revoked);
        assert!(!book.lets_read(FRIEND, DOC, &[]));
        // After a revocation the same document can be shared again.
        AggregateTest::<ShareBook>::with(())
            .given(vec![granted(1, doc, FRIEND)])
            .when(grant(2, doc, FRIEND))
            .then_expect_events(vec![]);
    }

    #[test]
    fn a_folder_share_reads_everything_below_it_and_nothing_beside_it() {
        let mut book = ShareBook::default();
        book.apply(granted(1, ShareTarget::Folder(FOLDER), FRIEND));
        let below = Uuid::from_u128(21);
        let beside = Uuid::from_u128(30);
        assert!(book.lets_read(FRIEND, DOC, &[FOLDER]));
        assert!(book.lets_read(FRIEND, DOC, &[below, FOLDER]));
        assert!(!book.lets_read(FRIEND, DOC, &[beside]));
        assert!(!book.lets_read(FRIEND, DOC, &[]));
        assert!(!book.lets_read(THIRD, DOC, &[FOLDER]));
        assert!(book.lets_browse(FRIEND, FOLDER, &[]));
        assert!(book.lets_browse(FRIEND, below, &[FOLDER]));
        assert!(!book.lets_browse(FRIEND, beside, &[]));
        // A document share opens the document, not the folder it is in.
        let mut book = ShareBook::default();
        book.apply(granted(1, ShareTarget::Document(DOC), FRIEND));
        assert!(book.lets_read(FRIEND, DOC, &[FOLDER]));
        assert!(!book.lets_read(FRIEND, Uuid::from_u128(11), &[FOLDER]));
        assert!(!book.lets_browse(FRIEND, FOLDER, &[]));
    }

    #[test]
    fn a_person_has_a_bounded_number_of_shares() {
        let full: Vec<ShareEvent> = (0..MAX_SHARES as u128)
            .map(|n| granted(n, ShareTarget::Document(Uuid::from_u128(1000 + n)), FRIEND))
            .collect();
        AggregateTest::<ShareBook>::with(())
            .given(full)
            .when(grant(
                MAX_SHARES as u128 + 1,
                ShareTarget::Document(DOC),
                FRIEND,
            ))
            .then_expect_error(ShareError::TooMany { max: MAX_SHARES });
    }
}
