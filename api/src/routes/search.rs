//! Full-text search (ORG-4): over the names, topics and extracted text of your documents
//! and of those shared with you, nothing else; ranked, with highlighted snippets that are
//! HTML-escaped here, so the SPA can show them as they are.

use crate::auth::Authenticated;
use crate::extract::ConsistencyToken;
use crate::routes::documents::DocumentView;
use crate::{ApiError, AppState};
use axum::extract::{Query, State};
use axum::Json;
use chrono::{DateTime, Utc};
use projections::documents::search::{self as document_search, SearchQuery, HIT_END, HIT_START};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

const MODEL: &str = projections::documents::DocumentsModel::NAME;

/// The Postgres text configs a search may stem with (besides `simple`, always used).
const LANGUAGES: &[&str] = &[
    "simple",
    "danish",
    "dutch",
    "english",
    "finnish",
    "french",
    "german",
    "hungarian",
    "italian",
    "norwegian",
    "portuguese",
    "russian",
    "spanish",
    "swedish",
    "turkish",
];

/// The longest query accepted, in characters.
const MAX_QUERY_CHARS: usize = 200;
/// How far down the results a page may start.
const MAX_OFFSET: i64 = 1000;

#[derive(Deserialize, IntoParams)]
pub struct SearchParams {
    /// Words, `"a phrase"`, `or`, `-word` (as in web search engines).
    pub q: Option<String>,
    /// The language your words are also stemmed in: `english` (default), `german`, …, or
    /// `simple` for none.
    pub lang: Option<String>,
    /// `pdf`, `docx`, `text` or `markdown`.
    pub kind: Option<String>,
    /// Only documents with this topic.
    pub topic: Option<Uuid>,
    /// One of your folders: documents in it or below it.
    pub folder: Option<Uuid>,
    /// Added on or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Added before this time.
    pub to: Option<DateTime<Utc>>,
    /// `false` leaves the snippets out (faster).
    pub snippets: Option<bool>,
    /// 1–50, default 20.
    pub limit: Option<i64>,
    /// Where the page starts (0–1000), default 0.
    pub offset: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct SearchHitView {
    #[serde(flatten)]
    pub document: DocumentView,
    /// The handle of whoever shared it with you; `null` for your own.
    pub shared_by: Option<String>,
    /// Words around the matches as HTML: the text escaped, each match in `<mark>`.
    pub snippet_html: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SearchResults {
    /// Best first.
    pub items: Vec<SearchHitView>,
    /// Pass as `offset` for the next page; `null` on the last.
    pub next_offset: Option<i64>,
}

/// Searches your documents and those shared with you.
#[utoipa::path(
    get, path = "/api/search", tag = "documents",
    security(("bearer" = [])),
    params(SearchParams),
    responses(
        (status = 200, body = SearchResults),
        (status = 400, description = "No words to search for, or a parameter that is not valid", body = crate::error::ErrorBody),
    )
)]
pub async fn search(
    State(state): State<AppState>,
    who: Authenticated,
    ConsistencyToken(token): ConsistencyToken,
    params: Result<Query<SearchParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<SearchResults>, ApiError> {
    let Query(params) = params.map_err(|rejection| ApiError::Malformed(rejection.body_text()))?;
    let query = params.into_query(who.user_id)?;
    state.wait_for(MODEL, token).await?;
    let (hits, more) = document_search::search(&state.pool, &state.word_shares, &query)
        .await
        .map_err(ApiError::internal)?;
    let owners: Vec<Uuid> = hits
        .iter()
        .map(|hit| hit.owner)
        .filter(|owner| *owner != who.user_id)
        .collect();
    let handles: HashMap<Uuid, String> =
        projections::users::queries::handles_of(&state.pool, &owners)
            .await
            .map_err(ApiError::internal)?;
    let items = hits
        .into_iter()
        .map(|hit| SearchHitView {
            shared_by: handles.get(&hit.owner).cloned(),
            snippet_html: hit.snippet.as_deref().map(snippet_html),
            document: hit.document.into(),
        })
        .collect::<Vec<_>>();
    Ok(Json(SearchResults {
        next_offset: more.then_some(query.offset + query.limit),
        items,
    }))
}

impl SearchParams {
    fn into_query(self, reader: Uuid) -> Result<SearchQuery, ApiError> {
        let text = self.q.unwrap_or_default().trim().to_owned();
        if text.is_empty() {
            return Err(invalid("q", "Type something to search for."));
        }
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(invalid("q", "Use at most 200 characters."));
        }
        let language = self.lang.unwrap_or_else(|| "english".to_owned());
        if !LANGUAGES.contains(&language.as_str()) {
            return Err(invalid("lang", "Not a language search knows."));
        }
        if let Some(kind) = &self.kind {
            if !["pdf", "docx", "text", "markdown"].contains(&kind.as_str()) {
                return Err(invalid("kind", "Use pdf, docx, text or markdown."));
            }
        }
        let limit = self.limit.unwrap_or(20);
        if !(1..=50).contains(&limit) {
            return Err(invalid("limit", "Use a limit from 1 to 50."));
        }
        let offset = self.offset.unwrap_or(0);
        if !(0..=MAX_OFFSET).contains(&offset) {
            return Err(invalid("offset", "Use an offset from 0 to 1000."));
        }
        Ok(SearchQuery {
            reader,
            text,
            language,
            kind: self.kind,
            topic: self.topic,
            folder: self.folder,
            created_from: self.from,
            created_before: self.to,
            snippets: self.snippets.unwrap_or(true),
            limit,
            offset,
        })
    }
}

fn invalid(field: &'static str, message: &str) -> ApiError {
    ApiError::InvalidInput {
        fields: BTreeMap::from([(field, message.to_owned())]),
    }
}

/// A raw snippet as HTML: everything escaped, the marked matches in `<mark>`.
fn snippet_html(raw: &str) -> String {
    let mut html = String::with_capacity(raw.len() + 32);
    for c in raw.chars() {
        match c {
            HIT_START => html.push_str("<mark>"),
            HIT_END => html.push_str("</mark>"),
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            '\'' => html.push_str("&#39;"),
            other => html.push(other),
        }
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_escape_everything_but_their_marks() {
        let raw = format!("<script>alert('x')</script> & {HIT_START}tax{HIT_END} \"return\"");
        assert_eq!(
            snippet_html(&raw),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; <mark>tax</mark> &quot;return&quot;"
        );
    }
}
