//! A person's folders (ORG-1): one aggregate per person (id: the user's id) that holds the
//! whole tree, so a move is checked against the tree as it is and two concurrent moves can
//! never make a cycle together. Names are sealed under the owner's data key; documents
//! say which folder they are in themselves (`DocumentFiled`).

use crate::{Aggregate, DomainEvent, Sealed, SnapshotPolicy};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use thiserror::Error;
use uuid::Uuid;

/// The field name a folder's name is sealed under (with the owner's data key).
pub const FOLDER_NAME_FIELD: &str = "folder_name";

/// What happens to what a folder holds when it is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FolderContents {
    /// Only an empty folder may go.
    Refuse,
    /// Its folders and documents move to its parent.
    MoveUp,
    /// Its folders, their folders and every document in them go with it.
    Delete,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FolderCommand {
    Create {
        owner: Uuid,
        folder_id: Uuid,
        /// `None`: at the top.
        parent: Option<Uuid>,
        name: Sealed,
        at: DateTime<Utc>,
    },
    Rename {
        folder_id: Uuid,
        name: Sealed,
        at: DateTime<Utc>,
    },
    Move {
        folder_id: Uuid,
        parent: Option<Uuid>,
        at: DateTime<Utc>,
    },
    Delete {
        folder_id: Uuid,
        contents: FolderContents,
        /// Whether any document is filed in the folder (the documents know, the tree
        /// does not).
        holds_documents: bool,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FolderCreated {
    pub folder_id: Uuid,
    pub owner: Uuid,
    pub parent: Option<Uuid>,
    pub name: Sealed,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FolderRenamed {
    pub folder_id: Uuid,
    pub owner: Uuid,
    pub name: Sealed,
    pub renamed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FolderMoved {
    pub folder_id: Uuid,
    pub owner: Uuid,
    pub from: Option<Uuid>,
    pub to: Option<Uuid>,
    pub moved_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FolderDeleted {
    pub folder_id: Uuid,
    pub owner: Uuid,
    /// Where its documents go: its parent when its contents moved up; deleted with it
    /// otherwise (`contents`).
    pub parent: Option<Uuid>,
    pub contents: FolderContents,
    pub deleted_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FolderEvent {
    FolderCreated(FolderCreated),
    FolderRenamed(FolderRenamed),
    FolderMoved(FolderMoved),
    FolderDeleted(FolderDeleted),
}

impl DomainEvent for FolderEvent {
    fn event_type(&self) -> &'static str {
        match self {
            FolderEvent::FolderCreated(_) => "FolderCreated",
            FolderEvent::FolderRenamed(_) => "FolderRenamed",
            FolderEvent::FolderMoved(_) => "FolderMoved",
            FolderEvent::FolderDeleted(_) => "FolderDeleted",
        }
    }

    fn event_version(&self) -> &'static str {
        "1.0"
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FolderError {
    /// No such folder, or not the caller's: the same answer (DOC-7).
    #[error("no such folder")]
    NotFound,
    #[error("the folder exists already")]
    AlreadyExists,
    #[error("a folder cannot move into itself or into a folder inside it")]
    IntoItself,
    #[error("the folder is not empty: move its contents up or delete them with it")]
    NotEmpty,
}

/// Every folder of one person and where it sits.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct FolderTree {
    owner: Option<Uuid>,
    /// Each folder's parent (`None`: at the top).
    parents: BTreeMap<Uuid, Option<Uuid>>,
}

impl FolderTree {
    pub fn contains(&self, folder_id: Uuid) -> bool {
        self.parents.contains_key(&folder_id)
    }

    pub fn parent_of(&self, folder_id: Uuid) -> Option<Uuid> {
        self.parents.get(&folder_id).copied().flatten()
    }

    /// `folder_id` and each folder above it, up to the top (empty for an unknown one).
    pub fn path_of(&self, folder_id: Uuid) -> Vec<Uuid> {
        let mut path = Vec::new();
        let mut current = self.contains(folder_id).then_some(folder_id);
        // The tree has no cycles; the bound keeps this finite regardless.
        while let Some(id) = current.filter(|_| path.len() <= self.parents.len()) {
            path.push(id);
            current = self.parent_of(id);
        }
        path
    }

    fn children_of(&self, folder_id: Uuid) -> impl Iterator<Item = Uuid> + '_ {
        self.parents
            .iter()
            .filter(move |(_, parent)| **parent == Some(folder_id))
            .map(|(child, _)| *child)
    }

    /// `folder_id` and every folder below it, deepest first.
    fn subtree(&self, folder_id: Uuid) -> Vec<Uuid> {
        let mut order = vec![folder_id];
        let mut next = 0;
        while next < order.len() {
            let children: Vec<Uuid> = self.children_of(order[next]).collect();
            order.extend(children);
            next += 1;
        }
        order.reverse();
        order
    }

    /// Whether `folder_id` is `ancestor` or lies below it.
    fn is_within(&self, folder_id: Uuid, ancestor: Uuid) -> bool {
        let mut current = Some(folder_id);
        // The tree has no cycles, so this ends; the bound keeps it so regardless.
        for _ in 0..=self.parents.len() {
            match current {
                Some(id) if id == ancestor => return true,
                Some(id) => current = self.parent_of(id),
                None => return false,
            }
        }
        false
    }

    fn owner_for(&self, owner: Uuid) -> Uuid {
        self.owner.unwrap_or(owner)
    }

    fn existing(&self, folder_id: Uuid) -> Result<Uuid, FolderError> {
        match (self.owner, self.contains(folder_id)) {
            (Some(owner), true) => Ok(owner),
            _ => Err(FolderError::NotFound),
        }
    }

    /// A parent must be one of this person's folders (or the top).
    fn check_parent(&self, parent: Option<Uuid>) -> Result<(), FolderError> {
        match parent {
            Some(parent) if !self.contains(parent) => Err(FolderError::NotFound),
            _ => Ok(()),
        }
    }
}

impl Aggregate for FolderTree {
    const TYPE: &'static str = "folders";
    type Command = FolderCommand;
    type Event = FolderEvent;
    type Error = FolderError;
    type Services = ();
    /// A tree gains an event per folder change for as long as the account lives.
    const SNAPSHOTS: Option<SnapshotPolicy> = Some(SnapshotPolicy {
        every: 100,
        shape: 1,
    });

    fn handle(&self, command: FolderCommand, _: &()) -> Result<Vec<FolderEvent>, FolderError> {
        match command {
            FolderCommand::Create {
                owner,
                folder_id,
                parent,
                name,
                at,
            } => {
                if self.owner.is_some_and(|known| known != owner) {
                    return Err(FolderError::NotFound);
                }
                if self.contains(folder_id) {
                    return Err(FolderError::AlreadyExists);
                }
                self.check_parent(parent)?;
                Ok(vec![FolderEvent::FolderCreated(FolderCreated {
                    folder_id,
                    owner: self.owner_for(owner),
                    parent,
                    name,
                    created_at: at,
                })])
            }
            FolderCommand::Rename {
                folder_id,
                name,
                at,
            } => {
                let owner = self.existing(folder_id)?;
                Ok(vec![FolderEvent::FolderRenamed(FolderRenamed {
                    folder_id,
                    owner,
                    name,
                    renamed_at: at,
                })])
            }
            FolderCommand::Move {
                folder_id,
                parent,
                at,
            } => {
                let owner = self.existing(folder_id)?;
                self.check_parent(parent)?;
                if parent.is_some_and(|parent| self.is_within(parent, folder_id)) {
                    return Err(FolderError::IntoItself);
                }
                let from = self.parent_of(folder_id);
                if from == parent {
                    return Ok(Vec::new());
                }
                Ok(vec![FolderEvent::FolderMoved(FolderMoved {
                    folder_id,
                    owner,
                    from,
                    to: parent,
                    moved_at: at,
                })])
            }
            FolderCommand::Delete {
                folder_id,
                contents,
                holds_documents,
                at,
            } => {
                let owner = self.existing(folder_id)?;
                let parent = self.parent_of(folder_id);
                let children: Vec<Uuid> = self.children_of(folder_id).collect();
                let deleted = |folder_id, parent, contents| {
                    FolderEvent::FolderDeleted(FolderDeleted {
                        folder_id,
                        owner,
                        parent,
                        contents,
                        deleted_at: at,
                    })
                };
                match contents {
                    FolderContents::Refuse if holds_documents || !children.is_empty() => {
                        Err(FolderError::NotEmpty)
                    }
                    FolderContents::Refuse => {
                        Ok(vec![deleted(folder_id, parent, FolderContents::Refuse)])
                    }
                    FolderContents::MoveUp => {
                        let mut events: Vec<FolderEvent> = children
                            .into_iter()
                            .map(|child| {
                                FolderEvent::FolderMoved(FolderMoved {
                                    folder_id: child,
                                    owner,
                                    from: Some(folder_id),
                                    to: parent,
                                    moved_at: at,
                                })
                            })
                            .collect();
                        events.push(deleted(folder_id, parent, FolderContents::MoveUp));
                        Ok(events)
                    }
                    FolderContents::Delete => Ok(self
                        .subtree(folder_id)
                        .into_iter()
                        .map(|id| deleted(id, self.parent_of(id), FolderContents::Delete))
                        .collect()),
                }
            }
        }
    }

    fn apply(&mut self, event: FolderEvent) {
        match event {
            FolderEvent::FolderCreated(created) => {
                self.owner = Some(created.owner);
                self.parents.insert(created.folder_id, created.parent);
            }
            FolderEvent::FolderRenamed(_) => {}
            FolderEvent::FolderMoved(moved) => {
                self.parents.insert(moved.folder_id, moved.to);
            }
            FolderEvent::FolderDeleted(deleted) => {
                self.parents.remove(&deleted.folder_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::AggregateTest;
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
    }

    fn owner() -> Uuid {
        Uuid::from_u128(1)
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(100 + n)
    }

    fn name() -> Sealed {
        Sealed::from_envelope("v1.AAAAAAAAAAAAAAAA.AAAA".into())
    }

    fn created(n: u128, parent: Option<u128>) -> FolderEvent {
        FolderEvent::FolderCreated(FolderCreated {
            folder_id: id(n),
            owner: owner(),
            parent: parent.map(id),
            name: name(),
            created_at: at(),
        })
    }

    fn moved(n: u128, from: Option<u128>, to: Option<u128>) -> FolderEvent {
        FolderEvent::FolderMoved(FolderMoved {
            folder_id: id(n),
            owner: owner(),
            from: from.map(id),
            to: to.map(id),
            moved_at: at(),
        })
    }

    fn deleted(n: u128, parent: Option<u128>, contents: FolderContents) -> FolderEvent {
        FolderEvent::FolderDeleted(FolderDeleted {
            folder_id: id(n),
            owner: owner(),
            parent: parent.map(id),
            contents,
            deleted_at: at(),
        })
    }

    fn create(n: u128, parent: Option<u128>) -> FolderCommand {
        FolderCommand::Create {
            owner: owner(),
            folder_id: id(n),
            parent: parent.map(id),
            name: name(),
            at: at(),
        }
    }

    fn move_to(n: u128, parent: Option<u128>) -> FolderCommand {
        FolderCommand::Move {
            folder_id: id(n),
            parent: parent.map(id),
            at: at(),
        }
    }

    fn delete(n: u128, contents: FolderContents, holds_documents: bool) -> FolderCommand {
        FolderCommand::Delete {
            folder_id: id(n),
            contents,
            holds_documents,
            at: at(),
        }
    }

    /// 1 ─┬─ 2 ── 3
    ///    └─ 4
    /// 5
    fn tree() -> Vec<FolderEvent> {
        vec![
            created(1, None),
            created(2, Some(1)),
            created(3, Some(2)),
            created(4, Some(1)),
            created(5, None),
        ]
    }

    #[test]
    fn folders_nest_to_any_depth_under_existing_parents() {
        AggregateTest::<FolderTree>::with(())
            .given(vec![created(1, None)])
            .when(create(2, Some(1)))
            .then_expect_events(vec![created(2, Some(1))]);
        AggregateTest::<FolderTree>::with(())
            .given(vec![])
            .when(create(2, Some(1)))
            .then_expect_error(FolderError::NotFound);
        AggregateTest::<FolderTree>::with(())
            .given(vec![created(1, None)])
            .when(create(1, None))
            .then_expect_error(FolderError::AlreadyExists);
        let deep: Vec<FolderEvent> = (1..=50)
            .map(|n| created(n, (n > 1).then(|| n - 1)))
            .collect();
        AggregateTest::<FolderTree>::with(())
            .given(deep)
            .when(create(51, Some(50)))
            .then_expect_events(vec![created(51, Some(50))]);
    }

    #[test]
    fn a_folders_path_runs_from_it_to_the_top() {
        let mut folders = FolderTree::default();
        for event in tree() {
            folders.apply(event);
        }
        assert_eq!(folders.path_of(id(3)), vec![id(3), id(2), id(1)]);
        assert_eq!(folders.path_of(id(5)), vec![id(5)]);
        assert_eq!(folders.path_of(id(9)), Vec::<Uuid>::new());
        folders.apply(moved(2, Some(1), Some(5)));
        assert_eq!(folders.path_of(id(3)), vec![id(3), id(2), id(5)]);
    }

    #[test]
    fn a_move_into_its_own_subtree_is_refused() {
        AggregateTest::<FolderTree>::with(())
            .given(tree())
            .when(move_to(1, Some(3)))
            .then_expect_error(FolderError::IntoItself);
        AggregateTest::<FolderTree>::with(())
            .given(tree())
            .when(move_to(2, Some(2)))
            .then_expect_error(FolderError::IntoItself);
        AggregateTest::<FolderTree>::with(())
            .given(tree())
            .when(move_to(2, Some(3)))
            .then_expect_error(FolderError::IntoItself);
    }

    #[test]
    fn a_move_elsewhere_is_recorded_and_a_move_to_where_it_is_changes_nothing() {
        AggregateTest::<FolderTree>::with(())
            .given(tree())
            .when(move_to(2, Some(5)))
            .then_expect_events(vec![moved(2, Some(1), Some(5))]);
        AggregateTest::<FolderTree>::with(())
            .given(tree())
            .when(move_to(3, None))
            .then_expect_events(vec![moved(3, Some(2), None)]);
        AggregateTest::<FolderTree>::with(())
            .given(tree())
            .when(move_to(3, Some(2)))
            .then_expect_events(vec![]);
        AggregateTest::<FolderTree>::with(())
            .given(tree())
            .when(move_to(9, None))
            .then_expect_error(FolderError::NotFound);
        AggregateTest::<FolderTree>::with(())
            .given(tree())
            .when(move_to(2, Some(9)))
            .then_expect_error(FolderError::NotFound);
    }

    #[test]
    fn after_a_move_the_old_subtree_is_free_and_the_new_one_guarded() {
        // 2 (with 3 inside) moved under 5: 1 may now go under 3, and 5 may not.
        let mut given = tree();
        given.push(moved(2, Some(1), Some(5)));
        AggregateTest::<FolderTree>::with(())
            .given(given.clone())
            .when(move_to(1, Some(3)))
            .then_expect_events(vec![moved(1, None, Some(3))]);
        AggregateTest::<FolderTree>::with(())
            .given(given)
            .when(move_to(5, Some(3)))
            .then_expect_error(FolderError::IntoItself);
    }

    #[test]
    fn only_an_empty_folder_is_deleted_without_a_choice() {
        AggregateTest::<FolderTree>::with(())
            .given(tree())
            .when(delete(1, FolderContents::Refuse, false))
            .then_expect_error(FolderError::NotEmpty);
        AggregateTest::<FolderTree>::with(())
            .given(tree())
            .when(delete(5, FolderContents::Refuse, true))
            .then_expect_error(FolderError::NotEmpty);
        AggregateTest::<FolderTree>::with(())
            .given(tree())
            .when(delete(5, FolderContents::Refuse, false))
            .then_expect_events(vec![deleted(5, None, FolderContents::Refuse)]);
    }

    #[test]
    fn moving_contents_up_reparents_the_children() {
        AggregateTest::<FolderTree>::with(())
            .given(tree())
            .when(delete(1, FolderContents::MoveUp, true))
            .then_expect_events(vec![
                moved(2, Some(1), None),
                moved(4, Some(1), None),
                deleted(1, None, FolderContents::MoveUp),
            ]);
    }

    #[test]
    fn deleting_contents_deletes_the_subtree_deepest_first() {
        AggregateTest::<FolderTree>::with(())
            .given(tree())
            .when(delete(1, FolderContents::Delete, true))
            .then_expect_events(vec![
                deleted(3, Some(2), FolderContents::Delete),
                deleted(4, Some(1), FolderContents::Delete),
                deleted(2, Some(1), FolderContents::Delete),
                deleted(1, None, FolderContents::Delete),
            ]);
        let mut given = tree();
        given.extend([
            deleted(3, Some(2), FolderContents::Delete),
            deleted(4, Some(1), FolderContents::Delete),
            deleted(2, Some(1), FolderContents::Delete),
            deleted(1, None, FolderContents::Delete),
        ]);
        AggregateTest::<FolderTree>::with(())
            .given(given)
            .when(move_to(2, None))
            .then_expect_error(FolderError::NotFound);
    }

    #[test]
    fn another_persons_tree_has_no_folders_for_them() {
        AggregateTest::<FolderTree>::with(())
            .given(tree())
            .when(FolderCommand::Create {
                owner: Uuid::from_u128(2),
                folder_id: id(9),
                parent: None,
                name: name(),
                at: at(),
            })
            .then_expect_error(FolderError::NotFound);
    }

    #[test]
    fn the_state_survives_a_snapshot() {
        let mut state = FolderTree::default();
        for event in tree() {
            state.apply(event);
        }
        let json = serde_json::to_value(&state).unwrap();
        assert_eq!(serde_json::from_value::<FolderTree>(json).unwrap(), state);
    }
}
