//! A person's documents (DOC-1..7): the two-step upload, the list, renaming, deletion and
//! the bytes. Another person's document, a deleted one and a random id answer the same
//! 404 (DOC-7); so does an admin's token, since admins never see inside documents.

use crate::auth::Authenticated;
use crate::content::download_link::Grant;
use crate::content::range::{self, Requested};
use crate::extract::{with_token, ApiJson, ApiPath, ConsistencyToken, Correlation};
use crate::{ApiError, AppState};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use commands::documents::{Content, DocumentsError, NewUpload};
use projections::documents::queries::{self, Cursor, DocumentRow, FolderFilter, ListQuery, SortBy};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

const MODEL: &str = projections::documents::DocumentsModel::NAME;

/// How long a download link works.
const DOWNLOAD_LINK_SECONDS: i64 = 60;

#[derive(Serialize, ToSchema)]
pub struct DocumentView {
    pub id: Uuid,
    pub name: String,
    /// `pdf`, `docx`, `text` or `markdown`.
    pub kind: String,
    /// `pending` or `confirmed`.
    pub status: String,
    /// Bytes: the stored size once confirmed, the declared size before.
    pub size: i64,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub sha256: Option<String>,
    /// Another of your documents, older than this one, has the same content.
    pub duplicate: bool,
    /// The folder it is in; `null`: at the top.
    pub folder_id: Option<Uuid>,
    /// Its topics' ids (see `/api/topics` for their names).
    pub topics: Vec<Uuid>,
    /// Its classification: `extracting`, `classifying`, `classified` or `failed`; `null`
    /// before it is confirmed.
    pub classification: Option<String>,
    /// Why classification failed, when it did: about the file or the classifier.
    pub classification_error: Option<String>,
}

impl From<DocumentRow> for DocumentView {
    fn from(row: DocumentRow) -> Self {
        Self {
            id: row.document_id,
            name: row.name,
            kind: row.kind,
            status: row.status,
            size: row.size,
            created_at: row.created_at,
            confirmed_at: row.confirmed_at,
            sha256: row.sha256,
            duplicate: row.duplicate,
            folder_id: row.folder_id,
            topics: row.topics,
            classification: row.classification,
            classification_error: row.classification_error,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DocumentPage {
    pub items: Vec<DocumentView>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
    /// How many documents match the filters in all.
    pub total: i64,
}

#[derive(Deserialize, IntoParams)]
pub struct ListParams {
    /// `date` (default), `name` or `size`.
    pub sort: Option<String>,
    /// `desc` (default) or `asc`.
    pub order: Option<String>,
    pub kind: Option<String>,
    pub status: Option<String>,
    /// A folder's id for the documents directly in it, `top` for those in no folder.
    pub folder: Option<String>,
    /// A topic's id: only documents with it.
    pub topic: Option<Uuid>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

fn invalid(field: &'static str, message: &str) -> ApiError {
    ApiError::InvalidInput {
        fields: BTreeMap::from([(field, message.to_owned())]),
    }
}

impl ListParams {
    fn into_query(self, owner: Uuid) -> Result<ListQuery, ApiError> {
        let sort = match self.sort.as_deref().unwrap_or("date") {
            "date" => SortBy::Date,
            "name" => SortBy::Name,
            "size" => SortBy::Size,
            _ => return Err(invalid("sort", "Sort by date, name or size.")),
        };
        let descending = match self.order.as_deref().unwrap_or("desc") {
            "desc" => true,
            "asc" => false,
            _ => return Err(invalid("order", "Use asc or desc.")),
        };
        if let Some(kind) = &self.kind {
            if !["pdf", "docx", "text", "markdown"].contains(&kind.as_str()) {
                return Err(invalid("kind", "Use pdf, docx, text or markdown."));
            }
        }
        if let Some(status) = &self.status {
            if !["pending", "confirmed"].contains(&status.as_str()) {
                return Err(invalid("status", "Use pending or confirmed."));
            }
        }
        let folder = match self.folder.as_deref() {
            None | Some("") => None,
            Some("top") => Some(FolderFilter::Top),
            Some(text) => {
                Some(FolderFilter::In(text.parse().map_err(|_| {
                    invalid("folder", "Use a folder's id, or top.")
                })?))
            }
        };
        let limit = self.limit.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(invalid("limit", "Use a limit from 1 to 200."));
        }
        let cursor = match self.cursor.as_deref() {
            None | Some("") => None,
            Some(text) => Some(
                Cursor::decode(text)
                    .ok_or_else(|| invalid("cursor", "This cursor is not one we gave out."))?,
            ),
        };
        Ok(ListQuery {
            owner,
            sort,
            descending,
            kind: self.kind,
            status: self.status,
            folder,
            topic: self.topic,
            limit,
            cursor,
        })
    }
}

/// One page of your documents.
#[utoipa::path(
    get, path = "/api/documents", tag = "documents",
    security(("bearer" = [])),
    params(ListParams),
    responses(
        (status = 200, body = DocumentPage),
        (status = 400, description = "A parameter is not valid", body = crate::error::ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    who: Authenticated,
    ConsistencyToken(token): ConsistencyToken,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<DocumentPage>, ApiError> {
    let Query(params) = params.map_err(|rejection| ApiError::Malformed(rejection.body_text()))?;
    let query = params.into_query(who.user_id)?;
    state.wait_for(MODEL, token).await?;
    let page = queries::page(&state.pool, &query)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(DocumentPage {
        items: page.items.into_iter().map(DocumentView::from).collect(),
        next_cursor: page.next_cursor.map(|cursor| cursor.encode()),
        total: page.total,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct UsageView {
    pub used_bytes: i64,
    pub quota_bytes: u64,
    /// The largest single file accepted.
    pub max_file_bytes: u64,
}

/// How much of your quota is used.
#[utoipa::path(
    get, path = "/api/documents/usage", tag = "documents",
    security(("bearer" = [])),
    responses((status = 200, body = UsageView))
)]
pub async fn usage(
    State(state): State<AppState>,
    who: Authenticated,
    ConsistencyToken(token): ConsistencyToken,
) -> Result<Json<UsageView>, ApiError> {
    state.wait_for(MODEL, token).await?;
    let used_bytes = queries::used_bytes(&state.pool, who.user_id)
        .await
        .map_err(ApiError::internal)?;
    let quota_bytes = state
        .documents
        .usage(who.user_id)
        .await
        .map_err(documents_error)?
        .quota_bytes;
    Ok(Json(UsageView {
        used_bytes,
        quota_bytes,
        max_file_bytes: state.documents.policy().max_file_bytes,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct InitiateRequest {
    pub name: String,
    /// Bytes.
    pub size: u64,
    pub content_type: String,
}

#[derive(Serialize, ToSchema)]
pub struct UploadTarget {
    /// PUT the bytes here, with exactly `headers` and no Authorization header.
    pub url: String,
    pub method: &'static str,
    pub headers: BTreeMap<String, String>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct Initiated {
    pub document: DocumentView,
    pub upload: UploadTarget,
}

/// Step one of an upload: a pending document and where to PUT its bytes.
#[utoipa::path(
    post, path = "/api/documents", tag = "documents",
    security(("bearer" = [])),
    request_body = InitiateRequest,
    responses(
        (status = 201, body = Initiated),
        (status = 400, description = "A bad name or an unsupported type", body = crate::error::ErrorBody),
        (status = 409, description = "It cannot fit in the quota", body = crate::error::ErrorBody),
        (status = 413, description = "Larger than the largest file accepted", body = crate::error::ErrorBody),
    )
)]
pub async fn initiate(
    State(state): State<AppState>,
    who: Authenticated,
    correlation: Correlation,
    ApiJson(request): ApiJson<InitiateRequest>,
) -> Result<Response, ApiError> {
    let meta = correlation.meta(who.actor());
    let initiated = state
        .documents
        .initiate(
            who.user_id,
            NewUpload {
                name: &request.name,
                size: request.size,
                content_type: &request.content_type,
            },
            &meta,
        )
        .await
        .map_err(documents_error)?;
    let document = DocumentView {
        id: initiated.document_id,
        name: initiated.name.as_str().to_owned(),
        kind: initiated.kind.as_str().to_owned(),
        status: "pending".into(),
        size: i64::try_from(request.size).unwrap_or(i64::MAX),
        created_at: initiated.initiated_at,
        confirmed_at: None,
        sha256: None,
        duplicate: false,
        folder_id: None,
        topics: Vec::new(),
        classification: None,
        classification_error: None,
    };
    let upload = UploadTarget {
        url: initiated.link.url,
        method: "PUT",
        headers: initiated.link.headers.into_iter().collect(),
        expires_at: initiated.link.expires_at,
    };
    Ok(with_token(
        (StatusCode::CREATED, Json(Initiated { document, upload })),
        initiated.token,
    ))
}

/// Step two: the bytes are checked and counted against the quota. Idempotent.
#[utoipa::path(
    post, path = "/api/documents/{id}/confirm", tag = "documents",
    security(("bearer" = [])),
    responses(
        (status = 200, body = DocumentView),
        (status = 404, description = "No such document", body = crate::error::ErrorBody),
        (status = 409, description = "No bytes yet, or they do not fit", body = crate::error::ErrorBody),
        (status = 422, description = "The bytes are not what the type says", body = crate::error::ErrorBody),
    )
)]
pub async fn confirm(
    State(state): State<AppState>,
    who: Authenticated,
    correlation: Correlation,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    let meta = correlation.meta(who.actor());
    let token = match state.documents.confirm(who.user_id, id, &meta).await {
        Ok(token) => token,
        Err(error @ DocumentsError::ContentRejected(_)) => {
            // The document is gone: let the next list read show it gone.
            if let Ok(Some(token)) =
                eventlog::log::last_token_of(&state.pool, "document", &id.to_string()).await
            {
                state.wait_for(MODEL, Some(token)).await?;
            }
            return Err(documents_error(error));
        }
        Err(error) => return Err(documents_error(error)),
    };
    let view = read_back(&state, who.user_id, id, token).await?;
    Ok(with_token(Json(view), token))
}

pub(crate) async fn read_back(
    state: &AppState,
    owner: Uuid,
    id: Uuid,
    token: eventlog::Token,
) -> Result<DocumentView, ApiError> {
    state.wait_for(MODEL, Some(token)).await?;
    queries::find(&state.pool, owner, id)
        .await
        .map_err(ApiError::internal)?
        .map(DocumentView::from)
        .ok_or(ApiError::NotFound)
}

/// One of your documents, or one shared with you (read-only).
#[utoipa::path(
    get, path = "/api/documents/{id}", tag = "documents",
    security(("bearer" = [])),
    responses(
        (status = 200, body = DocumentView),
        (status = 404, description = "No such document", body = crate::error::ErrorBody),
    )
)]
pub async fn detail(
    State(state): State<AppState>,
    who: Authenticated,
    ConsistencyToken(token): ConsistencyToken,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<DocumentView>, ApiError> {
    state.wait_for(MODEL, token).await?;
    if let Some(row) = queries::find(&state.pool, who.user_id, id)
        .await
        .map_err(ApiError::internal)?
    {
        return Ok(Json(row.into()));
    }
    // Someone else's: only while its owner shares it, as the write side says now.
    state
        .documents
        .readable(who.user_id, id)
        .await
        .map_err(documents_error)?;
    queries::find_readable(&state.pool, id)
        .await
        .map_err(ApiError::internal)?
        .map(|(_, row)| Json(row.into()))
        .ok_or(ApiError::NotFound)
}

#[derive(Deserialize, ToSchema)]
pub struct RenameRequest {
    pub name: String,
}

/// Renames one of your documents.
#[utoipa::path(
    patch, path = "/api/documents/{id}", tag = "documents",
    security(("bearer" = [])),
    request_body = RenameRequest,
    responses(
        (status = 200, body = DocumentView),
        (status = 400, description = "Not a usable name", body = crate::error::ErrorBody),
        (status = 404, description = "No such document", body = crate::error::ErrorBody),
    )
)]
pub async fn rename(
    State(state): State<AppState>,
    who: Authenticated,
    correlation: Correlation,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<RenameRequest>,
) -> Result<Response, ApiError> {
    let meta = correlation.meta(who.actor());
    let token = state
        .documents
        .rename(who.user_id, id, &request.name, &meta)
        .await
        .map_err(documents_error)?;
    let view = read_back(&state, who.user_id, id, token).await?;
    Ok(with_token(Json(view), token))
}

/// Classifies one of your documents again (after a failure, or with new topics): a new
/// run starts, and a run still going is superseded.
#[utoipa::path(
    post, path = "/api/documents/{id}/classify", tag = "documents",
    security(("bearer" = [])),
    responses(
        (status = 202, body = DocumentView),
        (status = 404, description = "No such document", body = crate::error::ErrorBody),
        (status = 409, description = "Not confirmed yet", body = crate::error::ErrorBody),
    )
)]
pub async fn classify(
    State(state): State<AppState>,
    who: Authenticated,
    correlation: Correlation,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    let meta = correlation.meta(who.actor());
    let (_, token) = state
        .classifications
        .request(who.user_id, id, &meta)
        .await
        .map_err(documents_error)?;
    let view = read_back(&state, who.user_id, id, token).await?;
    Ok(with_token((StatusCode::ACCEPTED, Json(view)), token))
}

/// Deletes one of your documents: its bytes are freed and removed.
#[utoipa::path(
    delete, path = "/api/documents/{id}", tag = "documents",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such document", body = crate::error::ErrorBody),
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    who: Authenticated,
    correlation: Correlation,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    let meta = correlation.meta(who.actor());
    let token = state
        .documents
        .delete(who.user_id, id, &meta)
        .await
        .map_err(documents_error)?;
    Ok(with_token(StatusCode::NO_CONTENT, token))
}

/// The bytes, inline, with `Range` support.
#[utoipa::path(
    get, path = "/api/documents/{id}/content", tag = "documents",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The bytes"),
        (status = 206, description = "The requested range"),
        (status = 404, description = "No such document", body = crate::error::ErrorBody),
        (status = 416, description = "The range is past the end"),
    )
)]
pub async fn content(
    State(state): State<AppState>,
    who: Authenticated,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let content = state
        .documents
        .content_of(who.user_id, id)
        .await
        .map_err(documents_error)?;
    serve(&state, content, &headers, true).await
}

#[derive(Serialize, ToSchema)]
pub struct DownloadLink {
    /// Open without any header; it works for a minute.
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// A short-lived link that downloads the document as an attachment.
#[utoipa::path(
    post, path = "/api/documents/{id}/download-link", tag = "documents",
    security(("bearer" = [])),
    responses(
        (status = 200, body = DownloadLink),
        (status = 404, description = "No such document", body = crate::error::ErrorBody),
    )
)]
pub async fn download_link(
    State(state): State<AppState>,
    who: Authenticated,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<DownloadLink>, ApiError> {
    state
        .documents
        .content_of(who.user_id, id)
        .await
        .map_err(documents_error)?;
    let expires_at = state.clock.now() + chrono::Duration::seconds(DOWNLOAD_LINK_SECONDS);
    let token = state.download_links.mint(Grant {
        user_id: who.user_id,
        document_id: id,
        expires_at,
    });
    Ok(Json(DownloadLink {
        url: format!("/api/downloads/{id}?token={token}"),
        expires_at,
    }))
}

#[derive(Deserialize)]
pub struct DownloadParams {
    pub token: String,
}

/// The bytes as an attachment, through a link from `download-link`. 404 once it expired,
/// or when the document is no longer its person's.
pub async fn download(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    params: Result<Query<DownloadParams>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Ok(Query(params)) = params else {
        return Err(ApiError::NotFound);
    };
    let grant = state
        .download_links
        .verify(id, &params.token, state.clock.now())
        .ok_or(ApiError::NotFound)?;
    let content = state
        .documents
        .content_of(grant.user_id, id)
        .await
        .map_err(documents_error)?;
    serve(&state, content, &headers, false).await
}

/// Streams a document's bytes (or the asked range) with the headers that keep a browser
/// from running them: the checked type, `nosniff`, a sandboxing CSP, same-origin CORP.
async fn serve(
    state: &AppState,
    content: Content,
    headers: &HeaderMap,
    inline: bool,
) -> Result<Response, ApiError> {
    let requested = range::parse(
        headers
            .get(header::RANGE)
            .and_then(|value| value.to_str().ok()),
        content.size,
    );
    let (status, part) = match requested {
        Requested::Whole => (StatusCode::OK, None),
        Requested::Part(part) => (StatusCode::PARTIAL_CONTENT, Some(part)),
        Requested::Unsatisfiable => {
            let mut response = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            insert(
                response.headers_mut(),
                header::CONTENT_RANGE,
                &format!("bytes */{}", content.size),
            );
            return Ok(response);
        }
    };
    let stream = state
        .documents
        .objects()
        .stream(&content.key, part)
        .await
        .map_err(ApiError::internal)?
        .ok_or(ApiError::NotFound)?;
    let mut response = (status, Body::from_stream(stream)).into_response();
    let out = response.headers_mut();
    insert(out, header::CONTENT_TYPE, content.kind.content_type());
    let length = part.map_or(content.size, |part| part.len());
    insert(out, header::CONTENT_LENGTH, &length.to_string());
    if let Some(part) = part {
        insert(
            out,
            header::CONTENT_RANGE,
            &format!("bytes {}-{}/{}", part.first, part.last, content.size),
        );
    }
    insert(out, header::ACCEPT_RANGES, "bytes");
    insert(
        out,
        header::CONTENT_DISPOSITION,
        &content.name.content_disposition(inline),
    );
    insert(out, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    insert(out, header::CONTENT_SECURITY_POLICY, "sandbox");
    insert(out, "cross-origin-resource-policy", "same-origin");
    insert(out, header::CACHE_CONTROL, "private, no-store");
    Ok(response)
}

fn insert(headers: &mut HeaderMap, name: impl header::IntoHeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

pub(crate) fn documents_error(error: DocumentsError) -> ApiError {
    match error {
        DocumentsError::NotFound | DocumentsError::FolderNotFound => ApiError::NotFound,
        DocumentsError::TooLarge { max } => ApiError::FileTooLarge {
            message: format!(
                "This file is larger than the {} a single file may have.",
                megabytes(max)
            ),
        },
        DocumentsError::Empty => invalid("size", "The file is empty."),
        DocumentsError::UnsupportedType => invalid(
            "content_type",
            "DocuVault keeps PDF, Word (.docx), text and Markdown files.",
        ),
        DocumentsError::BadName(problem) => invalid("name", &problem.to_string()),
        DocumentsError::QuotaExceeded { used, size, quota } => ApiError::QuotaExceeded {
            message: format!(
                "This file needs {} but only {} of your {} are free.",
                megabytes(size),
                megabytes(quota.saturating_sub(used)),
                megabytes(quota)
            ),
        },
        DocumentsError::UploadMissing => ApiError::StateConflict {
            code: "upload_missing",
            message: "The file's bytes have not arrived yet: upload them, then confirm.",
        },
        DocumentsError::ContentRejected(reason) => ApiError::ContentRejected(reason),
        DocumentsError::NotPending => ApiError::StateConflict {
            code: "not_pending",
            message: "This upload is no longer waiting for confirmation.",
        },
        DocumentsError::TooManyTopics { max } => {
            invalid("topics", &format!("A document has at most {max} topics."))
        }
        DocumentsError::NotConfirmed => ApiError::StateConflict {
            code: "not_confirmed",
            message: "Only an uploaded and confirmed document can be classified.",
        },
        DocumentsError::Busy => ApiError::Conflict,
        DocumentsError::Store(detail) => ApiError::internal(detail),
        DocumentsError::Objects(error) => ApiError::Unavailable(error.to_string()),
    }
}
