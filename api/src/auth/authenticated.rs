//! The `Authenticated` extractor: a valid access token of a live session.
//!
//! Tokens come only in the `Authorization: Bearer` header; a request that puts one in
//! the URL (`?access_token=`) is refused, since URLs end up in logs and histories.

use crate::{ApiError, AppState};
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use uuid::Uuid;

/// The person behind a request.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub role: String,
    /// The session was signed in with a second factor.
    pub two_step: bool,
}

impl Authenticated {
    pub fn is_admin(&self) -> bool {
        self.role == "admin"
    }

    /// The actor recorded in events this person causes.
    pub fn actor(&self) -> String {
        format!("user:{}", self.user_id)
    }
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let in_url = parts.uri.query().is_some_and(|query| {
            query
                .split('&')
                .any(|pair| pair.split('=').next() == Some("access_token"))
        });
        if in_url {
            return Err(ApiError::Unauthorized);
        }
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthorized)?;
        let claims = state.tokens.verify(token.trim()).map_err(|error| {
            tracing::debug!(%error, "access token refused");
            ApiError::Unauthorized
        })?;
        let live = state
            .sessions
            .live_user(claims.sid)
            .await
            .map_err(ApiError::internal)?;
        let Some((user_id, two_step)) = live.filter(|(user, _)| *user == claims.sub) else {
            return Err(ApiError::Unauthorized);
        };
        Ok(Self {
            user_id,
            session_id: claims.sid,
            role: claims.role,
            two_step,
        })
    }
}

/// An administrator behind a request (ADM-1). Anyone else signed in gets a 403, and so
/// does an admin who has enrolled a second factor but signed this session in without it
/// (SECURITY 17: admin accounts need MFA once enrolled).
#[derive(Debug, Clone)]
pub struct Admin(pub Authenticated);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let who = Authenticated::from_request_parts(parts, state).await?;
        if !who.is_admin() {
            return Err(ApiError::Forbidden);
        }
        if !who.two_step
            && state
                .sign_ins
                .second_factors()
                .is_enabled(who.user_id)
                .await
                .map_err(ApiError::internal)?
        {
            return Err(ApiError::SecondStepRequired);
        }
        Ok(Self(who))
    }
}
