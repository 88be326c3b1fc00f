//! Folders (ORG-1): each person's tree, one aggregate per person, names sealed under the
//! owner's data key. Deleting a folder with its contents deletes its documents through
//! [`Documents`]; moving them up files them in the parent.

use crate::documents::{Documents, DocumentsError};
use crate::{CommandError, CommandMeta, EventStore};
use domain::document::{FileName, FileNameError};
use domain::folder::{FolderCommand, FolderContents, FolderError, FolderTree, FOLDER_NAME_FIELD};
use domain::Clock;
use eventlog::Token;
use std::sync::Arc;
use thiserror::Error;
use uuid::Uuid;

#[derive(Debug, Error)]
pub enum FoldersError {
    /// No such folder, or not the caller's: the same answer (DOC-7).
    #[error("no such folder")]
    NotFound,
    #[error("{0}")]
    BadName(FileNameError),
    #[error("A folder cannot move into itself or into a folder inside it.")]
    IntoItself,
    #[error("The folder is not empty: move what it holds up, or delete it with the folder.")]
    NotEmpty,
    /// Every attempt lost a race: the caller may try again.
    #[error("too many changes at the same time")]
    Busy,
    #[error("event store failure: {0}")]
    Store(String),
    #[error(transparent)]
    Documents(#[from] DocumentsError),
}

impl From<CommandError<FolderError>> for FoldersError {
    fn from(error: CommandError<FolderError>) -> Self {
        match error {
            CommandError::Rejected(FolderError::NotFound | FolderError::AlreadyExists) => {
                Self::NotFound
            }
            CommandError::Rejected(FolderError::IntoItself) => Self::IntoItself,
            CommandError::Rejected(FolderError::NotEmpty) => Self::NotEmpty,
            CommandError::Conflict => Self::Busy,
            other => Self::Store(other.to_string()),
        }
    }
}

/// A new folder.
#[derive(Debug, Clone)]
pub struct Created {
    pub folder_id: Uuid,
    /// The name as kept: trimmed, control and bidi characters removed.
    pub name: FileName,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub token: Token,
}

/// A document filed somewhere in a folder's subtree, as the read side knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filed {
    pub document_id: Uuid,
    pub folder_id: Uuid,
}

#[derive(Clone)]
pub struct Folders {
    store: EventStore,
    clock: Arc<dyn Clock>,
    documents: Documents,
}

impl Folders {
    pub fn new(store: EventStore, clock: Arc<dyn Clock>, documents: Documents) -> Self {
        Self {
            store,
            clock,
            documents,
        }
    }

    pub async fn create(
        &self,
        owner: Uuid,
        parent: Option<Uuid>,
        name: &str,
        meta: &CommandMeta,
    ) -> Result<Created, FoldersError> {
        let name = FileName::parse(name).map_err(FoldersError::BadName)?;
        let sealed = self
            .documents
            .seal_name(owner, FOLDER_NAME_FIELD, name.as_str())
            .await?;
        let folder_id = Uuid::now_v7();
        let at = self.clock.now();
        let token = self
            .run(
                owner,
                || FolderCommand::Create {
                    owner,
                    folder_id,
                    parent,
                    name: sealed.clone(),
                    at,
                },
                meta,
            )
            .await?;
        Ok(Created {
            folder_id,
            name,
            created_at: at,
            token,
        })
    }

    pub async fn rename(
        &self,
        owner: Uuid,
        folder_id: Uuid,
        name: &str,
        meta: &CommandMeta,
    ) -> Result<Token, FoldersError> {
        let name = FileName::parse(name).map_err(FoldersError::BadName)?;
        let sealed = self
            .documents
            .seal_name(owner, FOLDER_NAME_FIELD, name.as_str())
            .await?;
        let at = self.clock.now();
        self.run(
            owner,
            || FolderCommand::Rename {
                folder_id,
                name: sealed.clone(),
                at,
            },
            meta,
        )
        .await
    }

    /// Moves a folder under another of the owner's folders, or to the top with `None`.
    pub async fn move_to(
        &self,
        owner: Uuid,
        folder_id: Uuid,
        parent: Option<Uuid>,
        meta: &CommandMeta,
    ) -> Result<Token, FoldersError> {
        let at = self.clock.now();
        self.run(
            owner,
            || FolderCommand::Move {
                folder_id,
                parent,
                at,
            },
            meta,
        )
        .await
    }

    /// Deletes a folder. `filed` are the documents in its subtree (from the read side, at
    /// least as recent as the caller's last change): with `MoveUp` those directly in it
    /// are filed in its parent, with `Delete` all of them are deleted, with `Refuse` any
    /// document in it refuses the deletion.
    pub async fn delete(
        &self,
        owner: Uuid,
        folder_id: Uuid,
        contents: FolderContents,
        filed: &[Filed],
        meta: &CommandMeta,
    ) -> Result<Token, FoldersError> {
        let tree = self.tree(owner).await?;
        if !tree.contains(folder_id) {
            return Err(FoldersError::NotFound);
        }
        let parent = tree.parent_of(folder_id);
        let at = self.clock.now();
        let holds_documents = filed.iter().any(|doc| doc.folder_id == folder_id);
        let mut token = self
            .run(
                owner,
                || FolderCommand::Delete {
                    folder_id,
                    contents,
                    holds_documents,
                    at,
                },
                meta,
            )
            .await?;
        for doc in filed {
            let done = match contents {
                FolderContents::Refuse => continue,
                FolderContents::MoveUp if doc.folder_id != folder_id => continue,
                FolderContents::MoveUp => {
                    self.documents
                        .file(owner, doc.document_id, parent, meta)
                        .await
                }
                FolderContents::Delete => self.documents.delete(owner, doc.document_id, meta).await,
            };
            match done {
                Ok(next) => token = token.max(next),
                // Deleted or moved meanwhile by another request: nothing left to do.
                Err(DocumentsError::NotFound | DocumentsError::FolderNotFound) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(token)
    }

    async fn tree(&self, owner: Uuid) -> Result<FolderTree, FoldersError> {
        Ok(self.documents.load::<FolderTree>(owner).await?)
    }

    async fn run(
        &self,
        owner: Uuid,
        command: impl Fn() -> FolderCommand,
        meta: &CommandMeta,
    ) -> Result<Token, FoldersError> {
        self.store
            .execute_retrying::<FolderTree>(
                &owner.to_string(),
                command,
                meta,
                self.documents.policy().conflict_attempts,
            )
            .await
            .map_err(FoldersError::from)
    }
}
