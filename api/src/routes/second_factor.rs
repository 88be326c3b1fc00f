//! Turning two-step sign-in on and off, and recovery codes (AUTH-4; SECURITY 5-7, 10).
//!
//! Setting up and regenerating need the password again; switching off needs the password
//! or a current code. Switching on or off ends every other session of the person.

use crate::auth::reauth::confirm_password;
use crate::auth::{Authenticated, Client};
use crate::extract::{ApiJson, Correlation};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use commands::auth::second_factor::SecondFactorError;
use commands::CommandMeta;
use domain::session::{EndReason, SignInMethod};
use domain::user::User;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordConfirmation {
    pub password: String,
}

/// A QR code as rows of modules (`1` dark, `0` light), drawn by the SPA itself: no
/// images or `data:` URLs, which the CSP would refuse anyway.
#[derive(Serialize, ToSchema)]
pub struct QrModules {
    pub size: usize,
    pub rows: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SecondFactorSetup {
    /// Base32 seed, for typing into an app by hand. Shown only now.
    pub secret: String,
    pub otpauth_uri: String,
    pub qr: QrModules,
}

#[derive(Serialize, ToSchema)]
pub struct RecoveryCodes {
    /// Single-use codes for when the app is lost. Shown only now.
    pub recovery_codes: Vec<String>,
}

/// Switching two-step sign-in on: the recovery codes, and the fresh session that replaces
/// every earlier one (its refresh token is in the cookie).
#[derive(Serialize, ToSchema)]
pub struct SecondFactorEnabledReply {
    pub recovery_codes: Vec<String>,
    pub access_token: String,
    pub expires_in: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeConfirmation {
    pub code: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisableRequest {
    pub password: Option<String>,
    pub code: Option<String>,
}

fn second_factor_error(error: SecondFactorError) -> ApiError {
    let field = |name: &'static str, message: &str| ApiError::InvalidInput {
        fields: BTreeMap::from([(name, message.to_owned())]),
    };
    match error {
        SecondFactorError::AlreadyEnabled => ApiError::StateConflict {
            code: "second_factor_enabled",
            message: "Two-step sign-in is already on.",
        },
        SecondFactorError::NotEnabled => ApiError::StateConflict {
            code: "second_factor_disabled",
            message: "Two-step sign-in is not on.",
        },
        SecondFactorError::NotStarted => ApiError::StateConflict {
            code: "second_factor_not_started",
            message: "Start setting up two-step sign-in first.",
        },
        SecondFactorError::WrongCode => field("code", "That code is not right. Try the next one."),
        SecondFactorError::Internal(detail) => ApiError::Internal(detail),
    }
}

fn qr_modules(uri: &str) -> Result<QrModules, ApiError> {
    let code = qrcode::QrCode::new(uri.as_bytes()).map_err(ApiError::internal)?;
    let size = code.width();
    let colors = code.to_colors();
    let rows = colors
        .chunks(size)
        .map(|row| {
            row.iter()
                .map(|color| {
                    if *color == qrcode::Color::Dark {
                        '1'
                    } else {
                        '0'
                    }
                })
                .collect()
        })
        .collect();
    Ok(QrModules { size, rows })
}

/// Ends every session of the person (SECURITY 10) and starts a fresh one for this client.
async fn restart_sessions(
    state: &AppState,
    who: &Authenticated,
    client: &Client,
    method: SignInMethod,
    meta: &CommandMeta,
) -> Result<commands::auth::sessions::IssuedSession, ApiError> {
    state
        .sessions
        .end_all(who.user_id, None, EndReason::SecondFactorChanged, meta)
        .await
        .map_err(ApiError::internal)?;
    crate::routes::sessions::renewed(state, who.user_id, method, &client.user_agent, meta).await
}

/// Start setting up two-step sign-in (needs the password again).
#[utoipa::path(
    post, path = "/api/account/second-factor/setup", tag = "account",
    security(("bearer" = [])),
    request_body = PasswordConfirmation,
    responses(
        (status = 200, body = SecondFactorSetup),
        (status = 400, description = "Wrong password", body = crate::error::ErrorBody),
        (status = 409, description = "Already on", body = crate::error::ErrorBody),
        (status = 429, description = "Too many wrong passwords", body = crate::error::ErrorBody),
    )
)]
pub async fn setup(
    State(state): State<AppState>,
    who: Authenticated,
    client: Client,
    correlation: Correlation,
    ApiJson(request): ApiJson<PasswordConfirmation>,
) -> Result<Json<SecondFactorSetup>, ApiError> {
    let meta = correlation.meta(who.actor());
    confirm_password(&state, &who, client.address, &request.password, &meta).await?;
    let user: User = state
        .store
        .load(&who.user_id.to_string())
        .await
        .map_err(ApiError::internal)?;
    let label = user
        .handle()
        .map(|h| h.as_str().to_owned())
        .unwrap_or_default();
    let enrolment = state
        .sign_ins
        .second_factors()
        .begin(who.user_id, &label)
        .await
        .map_err(second_factor_error)?;
    Ok(Json(SecondFactorSetup {
        qr: qr_modules(&enrolment.otpauth_uri)?,
        secret: enrolment.secret.to_string(),
        otpauth_uri: enrolment.otpauth_uri.to_string(),
    }))
}

/// Switch two-step sign-in on with a first code from the app; returns recovery codes.
#[utoipa::path(
    post, path = "/api/account/second-factor/confirm", tag = "account",
    security(("bearer" = [])),
    request_body = CodeConfirmation,
    responses(
        (status = 200, description = "On; every session ended, a new one for this client (cookie set)", body = SecondFactorEnabledReply),
        (status = 400, description = "Wrong code", body = crate::error::ErrorBody),
        (status = 409, description = "Not started, or already on", body = crate::error::ErrorBody),
    )
)]
pub async fn confirm(
    State(state): State<AppState>,
    who: Authenticated,
    client: Client,
    correlation: Correlation,
    ApiJson(request): ApiJson<CodeConfirmation>,
) -> Result<axum::response::Response, ApiError> {
    let meta = correlation.meta(who.actor());
    let codes = state
        .sign_ins
        .second_factors()
        .confirm(who.user_id, &request.code, &meta)
        .await
        .map_err(second_factor_error)?;
    // The code just given proves the second factor for the new session.
    let session =
        restart_sessions(&state, &who, &client, SignInMethod::PasswordAndTotp, &meta).await?;
    let (cookie, tokens) = crate::routes::sessions::tokens_of(&state, &session).await?;
    let body = SecondFactorEnabledReply {
        recovery_codes: codes.iter().map(|code| code.to_string()).collect(),
        access_token: tokens.access_token,
        expires_in: tokens.expires_in,
    };
    Ok(([(axum::http::header::SET_COOKIE, cookie)], Json(body)).into_response())
}

/// Replace the recovery codes (needs the password again); the old ones stop working.
#[utoipa::path(
    post, path = "/api/account/second-factor/recovery-codes", tag = "account",
    security(("bearer" = [])),
    request_body = PasswordConfirmation,
    responses(
        (status = 200, body = RecoveryCodes),
        (status = 400, description = "Wrong password", body = crate::error::ErrorBody),
        (status = 409, description = "Two-step sign-in is off", body = crate::error::ErrorBody),
    )
)]
pub async fn regenerate(
    State(state): State<AppState>,
    who: Authenticated,
    client: Client,
    correlation: Correlation,
    ApiJson(request): ApiJson<PasswordConfirmation>,
) -> Result<Json<RecoveryCodes>, ApiError> {
    let meta = correlation.meta(who.actor());
    confirm_password(&state, &who, client.address, &request.password, &meta).await?;
    let codes = state
        .sign_ins
        .second_factors()
        .regenerate(who.user_id, &meta)
        .await
        .map_err(second_factor_error)?;
    Ok(Json(RecoveryCodes {
        recovery_codes: codes.iter().map(|code| code.to_string()).collect(),
    }))
}

/// Switch two-step sign-in off, with the password or a current code.
#[utoipa::path(
    post, path = "/api/account/second-factor/disable", tag = "account",
    security(("bearer" = [])),
    request_body = DisableRequest,
    responses(
        (status = 200, description = "Off; every session ended, a new one for this client", body = crate::routes::sessions::AccessTokenResponse),
        (status = 400, description = "Wrong password or code", body = crate::error::ErrorBody),
        (status = 409, description = "Two-step sign-in is off", body = crate::error::ErrorBody),
    )
)]
pub async fn disable(
    State(state): State<AppState>,
    who: Authenticated,
    client: Client,
    correlation: Correlation,
    ApiJson(request): ApiJson<DisableRequest>,
) -> Result<axum::response::Response, ApiError> {
    let meta = correlation.meta(who.actor());
    let factors = state.sign_ins.second_factors();
    match (&request.password, &request.code) {
        (Some(password), None) => {
            confirm_password(&state, &who, client.address, password, &meta).await?
        }
        (None, Some(code)) => {
            if !factors
                .verify_code(who.user_id, code)
                .await
                .map_err(second_factor_error)?
            {
                return Err(second_factor_error(SecondFactorError::WrongCode));
            }
        }
        _ => {
            return Err(ApiError::InvalidInput {
                fields: BTreeMap::from([(
                    "password",
                    "Confirm with your password or a current code.".to_owned(),
                )]),
            })
        }
    }
    factors
        .disable(who.user_id, &meta)
        .await
        .map_err(second_factor_error)?;
    let session = restart_sessions(&state, &who, &client, SignInMethod::Password, &meta).await?;
    crate::routes::sessions::signed_in(&state, &session).await
}
