//! `ApiError`: every failure a handler can return, mapped to HTTP once, here.
//!
//! Bodies are `{"code": "...", "message": "...", "fields": {...}?}`. Internal errors are
//! logged with their detail and answered with an opaque 500.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: fields failed validation; `fields` says which and why.
    #[error("invalid input")]
    InvalidInput {
        fields: BTreeMap<&'static str, String>,
    },
    /// 400: the body or a header could not be read at all.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// 413: the body is larger than this route accepts.
    #[error("request body too large")]
    TooLarge,
    /// 415: the body is not JSON.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 401 + `WWW-Authenticate`: no valid access token, or a refresh the server refused.
    #[error("unauthorized")]
    Unauthorized,
    /// 401: the email or password is wrong (one answer for both; SECURITY 4).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// 400: an invitation that is unknown, used, expired or for another address.
    #[error("invalid invitation")]
    InvalidInvite,
    /// 403: self-registration is closed and no invitation came with the request.
    #[error("registration closed")]
    RegistrationClosed,
    /// 400: an emailed link that is unknown, used, expired or for something else.
    #[error("invalid link")]
    InvalidLink,
    /// 403: the right password, but the address is not confirmed yet (a new link is on
    /// its way).
    #[error("email unverified")]
    EmailUnverified,
    /// 403: the right password for an account an admin disabled.
    #[error("account disabled")]
    AccountDisabled,
    /// 403: an admin with a second factor signed this session in without it.
    #[error("second step required")]
    SecondStepRequired,
    /// 403: signed in, but this needs an administrator.
    #[error("forbidden")]
    Forbidden,
    /// 403: a cookie route called from another site (SECURITY 12).
    #[error("cross-site request")]
    CrossSite,
    /// 429 + `Retry-After` (seconds): too many failed attempts (SECURITY 3).
    #[error("too many attempts")]
    Throttled { retry_after_seconds: i64 },
    /// 405: the path exists, the method does not.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 404
    #[error("not found")]
    NotFound,
    /// 409: the handle belongs to someone else.
    #[error("handle taken")]
    HandleTaken,
    /// 422: nobody with this handle can receive a share: nobody holds it, or its account
    /// is disabled, deleted or the sharer's own (one answer for all).
    #[error("no recipient")]
    NoRecipient,
    /// 409: the request does not fit the current state (e.g. switching on what is on).
    #[error("{code}")]
    StateConflict {
        code: &'static str,
        message: &'static str,
    },
    /// 409: the bytes do not fit in the person's quota; the message says by how much.
    #[error("quota exceeded")]
    QuotaExceeded { message: String },
    /// 413: a file above the largest size accepted.
    #[error("file too large")]
    FileTooLarge { message: String },
    /// 403: an upload link that is tampered with, expired or used (as S3 answers).
    #[error("upload refused: {0}")]
    UploadRefused(String),
    /// 422: the uploaded bytes are not what their type says.
    #[error("content rejected: {0}")]
    ContentRejected(String),
    /// 409: a concurrent change to the same item won.
    #[error("conflict")]
    Conflict,
    /// 503 + Retry-After: the read model has not caught up with the requested token.
    #[error("not yet consistent")]
    NotYetConsistent,
    /// 503: a dependency is down.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// 500: logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable machine-readable code, e.g. `invalid_input`, `handle_taken`.
    pub code: &'static str,
    /// A sentence for people.
    pub message: String,
    /// Per-field problems, when the request had fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<&'static str, String>>,
}

impl ApiError {
    pub fn internal(error: impl std::fmt::Display) -> Self {
        Self::Internal(error.to_string())
    }

    /// A 400 naming one field and what is wrong with it.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::InvalidInput {
            fields: BTreeMap::from([(field, message.into())]),
        }
    }

    /// A 429 telling the client to wait `wait` (rounded up to whole seconds).
    pub fn throttled(wait: chrono::Duration) -> Self {
        Self::Throttled {
            retry_after_seconds: wait.num_seconds() + 1,
        }
    }

    fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            ApiError::InvalidInput { .. } => (
                StatusCode::BAD_REQUEST,
                "invalid_input",
                "Some fields need attention.".into(),
            ),
            ApiError::Malformed(detail) => (
                StatusCode::BAD_REQUEST,
                "malformed_request",
                format!("The request could not be read: {detail}"),
            ),
            ApiError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "The request body is too large.".into(),
            ),
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the body as application/json.".into(),
            ),
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Sign in to continue.".into(),
            ),
            ApiError::InvalidCredentials => (
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "The email or password is not right.".into(),
            ),
            ApiError::InvalidInvite => (
                StatusCode::BAD_REQUEST,
                "invalid_invitation",
                "This invitation is not valid for this address: it may have been used or have expired.".into(),
            ),
            ApiError::RegistrationClosed => (
                StatusCode::FORBIDDEN,
                "registration_closed",
                "New accounts are by invitation only. Ask an administrator to invite you.".into(),
            ),
            ApiError::InvalidLink => (
                StatusCode::BAD_REQUEST,
                "invalid_link",
                "This link is not valid: it was used already, has expired, or was copied wrong. Ask for a new one.".into(),
            ),
            ApiError::EmailUnverified => (
                StatusCode::FORBIDDEN,
                "email_unverified",
                "Confirm your email address first: open the link we sent you. We have sent a new one.".into(),
            ),
            ApiError::AccountDisabled => (
                StatusCode::FORBIDDEN,
                "account_disabled",
                "This account has been disabled. Contact your administrator.".into(),
            ),
            ApiError::SecondStepRequired => (
                StatusCode::FORBIDDEN,
                "second_step_required",
                "Administration needs a session signed in with your second factor. Sign out and in again with a code.".into(),
            ),
            ApiError::Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Only administrators can do this.".into(),
            ),
            ApiError::CrossSite => (
                StatusCode::FORBIDDEN,
                "cross_site_request",
                "This request must come from DocuVault itself.".into(),
            ),
            ApiError::Throttled { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                "Too many attempts. Wait a little and try again.".into(),
            ),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "This method is not allowed here.".into(),
            ),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found", "Nothing here.".into()),
            ApiError::HandleTaken => (StatusCode::CONFLICT, "handle_taken", HANDLE_TAKEN.into()),
            ApiError::NoRecipient => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "no_recipient",
                "No one with this handle can receive shares.".into(),
            ),
            ApiError::StateConflict { code, message } => {
                (StatusCode::CONFLICT, code, (*message).to_owned())
            }
            ApiError::QuotaExceeded { message } => {
                (StatusCode::CONFLICT, "quota_exceeded", message.clone())
            }
            ApiError::FileTooLarge { message } => {
                (StatusCode::PAYLOAD_TOO_LARGE, "file_too_large", message.clone())
            }
            ApiError::UploadRefused(message) => {
                (StatusCode::FORBIDDEN, "upload_refused", message.clone())
            }
            ApiError::ContentRejected(reason) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "content_rejected",
                format!("This file was not kept: {reason}."),
            ),
            ApiError::Conflict => (
                StatusCode::CONFLICT,
                "conflict",
                "Someone changed this at the same time; try again.".into(),
            ),
            ApiError::NotYetConsistent => (
                StatusCode::SERVICE_UNAVAILABLE,
                "not_yet_consistent",
                "Your last change is still being processed; try again in a moment.".into(),
            ),
            ApiError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "The service is temporarily unavailable.".into(),
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "Something went wrong on our side.".into(),
            ),
        }
    }
}

pub const HANDLE_TAKEN: &str = "That handle is already taken.";

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = self.parts();
        match &self {
            ApiError::Internal(detail) | ApiError::Unavailable(detail) => {
                tracing::error!(%status, detail, "request failed")
            }
            _ => tracing::debug!(%status, code, "request refused"),
        }
        let retry_after = match &self {
            ApiError::Throttled {
                retry_after_seconds,
            } => Some((*retry_after_seconds).max(1)),
            _ if status == StatusCode::SERVICE_UNAVAILABLE => Some(1),
            _ => None,
        };
        let fields = match self {
            ApiError::InvalidInput { fields } => Some(fields),
            ApiError::HandleTaken => Some(BTreeMap::from([("handle", HANDLE_TAKEN.to_owned())])),
            _ => None,
        };
        let mut response = (
            status,
            axum::Json(ErrorBody {
                code,
                message,
                fields,
            }),
        )
            .into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<commands::llm::LlmSettingsError> for ApiError {
    fn from(error: commands::llm::LlmSettingsError) -> Self {
        use commands::llm::LlmSettingsError;
        use domain::instance::ai::AiSettingsError;
        let sentence = |text: String| {
            let mut chars = text.chars();
            match chars.next() {
                Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
                None => text,
            }
        };
        match error {
            LlmSettingsError::Invalid(invalid @ AiSettingsError::OfflineHasNoEndpoint) => {
                Self::invalid("provider", sentence(invalid.to_string()))
            }
            LlmSettingsError::Invalid(invalid @ AiSettingsError::BadEndpoint) => {
                Self::invalid("endpoint", sentence(invalid.to_string()))
            }
            LlmSettingsError::Invalid(
                invalid @ (AiSettingsError::BadNetwork(_) | AiSettingsError::TooManyNetworks),
            ) => Self::invalid("allow", sentence(invalid.to_string())),
            refused @ LlmSettingsError::Refused(_) => {
                Self::invalid("endpoint", sentence(refused.to_string()))
            }
            bad @ LlmSettingsError::BadApiKey => {
                Self::invalid("api_key", sentence(bad.to_string()))
            }
            other @ (LlmSettingsError::Undecryptable | LlmSettingsError::Store(_)) => {
                Self::internal(other)
            }
        }
    }
}
