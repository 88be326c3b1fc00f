//! Leaving, and taking one's data along: account deletion by its owner or an admin
//! (crypto-shredding, SECURITY 25, 29) and the personal export.

use crate::auth::cookie::clear_refresh;
use crate::auth::{Admin, Authenticated, Client};
use crate::extract::{ApiJson, ApiPath, Correlation};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use commands::accounts::AccountError;
use domain::user::UserError;
use projections::audit::{queries as audit, AuditFilter};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteRequest {
    pub password: String,
    /// Required when two-step sign-in is on.
    pub code: Option<String>,
}

fn field(name: &'static str, message: &str) -> ApiError {
    ApiError::InvalidInput {
        fields: BTreeMap::from([(name, message.to_owned())]),
    }
}

fn deletion_error(error: AccountError) -> ApiError {
    match error {
        AccountError::Refused(UserError::NotRegistered) => ApiError::NotFound,
        AccountError::Refused(UserError::OwnAccount) => ApiError::StateConflict {
            code: "own_account",
            message: "Admins delete their own account from their account page.",
        },
        AccountError::Conflict => ApiError::Conflict,
        other => ApiError::internal(other),
    }
}

/// Delete your account. Needs the password, and a current code when two-step sign-in is
/// on. Your data key is destroyed: everything personal you left in the log becomes
/// unreadable everywhere, and every session ends.
#[utoipa::path(
    post, path = "/api/account/delete", tag = "account",
    security(("bearer" = [])),
    request_body = DeleteRequest,
    responses(
        (status = 204, description = "Deleted; cookie and site data cleared"),
        (status = 400, description = "Wrong password or code", body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody),
    )
)]
pub async fn delete_own(
    State(state): State<AppState>,
    who: Authenticated,
    client: Client,
    correlation: Correlation,
    ApiJson(request): ApiJson<DeleteRequest>,
) -> Result<Response, ApiError> {
    let meta = correlation.meta(who.actor());
    crate::auth::reauth::confirm_password(&state, &who, client.address, &request.password, &meta)
        .await?;
    let factors = state.sign_ins.second_factors();
    if factors
        .is_enabled(who.user_id)
        .await
        .map_err(ApiError::internal)?
    {
        let accepted = match request.code.as_deref() {
            Some(code) => factors
                .verify_code(who.user_id, code)
                .await
                .map_err(ApiError::internal)?,
            None => false,
        };
        if !accepted {
            return Err(field(
                "code",
                "Enter a current code from your authenticator app.",
            ));
        }
    }
    state
        .accounts
        .delete_account(who.user_id, None, &meta)
        .await
        .map_err(deletion_error)?;
    Ok((
        StatusCode::NO_CONTENT,
        [
            (header::SET_COOKIE, clear_refresh()),
            (
                HeaderName::from_static("clear-site-data"),
                HeaderValue::from_static("\"cache\", \"cookies\", \"storage\""),
            ),
        ],
    )
        .into_response())
}

/// Delete someone's account (an admin cannot delete their own this way).
#[utoipa::path(
    post, path = "/api/admin/users/{user_id}/delete", tag = "admin",
    security(("bearer" = [])), params(("user_id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody))
)]
pub async fn delete_by_admin(
    State(state): State<AppState>,
    admin: Admin,
    correlation: Correlation,
    ApiPath(user_id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    state
        .accounts
        .delete_account(
            user_id,
            Some(admin.0.user_id),
            &correlation.meta(admin.0.actor()),
        )
        .await
        .map_err(deletion_error)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct ExportProfile {
    pub user_id: Uuid,
    pub handle: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub role: String,
    pub email_verified: bool,
    pub second_factor: bool,
}

#[derive(Serialize, ToSchema)]
pub struct Export {
    pub exported_at: chrono::DateTime<chrono::Utc>,
    pub profile: ExportProfile,
    pub sessions: Vec<crate::routes::account::SessionView>,
    /// Security-relevant events about the account or caused by it, newest first.
    #[schema(value_type = Vec<Object>)]
    pub history: Vec<serde_json::Value>,
}

/// Download your profile and account history as JSON.
#[utoipa::path(
    get, path = "/api/account/export", tag = "account",
    security(("bearer" = [])),
    responses((status = 200, description = "An attachment", body = Export))
)]
pub async fn export(
    State(state): State<AppState>,
    who: Authenticated,
) -> Result<Response, ApiError> {
    let crate::routes::account::OwnAccount {
        user,
        email,
        display_name,
    } = crate::routes::account::OwnAccount::load(&state, who.user_id).await?;
    let profile = ExportProfile {
        user_id: who.user_id,
        handle: user
            .handle()
            .map(|h| h.as_str().to_owned())
            .unwrap_or_default(),
        email,
        display_name,
        role: user
            .role()
            .map(|r| r.as_str().to_owned())
            .unwrap_or_default(),
        email_verified: user.is_email_verified(),
        second_factor: state
            .sign_ins
            .second_factors()
            .is_enabled(who.user_id)
            .await
            .map_err(ApiError::internal)?,
    };
    let sessions = state
        .sessions
        .list(who.user_id)
        .await
        .map_err(ApiError::internal)?
        .into_iter()
        .map(|row| crate::routes::account::SessionView::of(row, who.session_id))
        .collect();
    let mut history = Vec::new();
    for filter in [
        AuditFilter {
            target_id: Some(who.user_id),
            ..AuditFilter::default()
        },
        AuditFilter {
            actor_id: Some(who.user_id),
            ..AuditFilter::default()
        },
    ] {
        for entry in audit::page(&state.pool, &filter, 10_000)
            .await
            .map_err(ApiError::internal)?
        {
            history.push((
                entry.position,
                serde_json::json!({
                    "at": entry.recorded_at,
                    "event": entry.event_type,
                    "actor": entry.actor_handle.unwrap_or(entry.actor),
                    "account": entry.target_handle,
                    "details": entry.details,
                }),
            ));
        }
    }
    history.sort_by_key(|entry| std::cmp::Reverse(entry.0));
    history.dedup_by(|a, b| a.0 == b.0);
    let body = Export {
        exported_at: state.clock.now(),
        profile,
        sessions,
        history: history.into_iter().map(|(_, entry)| entry).collect(),
    };
    Ok((
        [(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment; filename=\"docuvault-export.json\""),
        )],
        Json(body),
    )
        .into_response())
}
