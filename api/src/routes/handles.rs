//! Handles are public: people share documents by handle, so whether one is taken is
//! public too.

use crate::extract::ConsistencyToken;
use crate::{ApiError, AppState};
use axum::extract::{Path, State};
use axum::Json;
use domain::user::Handle;
use projections::users::{queries, UsersModel};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct HandleAvailability {
    pub handle: String,
    pub available: bool,
}

/// Whether a handle is free. Send `X-Consistency-Token` to see your own registration.
#[utoipa::path(
    get, path = "/api/handles/{handle}", tag = "auth",
    params(
        ("handle" = String, Path, description = "The handle to check"),
        ("X-Consistency-Token" = Option<String>, Header, description = "Wait until this write is visible (`<tx_id>.<position>`)"),
    ),
    responses(
        (status = 200, body = HandleAvailability),
        (status = 400, description = "Malformed handle or token", body = crate::error::ErrorBody),
        (status = 503, description = "Not yet consistent with the token; retry", body = crate::error::ErrorBody),
    )
)]
pub async fn availability(
    State(state): State<AppState>,
    ConsistencyToken(token): ConsistencyToken,
    Path(raw): Path<String>,
) -> Result<Json<HandleAvailability>, ApiError> {
    let handle = Handle::parse(&raw).map_err(|problem| ApiError::InvalidInput {
        fields: BTreeMap::from([("handle", problem.to_string())]),
    })?;
    state.wait_for(UsersModel::NAME, token).await?;
    let taken = queries::handle_exists(&state.pool, handle.as_str())
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(HandleAvailability {
        handle: handle.as_str().to_owned(),
        available: !taken,
    }))
}
