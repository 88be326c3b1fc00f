//! User management for administrators (ADM-1, ADM-4). Every action is a user event with
//! the admin as actor; nothing here shows or touches anyone's documents, and nothing mints
//! a token for another person.

use crate::auth::Admin;
use crate::extract::{with_token, ApiJson, ApiPath, ConsistencyToken, Correlation};
use crate::{ApiError, AppState};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use commands::accounts::{AccountError, AdminAction};
use commands::registration::{RegistrationError, RegistrationForm, RegistrationOutcome};
use domain::user::{AiProvider, ModelName, Role, UserError};
use projections::users::{queries, UserRow};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Serialize, ToSchema)]
pub struct AdminUserView {
    pub user_id: Uuid,
    pub handle: String,
    /// `None` once the account's data key is gone.
    pub email: Option<String>,
    pub role: String,
    pub registered_at: DateTime<Utc>,
    pub disabled: bool,
    pub second_factor: bool,
    /// `None`: the default quota.
    pub quota_bytes: Option<i64>,
    pub ai_provider: Option<String>,
    pub ai_model: Option<String>,
}

impl From<UserRow> for AdminUserView {
    fn from(row: UserRow) -> Self {
        Self {
            user_id: row.user_id,
            handle: row.handle,
            email: row.email,
            role: row.role,
            registered_at: row.registered_at,
            disabled: row.disabled,
            second_factor: row.second_factor,
            quota_bytes: row.quota_bytes,
            ai_provider: row.ai_provider,
            ai_model: row.ai_model,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct UserPage {
    pub users: Vec<AdminUserView>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    /// Part of a handle or email.
    pub search: Option<String>,
    /// From 1.
    pub page: Option<i64>,
    /// 1–100, default 25.
    pub per_page: Option<i64>,
}

/// List users (a page, optionally filtered). Accepts `X-Consistency-Token`.
#[utoipa::path(
    get, path = "/api/admin/users", tag = "admin",
    security(("bearer" = [])),
    params(UserQuery),
    responses(
        (status = 200, body = UserPage),
        (status = 403, description = "Not an administrator", body = crate::error::ErrorBody),
    )
)]
pub async fn list_users(
    State(state): State<AppState>,
    _admin: Admin,
    ConsistencyToken(token): ConsistencyToken,
    query: Result<Query<UserQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<UserPage>, ApiError> {
    let Query(query) = query.map_err(|rejection| ApiError::Malformed(rejection.body_text()))?;
    let per_page = query.per_page.unwrap_or(25);
    let page = query.page.unwrap_or(1);
    if !(1..=100).contains(&per_page) || !(1..=1_000_000).contains(&page) {
        return Err(ApiError::InvalidInput {
            fields: BTreeMap::from([("page", "Use page ≥ 1 and per_page 1–100.".to_owned())]),
        });
    }
    let search = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(|text| text.chars().take(100).collect::<String>());
    state.wait_for("users", token).await?;
    let (rows, total) = queries::page(
        &state.pool,
        search.as_deref(),
        per_page,
        (page - 1) * per_page,
    )
    .await
    .map_err(ApiError::internal)?;
    Ok(Json(UserPage {
        users: rows.into_iter().map(AdminUserView::from).collect(),
        total,
        page,
        per_page,
    }))
}

fn account_error(error: AccountError) -> ApiError {
    match error {
        AccountError::Refused(UserError::NotRegistered) => ApiError::NotFound,
        AccountError::Refused(UserError::OwnAccount) => ApiError::StateConflict {
            code: "own_account",
            message: "Admins cannot disable or demote themselves.",
        },
        AccountError::Refused(UserError::AlreadyDisabled) => ApiError::StateConflict {
            code: "already_disabled",
            message: "The account is disabled already.",
        },
        AccountError::Refused(UserError::NotDisabled) => ApiError::StateConflict {
            code: "not_disabled",
            message: "The account is not disabled.",
        },
        AccountError::Refused(UserError::SameRole) => ApiError::StateConflict {
            code: "same_role",
            message: "The account has that role already.",
        },
        AccountError::Conflict => ApiError::Conflict,
        other => ApiError::internal(other),
    }
}

async fn administer(
    state: &AppState,
    admin: &Admin,
    correlation: &Correlation,
    target: Uuid,
    action: AdminAction,
) -> Result<Response, ApiError> {
    let token = state
        .accounts
        .administer(
            admin.0.user_id,
            target,
            action,
            &correlation.meta(admin.0.actor()),
        )
        .await
        .map_err(account_error)?;
    Ok(with_token(StatusCode::NO_CONTENT, token))
}

/// Disable an account: its sessions end at once and it cannot sign in.
#[utoipa::path(
    post, path = "/api/admin/users/{user_id}/disable", tag = "admin",
    security(("bearer" = [])), params(("user_id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody))
)]
pub async fn disable(
    State(state): State<AppState>,
    admin: Admin,
    correlation: Correlation,
    ApiPath(user_id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    administer(&state, &admin, &correlation, user_id, AdminAction::Disable).await
}

/// Enable a disabled account.
#[utoipa::path(
    post, path = "/api/admin/users/{user_id}/enable", tag = "admin",
    security(("bearer" = [])), params(("user_id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody))
)]
pub async fn enable(
    State(state): State<AppState>,
    admin: Admin,
    correlation: Correlation,
    ApiPath(user_id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    administer(&state, &admin, &correlation, user_id, AdminAction::Enable).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleRequest {
    /// `user` or `admin`.
    #[schema(value_type = String, example = "admin")]
    pub role: Role,
}

/// Promote or demote an account (its sessions end, so its tokens carry the new role).
#[utoipa::path(
    put, path = "/api/admin/users/{user_id}/role", tag = "admin",
    security(("bearer" = [])), params(("user_id" = Uuid, Path)), request_body = RoleRequest,
    responses((status = 204), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody))
)]
pub async fn set_role(
    State(state): State<AppState>,
    admin: Admin,
    correlation: Correlation,
    ApiPath(user_id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<RoleRequest>,
) -> Result<Response, ApiError> {
    administer(
        &state,
        &admin,
        &correlation,
        user_id,
        AdminAction::SetRole(request.role),
    )
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuotaRequest {
    /// Bytes; `null` for the default quota.
    pub bytes: Option<u64>,
}

/// The most any one quota can be: 1 PiB, to keep arithmetic far from overflow.
const MAX_QUOTA_BYTES: u64 = 1 << 50;

/// Set an account's storage quota (DOC-4).
#[utoipa::path(
    put, path = "/api/admin/users/{user_id}/quota", tag = "admin",
    security(("bearer" = [])), params(("user_id" = Uuid, Path)), request_body = QuotaRequest,
    responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody))
)]
pub async fn set_quota(
    State(state): State<AppState>,
    admin: Admin,
    correlation: Correlation,
    ApiPath(user_id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<QuotaRequest>,
) -> Result<Response, ApiError> {
    if request.bytes.is_some_and(|bytes| bytes > MAX_QUOTA_BYTES) {
        return Err(ApiError::InvalidInput {
            fields: BTreeMap::from([("bytes", "Use at most 1 PiB.".to_owned())]),
        });
    }
    administer(
        &state,
        &admin,
        &correlation,
        user_id,
        AdminAction::SetQuota(request.bytes),
    )
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AiRequest {
    /// `offline`, `ollama` or `openai_compatible`; `null` for the server default.
    pub provider: Option<String>,
    /// The provider's model name; `null` for the server default.
    pub model: Option<String>,
}

/// Assign an AI provider and model to an account (AI-2).
#[utoipa::path(
    put, path = "/api/admin/users/{user_id}/ai", tag = "admin",
    security(("bearer" = [])), params(("user_id" = Uuid, Path)), request_body = AiRequest,
    responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody))
)]
pub async fn assign_ai(
    State(state): State<AppState>,
    admin: Admin,
    correlation: Correlation,
    ApiPath(user_id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<AiRequest>,
) -> Result<Response, ApiError> {
    let mut fields = BTreeMap::new();
    let provider = match request.provider.as_deref() {
        None => None,
        Some(text) => match AiProvider::parse(text) {
            Some(provider) => Some(provider),
            None => {
                fields.insert(
                    "provider",
                    "Use offline, ollama or openai_compatible.".to_owned(),
                );
                None
            }
        },
    };
    let model = match request.model.as_deref() {
        None => None,
        Some(text) => match ModelName::parse(text) {
            Ok(model) => Some(model),
            Err(error) => {
                fields.insert("model", error.to_string());
                None
            }
        },
    };
    if !fields.is_empty() {
        return Err(ApiError::InvalidInput { fields });
    }
    administer(
        &state,
        &admin,
        &correlation,
        user_id,
        AdminAction::AssignAi { provider, model },
    )
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub email: String,
    pub handle: String,
    pub password: String,
    /// `user` (default) or `admin`.
    #[schema(value_type = Option<String>, example = "user")]
    pub role: Option<Role>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedUser {
    pub user_id: Uuid,
}

/// Create an account (the person can sign in at once with the password given).
#[utoipa::path(
    post, path = "/api/admin/users", tag = "admin",
    security(("bearer" = [])), request_body = CreateUserRequest,
    responses(
        (status = 201, body = CreatedUser),
        (status = 400, body = crate::error::ErrorBody),
        (status = 409, description = "Handle or email taken", body = crate::error::ErrorBody),
    )
)]
pub async fn create_user(
    State(state): State<AppState>,
    admin: Admin,
    correlation: Correlation,
    ApiJson(request): ApiJson<CreateUserRequest>,
) -> Result<Response, ApiError> {
    let form = RegistrationForm {
        email: &request.email,
        handle: &request.handle,
        password: &request.password,
    };
    let role = request.role.unwrap_or(Role::User);
    let outcome = state
        .registrations
        .register(form, role, true, &correlation.meta(admin.0.actor()))
        .await
        .map_err(|error| match error {
            RegistrationError::Invalid(problems) => crate::routes::auth::invalid(problems),
            RegistrationError::HandleTaken => ApiError::HandleTaken,
            RegistrationError::Internal(detail) => ApiError::Internal(detail),
        })?;
    match outcome {
        RegistrationOutcome::Registered { user_id, token } => {
            let mut response = with_token(StatusCode::CREATED, token);
            *response.body_mut() = Json(CreatedUser { user_id }).into_response().into_body();
            response.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            Ok(response)
        }
        RegistrationOutcome::EmailInUse => Err(ApiError::StateConflict {
            code: "email_taken",
            message: "An account with that email exists already.",
        }),
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Handle of the person who acted.
    pub actor: Option<String>,
    /// Handle of the account acted on.
    pub target: Option<String>,
    /// Event types, comma-separated (e.g. `SignInFailed,SignInLockedOut`).
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    /// RFC 3339; entries at or after.
    pub from: Option<DateTime<Utc>>,
    /// RFC 3339; entries before.
    pub to: Option<DateTime<Utc>>,
    /// The `next_before` of the previous page.
    pub before: Option<i64>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditEntryView {
    pub position: i64,
    pub event_id: Uuid,
    pub recorded_at: DateTime<Utc>,
    pub event_type: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub actor: String,
    pub actor_handle: Option<String>,
    pub target_id: Option<Uuid>,
    pub target_handle: Option<String>,
    pub correlation_id: String,
    /// Non-secret particulars: a reason, a role, a method, a factor…
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    pub entries: Vec<AuditEntryView>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

/// The audit log: security-relevant events, newest first, filtered by actor, target,
/// type and time (AUTH-8, ADM-3).
#[utoipa::path(
    get, path = "/api/admin/audit", tag = "admin",
    security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, body = AuditPage),
        (status = 400, body = crate::error::ErrorBody),
        (status = 403, description = "Not an administrator", body = crate::error::ErrorBody),
    )
)]
pub async fn audit(
    State(state): State<AppState>,
    _admin: Admin,
    ConsistencyToken(token): ConsistencyToken,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AuditPage>, ApiError> {
    use projections::audit::{queries as audit, AuditFilter};
    let Query(query) = query.map_err(|rejection| ApiError::Malformed(rejection.body_text()))?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::InvalidInput {
            fields: BTreeMap::from([("limit", "Use 1–200.".to_owned())]),
        });
    }
    let event_types: Vec<String> = query
        .event_type
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .take(50)
        .map(str::to_owned)
        .collect();
    state.wait_for("audit", token).await?;
    let mut filter = AuditFilter {
        event_types,
        from: query.from,
        to: query.to,
        before: query.before,
        ..AuditFilter::default()
    };
    // A handle nobody has matches nothing.
    for (handle, slot) in [
        (&query.actor, &mut filter.actor_id),
        (&query.target, &mut filter.target_id),
    ] {
        if let Some(handle) = handle.as_deref().map(str::trim).filter(|h| !h.is_empty()) {
            match queries::find_by_handle(&state.pool, &handle.to_lowercase())
                .await
                .map_err(ApiError::internal)?
            {
                Some(user) => *slot = Some(user.user_id),
                None => {
                    return Ok(Json(AuditPage {
                        entries: Vec::new(),
                        next_before: None,
                    }))
                }
            }
        }
    }
    let entries = audit::page(&state.pool, &filter, limit)
        .await
        .map_err(ApiError::internal)?;
    let next_before = (entries.len() as i64 == limit)
        .then(|| entries.last().map(|entry| entry.position))
        .flatten();
    Ok(Json(AuditPage {
        entries: entries
            .into_iter()
            .map(|entry| AuditEntryView {
                position: entry.position,
                event_id: entry.event_id,
                recorded_at: entry.recorded_at,
                event_type: entry.event_type,
                aggregate_type: entry.aggregate_type,
                aggregate_id: entry.aggregate_id,
                actor: entry.actor,
                actor_handle: entry.actor_handle,
                target_id: entry.target_id,
                target_handle: entry.target_handle,
                correlation_id: entry.correlation_id,
                details: entry.details,
            })
            .collect(),
        next_before,
    }))
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstanceSettings {
    /// Whether anyone may register (else only with an invitation).
    pub self_registration: bool,
}

/// The installation's settings.
#[utoipa::path(
    get, path = "/api/admin/settings", tag = "admin",
    security(("bearer" = [])),
    responses((status = 200, body = InstanceSettings), (status = 403, body = crate::error::ErrorBody))
)]
pub async fn settings(
    State(state): State<AppState>,
    _admin: Admin,
) -> Result<Json<InstanceSettings>, ApiError> {
    Ok(Json(InstanceSettings {
        self_registration: state
            .invites
            .self_registration_open()
            .await
            .map_err(ApiError::internal)?,
    }))
}

/// Open or close self-registration.
#[utoipa::path(
    put, path = "/api/admin/settings", tag = "admin",
    security(("bearer" = [])), request_body = InstanceSettings,
    responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody))
)]
pub async fn update_settings(
    State(state): State<AppState>,
    admin: Admin,
    correlation: Correlation,
    ApiJson(request): ApiJson<InstanceSettings>,
) -> Result<StatusCode, ApiError> {
    state
        .invites
        .set_self_registration(
            request.self_registration,
            admin.0.user_id,
            &correlation.meta(admin.0.actor()),
        )
        .await
        .map_err(ApiError::internal)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    pub email: String,
    /// `user` (default) or `admin`.
    #[schema(value_type = Option<String>, example = "user")]
    pub role: Option<Role>,
}

#[derive(Serialize, ToSchema)]
pub struct InviteCreated {
    pub invite_id: Uuid,
    pub expires_at: DateTime<Utc>,
}

/// Invite someone by email: the link lets that address register once, even while
/// self-registration is closed. A newer invitation to the address replaces the older.
#[utoipa::path(
    post, path = "/api/admin/invites", tag = "admin",
    security(("bearer" = [])), request_body = InviteRequest,
    responses(
        (status = 201, body = InviteCreated),
        (status = 400, body = crate::error::ErrorBody),
        (status = 409, description = "The address has an account", body = crate::error::ErrorBody),
    )
)]
pub async fn invite(
    State(state): State<AppState>,
    admin: Admin,
    correlation: Correlation,
    ApiJson(request): ApiJson<InviteRequest>,
) -> Result<(StatusCode, Json<InviteCreated>), ApiError> {
    use commands::invites::InviteError;
    let invitation = state
        .invites
        .send(
            admin.0.user_id,
            &request.email,
            request.role.unwrap_or(Role::User),
            &correlation.meta(admin.0.actor()),
        )
        .await
        .map_err(|error| match error {
            InviteError::BadEmail => ApiError::InvalidInput {
                fields: BTreeMap::from([(
                    "email",
                    "That does not look like an email address.".to_owned(),
                )]),
            },
            InviteError::AlreadyRegistered => ApiError::StateConflict {
                code: "email_taken",
                message: "An account with that email exists already.",
            },
            InviteError::Internal(detail) => ApiError::Internal(detail),
        })?;
    let created = InviteCreated {
        invite_id: invitation.invite_id,
        expires_at: invitation.expires_at,
    };
    crate::notify::invitation(&state, invitation);
    Ok((StatusCode::CREATED, Json(created)))
}
