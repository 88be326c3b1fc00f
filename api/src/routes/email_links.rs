//! What emailed links lead to (AUTH-5; SECURITY 4, 30): confirming an address, asking
//! for another confirmation, asking for a password reset and setting the new password.
//! Requests that name an address always get the same reply; link checks are throttled
//! per client address and per link.

use crate::auth::throttling::{count, held_back};
use crate::auth::Client;
use crate::extract::{ApiJson, Correlation};
use crate::{notify, ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use commands::accounts::AccountError;
use commands::auth::throttle::Bucket;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Message {
    pub message: &'static str,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailRequest {
    /// One address (a list is refused: GitLab CVE-2023-7028).
    pub email: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    pub token: String,
    pub new_password: String,
}

pub const RESEND_ACCEPTED: &str =
    "If that address has an account waiting for confirmation, we sent it a new link.";
pub const RESET_ACCEPTED: &str =
    "If that address has an account, we sent it a link to reset the password.";

/// Spends a link under its throttle (per client address and per link): refused while
/// held back; an invalid link counts in both and answers `invalid_link`. Other errors
/// are the caller's to answer.
async fn spend_link<T>(
    state: &AppState,
    client: &Client,
    token: &str,
    spend: impl std::future::Future<Output = Result<T, AccountError>>,
) -> Result<Result<T, AccountError>, ApiError> {
    let digest = hex::encode(&Sha256::digest(token.as_bytes())[..8]);
    let buckets = [Bucket::address(client.address), Bucket::token(&digest)];
    held_back(state, &buckets).await?;
    match spend.await {
        Err(AccountError::InvalidToken) => {
            count(state, &buckets).await?;
            Err(ApiError::InvalidLink)
        }
        outcome => Ok(outcome),
    }
}

/// Confirm an email address with the link's token.
#[utoipa::path(
    post, path = "/api/auth/verify-email", tag = "auth",
    request_body = TokenRequest,
    responses(
        (status = 200, body = Message),
        (status = 400, description = "Unknown, used or expired link", body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody),
    )
)]
pub async fn verify_email(
    State(state): State<AppState>,
    client: Client,
    correlation: Correlation,
    ApiJson(request): ApiJson<TokenRequest>,
) -> Result<Json<Message>, ApiError> {
    let meta = correlation.meta("anonymous");
    let spend = state.accounts.verify_email(&request.token, &meta);
    match spend_link(&state, &client, &request.token, spend).await? {
        Ok(_) => Ok(Json(Message {
            message: "Your email address is confirmed. You can sign in now.",
        })),
        Err(other) => Err(ApiError::internal(other)),
    }
}

/// Ask for another confirmation link. The reply is the same for every address.
#[utoipa::path(
    post, path = "/api/auth/verify-email/resend", tag = "auth",
    request_body = EmailRequest,
    responses((status = 202, body = Message), (status = 400, body = crate::error::ErrorBody))
)]
pub async fn resend_verification(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<EmailRequest>,
) -> (StatusCode, Json<Message>) {
    let background = state.clone();
    tokio::spawn(async move {
        match background
            .accounts
            .resend_verification(&request.email)
            .await
        {
            Ok(Some(link)) => notify::verification(&background, link),
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "could not prepare a confirmation link"),
        }
    });
    (
        StatusCode::ACCEPTED,
        Json(Message {
            message: RESEND_ACCEPTED,
        }),
    )
}

/// Ask for a password-reset link. The reply is the same for every address, and comes
/// before any lookup, so its timing says nothing either.
#[utoipa::path(
    post, path = "/api/auth/password-reset", tag = "auth",
    request_body = EmailRequest,
    responses((status = 202, body = Message), (status = 400, body = crate::error::ErrorBody))
)]
pub async fn request_reset(
    State(state): State<AppState>,
    correlation: Correlation,
    ApiJson(request): ApiJson<EmailRequest>,
) -> (StatusCode, Json<Message>) {
    let background = state.clone();
    let meta = correlation.meta("anonymous");
    tokio::spawn(async move {
        match background
            .accounts
            .password_reset_link(&request.email, &meta)
            .await
        {
            Ok(Some(link)) => notify::password_reset(&background, link),
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "could not prepare a reset link"),
        }
    });
    (
        StatusCode::ACCEPTED,
        Json(Message {
            message: RESET_ACCEPTED,
        }),
    )
}

/// Set a new password with a reset link. Every session ends; nobody is signed in, and
/// two-step sign-in, if on, is still asked for at the next sign-in.
#[utoipa::path(
    post, path = "/api/auth/password-reset/confirm", tag = "auth",
    request_body = ResetRequest,
    responses(
        (status = 200, body = Message),
        (status = 400, description = "Bad link, or the new password is refused", body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody),
    )
)]
pub async fn confirm_reset(
    State(state): State<AppState>,
    client: Client,
    correlation: Correlation,
    ApiJson(request): ApiJson<ResetRequest>,
) -> Result<Json<Message>, ApiError> {
    let meta = correlation.meta("anonymous");
    let spend = state
        .accounts
        .reset_password(&request.token, &request.new_password, &meta);
    match spend_link(&state, &client, &request.token, spend).await? {
        Ok((user_id, email)) => {
            if let Some(email) = email {
                notify::password_changed(&state, user_id, &email);
            }
            Ok(Json(Message {
                message: "Your password is changed and every session was signed out. Sign in with the new one.",
            }))
        }
        Err(AccountError::WeakPassword(problem)) => Err(ApiError::InvalidInput {
            fields: BTreeMap::from([("new_password", problem.to_string())]),
        }),
        Err(other) => Err(ApiError::internal(other)),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailChangeRequest {
    pub new_email: String,
    pub password: String,
}

pub const EMAIL_CHANGE_ACCEPTED: &str =
    "Check the new address: open the link we sent there to confirm it. Until then, nothing changes.";

/// Move your account to another address (needs the password). A link goes to the new
/// address and your current address is told; the reply is the same whether or not the
/// new address is free.
#[utoipa::path(
    post, path = "/api/account/email", tag = "account",
    security(("bearer" = [])),
    request_body = EmailChangeRequest,
    responses(
        (status = 202, body = Message),
        (status = 400, description = "Wrong password or not an address", body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody),
    )
)]
pub async fn request_email_change(
    State(state): State<AppState>,
    who: crate::auth::Authenticated,
    client: Client,
    correlation: Correlation,
    ApiJson(request): ApiJson<EmailChangeRequest>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    use commands::accounts::EmailChange;
    let meta = correlation.meta(who.actor());
    crate::auth::reauth::confirm_password(&state, &who, client.address, &request.password, &meta)
        .await?;
    match state
        .accounts
        .request_email_change(who.user_id, &request.new_email)
        .await
    {
        Ok(EmailChange::Confirm { link, old_email }) => {
            notify::email_change(&state, link, old_email)
        }
        Ok(EmailChange::Taken { new_email }) => notify::already_registered(&state, &new_email),
        Ok(EmailChange::Nothing) => {}
        Err(AccountError::BadEmail(problem)) => {
            return Err(ApiError::InvalidInput {
                fields: BTreeMap::from([("new_email", problem.to_string())]),
            })
        }
        Err(other) => return Err(ApiError::internal(other)),
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(Message {
            message: EMAIL_CHANGE_ACCEPTED,
        }),
    ))
}

/// Confirm a new address with the link sent to it.
#[utoipa::path(
    post, path = "/api/auth/email-change/confirm", tag = "auth",
    request_body = TokenRequest,
    responses(
        (status = 200, body = Message),
        (status = 400, description = "Unknown, used or expired link", body = crate::error::ErrorBody),
        (status = 409, description = "Another account took the address meanwhile", body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody),
    )
)]
pub async fn confirm_email_change(
    State(state): State<AppState>,
    client: Client,
    correlation: Correlation,
    ApiJson(request): ApiJson<TokenRequest>,
) -> Result<Json<Message>, ApiError> {
    let meta = correlation.meta("anonymous");
    let spend = state.accounts.confirm_email_change(&request.token, &meta);
    match spend_link(&state, &client, &request.token, spend).await? {
        Ok((user_id, old, new)) => {
            if let Some(old) = old {
                notify::email_changed(&state, user_id, &old, &new);
            }
            Ok(Json(Message {
                message: "Your account now uses the new address.",
            }))
        }
        Err(AccountError::EmailTaken) => Err(ApiError::StateConflict {
            code: "email_taken",
            message: "Another account uses that address now.",
        }),
        Err(other) => Err(ApiError::internal(other)),
    }
}
