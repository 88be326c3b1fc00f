//! Full-text search over the documents a reader owns or that are shared with them
//! (ORG-4): the statement, and the way it takes to the newest matches.
//!
//! Ranking every match is what makes common words slow (`ts_rank` reads each match's
//! whole vector), so only the newest [`SEARCH_CANDIDATES`] matches are ranked. How to find
//! them cheaply depends on how many documents match, estimated from the column's
//! statistics ([`WordShares`]), and is chosen here rather than by the planner, which does
//! not count what testing a row's vector costs ([`Way`]).

use super::queries::{columns, DocumentRow};
use super::word_shares::WordShares;
use super::DocumentsModel;
use crate::model::live_schema;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

/// Marks the start and end of a match in a raw snippet (private-use characters, taken
/// out of the text first, so they cannot come from a document).
pub const HIT_START: char = '\u{E000}';
pub const HIT_END: char = '\u{E001}';

/// What a reader searches for, and where.
#[derive(Debug, Clone)]
pub struct SearchQuery {
    pub reader: Uuid,
    /// `websearch_to_tsquery` syntax: words, "a phrase", `or`, `-word`.
    pub text: String,
    /// The Postgres text config the words are also stemmed with (besides `simple`).
    pub language: String,
    pub kind: Option<String>,
    pub topic: Option<Uuid>,
    /// One of the reader's folders: documents in it or below it.
    pub folder: Option<Uuid>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    pub snippets: bool,
    pub limit: i64,
    pub offset: i64,
}

impl SearchQuery {
    fn filtered(&self) -> bool {
        self.kind.is_some()
            || self.topic.is_some()
            || self.folder.is_some()
            || self.created_from.is_some()
            || self.created_before.is_some()
    }
}

/// One search result.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SearchHit {
    pub owner: Uuid,
    #[sqlx(flatten)]
    pub document: DocumentRow,
    /// Words around the matches, each match between [`HIT_START`] and [`HIT_END`];
    /// plain text otherwise (escape it before showing it as HTML).
    pub snippet: Option<String>,
}

/// A result, and how many of the reader's own documents were ranked for it.
#[derive(sqlx::FromRow)]
struct SearchRow {
    #[sqlx(flatten)]
    hit: SearchHit,
    own_candidates: i64,
}

/// How many of the newest matches (of the reader's own, and of those shared with them)
/// are ranked at least: enough for the page asked for.
pub const SEARCH_CANDIDATES: i64 = 200;

/// The way to the newest matches of the reader's own documents.
///
/// Timed over 200,000 documents for word pairs from 0.3 % to 30 % of them (candidates
/// and ranking, psql, warm): collecting every match from the GIN index grows with the
/// matches (7 ms at 0.5 %, 12 ms at 3 %, 23 ms at 10 %, 480 ms at 30 %, where its bitmap
/// goes lossy); walking the date index backwards shrinks with them (it tests about
/// `200 / share` vectors: 180 ms at 0.5 %, 31 ms at 3 %, 11 ms at 10 %); the window costs
/// 10–13 ms from 3 % to 10 %, the GIN index's bitmap ANDed with the date index's
/// few thousand newest rows, so few rows are fetched.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Way {
    /// Every match, from the GIN index: for words in few documents.
    AllMatches,
    /// The matches among the reader's `documents` newest documents (from the GIN index
    /// and the date index together), enough to hold the candidates several times over if
    /// the estimate holds; every match again if it did not.
    Window { documents: i64 },
    /// The date index backwards, testing each document's vector until enough match: for
    /// words in many documents.
    Newest,
}

/// Below this share of documents matching, every match is collected ([`Way`]).
pub const WINDOW_FROM_SHARE: f64 = 0.03;
/// From this share on, the date index is walked ([`Way`]).
pub const NEWEST_FROM_SHARE: f64 = 0.10;
/// How many times the candidates needed the window is expected to hold.
pub const WINDOW_MARGIN: f64 = 3.0;

impl Way {
    /// The way for a search expected to match `share` of the documents and needing
    /// `needed` candidates. A filtered search never takes the window: the estimate does
    /// not know what the filters leave.
    pub fn for_share(share: f64, needed: i64, filtered: bool) -> Self {
        if share >= NEWEST_FROM_SHARE {
            Way::Newest
        } else if share >= WINDOW_FROM_SHARE && !filtered {
            Way::Window {
                // share ≥ 3 %, so at most 100 × needed: no overflow.
                documents: (WINDOW_MARGIN * needed as f64 / share).ceil() as i64,
            }
        } else {
            Way::AllMatches
        }
    }

    /// The planner switch turned off so that Postgres takes this way.
    fn switched_off(self) -> &'static str {
        match self {
            Way::AllMatches | Way::Window { .. } => "enable_indexscan",
            Way::Newest => "enable_bitmapscan",
        }
    }
}

/// The tsquery of `text` (a parameter) as the search reads it: the words as they are,
/// or stemmed in `language`; written once when both read the same.
pub fn tsquery_sql(text: &str, language: &str) -> String {
    let simple = format!("websearch_to_tsquery('simple', {text})");
    let stemmed = format!("websearch_to_tsquery({language}::regconfig, {text})");
    format!("(case when {stemmed} = {simple} then {simple} else {simple} || {stemmed} end)")
}

/// The SQL `search` runs, with parameters $1 reader, $2 text, $3 language, $4 kind,
/// $5 topic, $6 folder, $7 from, $8 before, $9 limit, $10 offset, $11 candidates,
/// $12 the window's start (null for none) (public so the benchmark can run the very same
/// statement in psql). Besides each hit, `own_candidates` says how many of the reader's
/// own matches were ranked.
pub fn search_sql(schema: &str, snippets: bool) -> String {
    let tsquery = tsquery_sql("$2", "$3");
    let snippet = if snippets {
        format!(
            "ts_headline(p.language::regconfig,
               translate({name} || ' · ' || p.topic_names
                         || ' · ' || coalesce(p.body, ''),
                         '\u{E000}\u{E001}', ''),
               {tsquery},
               'StartSel=\u{E000}, StopSel=\u{E001}, MaxWords=24, MinWords=12, MaxFragments=2, FragmentDelimiter=\" … \"')",
            name = super::name_words("p.name")
        )
    } else {
        "null::text".to_owned()
    };
    format!(
        "with recursive {shared},
         {within},
         own (document_id) as (
           select d.document_id from {schema}.documents d
            where d.owner = $1 and {matching}
              and ($12::timestamptz is null or d.created_at >= $12)
            order by d.created_at desc limit $11
         ),
         candidates (document_id) as (
           select document_id from own
           union
           -- Driven by the (few) shared ids, never by the matches.
           (select d.document_id from (select distinct document_id from readable) s
              cross join lateral (
                select d.document_id, d.created_at from {schema}.documents d
                 where d.document_id = s.document_id and {matching}) d
             order by d.created_at desc limit $11)
         ),
         page as (
           select d.owner, d.language, {body} as body, {columns}, false as duplicate,
                  {topic_names} as topic_names,
                  ts_rank(d.search, {tsquery}) as rank
             from {schema}.documents d
             join candidates c on c.document_id = d.document_id
            order by rank desc, d.created_at desc, d.document_id
            limit $9 offset $10
         )
         select p.owner, p.document_id, p.name, p.kind, p.status, p.size, p.created_at,
                p.confirmed_at, p.sha256, p.folder_id, p.topics, p.duplicate,
                p.classification, p.classification_error,
                {snippet} as snippet,
                (select count(*) from own) as own_candidates
           from page p
          order by p.rank desc, p.created_at desc, p.document_id",
        matching = format!(
            "d.search @@ {tsquery}
              and d.status = 'confirmed'
              and ($4::text is null or d.kind = $4)
              and ($5::uuid is null or exists (
                    select 1 from {schema}.document_topics t
                     where t.document_id = d.document_id and t.topic_id = $5))
              and ($6::uuid is null or d.folder_id in (select folder_id from within))
              and ($7::timestamptz is null or d.created_at >= $7)
              and ($8::timestamptz is null or d.created_at < $8)"
        ),
        shared = super::shared_with_ctes(schema),
        within = super::folder_subtree(schema, "within", "$6"),
        topic_names = super::topic_names(schema, "d.document_id"),
        body = super::body_of(schema, "d.document_id"),
        columns = columns(schema),
    )
}

/// The best-ranked confirmed documents the reader owns or that are shared with them,
/// matching `query`, best first (among the newest [`SEARCH_CANDIDATES`] matches, or as
/// many as the page needs), and whether there are more. Sent unprepared, so each query
/// is planned for its own words and window (a generic plan would use one way for all).
pub async fn search(
    pool: &PgPool,
    shares: &WordShares,
    query: &SearchQuery,
) -> Result<(Vec<SearchHit>, bool), sqlx::Error> {
    let schema = live_schema(DocumentsModel::NAME);
    let sql = search_sql(&schema, query.snippets);
    let needed = SEARCH_CANDIDATES.max(query.offset + query.limit + 1);
    let share = shares
        .matching(pool, &schema, &query.text, &query.language)
        .await?;
    let way = Way::for_share(share, needed, query.filtered());
    let window_start = match way {
        Way::Window { documents } => newest_start(pool, &schema, query.reader, documents).await?,
        Way::AllMatches | Way::Newest => None,
    };
    let mut rows = run(pool, &sql, query, needed, way, window_start).await?;
    let found = rows.first().map_or(0, |row| row.own_candidates);
    if window_start.is_some() && found < needed {
        // Fewer matches among the newest documents than the words' shares promised (the
        // words go together less often than chance): every match, then.
        tracing::debug!(share, found, "search window fell short");
        rows = run(pool, &sql, query, needed, Way::AllMatches, None).await?;
    }
    let more = rows.len() as i64 > query.limit;
    let hits = rows
        .into_iter()
        .take(usize::try_from(query.limit).unwrap_or(0))
        .map(|row| row.hit)
        .collect();
    Ok((hits, more))
}

/// When the reader's `documents`th newest document was created (any status); `None`
/// when they have fewer. Read from the date index alone.
async fn newest_start(
    pool: &PgPool,
    schema: &str,
    owner: Uuid,
    documents: i64,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar(&format!(
        "select created_at from {schema}.documents where owner = $1
          order by created_at desc offset $2 limit 1"
    ))
    .bind(owner)
    .bind(documents - 1)
    .fetch_optional(pool)
    .await
}

async fn run(
    pool: &PgPool,
    sql: &str,
    query: &SearchQuery,
    needed: i64,
    way: Way,
    window_start: Option<DateTime<Utc>>,
) -> Result<Vec<SearchRow>, sqlx::Error> {
    let mut transaction = pool.begin().await?;
    // The way, and no parallel workers: starting them cost 5–8 ms of a 15–20 ms search
    // for a few thousand matches (measured on 2 cores), and they take cores from the
    // searches of others.
    sqlx::query(
        "select set_config($1, 'off', true), set_config('max_parallel_workers_per_gather', '0', true)",
    )
    .bind(way.switched_off())
    .execute(&mut *transaction)
    .await?;
    let rows = sqlx::query_as(sql)
        .bind(query.reader)
        .bind(&query.text)
        .bind(&query.language)
        .bind(&query.kind)
        .bind(query.topic)
        .bind(query.folder)
        .bind(query.created_from)
        .bind(query.created_before)
        .bind(query.limit + 1)
        .bind(query.offset)
        .bind(needed)
        .bind(window_start)
        .persistent(false)
        .fetch_all(&mut *transaction)
        .await?;
    transaction.commit().await?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rare_words_collect_every_match() {
        assert_eq!(Way::for_share(0.0, 200, false), Way::AllMatches);
        assert_eq!(Way::for_share(0.029, 200, false), Way::AllMatches);
    }

    #[test]
    fn middling_words_look_among_enough_newest_documents() {
        assert_eq!(
            Way::for_share(0.0625, 200, false),
            Way::Window { documents: 9_600 }
        );
        // A deeper page needs more candidates, so a wider window.
        assert_eq!(
            Way::for_share(0.03125, 1_000, false),
            Way::Window { documents: 96_000 }
        );
    }

    #[test]
    fn common_words_walk_the_dates() {
        assert_eq!(Way::for_share(0.1, 200, false), Way::Newest);
        assert_eq!(Way::for_share(1.0, 200, true), Way::Newest);
    }

    #[test]
    fn filters_never_take_the_window() {
        assert_eq!(Way::for_share(0.05, 200, true), Way::AllMatches);
    }
}
