//! The signed-in person's own account: who they are, and their sessions.

use crate::auth::Authenticated;
use crate::extract::{ApiPath, Correlation};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use domain::session::EndReason;
use domain::user::{sealed_fields, User};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub user_id: Uuid,
    pub handle: String,
    /// `None` when the address can no longer be read.
    pub email: Option<String>,
    pub role: String,
    pub display_name: Option<String>,
    /// Whether sign-in asks for a code from an authenticator app.
    pub second_factor: bool,
}

/// The signed-in person.
#[utoipa::path(
    get, path = "/api/me", tag = "account",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Me),
        (status = 401, description = "Not signed in", body = crate::error::ErrorBody),
    )
)]
pub async fn me(State(state): State<AppState>, who: Authenticated) -> Result<Json<Me>, ApiError> {
    let OwnAccount {
        user,
        email,
        display_name,
    } = OwnAccount::load(&state, who.user_id).await?;
    let (Some(handle), Some(role)) = (user.handle(), user.role()) else {
        return Err(ApiError::Unauthorized);
    };
    Ok(Json(Me {
        user_id: who.user_id,
        handle: handle.as_str().to_owned(),
        email,
        role: role.as_str().to_owned(),
        display_name,
        second_factor: state
            .sign_ins
            .second_factors()
            .is_enabled(who.user_id)
            .await
            .map_err(ApiError::internal)?,
    }))
}

/// A person's own account as the write side holds it, with its sealed fields opened (`None`
/// once the data key is gone).
pub(crate) struct OwnAccount {
    pub user: User,
    pub email: Option<String>,
    pub display_name: Option<String>,
}

impl OwnAccount {
    pub(crate) async fn load(state: &AppState, user_id: Uuid) -> Result<Self, ApiError> {
        let user: User = state
            .store
            .load(&user_id.to_string())
            .await
            .map_err(ApiError::internal)?;
        let key = state.keys.find(user_id).await.map_err(ApiError::internal)?;
        let open = |field: &str, sealed: Option<&domain::Sealed>| match (&key, sealed) {
            (Some(key), Some(sealed)) => key.open_text(user_id, field, sealed).ok(),
            _ => None,
        };
        let email = open(sealed_fields::EMAIL, user.email());
        let display_name = open(sealed_fields::DISPLAY_NAME, user.display_name());
        Ok(Self {
            user,
            email,
            display_name,
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct SessionView {
    pub session_id: Uuid,
    /// This is the session the request came from.
    pub current: bool,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// `signed_out`, `signed_out_everywhere`, `token_reuse`, … when ended.
    pub end_reason: Option<String>,
    pub user_agent: String,
}

impl SessionView {
    pub(crate) fn of(row: commands::auth::sessions::SessionSummary, current: Uuid) -> Self {
        Self {
            current: row.session_id == current,
            session_id: row.session_id,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            expires_at: row.expires_at,
            ended_at: row.revoked_at,
            end_reason: row.revoked_reason,
            user_agent: row.user_agent,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SessionList {
    pub sessions: Vec<SessionView>,
    /// Some session ended because a refresh token was used twice: someone may have
    /// copied it. Shown as an alert.
    pub reuse_detected: bool,
}

/// The signed-in person's sessions: live ones and those ended in the last 30 days.
#[utoipa::path(
    get, path = "/api/sessions", tag = "account",
    security(("bearer" = [])),
    responses(
        (status = 200, body = SessionList),
        (status = 401, description = "Not signed in", body = crate::error::ErrorBody),
    )
)]
pub async fn list_sessions(
    State(state): State<AppState>,
    who: Authenticated,
) -> Result<Json<SessionList>, ApiError> {
    let rows = state
        .sessions
        .list(who.user_id)
        .await
        .map_err(ApiError::internal)?;
    let reuse_detected = rows
        .iter()
        .any(|row| row.revoked_reason.as_deref() == Some(EndReason::TokenReuse.as_str()));
    let sessions = rows
        .into_iter()
        .map(|row| SessionView::of(row, who.session_id))
        .collect();
    Ok(Json(SessionList {
        sessions,
        reuse_detected,
    }))
}

/// End one of the signed-in person's sessions. Another person's session id answers 404.
#[utoipa::path(
    delete, path = "/api/sessions/{session_id}", tag = "account",
    security(("bearer" = [])),
    params(("session_id" = Uuid, Path)),
    responses(
        (status = 204, description = "Ended"),
        (status = 401, description = "Not signed in", body = crate::error::ErrorBody),
        (status = 404, description = "No such live session of yours", body = crate::error::ErrorBody),
    )
)]
pub async fn end_session(
    State(state): State<AppState>,
    who: Authenticated,
    correlation: Correlation,
    ApiPath(session_id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    let ended = state
        .sessions
        .end(
            who.user_id,
            session_id,
            EndReason::SignedOut,
            &correlation.meta(who.actor()),
        )
        .await
        .map_err(ApiError::internal)?;
    if ended {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

#[derive(serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeRequest {
    pub current_password: String,
    pub new_password: String,
}

/// Change the password. Every session ends, this one included (its tokens stop working);
/// the reply carries a fresh session for this client (new access token, new refresh
/// cookie).
#[utoipa::path(
    post, path = "/api/account/password", tag = "account",
    security(("bearer" = [])),
    request_body = PasswordChangeRequest,
    responses(
        (status = 200, description = "Changed; every session ended, a new one for this client", body = crate::routes::sessions::AccessTokenResponse),
        (status = 400, description = "Wrong current password, or the new one is refused", body = crate::error::ErrorBody),
        (status = 429, description = "Too many wrong passwords", body = crate::error::ErrorBody),
    )
)]
pub async fn change_password(
    State(state): State<AppState>,
    who: Authenticated,
    client: crate::auth::Client,
    correlation: Correlation,
    crate::extract::ApiJson(request): crate::extract::ApiJson<PasswordChangeRequest>,
) -> Result<axum::response::Response, ApiError> {
    use commands::accounts::AccountError;
    let field = |name: &'static str, message: String| ApiError::InvalidInput {
        fields: std::collections::BTreeMap::from([(name, message)]),
    };
    let meta = correlation.meta(who.actor());
    state
        .accounts
        .change_password(
            who.user_id,
            &request.current_password,
            &request.new_password,
            client.address,
            &meta,
        )
        .await
        .map_err(|error| match error {
            AccountError::WrongPassword => {
                field("current_password", "That is not your password.".into())
            }
            AccountError::WeakPassword(problem) => field("new_password", problem.to_string()),
            AccountError::Throttled(wait) => ApiError::throttled(wait),
            AccountError::Conflict => ApiError::Conflict,
            other => ApiError::internal(other),
        })?;
    let method = if who.two_step {
        domain::session::SignInMethod::PasswordAndTotp
    } else {
        domain::session::SignInMethod::Password
    };
    let session =
        crate::routes::sessions::renewed(&state, who.user_id, method, &client.user_agent, &meta)
            .await?;
    crate::routes::sessions::signed_in(&state, &session).await
}

#[derive(serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileRequest {
    /// 1–80 characters; `null` removes it.
    pub display_name: Option<String>,
}

/// Set or remove your display name.
#[utoipa::path(
    put, path = "/api/account/profile", tag = "account",
    security(("bearer" = [])),
    request_body = ProfileRequest,
    responses((status = 204), (status = 400, body = crate::error::ErrorBody))
)]
pub async fn update_profile(
    State(state): State<AppState>,
    who: Authenticated,
    correlation: Correlation,
    crate::extract::ApiJson(request): crate::extract::ApiJson<ProfileRequest>,
) -> Result<StatusCode, ApiError> {
    let name = match request.display_name.as_deref() {
        Some(raw) => Some(domain::user::DisplayName::parse(raw).map_err(|problem| {
            ApiError::InvalidInput {
                fields: std::collections::BTreeMap::from([("display_name", problem.to_string())]),
            }
        })?),
        None => None,
    };
    state
        .accounts
        .update_profile(who.user_id, name, &correlation.meta(who.actor()))
        .await
        .map_err(ApiError::internal)?;
    Ok(StatusCode::NO_CONTENT)
}
