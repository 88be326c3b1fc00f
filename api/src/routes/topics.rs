//! Topics (ORG-2, ADM-2): everyone sees the system topics and their own; people manage
//! their own and set a document's topics by hand; admins manage the system topics.
//! Another person's topic answers the same 404 as a random id (DOC-7), and a system topic
//! cannot be changed through a person's routes.

use crate::auth::{Admin, Authenticated};
use crate::extract::{with_token, ApiJson, ApiPath, ConsistencyToken, Correlation};
use crate::routes::documents::{read_back, DocumentView};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use chrono::{DateTime, Utc};
use commands::topics::TopicsError;
use domain::topic::Namespace;
use projections::documents::queries::{self, TopicRow};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use utoipa::ToSchema;
use uuid::Uuid;

const MODEL: &str = projections::documents::DocumentsModel::NAME;

#[derive(Serialize, ToSchema)]
pub struct TopicView {
    pub id: Uuid,
    pub name: String,
    /// A system topic (everyone's, managed by admins) rather than your own.
    pub system: bool,
    /// How many of your documents have it.
    pub documents: i64,
    pub created_at: DateTime<Utc>,
}

impl From<TopicRow> for TopicView {
    fn from(row: TopicRow) -> Self {
        Self {
            id: row.topic_id,
            name: row.name,
            system: row.system,
            documents: row.documents,
            created_at: row.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TopicList {
    /// System topics first, then yours, each by name.
    pub items: Vec<TopicView>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopicRequest {
    pub name: String,
}

/// The system topics and yours.
#[utoipa::path(
    get, path = "/api/topics", tag = "topics",
    security(("bearer" = [])),
    responses((status = 200, body = TopicList))
)]
pub async fn list(
    State(state): State<AppState>,
    who: Authenticated,
    ConsistencyToken(token): ConsistencyToken,
) -> Result<Json<TopicList>, ApiError> {
    listed(&state, Some(who.user_id), token).await
}

/// Creates a topic of your own.
#[utoipa::path(
    post, path = "/api/topics", tag = "topics",
    security(("bearer" = [])),
    request_body = TopicRequest,
    responses(
        (status = 201, body = TopicView),
        (status = 400, description = "Not a usable name", body = crate::error::ErrorBody),
        (status = 409, description = "You have a topic with this name", body = crate::error::ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    who: Authenticated,
    correlation: Correlation,
    ApiJson(request): ApiJson<TopicRequest>,
) -> Result<Response, ApiError> {
    let namespace = Namespace::Person(who.user_id);
    created(&state, namespace, &correlation, &who, &request.name).await
}

/// Renames a topic of yours.
#[utoipa::path(
    patch, path = "/api/topics/{id}", tag = "topics",
    security(("bearer" = [])),
    request_body = TopicRequest,
    responses(
        (status = 204, description = "Renamed"),
        (status = 400, description = "Not a usable name", body = crate::error::ErrorBody),
        (status = 404, description = "No such topic of yours", body = crate::error::ErrorBody),
        (status = 409, description = "You have a topic with this name", body = crate::error::ErrorBody),
    )
)]
pub async fn rename(
    State(state): State<AppState>,
    who: Authenticated,
    correlation: Correlation,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<TopicRequest>,
) -> Result<Response, ApiError> {
    let meta = correlation.meta(who.actor());
    let token = state
        .topics
        .rename(Namespace::Person(who.user_id), id, &request.name, &meta)
        .await
        .map_err(topics_error)?;
    Ok(with_token(StatusCode::NO_CONTENT, token))
}

/// Deletes a topic of yours; your documents that had it lose it.
#[utoipa::path(
    delete, path = "/api/topics/{id}", tag = "topics",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such topic of yours", body = crate::error::ErrorBody),
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
        .topics
        .delete(Namespace::Person(who.user_id), id, &meta)
        .await
        .map_err(topics_error)?;
    Ok(with_token(StatusCode::NO_CONTENT, token))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetTopics {
    /// Every topic the document should have: system topics and yours (at most 32).
    pub topics: BTreeSet<Uuid>,
}

/// Gives one of your documents exactly these topics.
#[utoipa::path(
    put, path = "/api/documents/{id}/topics", tag = "documents",
    security(("bearer" = [])),
    request_body = SetTopics,
    responses(
        (status = 200, body = DocumentView),
        (status = 400, description = "Too many topics", body = crate::error::ErrorBody),
        (status = 404, description = "No such document, or a topic that is neither the system's nor yours", body = crate::error::ErrorBody),
    )
)]
pub async fn set_on_document(
    State(state): State<AppState>,
    who: Authenticated,
    correlation: Correlation,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<SetTopics>,
) -> Result<Response, ApiError> {
    let meta = correlation.meta(who.actor());
    let token = state
        .topics
        .assign(who.user_id, id, request.topics, &meta)
        .await
        .map_err(topics_error)?;
    let view = read_back(&state, who.user_id, id, token).await?;
    Ok(with_token(Json(view), token))
}

/// The system topics (ADM-2).
#[utoipa::path(
    get, path = "/api/admin/topics", tag = "admin",
    security(("bearer" = [])),
    responses((status = 200, body = TopicList), (status = 403, body = crate::error::ErrorBody))
)]
pub async fn list_system(
    State(state): State<AppState>,
    _admin: Admin,
    ConsistencyToken(token): ConsistencyToken,
) -> Result<Json<TopicList>, ApiError> {
    listed(&state, None, token).await
}

/// Creates a system topic, visible to everyone.
#[utoipa::path(
    post, path = "/api/admin/topics", tag = "admin",
    security(("bearer" = [])),
    request_body = TopicRequest,
    responses(
        (status = 201, body = TopicView),
        (status = 400, description = "Not a usable name", body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody),
        (status = 409, description = "A system topic has this name", body = crate::error::ErrorBody),
    )
)]
pub async fn create_system(
    State(state): State<AppState>,
    Admin(admin): Admin,
    correlation: Correlation,
    ApiJson(request): ApiJson<TopicRequest>,
) -> Result<Response, ApiError> {
    created(
        &state,
        Namespace::System,
        &correlation,
        &admin,
        &request.name,
    )
    .await
}

/// Renames a system topic.
#[utoipa::path(
    patch, path = "/api/admin/topics/{id}", tag = "admin",
    security(("bearer" = [])),
    request_body = TopicRequest,
    responses(
        (status = 204, description = "Renamed"),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, description = "No such system topic", body = crate::error::ErrorBody),
        (status = 409, description = "A system topic has this name", body = crate::error::ErrorBody),
    )
)]
pub async fn rename_system(
    State(state): State<AppState>,
    Admin(admin): Admin,
    correlation: Correlation,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<TopicRequest>,
) -> Result<Response, ApiError> {
    let meta = correlation.meta(admin.actor());
    let token = state
        .topics
        .rename(Namespace::System, id, &request.name, &meta)
        .await
        .map_err(topics_error)?;
    Ok(with_token(StatusCode::NO_CONTENT, token))
}

/// Deletes a system topic; every document that had it loses it.
#[utoipa::path(
    delete, path = "/api/admin/topics/{id}", tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, description = "No such system topic", body = crate::error::ErrorBody),
    )
)]
pub async fn delete_system(
    State(state): State<AppState>,
    Admin(admin): Admin,
    correlation: Correlation,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    let meta = correlation.meta(admin.actor());
    let token = state
        .topics
        .delete(Namespace::System, id, &meta)
        .await
        .map_err(topics_error)?;
    Ok(with_token(StatusCode::NO_CONTENT, token))
}

async fn listed(
    state: &AppState,
    owner: Option<Uuid>,
    token: Option<eventlog::Token>,
) -> Result<Json<TopicList>, ApiError> {
    state.wait_for(MODEL, token).await?;
    let rows = queries::topics(&state.pool, owner)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(TopicList {
        items: rows.into_iter().map(TopicView::from).collect(),
    }))
}

async fn created(
    state: &AppState,
    namespace: Namespace,
    correlation: &Correlation,
    who: &Authenticated,
    name: &str,
) -> Result<Response, ApiError> {
    let meta = correlation.meta(who.actor());
    let created = state
        .topics
        .create(namespace, name, &meta)
        .await
        .map_err(topics_error)?;
    let view = TopicView {
        id: created.topic_id,
        name: created.name.as_str().to_owned(),
        system: namespace == Namespace::System,
        documents: 0,
        created_at: created.created_at,
    };
    Ok(with_token((StatusCode::CREATED, Json(view)), created.token))
}

fn topics_error(error: TopicsError) -> ApiError {
    match error {
        TopicsError::NotFound => ApiError::NotFound,
        TopicsError::BadName(problem) => ApiError::InvalidInput {
            fields: BTreeMap::from([("name", problem.to_string())]),
        },
        TopicsError::NameTaken => ApiError::StateConflict {
            code: "topic_name_taken",
            message: "There is a topic with this name already.",
        },
        TopicsError::TooMany { max } => ApiError::InvalidInput {
            fields: BTreeMap::from([("name", format!("There are {max} topics already."))]),
        },
        TopicsError::Busy => ApiError::Conflict,
        TopicsError::Store(detail) => ApiError::internal(detail),
        TopicsError::Documents(error) => crate::routes::documents::documents_error(error),
    }
}
