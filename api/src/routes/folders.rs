//! A person's folders (ORG-1): the tree, creating, renaming, moving and deleting folders,
//! and moving documents between them. Another person's folder answers the same 404 as a
//! random id (DOC-7). Request bodies refuse unknown fields, so nothing else about a folder
//! or a document (its owner, say) can ride along (SECURITY 16).

use crate::auth::Authenticated;
use crate::extract::{with_token, ApiJson, ApiPath, ConsistencyToken, Correlation};
use crate::routes::documents::{read_back, DocumentView};
use crate::{ApiError, AppState};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use chrono::{DateTime, Utc};
use commands::folders::{Filed, FoldersError};
use domain::folder::FolderContents;
use projections::documents::queries::{self, FolderRow};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

const MODEL: &str = projections::documents::DocumentsModel::NAME;

#[derive(Serialize, ToSchema)]
pub struct FolderView {
    pub id: Uuid,
    /// `null`: at the top.
    pub parent_id: Option<Uuid>,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

impl From<FolderRow> for FolderView {
    fn from(row: FolderRow) -> Self {
        Self {
            id: row.folder_id,
            parent_id: row.parent_id,
            name: row.name,
            created_at: row.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct FolderList {
    /// Every folder, by name; build the tree from `parent_id`.
    pub items: Vec<FolderView>,
}

/// All your folders.
#[utoipa::path(
    get, path = "/api/folders", tag = "folders",
    security(("bearer" = [])),
    responses((status = 200, body = FolderList))
)]
pub async fn list(
    State(state): State<AppState>,
    who: Authenticated,
    ConsistencyToken(token): ConsistencyToken,
) -> Result<Json<FolderList>, ApiError> {
    state.wait_for(MODEL, token).await?;
    let rows = queries::folders(&state.pool, who.user_id)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(FolderList {
        items: rows.into_iter().map(FolderView::from).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFolder {
    pub name: String,
    /// `null` or absent: at the top.
    #[serde(default)]
    pub parent_id: Option<Uuid>,
}

/// Creates a folder, at the top or inside one of yours.
#[utoipa::path(
    post, path = "/api/folders", tag = "folders",
    security(("bearer" = [])),
    request_body = CreateFolder,
    responses(
        (status = 201, body = FolderView),
        (status = 400, description = "Not a usable name", body = crate::error::ErrorBody),
        (status = 404, description = "No such parent folder", body = crate::error::ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    who: Authenticated,
    correlation: Correlation,
    ApiJson(request): ApiJson<CreateFolder>,
) -> Result<Response, ApiError> {
    let meta = correlation.meta(who.actor());
    let created = state
        .folders
        .create(who.user_id, request.parent_id, &request.name, &meta)
        .await
        .map_err(folders_error)?;
    let view = FolderView {
        id: created.folder_id,
        parent_id: request.parent_id,
        name: created.name.as_str().to_owned(),
        created_at: created.created_at,
    };
    Ok(with_token((StatusCode::CREATED, Json(view)), created.token))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameFolder {
    pub name: String,
}

/// Renames one of your folders.
#[utoipa::path(
    patch, path = "/api/folders/{id}", tag = "folders",
    security(("bearer" = [])),
    request_body = RenameFolder,
    responses(
        (status = 204, description = "Renamed"),
        (status = 400, description = "Not a usable name", body = crate::error::ErrorBody),
        (status = 404, description = "No such folder", body = crate::error::ErrorBody),
    )
)]
pub async fn rename(
    State(state): State<AppState>,
    who: Authenticated,
    correlation: Correlation,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<RenameFolder>,
) -> Result<Response, ApiError> {
    let meta = correlation.meta(who.actor());
    let token = state
        .folders
        .rename(who.user_id, id, &request.name, &meta)
        .await
        .map_err(folders_error)?;
    Ok(with_token(StatusCode::NO_CONTENT, token))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveRequest {
    /// Where to: one of your folders, or `null` for the top.
    pub folder_id: Option<Uuid>,
}

/// Moves one of your folders into another of yours, or to the top.
#[utoipa::path(
    post, path = "/api/folders/{id}/move", tag = "folders",
    security(("bearer" = [])),
    request_body = MoveRequest,
    responses(
        (status = 204, description = "Moved (or already there)"),
        (status = 404, description = "No such folder", body = crate::error::ErrorBody),
        (status = 409, description = "Into itself or a folder inside it", body = crate::error::ErrorBody),
    )
)]
pub async fn move_folder(
    State(state): State<AppState>,
    who: Authenticated,
    correlation: Correlation,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<MoveRequest>,
) -> Result<Response, ApiError> {
    let meta = correlation.meta(who.actor());
    let token = state
        .folders
        .move_to(who.user_id, id, request.folder_id, &meta)
        .await
        .map_err(folders_error)?;
    Ok(with_token(StatusCode::NO_CONTENT, token))
}

#[derive(Deserialize, IntoParams)]
pub struct DeleteParams {
    /// What happens to what the folder holds: `refuse` (default: only an empty folder
    /// goes), `move_up` (into its parent) or `delete` (with it, documents included).
    pub contents: Option<String>,
}

/// Deletes one of your folders.
#[utoipa::path(
    delete, path = "/api/folders/{id}", tag = "folders",
    security(("bearer" = [])),
    params(DeleteParams),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such folder", body = crate::error::ErrorBody),
        (status = 409, description = "Not empty, and no choice was made", body = crate::error::ErrorBody),
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    who: Authenticated,
    correlation: Correlation,
    ConsistencyToken(token): ConsistencyToken,
    ApiPath(id): ApiPath<Uuid>,
    params: Result<Query<DeleteParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|rejection| ApiError::Malformed(rejection.body_text()))?;
    let contents = match params.contents.as_deref().unwrap_or("refuse") {
        "refuse" => FolderContents::Refuse,
        "move_up" => FolderContents::MoveUp,
        "delete" => FolderContents::Delete,
        _ => {
            return Err(ApiError::InvalidInput {
                fields: BTreeMap::from([("contents", "Use refuse, move_up or delete.".to_owned())]),
            })
        }
    };
    let meta = correlation.meta(who.actor());
    // What is filed in it and below, as of the caller's last change at least.
    state.wait_for(MODEL, token).await?;
    let filed: Vec<Filed> = queries::filed_in_subtree(&state.pool, who.user_id, id)
        .await
        .map_err(ApiError::internal)?
        .into_iter()
        .map(|(document_id, folder_id)| Filed {
            document_id,
            folder_id,
        })
        .collect();
    let token = state
        .folders
        .delete(who.user_id, id, contents, &filed, &meta)
        .await
        .map_err(folders_error)?;
    Ok(with_token(StatusCode::NO_CONTENT, token))
}

/// Moves one of your documents into one of your folders, or to the top.
#[utoipa::path(
    post, path = "/api/documents/{id}/move", tag = "documents",
    security(("bearer" = [])),
    request_body = MoveRequest,
    responses(
        (status = 200, body = DocumentView),
        (status = 404, description = "No such document or folder", body = crate::error::ErrorBody),
    )
)]
pub async fn file_document(
    State(state): State<AppState>,
    who: Authenticated,
    correlation: Correlation,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<MoveRequest>,
) -> Result<Response, ApiError> {
    let meta = correlation.meta(who.actor());
    let token = state
        .documents
        .file(who.user_id, id, request.folder_id, &meta)
        .await
        .map_err(crate::routes::documents::documents_error)?;
    let view = read_back(&state, who.user_id, id, token).await?;
    Ok(with_token(Json(view), token))
}

fn folders_error(error: FoldersError) -> ApiError {
    match error {
        FoldersError::NotFound => ApiError::NotFound,
        FoldersError::BadName(problem) => ApiError::InvalidInput {
            fields: BTreeMap::from([("name", problem.to_string())]),
        },
        FoldersError::IntoItself => ApiError::StateConflict {
            code: "folder_into_itself",
            message: "A folder cannot move into itself or into a folder inside it.",
        },
        FoldersError::NotEmpty => ApiError::StateConflict {
            code: "folder_not_empty",
            message:
                "This folder is not empty: move what it holds up, or delete it with the folder.",
        },
        FoldersError::Busy => ApiError::Conflict,
        FoldersError::Store(detail) => ApiError::internal(detail),
        FoldersError::Documents(error) => crate::routes::documents::documents_error(error),
    }
}
