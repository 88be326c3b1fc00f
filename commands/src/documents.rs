//! Documents on the write side (DOC-1..7): the two-step upload, the quota decided by the
//! owner's storage aggregate, renaming, deletion, expiry and content hashes.
//!
//! A confirm touches two aggregates: the owner's `storage` (admits the bytes against the
//! quota) and then the `document` (marks it confirmed). Both commands are idempotent, so a
//! confirm that stops between them is finished by the next one, and bytes admitted for an
//! upload that never gets confirmed are released when it expires ([`Documents::settle`]).
//! cqrs-es does not retry an `AggregateConflict`: concurrent confirms on one person's
//! storage are retried here, a bounded number of times with jitter, under the same command
//! id, so ten parallel confirms end with the right winners rather than nine 409s.

use crate::{CommandError, CommandMeta, EventStore};
use crypto::{seal, KeyRing};
use domain::document::storage::{Storage, StorageCommand, StorageError};
use domain::document::{
    Document, DocumentCommand, DocumentError, DocumentKind, DocumentStatus, FileName,
    FileNameError, InitiateUpload, FILENAME_FIELD,
};
use domain::folder::FolderTree;
use domain::share::ShareBook;
use domain::user::User;
use domain::Clock;
use eventlog::Token;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use storage::{content, ObjectKey, ObjectStore, StoreError, UploadLink, UploadRequest};
use thiserror::Error;
use uuid::Uuid;

/// Limits and times of the document lifecycle (all configurable).
#[derive(Debug, Clone)]
pub struct DocumentPolicy {
    /// The largest file accepted (refused at initiate and bound into the upload link).
    pub max_file_bytes: u64,
    /// A person's quota unless an admin set another.
    pub default_quota_bytes: u64,
    /// How long an upload link works (5–15 minutes).
    pub upload_link_ttl: Duration,
    /// How long an upload may stay unconfirmed before it expires (DOC-3).
    pub pending_ttl: chrono::Duration,
    /// Attempts at a command that lost a race on its aggregate.
    pub conflict_attempts: u32,
}

impl Default for DocumentPolicy {
    fn default() -> Self {
        Self {
            max_file_bytes: 50 * 1024 * 1024,
            default_quota_bytes: 100 * 1024 * 1024,
            upload_link_ttl: Duration::from_secs(10 * 60),
            pending_ttl: chrono::Duration::hours(1),
            conflict_attempts: 12,
        }
    }
}

#[derive(Debug, Error)]
pub enum DocumentsError {
    /// Not there, not the caller's, or gone: one answer (DOC-7).
    #[error("no such document")]
    NotFound,
    #[error("no such folder")]
    FolderNotFound,
    #[error("The file is larger than the {max} bytes allowed.")]
    TooLarge { max: u64 },
    #[error("The file is empty.")]
    Empty,
    #[error("DocuVault keeps PDF, Word (.docx), text and Markdown files.")]
    UnsupportedType,
    #[error("{0}")]
    BadName(FileNameError),
    #[error("{size} more bytes do not fit: {used} of {quota} are used")]
    QuotaExceeded { used: u64, size: u64, quota: u64 },
    /// Confirm before the bytes arrived (or after they were removed).
    #[error("no bytes were uploaded for this document")]
    UploadMissing,
    /// The bytes are not what the declared type says; the document is gone.
    #[error("{0}")]
    ContentRejected(String),
    #[error("the upload is not waiting for confirmation")]
    NotPending,
    #[error("A document has at most {max} topics.")]
    TooManyTopics { max: usize },
    #[error("Only an uploaded and confirmed document can be classified.")]
    NotConfirmed,
    /// Every attempt lost a race: the caller may try again.
    #[error("too many changes at the same time")]
    Busy,
    #[error("event store failure: {0}")]
    Store(String),
    #[error("object store failure: {0}")]
    Objects(#[from] StoreError),
}

impl From<CommandError<DocumentError>> for DocumentsError {
    fn from(error: CommandError<DocumentError>) -> Self {
        match error {
            CommandError::Rejected(DocumentError::NotFound | DocumentError::AlreadyExists) => {
                Self::NotFound
            }
            CommandError::Rejected(DocumentError::NotPending | DocumentError::NotExpiredYet) => {
                Self::NotPending
            }
            CommandError::Rejected(DocumentError::TooManyTopics { max }) => {
                Self::TooManyTopics { max }
            }
            CommandError::Rejected(DocumentError::NotConfirmed) => Self::NotConfirmed,
            CommandError::Conflict => Self::Busy,
            other => Self::Store(other.to_string()),
        }
    }
}

impl From<CommandError<StorageError>> for DocumentsError {
    fn from(error: CommandError<StorageError>) -> Self {
        match error {
            CommandError::Rejected(StorageError::QuotaExceeded { used, size, quota }) => {
                Self::QuotaExceeded { used, size, quota }
            }
            CommandError::Conflict => Self::Busy,
            other => Self::Store(other.to_string()),
        }
    }
}

/// A new pending document and where its bytes go.
#[derive(Debug, Clone)]
pub struct Initiated {
    pub document_id: Uuid,
    /// The name as kept: trimmed, control and bidi characters removed.
    pub name: FileName,
    pub kind: DocumentKind,
    pub initiated_at: chrono::DateTime<chrono::Utc>,
    pub link: UploadLink,
    pub token: Token,
}

/// What an upload is: a name, a declared size and type.
#[derive(Debug, Clone)]
pub struct NewUpload<'a> {
    pub name: &'a str,
    pub size: u64,
    pub content_type: &'a str,
}

/// What serving a document's bytes needs.
#[derive(Debug, Clone)]
pub struct Content {
    pub kind: DocumentKind,
    pub size: u64,
    pub key: ObjectKey,
    pub name: FileName,
}

/// A person's use of their quota, from the write side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub used_bytes: u64,
    pub quota_bytes: u64,
}

#[derive(Clone)]
pub struct Documents {
    store: EventStore,
    keys: KeyRing,
    objects: ObjectStore,
    clock: Arc<dyn Clock>,
    policy: Arc<DocumentPolicy>,
}

impl Documents {
    pub fn new(
        store: EventStore,
        keys: KeyRing,
        objects: ObjectStore,
        clock: Arc<dyn Clock>,
        policy: DocumentPolicy,
    ) -> Self {
        Self {
            store,
            keys,
            objects,
            clock,
            policy: Arc::new(policy),
        }
    }

    pub fn objects(&self) -> &ObjectStore {
        &self.objects
    }

    pub fn policy(&self) -> &DocumentPolicy {
        &self.policy
    }

    /// Step one of an upload (DOC-1): a pending document and a link for its bytes.
    /// Pending uploads reserve no quota, but one that cannot fit is refused here already.
    pub async fn initiate(
        &self,
        owner: Uuid,
        upload: NewUpload<'_>,
        meta: &CommandMeta,
    ) -> Result<Initiated, DocumentsError> {
        let name = FileName::parse(upload.name).map_err(DocumentsError::BadName)?;
        let kind = DocumentKind::from_content_type(upload.content_type)
            .ok_or(DocumentsError::UnsupportedType)?;
        if upload.size == 0 {
            return Err(DocumentsError::Empty);
        }
        if upload.size > self.policy.max_file_bytes {
            return Err(DocumentsError::TooLarge {
                max: self.policy.max_file_bytes,
            });
        }
        let usage = self.usage(owner).await?;
        if usage.used_bytes.saturating_add(upload.size) > usage.quota_bytes {
            return Err(DocumentsError::QuotaExceeded {
                used: usage.used_bytes,
                size: upload.size,
                quota: usage.quota_bytes,
            });
        }
        let now = self.clock.now();
        let document_id = Uuid::now_v7();
        let key = ObjectKey::new(owner, document_id, kind);
        let content_type = kind.content_type();
        let link = self
            .objects
            .upload_link(UploadRequest {
                key: &key,
                length: upload.size,
                content_type,
                now,
                ttl: self.policy.upload_link_ttl,
            })
            .await?;
        let filename = self.seal_name(owner, FILENAME_FIELD, name.as_str()).await?;
        let token = self
            .store
            .execute::<Document>(
                &document_id.to_string(),
                DocumentCommand::Initiate(InitiateUpload {
                    document_id,
                    owner,
                    filename,
                    declared_kind: kind,
                    declared_size: upload.size,
                    storage_key: key.to_string(),
                    expires_at: now + self.policy.pending_ttl,
                    at: now,
                }),
                (),
                meta,
            )
            .await?;
        Ok(Initiated {
            document_id,
            name,
            kind,
            initiated_at: now,
            link,
            token,
        })
    }

    /// Step two (DOC-1, DOC-4): the real size from storage, the content checked, the bytes
    /// admitted by the owner's storage, the document confirmed. Idempotent.
    pub async fn confirm(
        &self,
        owner: Uuid,
        document_id: Uuid,
        meta: &CommandMeta,
    ) -> Result<Token, DocumentsError> {
        let document = self.owned(owner, document_id).await?;
        match document.status() {
            Some(DocumentStatus::Confirmed) => {
                return self
                    .store
                    .last_token::<Document>(&document_id.to_string())
                    .await?
                    .ok_or(DocumentsError::NotFound)
            }
            Some(DocumentStatus::Pending) => {}
            _ => return Err(DocumentsError::NotFound),
        }
        let key = object_key(&document)?;
        let Some(size) = self.objects.size(&key).await? else {
            return Err(DocumentsError::UploadMissing);
        };
        let kind = match self.check_content(&document, &key, size).await? {
            Ok(kind) => kind,
            Err(reason) => {
                self.reject(owner, document_id, &key, reason.clone(), meta)
                    .await?;
                return Err(DocumentsError::ContentRejected(reason));
            }
        };
        let quota = self.quota_of(owner).await?;
        let at = self.clock.now();
        self.retrying::<Storage>(
            &owner.to_string(),
            || StorageCommand::Admit {
                document_id,
                size,
                quota,
                at,
            },
            meta,
        )
        .await?;
        let confirmed = self
            .retrying::<Document>(
                &document_id.to_string(),
                || DocumentCommand::Confirm {
                    by: owner,
                    size,
                    kind,
                    at,
                },
                meta,
            )
            .await;
        match confirmed {
            Ok(token) => Ok(token),
            Err(error) => {
                // Gone meanwhile (deleted, expired): its bytes must not stay counted.
                if matches!(error, DocumentsError::NotFound | DocumentsError::NotPending) {
                    self.settle(document_id, meta).await?;
                }
                Err(error)
            }
        }
    }

    /// The declared size must match what arrived, and the bytes the declared kind.
    async fn check_content(
        &self,
        document: &Document,
        key: &ObjectKey,
        size: u64,
    ) -> Result<Result<DocumentKind, String>, DocumentsError> {
        if Some(size) != document.declared_size() {
            return Ok(Err(format!(
                "{size} bytes arrived, {} were announced",
                document.declared_size().unwrap_or_default()
            )));
        }
        if size > self.policy.max_file_bytes {
            return Ok(Err("the file is larger than allowed".into()));
        }
        let declared = document.declared_kind().ok_or(DocumentsError::NotFound)?;
        let Some(bytes) = self.objects.read(key, self.policy.max_file_bytes).await? else {
            return Err(DocumentsError::UploadMissing);
        };
        Ok(content::check(&bytes, declared).map_err(|error| error.to_string()))
    }

    async fn reject(
        &self,
        owner: Uuid,
        document_id: Uuid,
        key: &ObjectKey,
        reason: String,
        meta: &CommandMeta,
    ) -> Result<(), DocumentsError> {
        let at = self.clock.now();
        self.retrying::<Document>(
            &document_id.to_string(),
            || DocumentCommand::Reject {
                by: owner,
                reason: reason.clone(),
                at,
            },
            meta,
        )
        .await?;
        self.objects.delete(key).await?;
        Ok(())
    }

    pub async fn rename(
        &self,
        owner: Uuid,
        document_id: Uuid,
        name: &str,
        meta: &CommandMeta,
    ) -> Result<Token, DocumentsError> {
        let name = FileName::parse(name).map_err(DocumentsError::BadName)?;
        self.owned(owner, document_id).await?;
        let filename = self.seal_name(owner, FILENAME_FIELD, name.as_str()).await?;
        let at = self.clock.now();
        self.retrying::<Document>(
            &document_id.to_string(),
            || DocumentCommand::Rename {
                by: owner,
                filename: filename.clone(),
                at,
            },
            meta,
        )
        .await
    }

    /// Puts a document in one of the owner's folders, or at the top with `None` (ORG-1).
    /// Another person's folder is no folder at all.
    pub async fn file(
        &self,
        owner: Uuid,
        document_id: Uuid,
        folder_id: Option<Uuid>,
        meta: &CommandMeta,
    ) -> Result<Token, DocumentsError> {
        if let Some(folder_id) = folder_id {
            let tree: FolderTree = self.load(owner).await?;
            if !tree.contains(folder_id) {
                return Err(DocumentsError::FolderNotFound);
            }
        }
        let at = self.clock.now();
        self.retrying::<Document>(
            &document_id.to_string(),
            || DocumentCommand::File {
                by: owner,
                folder_id,
                at,
            },
            meta,
        )
        .await
    }

    /// Deletes a document: the bytes are freed and the object removed at once (and again,
    /// idempotently, by the worker that follows deletions).
    pub async fn delete(
        &self,
        owner: Uuid,
        document_id: Uuid,
        meta: &CommandMeta,
    ) -> Result<Token, DocumentsError> {
        let at = self.clock.now();
        let deleted = self
            .retrying::<Document>(
                &document_id.to_string(),
                || DocumentCommand::Delete { by: owner, at },
                meta,
            )
            .await?;
        let settled = self.settle(document_id, meta).await?;
        Ok(settled.map_or(deleted, |storage| storage.max(deleted)))
    }

    /// Expires a pending upload whose time is up (DOC-3); `None` when it is not (or no
    /// longer) pending and due.
    pub async fn expire(
        &self,
        document_id: Uuid,
        meta: &CommandMeta,
    ) -> Result<Option<Token>, DocumentsError> {
        let at = self.clock.now();
        match self
            .retrying::<Document>(
                &document_id.to_string(),
                || DocumentCommand::Expire { at },
                meta,
            )
            .await
        {
            Ok(token) => {
                self.settle(document_id, meta).await?;
                Ok(Some(token))
            }
            Err(DocumentsError::NotPending | DocumentsError::NotFound) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Finishes a document that is gone (deleted, expired, rejected): frees its bytes in
    /// the owner's storage and removes its object. Idempotent. Returns the token of the
    /// owner's storage once its bytes are free (whoever freed them), so reads after it
    /// see the usage without them; `None` for a document still alive, which is left alone.
    pub async fn settle(
        &self,
        document_id: Uuid,
        meta: &CommandMeta,
    ) -> Result<Option<Token>, DocumentsError> {
        let document: Document = self.load(document_id).await?;
        let (Some(owner), Some(status)) = (document.owner(), document.status()) else {
            return Ok(None);
        };
        if matches!(status, DocumentStatus::Pending | DocumentStatus::Confirmed) {
            return Ok(None);
        }
        let at = self.clock.now();
        let storage: Storage = self.load(owner).await?;
        let token = if storage.counts(document_id) {
            Some(
                self.retrying::<Storage>(
                    &owner.to_string(),
                    || StorageCommand::Release { document_id, at },
                    meta,
                )
                .await?,
            )
        } else {
            // Freed already, perhaps a moment ago by the worker that follows deletions:
            // the storage's last event is that release, and reads after this must see it.
            self.store.last_token::<Storage>(&owner.to_string()).await?
        };
        if let Ok(key) = object_key(&document) {
            self.objects.delete(&key).await?;
        }
        crypto::texts::delete_document(self.store.pool(), document_id)
            .await
            .map_err(|error| DocumentsError::Store(error.to_string()))?;
        Ok(token)
    }

    /// Records the SHA-256 of a confirmed document's bytes (read as a stream); `None` when
    /// it is not confirmed (any more) or its bytes are gone.
    pub async fn record_hash(
        &self,
        document_id: Uuid,
        meta: &CommandMeta,
    ) -> Result<Option<Token>, DocumentsError> {
        let document: Document = self.load(document_id).await?;
        if document.status() != Some(DocumentStatus::Confirmed) || document.sha256().is_some() {
            return Ok(None);
        }
        let key = object_key(&document)?;
        let Some(mut stream) = self.objects.stream(&key, None).await? else {
            return Ok(None);
        };
        let mut hasher = Sha256::new();
        while let Some(chunk) = futures::StreamExt::next(&mut stream).await {
            let chunk = chunk.map_err(|error| DocumentsError::Objects(StoreError::Io(error)))?;
            hasher.update(&chunk);
        }
        let sha256 = hex::encode(hasher.finalize());
        let at = self.clock.now();
        self.retrying::<Document>(
            &document_id.to_string(),
            || DocumentCommand::RecordHash {
                sha256: sha256.clone(),
                at,
            },
            meta,
        )
        .await
        .map(Some)
    }

    /// Where a confirmed document's bytes are and what to call them, for `reader` (its
    /// owner or a grantee) — from the write side, so a deletion or a revoked share counts
    /// from the very next request.
    pub async fn content_of(
        &self,
        reader: Uuid,
        document_id: Uuid,
    ) -> Result<Content, DocumentsError> {
        let document = self.readable(reader, document_id).await?;
        let (Some(DocumentStatus::Confirmed), Some(kind), Some(size), Some(sealed)) = (
            document.status(),
            document.kind(),
            document.size(),
            document.filename(),
        ) else {
            return Err(DocumentsError::NotFound);
        };
        let key = object_key(&document)?;
        let owner = document.owner().ok_or(DocumentsError::NotFound)?;
        let text = self
            .data_key(owner)
            .await?
            .open_text(owner, FILENAME_FIELD, sealed)
            .map_err(|error| DocumentsError::Store(error.to_string()))?;
        let name = FileName::parse(&text).map_err(DocumentsError::BadName)?;
        Ok(Content {
            kind,
            size,
            key,
            name,
        })
    }

    /// Used and allowed bytes, from the owner's storage and account.
    pub async fn usage(&self, owner: Uuid) -> Result<Usage, DocumentsError> {
        let storage: Storage = self.load(owner).await?;
        Ok(Usage {
            used_bytes: storage.used(),
            quota_bytes: self.quota_of(owner).await?,
        })
    }

    async fn quota_of(&self, owner: Uuid) -> Result<u64, DocumentsError> {
        let user: User = self.load(owner).await?;
        Ok(user
            .quota_bytes()
            .unwrap_or(self.policy.default_quota_bytes))
    }

    /// The document if `reader` may read it now: their own, or a confirmed one its owner
    /// shared with them (itself, or a folder it is in or below), as the owner's share book
    /// and folder tree say at this moment. Otherwise the one answer for everything else.
    pub async fn readable(
        &self,
        reader: Uuid,
        document_id: Uuid,
    ) -> Result<Document, DocumentsError> {
        let document: Document = self.load(document_id).await?;
        let Some(owner) = document.owner() else {
            return Err(DocumentsError::NotFound);
        };
        if owner == reader {
            return alive(document);
        }
        // Shared documents are confirmed ones: a pending upload is nobody else's business.
        if document.status() != Some(DocumentStatus::Confirmed) {
            return Err(DocumentsError::NotFound);
        }
        let book: ShareBook = self.load(owner).await?;
        let path = match document.folder_id() {
            Some(folder_id) => self.load::<FolderTree>(owner).await?.path_of(folder_id),
            None => Vec::new(),
        };
        if book.lets_read(reader, document_id, &path) {
            Ok(document)
        } else {
            Err(DocumentsError::NotFound)
        }
    }

    /// The document if `owner` may see it; otherwise the one answer for everything else.
    async fn owned(&self, owner: Uuid, document_id: Uuid) -> Result<Document, DocumentsError> {
        let document: Document = self.load(document_id).await?;
        if document.owner() == Some(owner) {
            alive(document)
        } else {
            Err(DocumentsError::NotFound)
        }
    }

    /// The current state of aggregate `A` with id `id` (a document's id; a person's for
    /// their storage and account).
    pub(crate) async fn load<A>(&self, id: Uuid) -> Result<A, DocumentsError>
    where
        A: domain::Aggregate + 'static,
        A::Command: Send,
    {
        self.store
            .load::<A>(&id.to_string())
            .await
            .map_err(|error| DocumentsError::Store(error.to_string()))
    }

    /// The owner's data key, which seals and opens document names.
    pub(crate) async fn data_key(&self, owner: Uuid) -> Result<crypto::DataKey, DocumentsError> {
        self.keys
            .find(owner)
            .await
            .map_err(|error| DocumentsError::Store(error.to_string()))?
            .ok_or(DocumentsError::NotFound)
    }

    /// Seals a name (a file's, a folder's: `field`) under the owner's data key.
    pub(crate) async fn seal_name(
        &self,
        owner: Uuid,
        field: &str,
        name: &str,
    ) -> Result<domain::Sealed, DocumentsError> {
        let key = self.data_key(owner).await?;
        Ok(seal(&key, owner, field, name.as_bytes()))
    }

    pub(crate) fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    pub(crate) fn pool(&self) -> &sqlx::PgPool {
        self.store.pool()
    }

    /// Runs a command, again after a lost race, up to the policy's attempts.
    pub(crate) async fn retrying<A>(
        &self,
        aggregate_id: &str,
        command: impl Fn() -> A::Command,
        meta: &CommandMeta,
    ) -> Result<Token, DocumentsError>
    where
        A: domain::Aggregate<Services = ()> + 'static,
        A::Command: Send,
        DocumentsError: From<CommandError<A::Error>>,
    {
        self.store
            .execute_retrying::<A>(aggregate_id, command, meta, self.policy.conflict_attempts)
            .await
            .map_err(DocumentsError::from)
    }
}

/// The document while it is pending or confirmed; gone otherwise.
fn alive(document: Document) -> Result<Document, DocumentsError> {
    match document.status() {
        Some(DocumentStatus::Pending | DocumentStatus::Confirmed) => Ok(document),
        _ => Err(DocumentsError::NotFound),
    }
}

pub(crate) fn object_key(document: &Document) -> Result<ObjectKey, DocumentsError> {
    document
        .storage_key()
        .and_then(ObjectKey::parse)
        .ok_or_else(|| DocumentsError::Store("a document without a valid object key".into()))
}
