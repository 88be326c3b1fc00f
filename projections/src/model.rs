//! The contract every read model fulfils.

use eventlog::StoredEvent;
use futures::future::BoxFuture;
use sqlx::PgConnection;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ApplyError {
    /// The event cannot be applied whatever we do (unknown type, bad shape, undecryptable
    /// data): after its tries it is parked.
    #[error("event at position {position} cannot be applied: {reason}")]
    Poison { position: i64, reason: String },
    /// The database refused or failed; may be transient.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl ApplyError {
    /// Failures that say something about the event rather than the system, and so count
    /// towards parking it: poison, and SQLSTATE classes 22 (data exception), 23 (integrity
    /// violation) and P0 (raised by a trigger). A missing grant or table (class 42) or a
    /// lost connection is the system's fault: the builder retries and the lag shows.
    pub fn is_data_error(&self) -> bool {
        match self {
            ApplyError::Poison { .. } => true,
            ApplyError::Database(error) => error
                .as_database_error()
                .and_then(|db| db.code())
                .is_some_and(|code| {
                    code.starts_with("22") || code.starts_with("23") || code.starts_with("P0")
                }),
        }
    }
}

/// A read model: tables in their own schema, built from the events of some aggregate types.
pub trait ReadModel: Send + Sync {
    /// Short name: `users`. Its schema is `rm_<name>`.
    fn name(&self) -> &'static str;

    /// The aggregate types whose events it reads. One type: its consumer filters that
    /// type's subjects; several: it reads every event and ignores the other types (NATS
    /// 2.9 allows one filter subject per consumer).
    fn aggregate_types(&self) -> &'static [&'static str];

    /// Bumped when the tables change shape; `docuvault migrate` then rebuilds the model.
    fn schema_version(&self) -> i32;

    /// `create table` statements for its tables inside `schema`.
    fn tables_sql(&self, schema: &str) -> String;

    /// Secondary indexes, created after the tables when a model is installed, and after
    /// the bulk load when it is rebuilt (filling a table first and indexing it after is
    /// several times faster than maintaining the index row by row).
    fn indexes_sql(&self, _schema: &str) -> String {
        String::new()
    }

    /// Applies `events` (in order, each new to this model) inside the caller's transaction.
    fn apply<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        schema: &'a str,
        events: &'a [StoredEvent],
    ) -> BoxFuture<'a, Result<(), ApplyError>>;
}

/// The live schema of a read model.
pub fn live_schema(name: &str) -> String {
    format!("rm_{name}")
}

/// The schema a rebuild fills before the swap.
pub fn next_schema(name: &str) -> String {
    format!("rm_{name}_next")
}

pub(crate) fn retired_schema(name: &str) -> String {
    format!("rm_{name}_old")
}

/// The advisory lock held by the one active builder of `name`.
pub fn builder_lock_key(name: &str) -> String {
    format!("docuvault:projection:{name}")
}

/// The transaction lock that a builder's batch and a rebuild's swap both take, so a swap
/// never interleaves with a batch.
pub(crate) fn swap_lock_key(name: &str) -> String {
    format!("docuvault:projection-swap:{name}")
}

/// The data keys of `owners`, for a model that opens sealed fields (the shredded are
/// absent). A key that does not unwrap poisons the event at `position`; a database
/// failure is the system's.
pub(crate) async fn data_keys(
    keys: &crypto::KeyRing,
    connection: &mut PgConnection,
    owners: &[uuid::Uuid],
    position: i64,
) -> Result<std::collections::HashMap<uuid::Uuid, crypto::DataKey>, ApplyError> {
    keys.find_many_on(connection, owners)
        .await
        .map_err(|error| match error {
            crypto::KeyRingError::Database(sql) => ApplyError::Database(sql),
            wrong_key => ApplyError::Poison {
                position,
                reason: wrong_key.to_string(),
            },
        })
}

/// Decodes an event for a model; a payload this build cannot read poisons it.
pub(crate) fn decode<E: serde::de::DeserializeOwned>(event: &StoredEvent) -> Result<E, ApplyError> {
    event.decode().map_err(|error| ApplyError::Poison {
        position: event.position,
        reason: error.to_string(),
    })
}

/// The data keys a batch has looked up so far, by owner (`None`: shredded).
pub(crate) type KeyCache = std::collections::HashMap<uuid::Uuid, Option<crypto::DataKey>>;

/// `owner`'s data key, looked up once per batch; `None` once it is shredded.
pub(crate) async fn key_of<'k>(
    keys: &crypto::KeyRing,
    connection: &mut PgConnection,
    cache: &'k mut KeyCache,
    owner: uuid::Uuid,
    event: &StoredEvent,
) -> Result<Option<&'k crypto::DataKey>, ApplyError> {
    if let std::collections::hash_map::Entry::Vacant(slot) = cache.entry(owner) {
        let mut found = data_keys(keys, &mut *connection, &[owner], event.position).await?;
        slot.insert(found.remove(&owner));
    }
    Ok(cache.get(&owner).and_then(Option::as_ref))
}

/// The text a `TextExtracted` names, opened from the side store with its owner's key;
/// `None` when there is none to read: the key is shredded (the account is gone) or the
/// text is (the document was deleted after). A text that does not open or is not the one
/// named poisons the event.
pub(crate) async fn extracted_text(
    keys: &crypto::KeyRing,
    connection: &mut PgConnection,
    cache: &mut KeyCache,
    extracted: &domain::document::TextExtracted,
    event: &StoredEvent,
) -> Result<Option<zeroize::Zeroizing<String>>, ApplyError> {
    let owner = extracted.owner;
    let Some(key) = key_of(keys, &mut *connection, cache, owner, event).await? else {
        return Ok(None);
    };
    crypto::texts::get(
        &mut *connection,
        key,
        owner,
        extracted.document_id,
        &extracted.text,
    )
    .await
    .map_err(|error| match error {
        crypto::texts::TextStoreError::Database(sql) => ApplyError::Database(sql),
        other => ApplyError::Poison {
            position: event.position,
            reason: other.to_string(),
        },
    })
}
