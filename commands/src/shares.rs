//! Sharing by handle (ORG-3, SECURITY 16) on the write side: granting and revoking. Every
//! read of someone else's document goes through [`Documents::readable`], which reads the
//! owner's share book, the document and the owner's folder tree from the event store, not
//! from a projection, so a revocation counts from the very next request.
//!
//! Handles are public (people share by them), but a share to a handle nobody holds and a
//! share to an account that cannot receive one (disabled, deleted, the sharer's own) get
//! the same answer, so sharing tells nothing the handle check does not.

use crate::documents::{Documents, DocumentsError};
use crate::{CommandError, CommandMeta, EventStore};
use domain::document::{Document, DocumentStatus};
use domain::folder::FolderTree;
use domain::share::{ShareBook, ShareCommand, ShareError, ShareTarget};
use domain::user::{Handle, User};
use domain::Clock;
use eventlog::Token;
use std::sync::Arc;
use thiserror::Error;
use uuid::Uuid;

#[derive(Debug, Error)]
pub enum SharesError {
    /// No such share, or what is shared is not the caller's: one answer (DOC-7).
    #[error("no such share")]
    NotFound,
    /// Nobody with this handle can receive a share (or nobody has it).
    #[error("No one with this handle can receive shares.")]
    NoRecipient,
    #[error("A person may have at most {max} shares at once.")]
    TooMany { max: usize },
    /// Every attempt lost a race: the caller may try again.
    #[error("too many changes at the same time")]
    Busy,
    #[error("event store failure: {0}")]
    Store(String),
    #[error(transparent)]
    Documents(#[from] DocumentsError),
}

impl From<CommandError<ShareError>> for SharesError {
    fn from(error: CommandError<ShareError>) -> Self {
        match error {
            CommandError::Rejected(ShareError::NotFound | ShareError::AlreadyExists) => {
                Self::NotFound
            }
            CommandError::Rejected(ShareError::CannotReceive) => Self::NoRecipient,
            CommandError::Rejected(ShareError::TooMany { max }) => Self::TooMany { max },
            CommandError::Conflict => Self::Busy,
            other => Self::Store(other.to_string()),
        }
    }
}

/// A share as granted: new, or the one that already existed for the same target and
/// person.
#[derive(Debug, Clone, Copy)]
pub struct Granted {
    pub share_id: Uuid,
    pub grantee: Uuid,
    pub token: Token,
}

#[derive(Clone)]
pub struct Shares {
    store: EventStore,
    clock: Arc<dyn Clock>,
    documents: Documents,
}

impl Shares {
    pub fn new(store: EventStore, clock: Arc<dyn Clock>, documents: Documents) -> Self {
        Self {
            store,
            clock,
            documents,
        }
    }

    /// Lets the holder of `handle` read `target`, one of `owner`'s documents or folders.
    pub async fn grant(
        &self,
        owner: Uuid,
        target: ShareTarget,
        handle: &Handle,
        meta: &CommandMeta,
    ) -> Result<Granted, SharesError> {
        let target_owner = self.owner_of(owner, target).await?;
        let grantee = self.recipient(handle).await?;
        let book: ShareBook = self.documents.load(owner).await?;
        if let Some(share_id) = book.share_of(target, grantee) {
            let token = self
                .store
                .last_token::<ShareBook>(&owner.to_string())
                .await?;
            if let Some(token) = token {
                return Ok(Granted {
                    share_id,
                    grantee,
                    token,
                });
            }
        }
        let share_id = Uuid::now_v7();
        let at = self.clock.now();
        let token = self
            .run(
                owner,
                || ShareCommand::Grant {
                    owner,
                    share_id,
                    target,
                    target_owner,
                    grantee,
                    at,
                },
                meta,
            )
            .await?;
        // A racing identical grant may have won: the share is then that one.
        let book: ShareBook = self.documents.load(owner).await?;
        let share_id = book.share_of(target, grantee).unwrap_or(share_id);
        Ok(Granted {
            share_id,
            grantee,
            token,
        })
    }

    /// Ends one of `owner`'s shares: its grantee's next request finds nothing.
    pub async fn revoke(
        &self,
        owner: Uuid,
        share_id: Uuid,
        meta: &CommandMeta,
    ) -> Result<Token, SharesError> {
        let at = self.clock.now();
        self.run(owner, || ShareCommand::Revoke { share_id, at }, meta)
            .await
    }

    /// Who owns `target`, if `owner` may share it: their live document or their folder.
    async fn owner_of(&self, owner: Uuid, target: ShareTarget) -> Result<Uuid, SharesError> {
        match target {
            ShareTarget::Document(document_id) => {
                let document: Document = self.documents.load(document_id).await?;
                match (document.owner(), document.status()) {
                    (Some(found), Some(DocumentStatus::Confirmed)) if found == owner => Ok(found),
                    _ => Err(SharesError::NotFound),
                }
            }
            ShareTarget::Folder(folder_id) => {
                let tree: FolderTree = self.documents.load(owner).await?;
                if tree.contains(folder_id) {
                    Ok(owner)
                } else {
                    Err(SharesError::NotFound)
                }
            }
        }
    }

    /// The account holding `handle`, if it can receive shares: registered, enabled, not
    /// deleted.
    async fn recipient(&self, handle: &Handle) -> Result<Uuid, SharesError> {
        let holder: Option<Uuid> =
            sqlx::query_scalar("select user_id from handle_reservations where handle = $1")
                .bind(handle.as_str())
                .fetch_optional(self.store.pool())
                .await
                .map_err(|error| SharesError::Store(error.to_string()))?;
        let Some(user_id) = holder else {
            return Err(SharesError::NoRecipient);
        };
        let user: User = self.documents.load(user_id).await?;
        if user.is_registered() && !user.is_disabled() && !user.is_deleted() {
            Ok(user_id)
        } else {
            Err(SharesError::NoRecipient)
        }
    }

    async fn run(
        &self,
        owner: Uuid,
        command: impl Fn() -> ShareCommand,
        meta: &CommandMeta,
    ) -> Result<Token, SharesError> {
        self.store
            .execute_retrying::<ShareBook>(
                &owner.to_string(),
                command,
                meta,
                self.documents.policy().conflict_attempts,
            )
            .await
            .map_err(SharesError::from)
    }
}
