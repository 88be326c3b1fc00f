//! The offline classifier's model (AI-2): per person, what their labelled documents say
//! about each of their topics — the counts a multinomial naive Bayes needs. A document is
//! labelled when it has topics (set by hand or by a classification); its words come from
//! its extracted text, opened from the side store. Learned from each person's own
//! documents only, and rebuilt like any other model by `docuvault replay classifier`.
//!
//! Tables (see `classifier::ModelView` for what they feed):
//! - `documents`: each document's terms and topics, so a change of either can be undone
//!   exactly.
//! - `people`: labelled documents and distinct terms (vocabulary) per person.
//! - `vocabulary`: per person and term, how many labelled documents have it.
//! - `topics`: per person and topic, labelled documents and their total terms.
//! - `topic_terms`: per person, topic and term, the term's count in those documents.

use crate::model::{decode, extracted_text, live_schema, KeyCache};
use crate::model::{ApplyError, ReadModel};
use classifier::Terms;
use crypto::KeyRing;
use domain::document::DocumentEvent;
use domain::user::UserEvent;
use eventlog::StoredEvent;
use futures::future::BoxFuture;
use sqlx::PgConnection;
use std::collections::{BTreeSet, HashMap};
use uuid::Uuid;

pub struct ClassifierModel {
    keys: KeyRing,
}

impl ClassifierModel {
    pub const NAME: &'static str = "classifier";

    pub fn new(keys: KeyRing) -> Self {
        Self { keys }
    }
}

impl ReadModel for ClassifierModel {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["document", "user"]
    }

    fn schema_version(&self) -> i32 {
        1
    }

    fn tables_sql(&self, schema: &str) -> String {
        format!(
            "create table {schema}.documents (
               document_id uuid primary key,
               owner uuid not null,
               terms text[] not null default '{{}}',
               counts bigint[] not null default '{{}}',
               topics uuid[] not null default '{{}}'
             );
             create table {schema}.people (
               owner uuid primary key,
               documents bigint not null,
               vocabulary bigint not null
             );
             create table {schema}.vocabulary (
               owner uuid not null,
               term text not null,
               documents bigint not null,
               primary key (owner, term)
             );
             create table {schema}.topics (
               owner uuid not null,
               topic_id uuid not null,
               documents bigint not null,
               total_terms bigint not null,
               primary key (owner, topic_id)
             );
             create table {schema}.topic_terms (
               owner uuid not null,
               term text not null,
               topic_id uuid not null,
               count bigint not null,
               primary key (owner, term, topic_id)
             );"
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
                    "user" => {
                        if let UserEvent::UserDeleted(deleted) = decode(event)? {
                            keys.insert(deleted.user_id, None);
                            for table in
                                ["documents", "people", "vocabulary", "topics", "topic_terms"]
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

/// A document as the model keeps it.
#[derive(Debug, Default, Clone)]
struct Labelled {
    terms: Vec<String>,
    counts: Vec<i64>,
    topics: BTreeSet<Uuid>,
}

impl Labelled {
    fn from_terms(terms: &Terms, topics: BTreeSet<Uuid>) -> Self {
        let (terms, counts) = terms
            .iter()
            .map(|(term, count)| (term.to_owned(), i64::from(count)))
            .unzip();
        Self {
            terms,
            counts,
            topics,
        }
    }

    fn total(&self) -> i64 {
        self.counts.iter().sum()
    }
}

impl ClassifierModel {
    async fn apply_document(
        &self,
        connection: &mut PgConnection,
        schema: &str,
        keys: &mut KeyCache,
        decoded: DocumentEvent,
        event: &StoredEvent,
    ) -> Result<(), ApplyError> {
        match decoded {
            DocumentEvent::TextExtracted(e) => {
                // None: the account is gone (and so is its model), or the document was
                // deleted after.
                let Some(text) =
                    extracted_text(&self.keys, &mut *connection, keys, &e, event).await?
                else {
                    return Ok(());
                };
                let before = load(&mut *connection, schema, e.document_id).await?;
                let topics = before
                    .as_ref()
                    .map(|b| b.topics.clone())
                    .unwrap_or_default();
                let after = Labelled::from_terms(&classifier::terms(&text), topics);
                if let Some(before) = &before {
                    count(&mut *connection, schema, e.owner, before, -1).await?;
                }
                count(&mut *connection, schema, e.owner, &after, 1).await?;
                store(connection, schema, e.document_id, e.owner, &after).await?;
            }
            DocumentEvent::DocumentTopicsSet(e) => {
                relabel(connection, schema, e.document_id, e.owner, e.topics).await?;
            }
            DocumentEvent::DocumentClassified(e) => {
                relabel(connection, schema, e.document_id, e.owner, e.topics).await?;
            }
            DocumentEvent::DocumentDeleted(e) => {
                forget(connection, schema, e.document_id, e.owner).await?;
            }
            _ => {}
        }
        Ok(())
    }
}

async fn load(
    connection: &mut PgConnection,
    schema: &str,
    document_id: Uuid,
) -> Result<Option<Labelled>, ApplyError> {
    let row: Option<(Vec<String>, Vec<i64>, Vec<Uuid>)> = sqlx::query_as(&format!(
        "select terms, counts, topics from {schema}.documents where document_id = $1"
    ))
    .bind(document_id)
    .fetch_optional(connection)
    .await?;
    Ok(row.map(|(terms, counts, topics)| Labelled {
        terms,
        counts,
        topics: topics.into_iter().collect(),
    }))
}

async fn store(
    connection: &mut PgConnection,
    schema: &str,
    document_id: Uuid,
    owner: Uuid,
    document: &Labelled,
) -> Result<(), ApplyError> {
    let topics: Vec<Uuid> = document.topics.iter().copied().collect();
    sqlx::query(&format!(
        "insert into {schema}.documents (document_id, owner, terms, counts, topics)
         values ($1, $2, $3, $4, $5)
         on conflict (document_id) do update
           set terms = excluded.terms, counts = excluded.counts, topics = excluded.topics"
    ))
    .bind(document_id)
    .bind(owner)
    .bind(&document.terms)
    .bind(&document.counts)
    .bind(&topics)
    .execute(connection)
    .await?;
    Ok(())
}

/// The document's topics changed: its counts move from the old topics to the new.
async fn relabel(
    connection: &mut PgConnection,
    schema: &str,
    document_id: Uuid,
    owner: Uuid,
    topics: BTreeSet<Uuid>,
) -> Result<(), ApplyError> {
    let before = load(&mut *connection, schema, document_id)
        .await?
        .unwrap_or_default();
    let after = Labelled {
        topics,
        ..before.clone()
    };
    count(&mut *connection, schema, owner, &before, -1).await?;
    count(&mut *connection, schema, owner, &after, 1).await?;
    store(connection, schema, document_id, owner, &after).await
}

async fn forget(
    connection: &mut PgConnection,
    schema: &str,
    document_id: Uuid,
    owner: Uuid,
) -> Result<(), ApplyError> {
    if let Some(before) = load(&mut *connection, schema, document_id).await? {
        count(&mut *connection, schema, owner, &before, -1).await?;
    }
    sqlx::query(&format!(
        "delete from {schema}.documents where document_id = $1"
    ))
    .bind(document_id)
    .execute(connection)
    .await?;
    Ok(())
}

/// Adds (`sign` 1) or takes away (-1) a labelled document's counts: its terms under each
/// of its topics, and to its owner's documents and vocabulary. An unlabelled document, or
/// one without words (yet), counts for nothing.
async fn count(
    connection: &mut PgConnection,
    schema: &str,
    owner: Uuid,
    document: &Labelled,
    sign: i64,
) -> Result<(), ApplyError> {
    if document.topics.is_empty() || document.terms.is_empty() {
        return Ok(());
    }
    let topics: Vec<Uuid> = document.topics.iter().copied().collect();
    sqlx::query(&format!(
        "insert into {schema}.topic_terms (owner, term, topic_id, count)
         select $1, w.term, t.topic_id, w.n * $5
           from unnest($2::uuid[]) t (topic_id)
          cross join unnest($3::text[], $4::bigint[]) w (term, n)
         on conflict (owner, term, topic_id)
           do update set count = {schema}.topic_terms.count + excluded.count"
    ))
    .bind(owner)
    .bind(&topics)
    .bind(&document.terms)
    .bind(&document.counts)
    .bind(sign)
    .execute(&mut *connection)
    .await?;
    sqlx::query(&format!(
        "insert into {schema}.topics (owner, topic_id, documents, total_terms)
         select $1, t.topic_id, $3, $4 * $3 from unnest($2::uuid[]) t (topic_id)
         on conflict (owner, topic_id) do update
           set documents = {schema}.topics.documents + excluded.documents,
               total_terms = {schema}.topics.total_terms + excluded.total_terms"
    ))
    .bind(owner)
    .bind(&topics)
    .bind(sign)
    .bind(document.total())
    .execute(&mut *connection)
    .await?;
    // Terms that reach a person's first labelled document, or leave their last one, change
    // the vocabulary.
    let (new_terms,): (i64,) = sqlx::query_as(&format!(
        "with changed as (
           insert into {schema}.vocabulary (owner, term, documents)
           select $1, term, $3 from unnest($2::text[]) term
           on conflict (owner, term) do update
             set documents = {schema}.vocabulary.documents + excluded.documents
           returning documents, (xmax = 0) as inserted
         )
         select (count(*) filter (where inserted))
              - (count(*) filter (where not inserted and documents = 0))
           from changed"
    ))
    .bind(owner)
    .bind(&document.terms)
    .bind(sign)
    .fetch_one(&mut *connection)
    .await?;
    sqlx::query(&format!(
        "insert into {schema}.people (owner, documents, vocabulary) values ($1, $2, $3)
         on conflict (owner) do update
           set documents = {schema}.people.documents + excluded.documents,
               vocabulary = {schema}.people.vocabulary + excluded.vocabulary"
    ))
    .bind(owner)
    .bind(sign)
    .bind(new_terms)
    .execute(&mut *connection)
    .await?;
    if sign < 0 {
        for (table, empty) in [
            ("topic_terms", "count <= 0"),
            ("topics", "documents <= 0"),
            ("vocabulary", "documents <= 0"),
        ] {
            sqlx::query(&format!(
                "delete from {schema}.{table} where owner = $1 and {empty}"
            ))
            .bind(owner)
            .execute(&mut *connection)
            .await?;
        }
    }
    Ok(())
}

pub mod queries {
    use super::*;
    use classifier::{ModelView, TopicStats};
    use sqlx::PgPool;

    /// What `owner`'s model says about `terms`: the counts a classification needs.
    pub async fn view(pool: &PgPool, owner: Uuid, terms: &Terms) -> Result<ModelView, sqlx::Error> {
        let schema = live_schema(ClassifierModel::NAME);
        let person: Option<(i64, i64)> = sqlx::query_as(&format!(
            "select documents, vocabulary from {schema}.people where owner = $1"
        ))
        .bind(owner)
        .fetch_optional(pool)
        .await?;
        let (documents, vocabulary) = person.unwrap_or_default();
        let topics: Vec<(Uuid, i64, i64)> = sqlx::query_as(&format!(
            "select topic_id, documents, total_terms from {schema}.topics
              where owner = $1 and documents > 0"
        ))
        .bind(owner)
        .fetch_all(pool)
        .await?;
        let words: Vec<String> = terms.iter().map(|(term, _)| term.to_owned()).collect();
        let counts: Vec<(Uuid, String, i64)> = sqlx::query_as(&format!(
            "select topic_id, term, count from {schema}.topic_terms
              where owner = $1 and term = any($2)"
        ))
        .bind(owner)
        .bind(&words)
        .fetch_all(pool)
        .await?;
        let mut view = ModelView {
            documents: clamp(documents),
            vocabulary: u64::try_from(vocabulary).unwrap_or(0),
            topics: topics
                .into_iter()
                .map(|(topic_id, documents, total_terms)| {
                    let stats = TopicStats {
                        documents: clamp(documents),
                        total_terms: u64::try_from(total_terms).unwrap_or(0),
                        term_counts: HashMap::new(),
                    };
                    (topic_id, stats)
                })
                .collect(),
        };
        for (topic_id, term, count) in counts {
            if let Some(stats) = view.topics.get_mut(&topic_id) {
                stats.term_counts.insert(term, clamp(count));
            }
        }
        Ok(view)
    }

    fn clamp(value: i64) -> u32 {
        u32::try_from(value.max(0)).unwrap_or(u32::MAX)
    }
}
