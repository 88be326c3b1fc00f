//! Sharing by handle (ORG-3, SECURITY 16): share one of your documents or folders with
//! another person, read-only; list and revoke your shares; see what others shared with
//! you. Bodies refuse unknown fields and the only permission is `read`, so nothing can
//! ride along to raise a permission or change an owner. A share to a handle nobody holds
//! answers exactly like one to an account that cannot receive it.

use crate::auth::Authenticated;
use crate::extract::{with_token, ApiJson, ApiPath, ConsistencyToken, Correlation};
use crate::routes::documents::DocumentView;
use crate::{ApiError, AppState};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use chrono::{DateTime, Utc};
use commands::shares::SharesError;
use domain::share::ShareTarget;
use domain::user::Handle;
use projections::documents::queries::{self, ShareRow};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

const MODEL: &str = projections::documents::DocumentsModel::NAME;

/// At most this many shared documents are listed.
const SHARED_WITH_ME_LIMIT: i64 = 500;

/// What a share lets its grantee do: read (list, preview, download). Nothing else exists.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SharePermission {
    #[default]
    Read,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareRequest {
    /// The person to share with.
    pub handle: String,
    /// One of your documents (or give `folder_id`).
    #[serde(default)]
    pub document_id: Option<Uuid>,
    /// One of your folders, with everything in and below it (or give `document_id`).
    #[serde(default)]
    pub folder_id: Option<Uuid>,
    /// `read`, the only permission (and the default).
    #[serde(default)]
    pub permission: SharePermission,
}

#[derive(Serialize, ToSchema)]
pub struct ShareView {
    pub id: Uuid,
    /// The grantee's handle.
    pub handle: String,
    pub document_id: Option<Uuid>,
    pub folder_id: Option<Uuid>,
    /// The shared document's or folder's name.
    pub name: String,
    pub permission: SharePermission,
    pub granted_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct Shared {
    pub id: Uuid,
    pub handle: String,
    pub permission: SharePermission,
}

/// Shares one of your documents or folders with the holder of a handle, read-only.
/// Sharing the same thing with the same person again answers with the existing share.
#[utoipa::path(
    post, path = "/api/shares", tag = "sharing",
    security(("bearer" = [])),
    request_body = ShareRequest,
    responses(
        (status = 201, body = Shared),
        (status = 400, description = "Not one target, not a handle, or an unknown field or permission", body = crate::error::ErrorBody),
        (status = 404, description = "No such document or folder of yours", body = crate::error::ErrorBody),
        (status = 422, description = "No one with this handle can receive shares", body = crate::error::ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    who: Authenticated,
    correlation: Correlation,
    ApiJson(request): ApiJson<ShareRequest>,
) -> Result<Response, ApiError> {
    let target = match (request.document_id, request.folder_id) {
        (Some(id), None) => ShareTarget::Document(id),
        (None, Some(id)) => ShareTarget::Folder(id),
        _ => {
            return Err(invalid(
                "document_id",
                "Give either a document_id or a folder_id.",
            ))
        }
    };
    let handle = Handle::parse(&request.handle)
        .map_err(|problem| invalid("handle", &problem.to_string()))?;
    let meta = correlation.meta(who.actor());
    let granted = state
        .shares
        .grant(who.user_id, target, &handle, &meta)
        .await
        .map_err(shares_error)?;
    let view = Shared {
        id: granted.share_id,
        handle: handle.as_str().to_owned(),
        permission: SharePermission::Read,
    };
    Ok(with_token((StatusCode::CREATED, Json(view)), granted.token))
}

#[derive(Deserialize, IntoParams)]
pub struct ShareListParams {
    /// A document's or folder's id: only its shares.
    pub target: Option<Uuid>,
}

#[derive(Serialize, ToSchema)]
pub struct ShareList {
    /// Newest first.
    pub items: Vec<ShareView>,
}

/// The shares you granted.
#[utoipa::path(
    get, path = "/api/shares", tag = "sharing",
    security(("bearer" = [])),
    params(ShareListParams),
    responses((status = 200, body = ShareList))
)]
pub async fn list(
    State(state): State<AppState>,
    who: Authenticated,
    ConsistencyToken(token): ConsistencyToken,
    params: Result<Query<ShareListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ShareList>, ApiError> {
    let Query(params) = params.map_err(|rejection| ApiError::Malformed(rejection.body_text()))?;
    state.wait_for(MODEL, token).await?;
    let rows = queries::shares_by(&state.pool, who.user_id, params.target)
        .await
        .map_err(ApiError::internal)?;
    let grantees: Vec<Uuid> = rows.iter().map(|row| row.grantee).collect();
    let handles = handles_of(&state, &grantees).await?;
    let items = rows
        .into_iter()
        .filter_map(|row: ShareRow| {
            // A grantee whose account is gone has no handle; their share goes with it.
            let handle = handles.get(&row.grantee)?.clone();
            Some(ShareView {
                id: row.share_id,
                handle,
                document_id: row.document_id,
                folder_id: row.folder_id,
                name: row.name,
                permission: SharePermission::Read,
                granted_at: row.granted_at,
            })
        })
        .collect();
    Ok(Json(ShareList { items }))
}

/// Revokes one of your shares: the grantee's next request finds nothing.
#[utoipa::path(
    delete, path = "/api/shares/{id}", tag = "sharing",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such share of yours", body = crate::error::ErrorBody),
    )
)]
pub async fn revoke(
    State(state): State<AppState>,
    who: Authenticated,
    correlation: Correlation,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    let meta = correlation.meta(who.actor());
    let token = state
        .shares
        .revoke(who.user_id, id, &meta)
        .await
        .map_err(shares_error)?;
    Ok(with_token(StatusCode::NO_CONTENT, token))
}

#[derive(Serialize, ToSchema)]
pub struct SharedDocument {
    #[serde(flatten)]
    pub document: DocumentView,
    /// The handle of the person who shared it.
    pub shared_by: String,
    /// The shared folder it is in, when it came with a folder.
    pub via_folder: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SharedList {
    /// Newest first.
    pub items: Vec<SharedDocument>,
}

/// The documents others shared with you, read-only.
#[utoipa::path(
    get, path = "/api/shared", tag = "sharing",
    security(("bearer" = [])),
    responses((status = 200, body = SharedList))
)]
pub async fn shared_with_me(
    State(state): State<AppState>,
    who: Authenticated,
) -> Result<Json<SharedList>, ApiError> {
    let rows = queries::shared_with(&state.pool, who.user_id, SHARED_WITH_ME_LIMIT)
        .await
        .map_err(ApiError::internal)?;
    let owners: Vec<Uuid> = rows.iter().map(|row| row.owner).collect();
    let handles = handles_of(&state, &owners).await?;
    let items = rows
        .into_iter()
        .filter_map(|row| {
            Some(SharedDocument {
                shared_by: handles.get(&row.owner)?.clone(),
                via_folder: row.via_folder,
                document: row.document.into(),
            })
        })
        .collect();
    Ok(Json(SharedList { items }))
}

async fn handles_of(state: &AppState, users: &[Uuid]) -> Result<HashMap<Uuid, String>, ApiError> {
    projections::users::queries::handles_of(&state.pool, users)
        .await
        .map_err(ApiError::internal)
}

fn invalid(field: &'static str, message: &str) -> ApiError {
    ApiError::InvalidInput {
        fields: BTreeMap::from([(field, message.to_owned())]),
    }
}

fn shares_error(error: SharesError) -> ApiError {
    match error {
        SharesError::NotFound => ApiError::NotFound,
        SharesError::NoRecipient => ApiError::NoRecipient,
        SharesError::TooMany { max } => invalid(
            "handle",
            &format!("You have {max} shares already: revoke some first."),
        ),
        SharesError::Busy => ApiError::Conflict,
        SharesError::Store(detail) => ApiError::internal(detail),
        SharesError::Documents(error) => crate::routes::documents::documents_error(error),
    }
}
