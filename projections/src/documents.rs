//! The `documents` read model (DOC-5, ORG-1..3): each person's live documents (pending and
//! confirmed) with their opened names, folders and topics, for the list with its paging,
//! sorting and filters; each person's folder tree; the system topics and each person's
//! own; the shares people granted; and each person's used bytes. These live in one model
//! because the list, "shared with me" and search join them. Expired, rejected and deleted
//! documents leave it, and so does everything of an account that is deleted. The sweeper
//! reads it to tell owned objects from orphans.
//!
//! Names arrive sealed under the owner's data key; once that key is shredded they cannot
//! be opened, and a rebuild (which also sees the deletion) leaves no row for them.
//!
//! Full-text search over it is in [`search`], with the estimate of how many documents a
//! search matches in [`word_shares`].

use crate::model::{decode, extracted_text, key_of, KeyCache};
use crate::{ApplyError, ReadModel};
use crypto::KeyRing;
use domain::document::classification::text_search_config;
use domain::document::storage::StorageEvent;
use domain::document::{DocumentEvent, FILENAME_FIELD};
use domain::folder::{FolderContents, FolderEvent, FOLDER_NAME_FIELD};
use domain::share::{ShareEvent, ShareTarget};
use domain::topic::{Namespace, TopicEvent, TopicName, TOPIC_NAME_FIELD};
use domain::user::UserEvent;
use domain::Sealed;
use eventlog::StoredEvent;
use futures::future::BoxFuture;
use sqlx::PgConnection;
use std::collections::HashMap;
use uuid::Uuid;

pub mod search;
pub mod word_shares;

pub struct DocumentsModel {
    keys: KeyRing,
}

impl DocumentsModel {
    pub const NAME: &'static str = "documents";

    pub fn new(keys: KeyRing) -> Self {
        Self { keys }
    }
}

impl ReadModel for DocumentsModel {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["document", "storage", "folders", "topics", "shares", "user"]
    }

    fn schema_version(&self) -> i32 {
        7
    }

    fn tables_sql(&self, schema: &str) -> String {
        format!(
            "create table {schema}.documents (
               document_id uuid primary key,
               owner uuid not null,
               -- Opened with the owner's key.
               name text not null,
               kind text not null,
               -- pending | confirmed
               status text not null,
               -- Declared while pending, stored once confirmed.
               size bigint not null,
               storage_key text not null,
               created_at timestamptz not null,
               confirmed_at timestamptz,
               expires_at timestamptz not null,
               sha256 text,
               -- Null: at the top (also when its folder is gone).
               folder_id uuid,
               -- The text config its words are stemmed with besides `simple` (a Postgres
               -- regconfig name; set from the extracted text's language).
               language text not null default 'simple',
               -- The current classification run: extracting | classifying | classified |
               -- failed (null: never, e.g. pending).
               classification text,
               -- Why the run failed, for the owner.
               classification_error text,
               -- Name (weight A), topic names (B) and body (C): see `search_vector`.
               search tsvector not null default ''
             );
             -- Search chooses its plan by how common each word is: keep many of them.
             alter table {schema}.documents alter column search set statistics 1000;
             -- The extracted text, once extraction has run (opened from the side store;
             -- at most BODY_LIMIT bytes of it). Apart from the document's row, so that
             -- search's row fetches stay in a small heap: read only to build the search
             -- vector and for snippets.
             create table {schema}.document_bodies (
               document_id uuid primary key
                 references {schema}.documents on delete cascade,
               body text not null
             );
             create table {schema}.folders (
               folder_id uuid primary key,
               owner uuid not null,
               parent_id uuid,
               -- Opened with the owner's key.
               name text not null,
               created_at timestamptz not null
             );
             create table {schema}.topics (
               topic_id uuid primary key,
               -- Null: a system topic, everyone's.
               owner uuid,
               -- Opened with the owner's key (system topic names are public).
               name text not null,
               created_at timestamptz not null
             );
             create table {schema}.document_topics (
               document_id uuid not null references {schema}.documents on delete cascade,
               topic_id uuid not null references {schema}.topics on delete cascade,
               primary key (document_id, topic_id)
             );
             create table {schema}.shares (
               share_id uuid primary key,
               owner uuid not null,
               grantee uuid not null,
               -- Exactly one of the two.
               document_id uuid references {schema}.documents on delete cascade,
               folder_id uuid references {schema}.folders on delete cascade,
               granted_at timestamptz not null,
               check ((document_id is null) <> (folder_id is null))
             );
             create table {schema}.usage (
               owner uuid primary key,
               used_bytes bigint not null
             );
             -- How many documents each person has of each kind and status, kept by a
             -- trigger so a list's total is a few rows, not a count over thousands.
             create table {schema}.document_counts (
               owner uuid not null,
               kind text not null,
               status text not null,
               n bigint not null,
               primary key (owner, kind, status)
             );
             -- Names the tables by the trigger's schema: a rebuilt model's schema is
             -- renamed when it goes live.
             create function {schema}.count_documents() returns trigger
               language plpgsql as $$
             begin
               if tg_op in ('UPDATE', 'DELETE') then
                 execute format('update %I.document_counts set n = n - 1
                                  where owner = $1 and kind = $2 and status = $3', tg_table_schema)
                   using old.owner, old.kind, old.status;
               end if;
               if tg_op in ('INSERT', 'UPDATE') then
                 execute format('insert into %I.document_counts as c (owner, kind, status, n)
                                 values ($1, $2, $3, 1)
                                 on conflict (owner, kind, status) do update set n = c.n + 1',
                                tg_table_schema)
                   using new.owner, new.kind, new.status;
               end if;
               return null;
             end $$;
             create trigger documents_counted_in_or_out after insert or delete on {schema}.documents
               for each row execute function {schema}.count_documents();
             create trigger documents_counted_again after update of owner, kind, status on {schema}.documents
               for each row
               when ((old.owner, old.kind, old.status) is distinct from (new.owner, new.kind, new.status))
               execute function {schema}.count_documents();"
        )
    }

    fn indexes_sql(&self, schema: &str) -> String {
        format!(
            "create index documents_by_date on {schema}.documents (owner, created_at, document_id);
             create index documents_by_name on {schema}.documents (owner, lower(name), document_id);
             create index documents_by_size on {schema}.documents (owner, size, document_id);
             create index documents_by_hash on {schema}.documents (owner, sha256) where sha256 is not null;
             create index documents_pending on {schema}.documents (expires_at) where status = 'pending';
             create index documents_by_key on {schema}.documents (storage_key);
             create index documents_by_folder on {schema}.documents (owner, folder_id, created_at);
             create index documents_in_folder on {schema}.documents (folder_id) where folder_id is not null;
             create index folders_by_owner on {schema}.folders (owner, parent_id);
             create index folders_by_parent on {schema}.folders (parent_id);
             create index documents_search on {schema}.documents using gin (search);
             create index topics_by_owner on {schema}.topics (owner);
             create index document_topics_by_topic on {schema}.document_topics (topic_id, document_id);
             create index shares_by_owner on {schema}.shares (owner, granted_at);
             create index shares_by_grantee on {schema}.shares (grantee);
             create index shares_by_document on {schema}.shares (document_id);
             create index shares_by_folder on {schema}.shares (folder_id);"
        )
    }

    fn apply<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        schema: &'a str,
        events: &'a [StoredEvent],
    ) -> BoxFuture<'a, Result<(), ApplyError>> {
        Box::pin(async move {
            let mut keys: KeyCache = HashMap::new();
            for event in events {
                match event.aggregate_type.as_str() {
                    "document" => {
                        let decoded: DocumentEvent = decode(event)?;
                        self.apply_document(&mut *connection, schema, &mut keys, decoded, event)
                            .await?;
                    }
                    "storage" => {
                        let decoded: StorageEvent = decode(event)?;
                        apply_storage(&mut *connection, schema, decoded, event).await?;
                    }
                    "folders" => {
                        let decoded: FolderEvent = decode(event)?;
                        self.apply_folder(&mut *connection, schema, &mut keys, decoded, event)
                            .await?;
                    }
                    "topics" => {
                        let decoded: TopicEvent = decode(event)?;
                        self.apply_topic(&mut *connection, schema, &mut keys, decoded, event)
                            .await?;
                    }
                    "shares" => {
                        let decoded: ShareEvent = decode(event)?;
                        apply_share(&mut *connection, schema, decoded).await?;
                    }
                    "user" => {
                        if let UserEvent::UserDeleted(deleted) = decode(event)? {
                            keys.insert(deleted.user_id, None);
                            // Shares go first: a deleted person's documents and folders
                            // take theirs with them, and what others shared with them
                            // has nobody to go to.
                            sqlx::query(&format!(
                                "delete from {schema}.shares where owner = $1 or grantee = $1"
                            ))
                            .bind(deleted.user_id)
                            .execute(&mut *connection)
                            .await?;
                            for table in
                                ["documents", "document_counts", "folders", "topics", "usage"]
                            {
                                sqlx::query(&format!(
                                    "delete from {schema}.{table} where owner = $1"
                                ))
                                .bind(deleted.user_id)
                                .execute(&mut *connection)
                                .await?;
                            }
                        }
                    }
                    _ => {}
                }
            }
            Ok(())
        })
    }
}

fn bytes(value: u64, event: &StoredEvent) -> Result<i64, ApplyError> {
    i64::try_from(value).map_err(|_| ApplyError::Poison {
        position: event.position,
        reason: format!("{value} bytes is out of range"),
    })
}

async fn apply_storage(
    connection: &mut PgConnection,
    schema: &str,
    decoded: StorageEvent,
    event: &StoredEvent,
) -> Result<(), ApplyError> {
    let used_after = match &decoded {
        StorageEvent::StorageAdmitted(e) => e.used_after,
        StorageEvent::StorageReleased(e) => e.used_after,
    };
    let owner: Uuid = event.aggregate_id.parse().map_err(|_| ApplyError::Poison {
        position: event.position,
        reason: "a storage id that is not a user id".into(),
    })?;
    sqlx::query(&format!(
        "insert into {schema}.usage (owner, used_bytes) values ($1, $2)
         on conflict (owner) do update set used_bytes = excluded.used_bytes"
    ))
    .bind(owner)
    .bind(bytes(used_after, event)?)
    .execute(connection)
    .await?;
    Ok(())
}

impl DocumentsModel {
    async fn open_name(
        &self,
        connection: &mut PgConnection,
        keys: &mut KeyCache,
        owner: Uuid,
        field: &str,
        sealed: &Sealed,
        event: &StoredEvent,
    ) -> Result<Option<String>, ApplyError> {
        let Some(key) = key_of(&self.keys, &mut *connection, keys, owner, event).await? else {
            return Ok(None);
        };
        key.open_text(owner, field, sealed)
            .map(Some)
            .map_err(|error| ApplyError::Poison {
                position: event.position,
                reason: error.to_string(),
            })
    }

    /// A run's extracted text, opened from the side store, becomes the document's body
    /// and its language the one its words are stemmed in.
    async fn take_text(
        &self,
        connection: &mut PgConnection,
        schema: &str,
        keys: &mut KeyCache,
        e: domain::document::TextExtracted,
        event: &StoredEvent,
    ) -> Result<(), ApplyError> {
        // None: a shredded key (the account is gone, and so are its rows) or a text gone
        // from the side store (the document was deleted after; its row goes too).
        let text = extracted_text(&self.keys, &mut *connection, keys, &e, event).await?;
        // Only a stock configuration reaches the query; anything else is `simple` words.
        let language = e
            .text
            .language
            .as_deref()
            .and_then(text_search_config)
            .unwrap_or("simple");
        let body = text.as_ref().map(|text| prefix(text, BODY_LIMIT));
        sqlx::query(&format!(
            "update {schema}.documents
             set language = $2, classification = 'classifying'
             where document_id = $1"
        ))
        .bind(e.document_id)
        .bind(language)
        .execute(&mut *connection)
        .await?;
        match body {
            // Only for a document that is still there.
            Some(body) => {
                sqlx::query(&format!(
                    "insert into {schema}.document_bodies (document_id, body)
                     select d.document_id, $2 from {schema}.documents d where d.document_id = $1
                     on conflict (document_id) do update set body = excluded.body"
                ))
                .bind(e.document_id)
                .bind(body)
                .execute(&mut *connection)
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "delete from {schema}.document_bodies where document_id = $1"
                ))
                .bind(e.document_id)
                .execute(&mut *connection)
                .await?
            }
        };
        refresh_search(connection, schema, &[e.document_id]).await?;
        Ok(())
    }

    async fn apply_document(
        &self,
        connection: &mut PgConnection,
        schema: &str,
        keys: &mut KeyCache,
        decoded: DocumentEvent,
        event: &StoredEvent,
    ) -> Result<(), ApplyError> {
        match decoded {
            DocumentEvent::UploadInitiated(e) => {
                // A shredded key: the account is gone, and so are its rows.
                let Some(name) = self
                    .open_name(
                        &mut *connection,
                        keys,
                        e.owner,
                        FILENAME_FIELD,
                        &e.filename,
                        event,
                    )
                    .await?
                else {
                    return Ok(());
                };
                sqlx::query(&format!(
                    "insert into {schema}.documents
                       (document_id, owner, name, kind, status, size, storage_key, created_at, expires_at)
                     values ($1, $2, $3, $4, 'pending', $5, $6, $7, $8)
                     on conflict (document_id) do nothing"
                ))
                .bind(e.document_id)
                .bind(e.owner)
                .bind(name)
                .bind(e.declared_kind.as_str())
                .bind(bytes(e.declared_size, event)?)
                .bind(e.storage_key)
                .bind(e.initiated_at)
                .bind(e.expires_at)
                .execute(&mut *connection)
                .await?;
                refresh_search(connection, schema, &[e.document_id]).await?;
            }
            DocumentEvent::UploadConfirmed(e) => {
                sqlx::query(&format!(
                    "update {schema}.documents
                     set status = 'confirmed', size = $2, kind = $3, confirmed_at = $4,
                         classification = 'extracting', classification_error = null
                     where document_id = $1"
                ))
                .bind(e.document_id)
                .bind(bytes(e.size, event)?)
                .bind(e.kind.as_str())
                .bind(e.confirmed_at)
                .execute(connection)
                .await?;
            }
            DocumentEvent::DocumentRenamed(e) => {
                let renamed = Renamed {
                    row: &DOCUMENT_NAME,
                    id: e.document_id,
                    owner: e.owner,
                    sealed: &e.filename,
                };
                self.rename(&mut *connection, schema, keys, renamed, event)
                    .await?;
                refresh_search(connection, schema, &[e.document_id]).await?;
            }
            DocumentEvent::ContentHashed(e) => {
                sqlx::query(&format!(
                    "update {schema}.documents set sha256 = $2 where document_id = $1"
                ))
                .bind(e.document_id)
                .bind(e.sha256)
                .execute(connection)
                .await?;
            }
            DocumentEvent::DocumentFiled(e) => {
                // A folder deleted meanwhile is no folder: the document is at the top.
                sqlx::query(&format!(
                    "update {schema}.documents
                     set folder_id = (select folder_id from {schema}.folders
                                       where folder_id = $2 and owner = $3)
                     where document_id = $1"
                ))
                .bind(e.document_id)
                .bind(e.folder_id)
                .bind(e.owner)
                .execute(connection)
                .await?;
            }
            DocumentEvent::DocumentTopicsSet(e) => {
                set_topics(connection, schema, e.document_id, e.topics).await?;
            }
            DocumentEvent::ClassificationRequested(e) => {
                set_classification(connection, schema, e.document_id, "extracting", None).await?;
            }
            DocumentEvent::TextExtracted(e) => {
                self.take_text(connection, schema, keys, e, event).await?;
            }
            DocumentEvent::DocumentClassified(e) => {
                set_topics(&mut *connection, schema, e.document_id, e.topics).await?;
                set_classification(connection, schema, e.document_id, "classified", None).await?;
            }
            DocumentEvent::ClassificationFailed(e) => {
                set_classification(connection, schema, e.document_id, "failed", Some(&e.reason))
                    .await?;
            }
            DocumentEvent::UploadExpired(e) => delete(connection, schema, e.document_id).await?,
            DocumentEvent::UploadRejected(e) => delete(connection, schema, e.document_id).await?,
            DocumentEvent::DocumentDeleted(e) => delete(connection, schema, e.document_id).await?,
        }
        Ok(())
    }
}

/// How much of a document's text the search index reads: a tsvector holds at most 1 MB,
/// and the first 512 KiB of a text say what it is about.
pub const BODY_LIMIT: usize = 512 * 1024;

/// Gives a document exactly `topics`: only topics that still exist and are the system's
/// or the owner's, on a document that is still here.
async fn set_topics(
    connection: &mut PgConnection,
    schema: &str,
    document_id: Uuid,
    topics: std::collections::BTreeSet<Uuid>,
) -> Result<(), ApplyError> {
    sqlx::query(&format!(
        "delete from {schema}.document_topics where document_id = $1"
    ))
    .bind(document_id)
    .execute(&mut *connection)
    .await?;
    let topics: Vec<Uuid> = topics.into_iter().collect();
    sqlx::query(&format!(
        "insert into {schema}.document_topics (document_id, topic_id)
         select d.document_id, t.topic_id
           from {schema}.documents d
           join {schema}.topics t
             on t.topic_id = any($2) and (t.owner is null or t.owner = d.owner)
          where d.document_id = $1
         on conflict do nothing"
    ))
    .bind(document_id)
    .bind(&topics)
    .execute(&mut *connection)
    .await?;
    refresh_search(connection, schema, &[document_id]).await?;
    Ok(())
}

async fn set_classification(
    connection: &mut PgConnection,
    schema: &str,
    document_id: Uuid,
    stage: &str,
    error: Option<&str>,
) -> Result<(), ApplyError> {
    sqlx::query(&format!(
        "update {schema}.documents set classification = $2, classification_error = $3
         where document_id = $1"
    ))
    .bind(document_id)
    .bind(stage)
    .bind(error)
    .execute(connection)
    .await?;
    Ok(())
}

/// The longest prefix of `text` of at most `limit` bytes that ends on a character.
fn prefix(text: &str, limit: usize) -> &str {
    if text.len() <= limit {
        return text;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Where a sealed name is kept: its table, the table's key and the field it is sealed as.
struct NamedRow {
    table: &'static str,
    id_column: &'static str,
    field: &'static str,
}

const DOCUMENT_NAME: NamedRow = NamedRow {
    table: "documents",
    id_column: "document_id",
    field: FILENAME_FIELD,
};

const FOLDER_NAME: NamedRow = NamedRow {
    table: "folders",
    id_column: "folder_id",
    field: FOLDER_NAME_FIELD,
};

const TOPIC_NAME: NamedRow = NamedRow {
    table: "topics",
    id_column: "topic_id",
    field: TOPIC_NAME_FIELD,
};

/// A new sealed name for a row.
struct Renamed<'a> {
    row: &'a NamedRow,
    id: Uuid,
    owner: Uuid,
    sealed: &'a Sealed,
}

impl DocumentsModel {
    async fn rename(
        &self,
        connection: &mut PgConnection,
        schema: &str,
        keys: &mut KeyCache,
        renamed: Renamed<'_>,
        event: &StoredEvent,
    ) -> Result<(), ApplyError> {
        let Renamed {
            row,
            id,
            owner,
            sealed,
        } = renamed;
        // A shredded key: the account is gone, and so are its rows.
        let Some(name) = self
            .open_name(&mut *connection, keys, owner, row.field, sealed, event)
            .await?
        else {
            return Ok(());
        };
        sqlx::query(&format!(
            "update {schema}.{table} set name = $2 where {id_column} = $1",
            table = row.table,
            id_column = row.id_column
        ))
        .bind(id)
        .bind(name)
        .execute(connection)
        .await?;
        Ok(())
    }

    async fn apply_folder(
        &self,
        connection: &mut PgConnection,
        schema: &str,
        keys: &mut KeyCache,
        decoded: FolderEvent,
        event: &StoredEvent,
    ) -> Result<(), ApplyError> {
        match decoded {
            FolderEvent::FolderCreated(e) => {
                let Some(name) = self
                    .open_name(
                        &mut *connection,
                        keys,
                        e.owner,
                        FOLDER_NAME_FIELD,
                        &e.name,
                        event,
                    )
                    .await?
                else {
                    return Ok(());
                };
                sqlx::query(&format!(
                    "insert into {schema}.folders (folder_id, owner, parent_id, name, created_at)
                     values ($1, $2, $3, $4, $5) on conflict (folder_id) do nothing"
                ))
                .bind(e.folder_id)
                .bind(e.owner)
                .bind(e.parent)
                .bind(name)
                .bind(e.created_at)
                .execute(connection)
                .await?;
            }
            FolderEvent::FolderRenamed(e) => {
                let renamed = Renamed {
                    row: &FOLDER_NAME,
                    id: e.folder_id,
                    owner: e.owner,
                    sealed: &e.name,
                };
                self.rename(connection, schema, keys, renamed, event)
                    .await?;
            }
            FolderEvent::FolderMoved(e) => {
                sqlx::query(&format!(
                    "update {schema}.folders set parent_id = $2 where folder_id = $1"
                ))
                .bind(e.folder_id)
                .bind(e.to)
                .execute(connection)
                .await?;
            }
            FolderEvent::FolderDeleted(e) => {
                // Its documents go where the deletion says; the write side files or
                // deletes them too, and this keeps the list right until it has.
                let documents_go_to = match e.contents {
                    FolderContents::MoveUp => e.parent,
                    FolderContents::Refuse | FolderContents::Delete => None,
                };
                sqlx::query(&format!(
                    "update {schema}.documents set folder_id = $2 where folder_id = $1"
                ))
                .bind(e.folder_id)
                .bind(documents_go_to)
                .execute(&mut *connection)
                .await?;
                sqlx::query(&format!(
                    "delete from {schema}.folders where folder_id = $1"
                ))
                .bind(e.folder_id)
                .execute(connection)
                .await?;
            }
        }
        Ok(())
    }
}

impl DocumentsModel {
    async fn apply_topic(
        &self,
        connection: &mut PgConnection,
        schema: &str,
        keys: &mut KeyCache,
        decoded: TopicEvent,
        event: &StoredEvent,
    ) -> Result<(), ApplyError> {
        match decoded {
            TopicEvent::TopicCreated(e) => {
                let Some(name) = self
                    .topic_name(&mut *connection, keys, e.namespace, &e.name, event)
                    .await?
                else {
                    return Ok(());
                };
                sqlx::query(&format!(
                    "insert into {schema}.topics (topic_id, owner, name, created_at)
                     values ($1, $2, $3, $4) on conflict (topic_id) do nothing"
                ))
                .bind(e.topic_id)
                .bind(e.namespace.owner())
                .bind(name)
                .bind(e.created_at)
                .execute(connection)
                .await?;
            }
            TopicEvent::TopicRenamed(e) => {
                match (e.namespace, &e.name) {
                    (Namespace::Person(owner), TopicName::Sealed(sealed)) => {
                        let renamed = Renamed {
                            row: &TOPIC_NAME,
                            id: e.topic_id,
                            owner,
                            sealed,
                        };
                        self.rename(&mut *connection, schema, keys, renamed, event)
                            .await?;
                    }
                    (_, name) => {
                        let name = public_name(name, event)?;
                        sqlx::query(&format!(
                            "update {schema}.topics set name = $2 where topic_id = $1"
                        ))
                        .bind(e.topic_id)
                        .bind(name)
                        .execute(&mut *connection)
                        .await?;
                    }
                }
                let tagged = documents_with_topic(&mut *connection, schema, e.topic_id).await?;
                refresh_search(connection, schema, &tagged).await?;
            }
            TopicEvent::TopicDeleted(e) => {
                // Its documents lose it with it (document_topics cascades), and their
                // search vectors lose its name.
                let tagged = documents_with_topic(&mut *connection, schema, e.topic_id).await?;
                sqlx::query(&format!("delete from {schema}.topics where topic_id = $1"))
                    .bind(e.topic_id)
                    .execute(&mut *connection)
                    .await?;
                refresh_search(connection, schema, &tagged).await?;
            }
        }
        Ok(())
    }

    /// A new topic's name in the open; `None` when its owner's key is shredded.
    async fn topic_name(
        &self,
        connection: &mut PgConnection,
        keys: &mut KeyCache,
        namespace: Namespace,
        name: &TopicName,
        event: &StoredEvent,
    ) -> Result<Option<String>, ApplyError> {
        match (namespace, name) {
            (Namespace::Person(owner), TopicName::Sealed(sealed)) => {
                self.open_name(connection, keys, owner, TOPIC_NAME_FIELD, sealed, event)
                    .await
            }
            (_, name) => public_name(name, event).map(|name| Some(name.to_owned())),
        }
    }
}

/// A system topic's name; a sealed one here is an event the domain would never make.
fn public_name<'a>(name: &'a TopicName, event: &StoredEvent) -> Result<&'a str, ApplyError> {
    match name {
        TopicName::Public(text) => Ok(text),
        TopicName::Sealed(_) => Err(ApplyError::Poison {
            position: event.position,
            reason: "a sealed name for a system topic".into(),
        }),
    }
}

async fn documents_with_topic(
    connection: &mut PgConnection,
    schema: &str,
    topic_id: Uuid,
) -> Result<Vec<Uuid>, ApplyError> {
    Ok(sqlx::query_scalar(&format!(
        "select document_id from {schema}.document_topics where topic_id = $1"
    ))
    .bind(topic_id)
    .fetch_all(connection)
    .await?)
}

/// What search matches a document by: its name with `.`, `_`, `-` and `/` read as spaces
/// (weight A, so a name match ranks first), its topics' names (B) and its extracted text
/// (C), each as `simple` words and, for a document in another language, also as that
/// language's stems. An expression over a `documents` row aliased `d` (public so the
/// search benchmark seeds exactly these vectors).
pub fn search_vector(schema: &str) -> String {
    let name = name_words("d.name");
    let topics = topic_names(schema, "d.document_id");
    let body = format!("coalesce({}, '')", body_of(schema, "d.document_id"));
    let weighted = |config: &str| {
        format!(
            "setweight(to_tsvector({config}, {name}), 'A')
             || setweight(to_tsvector({config}, {topics}), 'B')
             || setweight(to_tsvector({config}, {body}), 'C')"
        )
    };
    format!(
        "{simple} || case when d.language = 'simple' then ''::tsvector
                          else {stemmed} end",
        simple = weighted("'simple'::regconfig"),
        stemmed = weighted("d.language::regconfig")
    )
}

/// A name as the words search reads in it: `.`, `_`, `-` and `/` as spaces.
fn name_words(name: &str) -> String {
    format!("regexp_replace({name}, '[-._/]+', ' ', 'g')")
}

/// A document's extracted text (null before extraction).
fn body_of(schema: &str, document_id: &str) -> String {
    format!("(select b.body from {schema}.document_bodies b where b.document_id = {document_id})")
}

/// The names of a document's topics, one text ('' for none).
fn topic_names(schema: &str, document_id: &str) -> String {
    format!(
        "coalesce((select string_agg(t.name, ' ') from {schema}.document_topics dt
                     join {schema}.topics t on t.topic_id = dt.topic_id
                    where dt.document_id = {document_id}), '')"
    )
}

/// `opened (folder_id, shared_name)`: the folders shared with the person `$1` and every
/// folder below them, with the shared folder's name; `readable (document_id,
/// via_folder)`: the documents shared with them, themselves or in an opened folder
/// (a document may come more than once). Common table expressions for `with recursive`.
fn shared_with_ctes(schema: &str) -> String {
    format!(
        "opened (folder_id, shared_name) as (
           select f.folder_id, f.name from {schema}.shares s
             join {schema}.folders f on f.folder_id = s.folder_id
            where s.grantee = $1
           union
           select f.folder_id, o.shared_name from {schema}.folders f
             join opened o on f.parent_id = o.folder_id
         ),
         readable (document_id, via_folder) as (
           select s.document_id, null::text from {schema}.shares s
            where s.grantee = $1 and s.document_id is not null
           union all
           -- Driven by the opened folders (usually none), never by the documents.
           select d.document_id, o.shared_name from opened o
             cross join lateral (select document_id from {schema}.documents
                                  where folder_id = o.folder_id) d
         )"
    )
}

/// `{name} (folder_id)`: the person `$1`'s folder `{folder}` and every folder below it
/// (nothing for another person's folder). A common table expression for `with recursive`.
fn folder_subtree(schema: &str, name: &str, folder: &str) -> String {
    format!(
        "{name} (folder_id) as (
           select folder_id from {schema}.folders where owner = $1 and folder_id = {folder}
           union all
           select f.folder_id from {schema}.folders f
             join {name} s on f.parent_id = s.folder_id
            where f.owner = $1
         )"
    )
}

/// Recomputes the search vectors of `documents` from their current names, topics and text.
async fn refresh_search(
    connection: &mut PgConnection,
    schema: &str,
    documents: &[Uuid],
) -> Result<(), ApplyError> {
    if documents.is_empty() {
        return Ok(());
    }
    sqlx::query(&format!(
        "update {schema}.documents d set search = {vector} where d.document_id = any($1)",
        vector = search_vector(schema)
    ))
    .bind(documents)
    .execute(connection)
    .await?;
    Ok(())
}

async fn apply_share(
    connection: &mut PgConnection,
    schema: &str,
    decoded: ShareEvent,
) -> Result<(), ApplyError> {
    match decoded {
        ShareEvent::ShareGranted(e) => {
            let (document_id, folder_id) = match e.target {
                ShareTarget::Document(id) => (Some(id), None),
                ShareTarget::Folder(id) => (None, Some(id)),
            };
            // Only while what it shares is still there (and still the sharer's).
            sqlx::query(&format!(
                "insert into {schema}.shares (share_id, owner, grantee, document_id, folder_id, granted_at)
                 select $1, $2, $3, $4, $5, $6
                  where exists (select 1 from {schema}.documents where document_id = $4 and owner = $2)
                     or exists (select 1 from {schema}.folders where folder_id = $5 and owner = $2)
                 on conflict (share_id) do nothing"
            ))
            .bind(e.share_id)
            .bind(e.owner)
            .bind(e.grantee)
            .bind(document_id)
            .bind(folder_id)
            .bind(e.granted_at)
            .execute(connection)
            .await?;
        }
        ShareEvent::ShareRevoked(e) => {
            sqlx::query(&format!("delete from {schema}.shares where share_id = $1"))
                .bind(e.share_id)
                .execute(connection)
                .await?;
        }
    }
    Ok(())
}

async fn delete(
    connection: &mut PgConnection,
    schema: &str,
    document_id: Uuid,
) -> Result<(), ApplyError> {
    sqlx::query(&format!(
        "delete from {schema}.documents where document_id = $1"
    ))
    .bind(document_id)
    .execute(connection)
    .await?;
    Ok(())
}

/// Queries the API and the workers run against the live model.
pub mod queries {
    use super::DocumentsModel;
    use crate::model::live_schema;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use chrono::{DateTime, Utc};
    use sqlx::PgPool;
    use uuid::Uuid;

    /// A document as the list shows it.
    #[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
    pub struct DocumentRow {
        pub document_id: Uuid,
        pub name: String,
        pub kind: String,
        pub status: String,
        pub size: i64,
        pub created_at: DateTime<Utc>,
        pub confirmed_at: Option<DateTime<Utc>>,
        pub sha256: Option<String>,
        pub folder_id: Option<Uuid>,
        /// Its topics (system topics and the owner's), by id.
        pub topics: Vec<Uuid>,
        /// Another of the owner's documents, older than this one, has the same content.
        pub duplicate: bool,
        /// Its classification run: extracting, classifying, classified, failed.
        pub classification: Option<String>,
        /// Why the run failed.
        pub classification_error: Option<String>,
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum SortBy {
        Date,
        Name,
        Size,
    }

    impl SortBy {
        /// The ordering expression, and how a cursor's text is read back as it.
        fn sql(self) -> (&'static str, &'static str) {
            match self {
                SortBy::Date => ("d.created_at", "timestamptz"),
                SortBy::Name => ("lower(d.name)", "text"),
                SortBy::Size => ("d.size", "bigint"),
            }
        }
    }

    /// Which page of whose documents, in what order.
    #[derive(Debug, Clone)]
    pub struct ListQuery {
        pub owner: Uuid,
        pub sort: SortBy,
        pub descending: bool,
        pub kind: Option<String>,
        pub status: Option<String>,
        pub folder: Option<FolderFilter>,
        /// Only documents with this topic.
        pub topic: Option<Uuid>,
        pub limit: i64,
        pub cursor: Option<Cursor>,
    }

    /// Which folder's documents a list shows (none: all of them).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum FolderFilter {
        /// Those in no folder.
        Top,
        /// Those directly in this folder.
        In(Uuid),
    }

    /// Where a page ends: the sort value and id of its last row (keyset paging).
    #[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    pub struct Cursor {
        #[serde(rename = "v")]
        value: String,
        #[serde(rename = "i")]
        id: Uuid,
    }

    impl Cursor {
        pub fn encode(&self) -> String {
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
        }

        /// `None` for anything this server did not hand out.
        pub fn decode(text: &str) -> Option<Self> {
            let raw = URL_SAFE_NO_PAD.decode(text).ok()?;
            serde_json::from_slice(&raw).ok()
        }
    }

    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Page {
        pub items: Vec<DocumentRow>,
        pub next_cursor: Option<Cursor>,
        pub total: i64,
    }

    pub(in crate::documents) fn columns(schema: &str) -> String {
        format!(
            "d.document_id, d.name, d.kind, d.status, d.size, d.created_at, d.confirmed_at, d.sha256, d.folder_id,
             d.classification, d.classification_error,
             array(select t.topic_id from {schema}.document_topics t
                    where t.document_id = d.document_id order by t.topic_id) as topics"
        )
    }

    fn duplicate_sql(schema: &str) -> String {
        format!(
            "(d.sha256 is not null and exists (
                select 1 from {schema}.documents o
                where o.owner = d.owner and o.sha256 = d.sha256 and o.document_id <> d.document_id
                  and (o.created_at, o.document_id) < (d.created_at, d.document_id)))"
        )
    }

    /// One page of a person's documents and how many match the filters in all.
    pub async fn page(pool: &PgPool, query: &ListQuery) -> Result<Page, sqlx::Error> {
        let schema = live_schema(DocumentsModel::NAME);
        let (expression, cast) = query.sort.sql();
        let (direction, comparison) = if query.descending {
            ("desc", "<")
        } else {
            ("asc", ">")
        };
        let filter = "d.owner = $1 and ($2::text is null or d.kind = $2) and ($3::text is null or d.status = $3)";
        let with_topic = format!(
            "and ($6::uuid is null or exists (select 1 from {schema}.document_topics t
                                             where t.document_id = d.document_id and t.topic_id = $6))"
        );
        let in_folder = match query.folder {
            None => "",
            Some(FolderFilter::Top) => "and d.folder_id is null",
            Some(FolderFilter::In(_)) => "and d.folder_id = $4",
        };
        let folder_id = match query.folder {
            Some(FolderFilter::In(folder_id)) => Some(folder_id),
            _ => None,
        };
        // Separate statements, not one with `$6 is null or …`: a prepared statement's
        // generic plan could not bound the index scan by the cursor, and deep pages got
        // slower.
        let after_cursor = match query.cursor {
            Some(_) => {
                format!("and ({expression}, d.document_id) {comparison} ($7::{cast}, $8::uuid)")
            }
            None => String::new(),
        };
        let sql = format!(
            "select {expression}::text as sort_key, {columns}, {duplicate} as duplicate
             from {schema}.documents d
             where {filter} {in_folder} {with_topic} {after_cursor}
             order by {expression} {direction}, d.document_id {direction}
             limit $5",
            columns = columns(&schema),
            duplicate = duplicate_sql(&schema)
        );
        let statement = sqlx::query_as::<_, SortKeyed>(&sql)
            .bind(query.owner)
            .bind(&query.kind)
            .bind(&query.status)
            .bind(folder_id)
            .bind(query.limit + 1)
            .bind(query.topic);
        let rows: Vec<(String, DocumentRow)> = match &query.cursor {
            Some(cursor) => statement.bind(cursor.value.clone()).bind(cursor.id),
            None => statement,
        }
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|keyed| (keyed.sort_key, keyed.row))
        .collect();
        // Per-person counts answer without a folder or topic; otherwise they are counted.
        let total_sql = match (query.folder, query.topic) {
            (None, None) => format!(
                "select coalesce(sum(n), 0)::bigint from {schema}.document_counts d where {filter}"
            ),
            _ => format!(
                "select count(*) from {schema}.documents d where {filter} {in_folder} {with_topic}"
            ),
        };
        // The same parameters as the page ($5 unused), so the filters read the same.
        let total = sqlx::query_scalar(&total_sql)
            .bind(query.owner)
            .bind(&query.kind)
            .bind(&query.status)
            .bind(folder_id)
            .bind(query.limit)
            .bind(query.topic)
            .fetch_one(pool)
            .await?;
        let more = rows.len() as i64 > query.limit;
        let mut items: Vec<(String, DocumentRow)> = rows;
        items.truncate(usize::try_from(query.limit).unwrap_or(0));
        let next_cursor = match (more, items.last()) {
            (true, Some((value, row))) => Some(Cursor {
                value: value.clone(),
                id: row.document_id,
            }),
            _ => None,
        };
        Ok(Page {
            items: items.into_iter().map(|(_, row)| row).collect(),
            next_cursor,
            total,
        })
    }

    #[derive(sqlx::FromRow)]
    struct SortKeyed {
        sort_key: String,
        #[sqlx(flatten)]
        row: DocumentRow,
    }

    /// A folder as the tree shows it.
    #[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
    pub struct FolderRow {
        #[serde(rename = "id")]
        pub folder_id: Uuid,
        pub parent_id: Option<Uuid>,
        pub name: String,
        pub created_at: DateTime<Utc>,
    }

    /// Every folder of `owner`, by name (case aside); the tree is built from the parent
    /// ids. Sorted here: `lower()` on every row cost Postgres 13 ms at 5,000 folders.
    pub async fn folders(pool: &PgPool, owner: Uuid) -> Result<Vec<FolderRow>, sqlx::Error> {
        let schema = live_schema(DocumentsModel::NAME);
        let mut rows: Vec<FolderRow> = sqlx::query_as(&format!(
            "select folder_id, parent_id, name, created_at from {schema}.folders where owner = $1"
        ))
        .bind(owner)
        .fetch_all(pool)
        .await?;
        rows.sort_by_cached_key(|row| (row.name.to_lowercase(), row.folder_id));
        Ok(rows)
    }

    /// `owner`'s documents filed in folder `folder_id` or any folder below it, with the
    /// folder each is in; nothing for another person's folder.
    pub async fn filed_in_subtree(
        pool: &PgPool,
        owner: Uuid,
        folder_id: Uuid,
    ) -> Result<Vec<(Uuid, Uuid)>, sqlx::Error> {
        let schema = live_schema(DocumentsModel::NAME);
        sqlx::query_as(&format!(
            "with recursive {subtree}
             select d.document_id, d.folder_id from {schema}.documents d
               join subtree s on d.folder_id = s.folder_id
              where d.owner = $1",
            subtree = super::folder_subtree(&schema, "subtree", "$2")
        ))
        .bind(owner)
        .bind(folder_id)
        .fetch_all(pool)
        .await
    }

    /// One of `owner`'s documents.
    pub async fn find(
        pool: &PgPool,
        owner: Uuid,
        document_id: Uuid,
    ) -> Result<Option<DocumentRow>, sqlx::Error> {
        let schema = live_schema(DocumentsModel::NAME);
        sqlx::query_as(&format!(
            "select {columns}, {duplicate} as duplicate from {schema}.documents d
             where d.owner = $1 and d.document_id = $2",
            columns = columns(&schema),
            duplicate = duplicate_sql(&schema)
        ))
        .bind(owner)
        .bind(document_id)
        .fetch_optional(pool)
        .await
    }

    /// A topic as a person sees it.
    #[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
    pub struct TopicRow {
        #[serde(rename = "id")]
        pub topic_id: Uuid,
        pub name: String,
        /// Everyone's (managed by admins) rather than the person's own.
        pub system: bool,
        /// How many of the person's documents have it.
        pub documents: i64,
        pub created_at: DateTime<Utc>,
    }

    /// The system topics and `owner`'s own, by name; `None` as owner: the system topics
    /// alone (with no documents counted).
    pub async fn topics(pool: &PgPool, owner: Option<Uuid>) -> Result<Vec<TopicRow>, sqlx::Error> {
        let schema = live_schema(DocumentsModel::NAME);
        sqlx::query_as(&format!(
            "select t.topic_id, t.name, t.owner is null as system, t.created_at,
                    (select count(*) from {schema}.document_topics dt
                       join {schema}.documents d on d.document_id = dt.document_id
                      where dt.topic_id = t.topic_id and d.owner = $1) as documents
               from {schema}.topics t
              where t.owner is null or t.owner = $1
              order by t.owner is not null, lower(t.name), t.topic_id"
        ))
        .bind(owner)
        .fetch_all(pool)
        .await
    }

    /// The names of the topics a document of `owner` may have: the system's and theirs.
    pub async fn topic_names(
        pool: &PgPool,
        owner: Uuid,
    ) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
        let schema = live_schema(DocumentsModel::NAME);
        sqlx::query_as(&format!(
            "select topic_id, name from {schema}.topics
              where owner is null or owner = $1 order by topic_id"
        ))
        .bind(owner)
        .fetch_all(pool)
        .await
    }

    /// A share as its owner lists it.
    #[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
    pub struct ShareRow {
        pub share_id: Uuid,
        pub grantee: Uuid,
        pub document_id: Option<Uuid>,
        pub folder_id: Option<Uuid>,
        /// The shared document's or folder's name.
        pub name: String,
        pub granted_at: DateTime<Utc>,
    }

    /// The shares `owner` granted, newest first; with `target`, only those of that
    /// document or folder.
    pub async fn shares_by(
        pool: &PgPool,
        owner: Uuid,
        target: Option<Uuid>,
    ) -> Result<Vec<ShareRow>, sqlx::Error> {
        let schema = live_schema(DocumentsModel::NAME);
        sqlx::query_as(&format!(
            "select s.share_id, s.grantee, s.document_id, s.folder_id,
                    coalesce(d.name, f.name) as name, s.granted_at
               from {schema}.shares s
               left join {schema}.documents d on d.document_id = s.document_id
               left join {schema}.folders f on f.folder_id = s.folder_id
              where s.owner = $1
                and ($2::uuid is null or s.document_id = $2 or s.folder_id = $2)
              order by s.granted_at desc, s.share_id"
        ))
        .bind(owner)
        .bind(target)
        .fetch_all(pool)
        .await
    }

    /// A document someone shared with the reader.
    #[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
    pub struct SharedRow {
        pub owner: Uuid,
        /// The shared folder it is in, when it was shared with its folder.
        pub via_folder: Option<String>,
        #[sqlx(flatten)]
        pub document: DocumentRow,
    }

    /// The confirmed documents shared with `grantee` (themselves, or in a shared folder or
    /// below it), newest first, at most `limit`.
    pub async fn shared_with(
        pool: &PgPool,
        grantee: Uuid,
        limit: i64,
    ) -> Result<Vec<SharedRow>, sqlx::Error> {
        let schema = live_schema(DocumentsModel::NAME);
        sqlx::query_as(&format!(
            "with recursive {shared}
             select distinct on (d.created_at, d.document_id)
                    d.owner, r.via_folder, {columns}, false as duplicate
               from readable r
               join {schema}.documents d on d.document_id = r.document_id
              where d.status = 'confirmed'
              order by d.created_at desc, d.document_id desc, r.via_folder nulls first
              limit $2",
            shared = super::shared_with_ctes(&schema),
            columns = columns(&schema)
        ))
        .bind(grantee)
        .bind(limit)
        .fetch_all(pool)
        .await
    }

    /// Any live document by id, with its owner: only after the caller was found allowed
    /// to read it (a grantee, checked on the write side). Whether the owner keeps another
    /// copy is not the reader's business (`duplicate` is false).
    pub async fn find_readable(
        pool: &PgPool,
        document_id: Uuid,
    ) -> Result<Option<(Uuid, DocumentRow)>, sqlx::Error> {
        let schema = live_schema(DocumentsModel::NAME);
        let row: Option<SharedRow> = sqlx::query_as(&format!(
            "select d.owner, null::text as via_folder, {columns}, false as duplicate
               from {schema}.documents d where d.document_id = $1",
            columns = columns(&schema)
        ))
        .bind(document_id)
        .fetch_optional(pool)
        .await?;
        Ok(row.map(|row| (row.owner, row.document)))
    }

    /// A person's used bytes (0 before their first confirmed upload).
    pub async fn used_bytes(pool: &PgPool, owner: Uuid) -> Result<i64, sqlx::Error> {
        let schema = live_schema(DocumentsModel::NAME);
        Ok(sqlx::query_scalar(&format!(
            "select used_bytes from {schema}.usage where owner = $1"
        ))
        .bind(owner)
        .fetch_optional(pool)
        .await?
        .unwrap_or(0))
    }

    /// Pending uploads whose time was up at `now`, oldest first.
    pub async fn expired_pending(
        pool: &PgPool,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<Uuid>, sqlx::Error> {
        let schema = live_schema(DocumentsModel::NAME);
        sqlx::query_scalar(&format!(
            "select document_id from {schema}.documents
             where status = 'pending' and expires_at <= $1 order by expires_at limit $2"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(pool)
        .await
    }

    /// Which of `keys` belong to a live document.
    pub async fn owned_keys(pool: &PgPool, keys: &[String]) -> Result<Vec<String>, sqlx::Error> {
        let schema = live_schema(DocumentsModel::NAME);
        sqlx::query_scalar(&format!(
            "select storage_key from {schema}.documents where storage_key = any($1)"
        ))
        .bind(keys)
        .fetch_all(pool)
        .await
    }
}
