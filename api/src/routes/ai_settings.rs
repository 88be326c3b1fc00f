//! Where the LLM classifiers are, for administrators (AI-2, SECURITY 22): each provider's
//! endpoint and API key, and the networks outbound calls may reach although they are not
//! public. A key goes in and never comes out: answers say only whether one is set.

use crate::auth::Admin;
use crate::extract::{ApiJson, ApiPath, Correlation};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use commands::llm::{KeyInput, Overview, Source};
use domain::user::AiProvider;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct ProviderView {
    /// `ollama` or `openai_compatible`.
    pub provider: &'static str,
    /// The endpoint in use, `null` when there is none.
    pub endpoint: Option<String>,
    /// Whether an API key is set. The key itself is never returned.
    pub api_key_set: bool,
    /// `admin` (stored here), `server` (the server's configuration) or `null`.
    pub source: Option<&'static str>,
}

#[derive(Serialize, ToSchema)]
pub struct AiSettingsView {
    pub providers: Vec<ProviderView>,
    /// Non-public networks admins allow outbound calls to reach (CIDR).
    pub allow: Vec<String>,
    /// Whether admins allow plain http (a LAN server without TLS).
    pub allow_http: bool,
    /// What the server's configuration allows besides (`OUTBOUND_ALLOW`); read-only.
    pub server_allow: Vec<String>,
    pub server_allow_http: bool,
}

impl From<Overview> for AiSettingsView {
    fn from(overview: Overview) -> Self {
        Self {
            providers: overview
                .providers
                .into_iter()
                .map(|provider| ProviderView {
                    provider: provider.provider.as_str(),
                    endpoint: provider.endpoint,
                    api_key_set: provider.api_key_set,
                    source: provider.source.map(|source| match source {
                        Source::Admin => "admin",
                        Source::Server => "server",
                    }),
                })
                .collect(),
            allow: overview.allow,
            allow_http: overview.allow_http,
            server_allow: overview.server_allow,
            server_allow_http: overview.server_allow_http,
        }
    }
}

/// Where the LLM classifiers are and where outbound calls may go.
#[utoipa::path(
    get, path = "/api/admin/ai", tag = "admin",
    security(("bearer" = [])),
    responses((status = 200, body = AiSettingsView), (status = 403, body = crate::error::ErrorBody))
)]
pub async fn show(
    State(state): State<AppState>,
    _admin: Admin,
) -> Result<Json<AiSettingsView>, ApiError> {
    Ok(Json(state.llm.overview().await?.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointRequest {
    /// The provider's base URL, e.g. `http://192.168.1.20:11434` or
    /// `https://api.openai.com`. Vetted now: a URL outbound calls may not reach is refused.
    pub endpoint: String,
    /// A new API key; leave out to keep the stored one.
    pub api_key: Option<String>,
    /// Remove the stored API key.
    #[serde(default)]
    pub remove_api_key: bool,
}

fn llm_provider(name: &str) -> Result<AiProvider, ApiError> {
    match AiProvider::parse(name) {
        Some(provider) if provider != AiProvider::Offline => Ok(provider),
        _ => Err(ApiError::NotFound),
    }
}

/// Store a provider's endpoint and, optionally, its API key (kept encrypted).
#[utoipa::path(
    put, path = "/api/admin/ai/providers/{provider}", tag = "admin",
    security(("bearer" = [])),
    params(("provider" = String, Path, description = "`ollama` or `openai_compatible`")),
    request_body = EndpointRequest,
    responses(
        (status = 204),
        (status = 400, description = "A malformed URL or key, or an endpoint outbound calls may not reach", body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
    )
)]
pub async fn set_endpoint(
    State(state): State<AppState>,
    admin: Admin,
    correlation: Correlation,
    ApiPath(provider): ApiPath<String>,
    ApiJson(request): ApiJson<EndpointRequest>,
) -> Result<StatusCode, ApiError> {
    let provider = llm_provider(&provider)?;
    let api_key = match (request.api_key, request.remove_api_key) {
        (Some(_), true) => {
            return Err(ApiError::invalid(
                "api_key",
                "Give a new key or remove the stored one, not both.",
            ))
        }
        (Some(key), false) => KeyInput::Replace(SecretString::from(key)),
        (None, true) => KeyInput::Remove,
        (None, false) => KeyInput::Keep,
    };
    state
        .llm
        .set_endpoint(
            provider,
            &request.endpoint,
            api_key,
            admin.0.user_id,
            &correlation.meta(admin.0.actor()),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a provider's stored endpoint and key; the server's own setting applies again.
#[utoipa::path(
    delete, path = "/api/admin/ai/providers/{provider}", tag = "admin",
    security(("bearer" = [])),
    params(("provider" = String, Path, description = "`ollama` or `openai_compatible`")),
    responses((status = 204), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody))
)]
pub async fn remove_endpoint(
    State(state): State<AppState>,
    admin: Admin,
    correlation: Correlation,
    ApiPath(provider): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let provider = llm_provider(&provider)?;
    state
        .llm
        .remove_endpoint(
            provider,
            admin.0.user_id,
            &correlation.meta(admin.0.actor()),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutboundRequest {
    /// Addresses or networks (`192.168.1.20`, `10.0.0.0/8`) outbound calls may reach
    /// although they are not public; replaces the list.
    pub allow: Vec<String>,
    /// Allow plain http (a LAN server without TLS).
    pub allow_http: bool,
}

/// Replace the allow-list of non-public networks and the plain-http switch.
#[utoipa::path(
    put, path = "/api/admin/ai/outbound", tag = "admin",
    security(("bearer" = [])), request_body = OutboundRequest,
    responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody))
)]
pub async fn set_outbound(
    State(state): State<AppState>,
    admin: Admin,
    correlation: Correlation,
    ApiJson(request): ApiJson<OutboundRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .llm
        .set_outbound(
            request.allow,
            request.allow_http,
            admin.0.user_id,
            &correlation.meta(admin.0.actor()),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
