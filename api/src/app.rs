//! The router, its middleware and its state.

use crate::auth::AccessTokens;
use crate::routes::{
    account, admin, ai_settings, auth, documents, email_links, folders, handles, leaving, ops,
    search, second_factor, sessions, shares, topics, uploads,
};
use crate::{openapi, ApiError};
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderName, HeaderValue};
use axum::routing::{delete, get, post, put};
use axum::Router;
use commands::accounts::Accounts;
use commands::auth::sessions::Sessions;
use commands::auth::sign_in::SignIns;
use commands::registration::Registrations;
use commands::EventStore;
use crypto::KeyRing;
use domain::user::User;
use domain::Clock;
use eventlog::Token;
use projections::state::{wait_until_reached, WaitError};
use projections::ReadModel;
use sqlx::PgPool;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// Bodies the JSON API accepts; anything larger is a 413.
const MAX_JSON_BODY_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// The longest a read waits for its consistency token before answering 503.
    pub consistency_wait: Duration,
    /// How often a waiting read re-checks the model's progress.
    pub consistency_poll: Duration,
    /// The built SPA (`frontend/dist`).
    pub spa_dir: PathBuf,
    /// Proxies whose `X-Forwarded-For` is believed (SECURITY 3); empty: none.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The origin people reach the app at (`PUBLIC_URL`), accepted as `Origin` on cookie
    /// routes besides the request's own host.
    pub public_origin: Option<String>,
    /// Where browsers PUT upload bytes besides this origin (the S3 endpoint), allowed in
    /// the CSP's `connect-src`.
    pub upload_origin: Option<String>,
}

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub nats: async_nats::Client,
    pub registrations: Registrations,
    pub store: EventStore,
    pub keys: KeyRing,
    pub sign_ins: SignIns,
    pub sessions: Sessions,
    pub accounts: Accounts,
    pub invites: commands::invites::Invites,
    pub mailer: mail::Mailer,
    pub tokens: AccessTokens,
    pub documents: commands::documents::Documents,
    pub folders: commands::folders::Folders,
    pub topics: commands::topics::Topics,
    pub classifications: commands::classification::Classifications,
    /// How common search words are, from the search column's statistics (cached).
    pub word_shares: projections::documents::word_shares::WordShares,
    /// Where the LLM classifiers are (admins' settings over the server's).
    pub llm: commands::llm::LlmEndpoints,
    pub live: crate::live::LiveEvents,
    pub shares: commands::shares::Shares,
    pub download_links: crate::content::download_link::DownloadLinks,
    pub models: Vec<Arc<dyn ReadModel>>,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<ApiConfig>,
}

impl AppState {
    /// The role of a registered user, from the write side (always current).
    pub async fn role_of(&self, user_id: uuid::Uuid) -> Result<String, ApiError> {
        let user: User = self
            .store
            .load(&user_id.to_string())
            .await
            .map_err(ApiError::internal)?;
        user.role()
            .map(|role| role.as_str().to_owned())
            .ok_or(ApiError::Unauthorized)
    }

    /// Read your writes: waits until model `name` reflects `token` (if any).
    pub async fn wait_for(&self, name: &str, token: Option<Token>) -> Result<(), ApiError> {
        let Some(token) = token else { return Ok(()) };
        let model = self
            .models
            .iter()
            .find(|model| model.name() == name)
            .ok_or_else(|| ApiError::internal(format!("no read model named {name}")))?;
        let schema = projections::model::live_schema(name);
        wait_until_reached(
            &self.pool,
            &schema,
            model.aggregate_types(),
            token,
            self.config.consistency_wait,
            self.config.consistency_poll,
        )
        .await
        .map_err(|error| match error {
            WaitError::NotYet => ApiError::NotYetConsistent,
            WaitError::Database(error) => ApiError::internal(error),
        })
    }
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/auth/register", post(auth::register))
        .route("/auth/login", post(sessions::login))
        .route("/auth/login/second-factor", post(sessions::second_factor))
        .route("/auth/verify-email", post(email_links::verify_email))
        .route(
            "/auth/verify-email/resend",
            post(email_links::resend_verification),
        )
        .route("/auth/password-reset", post(email_links::request_reset))
        .route(
            "/auth/password-reset/confirm",
            post(email_links::confirm_reset),
        )
        .route("/auth/refresh", post(sessions::refresh))
        .route("/auth/logout", post(sessions::logout))
        .route("/auth/logout-all", post(sessions::logout_all))
        .route("/me", get(account::me))
        .route("/account/password", post(account::change_password))
        .route("/account/second-factor/setup", post(second_factor::setup))
        .route(
            "/account/second-factor/confirm",
            post(second_factor::confirm),
        )
        .route(
            "/account/second-factor/recovery-codes",
            post(second_factor::regenerate),
        )
        .route(
            "/account/second-factor/disable",
            post(second_factor::disable),
        )
        .route("/sessions", get(account::list_sessions))
        .route(
            "/admin/users",
            get(admin::list_users).post(admin::create_user),
        )
        .route("/admin/users/{user_id}/disable", post(admin::disable))
        .route("/admin/users/{user_id}/enable", post(admin::enable))
        .route("/admin/users/{user_id}/role", put(admin::set_role))
        .route("/admin/users/{user_id}/quota", put(admin::set_quota))
        .route("/admin/users/{user_id}/ai", put(admin::assign_ai))
        .route("/admin/audit", get(admin::audit))
        .route(
            "/admin/settings",
            get(admin::settings).put(admin::update_settings),
        )
        .route("/admin/invites", post(admin::invite))
        .route("/admin/ai", get(ai_settings::show))
        .route(
            "/admin/ai/providers/{provider}",
            put(ai_settings::set_endpoint).delete(ai_settings::remove_endpoint),
        )
        .route("/admin/ai/outbound", put(ai_settings::set_outbound))
        .route("/auth/registration", get(auth::registration_status))
        .route("/account/email", post(email_links::request_email_change))
        .route(
            "/auth/email-change/confirm",
            post(email_links::confirm_email_change),
        )
        .route(
            "/admin/users/{user_id}/delete",
            post(leaving::delete_by_admin),
        )
        .route("/account/delete", post(leaving::delete_own))
        .route("/account/export", get(leaving::export))
        .route("/account/profile", put(account::update_profile))
        .route("/sessions/{session_id}", delete(account::end_session))
        .route("/handles/{handle}", get(handles::availability))
        .route("/documents", get(documents::list).post(documents::initiate))
        .route("/documents/usage", get(documents::usage))
        .route(
            "/documents/{id}",
            get(documents::detail)
                .patch(documents::rename)
                .delete(documents::delete),
        )
        .route("/documents/{id}/confirm", post(documents::confirm))
        .route("/documents/{id}/classify", post(documents::classify))
        .route("/events", get(crate::routes::events::events))
        .route("/documents/{id}/move", post(folders::file_document))
        .route("/folders", get(folders::list).post(folders::create))
        .route(
            "/folders/{id}",
            axum::routing::patch(folders::rename).delete(folders::delete),
        )
        .route("/folders/{id}/move", post(folders::move_folder))
        .route("/documents/{id}/topics", put(topics::set_on_document))
        .route("/topics", get(topics::list).post(topics::create))
        .route(
            "/topics/{id}",
            axum::routing::patch(topics::rename).delete(topics::delete),
        )
        .route(
            "/admin/topics",
            get(topics::list_system).post(topics::create_system),
        )
        .route(
            "/admin/topics/{id}",
            axum::routing::patch(topics::rename_system).delete(topics::delete_system),
        )
        .route("/shares", get(shares::list).post(shares::create))
        .route("/shares/{id}", delete(shares::revoke))
        .route("/shared", get(shares::shared_with_me))
        .route("/search", get(search::search))
        .route("/documents/{id}/content", get(documents::content))
        .route(
            "/documents/{id}/download-link",
            post(documents::download_link),
        )
        .route("/downloads/{id}", get(documents::download))
        .route(
            "/uploads/{*key}",
            put(uploads::put).layer(DefaultBodyLimit::disable()),
        )
        .route("/openapi.json", get(openapi::document))
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(MAX_JSON_BODY_BYTES))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));

    let spa_dir = state.config.spa_dir.clone();
    let state_upload_origin = state.config.upload_origin.clone();
    let assets = ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        ))
        .service(ServeDir::new(spa_dir.join("assets")));
    // Any other path is a route of the SPA: serve the file if it exists, else index.html.
    let pages = ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
        .service(ServeDir::new(&spa_dir).fallback(ServeFile::new(spa_dir.join("index.html"))));

    let request_id = HeaderName::from_static("x-request-id");
    let app = Router::new()
        .nest("/api", api)
        .route("/health", get(ops::health))
        .route("/ready", get(ops::ready))
        .route("/metrics", get(ops::metrics))
        .nest_service("/assets", assets)
        .fallback_service(pages)
        .with_state(state);
    let csp = content_security_policy(state_upload_origin.as_deref());
    with_security_headers(app, csp).layer(
            ServiceBuilder::new()
                .layer(SetSensitiveRequestHeadersLayer::new([header::AUTHORIZATION, header::COOKIE]))
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
                    let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
                    tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
                }))
                .layer(PropagateRequestIdLayer::new(request_id)),
    )
}

/// SECURITY 14: the same strict headers on every response (handlers may set stricter).
const SECURITY_HEADERS: &[(&str, &str)] = &[
    (
        "strict-transport-security",
        "max-age=63072000; includeSubDomains",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
];

/// The app's own Content-Security-Policy, before any extra `connect-src`.
const BASE_CSP: &str =
    "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// The app's CSP: its own origin only, plus the object store's for uploads.
fn content_security_policy(upload_origin: Option<&str>) -> HeaderValue {
    upload_origin
        .and_then(|origin| {
            HeaderValue::from_str(&format!("{BASE_CSP}; connect-src 'self' {origin}")).ok()
        })
        .unwrap_or_else(|| HeaderValue::from_static(BASE_CSP))
}

fn with_security_headers(mut router: Router, csp: HeaderValue) -> Router {
    router = router.layer(SetResponseHeaderLayer::if_not_present(
        header::CONTENT_SECURITY_POLICY,
        csp,
    ));
    for (name, value) in SECURITY_HEADERS {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ));
    }
    router
}
