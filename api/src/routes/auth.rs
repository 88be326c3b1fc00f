//! Accounts: registration (AUTH-1).

use crate::extract::{ApiJson, Correlation};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use commands::registration::{RegistrationError, RegistrationForm, RegistrationOutcome};
use domain::user::{RegistrationProblems, Role};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(example = "ann@example.org")]
    pub email: String,
    /// 3–30 characters of a–z, 0–9, `_` and `-`; case-insensitive.
    #[schema(example = "ann")]
    pub handle: String,
    /// 8–256 characters; common and guessable passwords are refused.
    pub password: String,
    /// The token of an invitation (needed when self-registration is closed); it must
    /// have been sent to this email address.
    pub invite: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RegisterResponse {
    pub message: &'static str,
}

/// The one reply to every accepted registration, whether or not the email was already in
/// use, so that the reply reveals nothing about other people's accounts.
pub const REGISTRATION_ACCEPTED: &str =
    "Check your email to confirm your account. If you already have an account, we sent you a note instead.";

/// The reply to a registration by invitation: the invitation proved the address.
pub const INVITATION_ACCEPTED: &str = "Your account is ready. Sign in.";

#[derive(Serialize, ToSchema)]
pub struct RegistrationStatus {
    /// Whether anyone may register, or only people with an invitation.
    pub open: bool,
}

/// Whether self-registration is open.
#[utoipa::path(get, path = "/api/auth/registration", tag = "auth", responses((status = 200, body = RegistrationStatus)))]
pub async fn registration_status(
    State(state): State<AppState>,
) -> Result<Json<RegistrationStatus>, ApiError> {
    let open = state
        .invites
        .self_registration_open()
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(RegistrationStatus { open }))
}

/// Register a new account.
#[utoipa::path(
    post, path = "/api/auth/register", tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 202, description = "Accepted; the same reply whether or not the email was in use", body = RegisterResponse),
        (status = 400, description = "Invalid fields or unreadable body", body = crate::error::ErrorBody),
        (status = 403, description = "Registration is by invitation only", body = crate::error::ErrorBody),
        (status = 409, description = "The handle is taken", body = crate::error::ErrorBody),
        (status = 413, description = "Body too large", body = crate::error::ErrorBody),
        (status = 429, description = "Too many registrations from this address", body = crate::error::ErrorBody),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn register(
    State(state): State<AppState>,
    client: crate::auth::Client,
    correlation: Correlation,
    ApiJson(request): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<RegisterResponse>), ApiError> {
    // Each registration may send an email: a client address gets a few an hour (AUTH-7).
    let bucket = commands::auth::throttle::Bucket::registrations(client.address);
    crate::auth::throttling::admit(&state, &bucket).await?;
    let meta = correlation.meta("anonymous");
    let grant = match request.invite.as_deref() {
        Some(token) => Some(
            state
                .invites
                .check(token, &request.email)
                .await
                .map_err(ApiError::internal)?
                .ok_or(ApiError::InvalidInvite)?,
        ),
        None => None,
    };
    if grant.is_none()
        && !state
            .invites
            .self_registration_open()
            .await
            .map_err(ApiError::internal)?
    {
        return Err(ApiError::RegistrationClosed);
    }
    let form = RegistrationForm {
        email: &request.email,
        handle: &request.handle,
        password: &request.password,
    };
    let role = grant.map_or(Role::User, |grant| grant.role);
    let outcome = state
        .registrations
        .register(form, role, grant.is_some(), &meta)
        .await;
    match (&outcome, grant) {
        (Ok(RegistrationOutcome::Registered { user_id, .. }), Some(grant)) => {
            state
                .invites
                .accepted(grant.invite_id, *user_id, &meta)
                .await
                .map_err(ApiError::internal)?;
            return Ok((
                StatusCode::ACCEPTED,
                Json(RegisterResponse {
                    message: INVITATION_ACCEPTED,
                }),
            ));
        }
        (Ok(RegistrationOutcome::Registered { user_id, .. }), None) => {
            let (background, user_id) = (state.clone(), *user_id);
            tokio::spawn(async move {
                match background.accounts.verification_link(user_id).await {
                    Ok(Some(link)) => crate::notify::verification(&background, link),
                    Ok(None) => {}
                    Err(error) => tracing::warn!(%error, %user_id, "no confirmation link"),
                }
            });
        }
        (Ok(RegistrationOutcome::EmailInUse), _) => {
            if let Ok(email) = domain::user::Email::parse(&request.email) {
                crate::notify::already_registered(&state, email.as_str());
            }
        }
        (Err(_), _) => {}
    }
    match outcome {
        Ok(RegistrationOutcome::Registered { .. } | RegistrationOutcome::EmailInUse) => Ok((
            StatusCode::ACCEPTED,
            Json(RegisterResponse {
                message: REGISTRATION_ACCEPTED,
            }),
        )),
        Err(RegistrationError::Invalid(problems)) => Err(invalid(problems)),
        Err(RegistrationError::HandleTaken) => Err(ApiError::HandleTaken),
        Err(RegistrationError::Internal(detail)) => Err(ApiError::Internal(detail)),
    }
}

pub(crate) fn invalid(problems: RegistrationProblems) -> ApiError {
    let mut fields = BTreeMap::new();
    if let Some(problem) = problems.email {
        fields.insert("email", problem.to_string());
    }
    if let Some(problem) = problems.handle {
        fields.insert("handle", problem.to_string());
    }
    if let Some(problem) = problems.password {
        fields.insert("password", problem.to_string());
    }
    ApiError::InvalidInput { fields }
}
