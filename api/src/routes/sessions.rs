//! Signing in, refreshing, signing out (AUTH-2, AUTH-3, AUTH-6).
//!
//! The access token travels in JSON bodies and `Authorization` headers; the refresh token
//! only in the `__Host-` cookie, read by the cookie routes here (refresh, logout,
//! logout-all), which all require [`SameOrigin`].

use crate::auth::cookie::{clear_refresh, refresh_from, set_refresh};
use crate::auth::throttling::{count, held_back};
use crate::auth::{Client, SameOrigin};
use crate::extract::{ApiJson, Correlation};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use commands::auth::sessions::{IssuedSession, RefreshError, RefreshToken};
use commands::auth::sign_in::{PasswordOutcome, SecondProof, SignInAttempt, SignInError};
use commands::auth::throttle::Bucket;
use domain::session::EndReason;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(example = "ann@example.org")]
    pub email: String,
    pub password: String,
}

/// A new access token. The refresh token is in the `Set-Cookie` header, never here.
#[derive(Serialize, ToSchema)]
pub struct AccessTokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires (at most 600).
    pub expires_in: i64,
    pub user_id: Uuid,
    pub role: String,
}

/// The password was right and the account has two-step sign-in: send a code (or a
/// recovery code) with this token to `/api/auth/login/second-factor` within 5 minutes.
/// The token opens nothing else.
#[derive(Serialize, ToSchema)]
pub struct SecondFactorRequired {
    /// Always true.
    pub second_factor_required: bool,
    pub second_step_token: String,
    pub expires_in: i64,
}

/// Sign in with email and password.
#[utoipa::path(
    post, path = "/api/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in (the refresh cookie is set), or a second factor is required", body = AccessTokenResponse),
        (status = 400, description = "Unreadable body", body = crate::error::ErrorBody),
        (status = 401, description = "Wrong email or password (one answer for both)", body = crate::error::ErrorBody),
        (status = 429, description = "Too many failures; see Retry-After", body = crate::error::ErrorBody),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn login(
    State(state): State<AppState>,
    client: Client,
    correlation: Correlation,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let attempt = SignInAttempt {
        email: &request.email,
        password: &request.password,
        address: client.address,
        user_agent: &client.user_agent,
    };
    let outcome = match state
        .sign_ins
        .with_password(attempt, &correlation.meta("anonymous"))
        .await
    {
        Ok(outcome) => outcome,
        Err(SignInError::EmailUnverified) => {
            // The password was right: send a fresh link (spaced out per account).
            let background = state.clone();
            let email = request.email.clone();
            tokio::spawn(async move {
                if let Ok(Some(link)) = background.accounts.resend_verification(&email).await {
                    crate::notify::verification(&background, link);
                }
            });
            return Err(ApiError::EmailUnverified);
        }
        Err(error) => return Err(sign_in_error(error)),
    };
    match outcome {
        PasswordOutcome::SignedIn(session) => signed_in(&state, &session).await,
        PasswordOutcome::SecondFactorRequired { user_id } => {
            let pending = state
                .tokens
                .issue_second_step(user_id)
                .map_err(ApiError::internal)?;
            Ok(Json(SecondFactorRequired {
                second_factor_required: true,
                second_step_token: pending.token,
                expires_in: pending.expires_in,
            })
            .into_response())
        }
    }
}

fn sign_in_error(error: SignInError) -> ApiError {
    match error {
        SignInError::InvalidCredentials => ApiError::InvalidCredentials,
        SignInError::Throttled(wait) => ApiError::throttled(wait),
        SignInError::Disabled => ApiError::AccountDisabled,
        SignInError::EmailUnverified => ApiError::EmailUnverified,
        SignInError::Internal(detail) => ApiError::Internal(detail),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecondFactorRequest {
    pub second_step_token: String,
    /// The 6-digit code of the authenticator app…
    pub code: Option<String>,
    /// …or one of the recovery codes.
    pub recovery_code: Option<String>,
}

/// Finish a sign-in with a TOTP code or a recovery code.
#[utoipa::path(
    post, path = "/api/auth/login/second-factor", tag = "auth",
    request_body = SecondFactorRequest,
    responses(
        (status = 200, description = "Signed in; the refresh cookie is set", body = AccessTokenResponse),
        (status = 400, description = "Neither or both of code and recovery_code", body = crate::error::ErrorBody),
        (status = 401, description = "Wrong, reused or expired code or token", body = crate::error::ErrorBody),
        (status = 429, description = "Too many failures; see Retry-After", body = crate::error::ErrorBody),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn second_factor(
    State(state): State<AppState>,
    client: Client,
    correlation: Correlation,
    ApiJson(request): ApiJson<SecondFactorRequest>,
) -> Result<Response, ApiError> {
    let user_id = state
        .tokens
        .verify_second_step(&request.second_step_token)
        .map_err(|_| ApiError::Unauthorized)?;
    let proof = match (&request.code, &request.recovery_code) {
        (Some(code), None) => SecondProof::Totp(code),
        (None, Some(code)) => SecondProof::RecoveryCode(code),
        _ => {
            return Err(ApiError::InvalidInput {
                fields: [(
                    "code",
                    "Enter the code from your app, or a recovery code.".to_owned(),
                )]
                .into(),
            })
        }
    };
    let session = state
        .sign_ins
        .with_second_factor(
            user_id,
            proof,
            client.address,
            &client.user_agent,
            &correlation.meta("anonymous"),
        )
        .await
        .map_err(sign_in_error)?;
    signed_in(&state, &session).await
}

/// The access token and the refresh cookie of a session.
pub(crate) async fn signed_in(
    state: &AppState,
    session: &IssuedSession,
) -> Result<Response, ApiError> {
    let (cookie, body) = tokens_of(state, session).await?;
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

/// A session's refresh cookie and access-token body.
pub(crate) async fn tokens_of(
    state: &AppState,
    session: &IssuedSession,
) -> Result<(HeaderValue, AccessTokenResponse), ApiError> {
    let role = state.role_of(session.user_id).await?;
    let signed = state
        .tokens
        .issue(session.user_id, session.session_id, &role)
        .map_err(ApiError::internal)?;
    let cookie = set_refresh(
        session.refresh_token.expose(),
        session.refresh_expires_at,
        state.clock.now(),
    );
    let body = AccessTokenResponse {
        access_token: signed.token,
        token_type: "Bearer",
        expires_in: signed.expires_in,
        user_id: session.user_id,
        role,
    };
    Ok((cookie, body))
}

/// Refusals of cookie routes also delete the cookie.
fn refused(error: ApiError) -> Response {
    let mut response = error.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, clear_refresh());
    response
}

/// Exchange the refresh cookie for a new access token and a new refresh cookie.
///
/// Every refresh rotates. Presenting a refresh token that was already used ends its whole
/// session (its access tokens stop working) and is shown in the sessions list. There is
/// no grace period: parallel refreshes of one token count as reuse, so the SPA serialises
/// them across tabs.
#[utoipa::path(
    post, path = "/api/auth/refresh", tag = "auth",
    params(("X-DocuVault-CSRF" = String, Header, description = "Must be `1`")),
    responses(
        (status = 200, description = "Rotated; a new refresh cookie is set", body = AccessTokenResponse),
        (status = 401, description = "No, lapsed, revoked or reused token; the cookie is cleared", body = crate::error::ErrorBody),
        (status = 403, description = "Cross-site request", body = crate::error::ErrorBody),
        (status = 429, description = "Too many failures from this address", body = crate::error::ErrorBody),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn refresh(
    State(state): State<AppState>,
    _same_origin: SameOrigin,
    client: Client,
    correlation: Correlation,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let address = [Bucket::address(client.address)];
    held_back(&state, &address).await?;
    let Some(raw) = refresh_from(&headers) else {
        return Ok(refused(ApiError::Unauthorized));
    };
    let presented = RefreshToken::from_client(&raw);
    match state
        .sessions
        .refresh(&presented, &correlation.meta("anonymous"))
        .await
    {
        Ok(session) => signed_in(&state, &session).await,
        Err(RefreshError::Invalid | RefreshError::Reused) => {
            count(&state, &address).await?;
            Ok(refused(ApiError::Unauthorized))
        }
        Err(RefreshError::Database(error)) => Err(ApiError::internal(error)),
    }
}

/// What signing out clears in the browser besides the cookie.
const CLEAR_SITE_DATA: HeaderValue =
    HeaderValue::from_static("\"cache\", \"cookies\", \"storage\"");

fn signed_out() -> Response {
    (
        StatusCode::NO_CONTENT,
        [
            (header::SET_COOKIE, clear_refresh()),
            (
                header::HeaderName::from_static("clear-site-data"),
                CLEAR_SITE_DATA,
            ),
        ],
    )
        .into_response()
}

/// Sign out of this session. Always succeeds and clears the cookie.
#[utoipa::path(
    post, path = "/api/auth/logout", tag = "auth",
    params(("X-DocuVault-CSRF" = String, Header, description = "Must be `1`")),
    responses(
        (status = 204, description = "Signed out; cookie and site data cleared"),
        (status = 403, description = "Cross-site request", body = crate::error::ErrorBody),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn logout(
    State(state): State<AppState>,
    _same_origin: SameOrigin,
    correlation: Correlation,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(raw) = refresh_from(&headers) {
        let presented = RefreshToken::from_client(&raw);
        if let Some((session_id, user_id)) = state
            .sessions
            .live_session_of(&presented)
            .await
            .map_err(ApiError::internal)?
        {
            let meta = correlation.meta(format!("user:{user_id}"));
            state
                .sessions
                .end(user_id, session_id, EndReason::SignedOut, &meta)
                .await
                .map_err(ApiError::internal)?;
        }
    }
    Ok(signed_out())
}

/// Sign out of every session of the cookie's owner (all refresh-token families).
#[utoipa::path(
    post, path = "/api/auth/logout-all", tag = "auth",
    params(("X-DocuVault-CSRF" = String, Header, description = "Must be `1`")),
    responses(
        (status = 204, description = "Every session ended; cookie and site data cleared"),
        (status = 401, description = "No live session behind the cookie", body = crate::error::ErrorBody),
        (status = 403, description = "Cross-site request", body = crate::error::ErrorBody),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn logout_all(
    State(state): State<AppState>,
    _same_origin: SameOrigin,
    correlation: Correlation,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(raw) = refresh_from(&headers) else {
        return Ok(refused(ApiError::Unauthorized));
    };
    let Some((_, user_id)) = state
        .sessions
        .live_session_of(&RefreshToken::from_client(&raw))
        .await
        .map_err(ApiError::internal)?
    else {
        return Ok(refused(ApiError::Unauthorized));
    };
    let meta = correlation.meta(format!("user:{user_id}"));
    state
        .sessions
        .end_all(user_id, None, EndReason::SignedOutEverywhere, &meta)
        .await
        .map_err(ApiError::internal)?;
    Ok(signed_out())
}

/// After a change that ended every session of a person (SECURITY 10: password or second
/// factor changed), a new session for the client that made it: new refresh family, new
/// access token. `method` says how this client proved itself.
pub(crate) async fn renewed(
    state: &AppState,
    user_id: Uuid,
    method: domain::session::SignInMethod,
    user_agent: &str,
    meta: &commands::CommandMeta,
) -> Result<IssuedSession, ApiError> {
    state
        .sessions
        .start(user_id, method, user_agent, meta)
        .await
        .map_err(ApiError::internal)
}
