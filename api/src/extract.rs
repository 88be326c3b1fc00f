//! Extractors whose failures are `ApiError`s, so every 4xx has a JSON body.

use crate::ApiError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use eventlog::Token;

/// `axum::Json`, failing with `ApiError`.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::UnsupportedMediaType),
            Err(JsonRejection::BytesRejection(rejection))
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Err(ApiError::TooLarge)
            }
            Err(rejection) => Err(ApiError::Malformed(rejection.body_text())),
        }
    }
}

/// The header a read sends to see at least its own earlier write (EV-6).
pub const CONSISTENCY_HEADER: &str = "x-consistency-token";

/// The optional `X-Consistency-Token` of a read.
pub struct ConsistencyToken(pub Option<Token>);

impl<S: Send + Sync> FromRequestParts<S> for ConsistencyToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(CONSISTENCY_HEADER) else {
            return Ok(Self(None));
        };
        let text = value
            .to_str()
            .map_err(|_| ApiError::Malformed("X-Consistency-Token is not text".into()))?;
        text.parse::<Token>()
            .map(|token| Self(Some(token)))
            .map_err(|error| ApiError::Malformed(error.to_string()))
    }
}

/// A write's reply, with the consistency token of the change for the next read.
pub fn with_token(
    reply: impl axum::response::IntoResponse,
    token: Token,
) -> axum::response::Response {
    let mut response = reply.into_response();
    if let Ok(value) = axum::http::HeaderValue::from_str(&token.to_string()) {
        response.headers_mut().insert(
            axum::http::HeaderName::from_static(CONSISTENCY_HEADER),
            value,
        );
    }
    response
}

/// The request's id, which every command it causes carries as its correlation id.
pub struct Correlation(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Correlation {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let id = parts
            .extensions
            .get::<tower_http::request_id::RequestId>()
            .and_then(|id| id.header_value().to_str().ok())
            .unwrap_or_default()
            .to_owned();
        Ok(Self(id))
    }
}

impl Correlation {
    /// The metadata of a command `actor` starts within this request.
    pub fn meta(&self, actor: impl Into<String>) -> commands::CommandMeta {
        commands::CommandMeta::new(actor, self.0.clone())
    }
}

/// `axum::extract::Path`, failing with `ApiError` (a malformed id is a 400 with a body).
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Self(value))
            .map_err(|rejection| ApiError::Malformed(rejection.body_text()))
    }
}
