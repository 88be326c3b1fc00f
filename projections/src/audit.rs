//! The `audit` read model (AUTH-8, ADM-3): one entry per security-relevant event —
//! registrations, sign-ins and their failures and lockouts, session ends and token reuse,
//! second-factor and password changes, shares granted and revoked, and every admin
//! action (system topics included) — with actor, target, type, time and ids. Details are picked field by field from each event: never a sealed value,
//! a secret or content.

use crate::{ApplyError, ReadModel};
use domain::instance::invite::InviteEvent;
use domain::instance::InstanceEvent;
use domain::session::SessionEvent;
use domain::share::{ShareEvent, ShareTarget};
use domain::sign_in::SignInEvent;
use domain::topic::{Namespace, TopicEvent, TopicName};
use domain::user::UserEvent;
use eventlog::StoredEvent;
use futures::future::BoxFuture;
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

pub struct AuditModel;

impl AuditModel {
    pub const NAME: &'static str = "audit";
}

impl ReadModel for AuditModel {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &[
            "user", "session", "sign_in", "instance", "invite", "topics", "shares",
        ]
    }

    fn schema_version(&self) -> i32 {
        3
    }

    fn tables_sql(&self, schema: &str) -> String {
        format!(
            "create table {schema}.entries (
               position bigint primary key,
               event_id uuid not null,
               recorded_at timestamptz not null,
               event_type text not null,
               aggregate_type text not null,
               aggregate_id text not null,
               -- `user:<id>`, `cli:<name>`, `system:<component>` or `anonymous`.
               actor text not null,
               actor_id uuid,
               -- The account the event is about, when there is one.
               target_id uuid,
               correlation_id text not null,
               details jsonb not null
             );"
        )
    }

    fn indexes_sql(&self, schema: &str) -> String {
        format!(
            "create index entries_actor on {schema}.entries (actor_id, position desc);
             create index entries_target on {schema}.entries (target_id, position desc);
             create index entries_type on {schema}.entries (event_type, position desc);
             create index entries_time on {schema}.entries (recorded_at desc);"
        )
    }

    fn apply<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        schema: &'a str,
        events: &'a [StoredEvent],
    ) -> BoxFuture<'a, Result<(), ApplyError>> {
        Box::pin(async move {
            let mut rows = Rows::default();
            for event in events {
                let poison = |error: eventlog::DecodeError| ApplyError::Poison {
                    position: event.position,
                    reason: error.to_string(),
                };
                let (target, details) = match event.aggregate_type.as_str() {
                    "user" => user_entry(event.decode().map_err(poison)?),
                    "session" => session_entry(event.decode().map_err(poison)?),
                    "sign_in" => sign_in_entry(event.decode().map_err(poison)?),
                    "instance" => instance_entry(event.decode().map_err(poison)?),
                    "invite" => invite_entry(event.decode().map_err(poison)?),
                    "shares" => share_entry(event.decode().map_err(poison)?),
                    // A person's own topics are their business; the system's are admins'.
                    "topics" => match system_topic_entry(event.decode().map_err(poison)?) {
                        Some(entry) => entry,
                        None => continue,
                    },
                    _ => continue,
                };
                rows.push(event, target, details);
            }
            rows.insert(connection, schema).await
        })
    }
}

fn user_entry(event: UserEvent) -> (Option<Uuid>, Value) {
    match event {
        UserEvent::UserRegistered(e) => (Some(e.user_id), json!({"role": e.role})),
        UserEvent::EmailVerified(e) => (Some(e.user_id), json!({})),
        UserEvent::EmailChanged(e) => (Some(e.user_id), json!({})),
        UserEvent::ProfileUpdated(e) => (Some(e.user_id), json!({})),
        UserEvent::UserDeleted(e) => (Some(e.user_id), json!({"by": e.by})),
        UserEvent::PasswordResetRequested(e) => (Some(e.user_id), json!({})),
        UserEvent::PasswordChanged(e) => (Some(e.user_id), json!({"reason": e.reason})),
        UserEvent::SecondFactorEnabled(e) => {
            (Some(e.user_id), json!({"recovery_codes": e.recovery_codes}))
        }
        UserEvent::SecondFactorDisabled(e) => (Some(e.user_id), json!({})),
        UserEvent::RecoveryCodesRegenerated(e) => {
            (Some(e.user_id), json!({"recovery_codes": e.recovery_codes}))
        }
        UserEvent::UserDisabled(e) => (Some(e.user_id), json!({})),
        UserEvent::UserEnabled(e) => (Some(e.user_id), json!({})),
        UserEvent::RoleChanged(e) => (Some(e.user_id), json!({"role": e.role})),
        UserEvent::QuotaSet(e) => (Some(e.user_id), json!({"bytes": e.bytes})),
        UserEvent::AiModelAssigned(e) => (
            Some(e.user_id),
            json!({"provider": e.provider, "model": e.model}),
        ),
    }
}

fn session_entry(event: SessionEvent) -> (Option<Uuid>, Value) {
    match event {
        SessionEvent::SessionStarted(e) => (
            Some(e.user_id),
            json!({"session_id": e.session_id, "method": e.method}),
        ),
        SessionEvent::SessionEnded(e) => (
            Some(e.user_id),
            json!({"session_id": e.session_id, "reason": e.reason}),
        ),
        SessionEvent::RefreshTokenReused(e) => {
            (Some(e.user_id), json!({"session_id": e.session_id}))
        }
    }
}

fn sign_in_entry(event: SignInEvent) -> (Option<Uuid>, Value) {
    match event {
        SignInEvent::SignInFailed(e) => (e.user_id, json!({"factor": e.factor})),
        SignInEvent::SignInLockedOut(e) => {
            (e.user_id, json!({"failures": e.failures, "until": e.until}))
        }
    }
}

fn instance_entry(event: InstanceEvent) -> (Option<Uuid>, Value) {
    match event {
        InstanceEvent::SelfRegistrationChanged(e) => (None, json!({"open": e.open})),
        // Never the sealed key: only whether there is one.
        InstanceEvent::LlmEndpointSet(e) => (
            None,
            json!({
                "provider": e.provider,
                "endpoint": e.endpoint,
                "api_key_set": e.api_key.is_some(),
            }),
        ),
        InstanceEvent::LlmEndpointRemoved(e) => (None, json!({"provider": e.provider})),
        InstanceEvent::OutboundPolicyChanged(e) => {
            (None, json!({"allow": e.allow, "allow_http": e.allow_http}))
        }
    }
}

fn invite_entry(event: InviteEvent) -> (Option<Uuid>, Value) {
    match event {
        InviteEvent::InviteSent(e) => (
            None,
            json!({"invite_id": e.invite_id, "role": e.role, "expires_at": e.expires_at}),
        ),
        InviteEvent::InviteAccepted(e) => (Some(e.user_id), json!({"invite_id": e.invite_id})),
    }
}

/// Who was let in (or out), to what: ids only.
fn share_entry(event: ShareEvent) -> (Option<Uuid>, Value) {
    let target = |target: ShareTarget| match target {
        ShareTarget::Document(id) => json!({"document_id": id}),
        ShareTarget::Folder(id) => json!({"folder_id": id}),
    };
    match event {
        ShareEvent::ShareGranted(e) => (
            Some(e.grantee),
            json!({"share_id": e.share_id, "owner": e.owner, "target": target(e.target), "permission": e.permission}),
        ),
        ShareEvent::ShareRevoked(e) => (
            Some(e.grantee),
            json!({"share_id": e.share_id, "owner": e.owner, "target": target(e.target)}),
        ),
    }
}

/// An admin's change to a system topic (its name is public); `None` for a person's own.
fn system_topic_entry(event: TopicEvent) -> Option<(Option<Uuid>, Value)> {
    let public = |name: &TopicName| match name {
        TopicName::Public(text) => Some(text.clone()),
        TopicName::Sealed(_) => None,
    };
    let (namespace, details) = match event {
        TopicEvent::TopicCreated(e) => (
            e.namespace,
            json!({"topic_id": e.topic_id, "name": public(&e.name)}),
        ),
        TopicEvent::TopicRenamed(e) => (
            e.namespace,
            json!({"topic_id": e.topic_id, "name": public(&e.name)}),
        ),
        TopicEvent::TopicDeleted(e) => (e.namespace, json!({"topic_id": e.topic_id})),
    };
    (namespace == Namespace::System).then_some((None, details))
}

/// The id in an actor such as `user:<id>`.
fn actor_id(actor: &str) -> Option<Uuid> {
    actor.strip_prefix("user:").and_then(|id| id.parse().ok())
}

#[derive(Default)]
struct Rows {
    position: Vec<i64>,
    event_id: Vec<Uuid>,
    recorded_at: Vec<chrono::DateTime<chrono::Utc>>,
    event_type: Vec<String>,
    aggregate_type: Vec<String>,
    aggregate_id: Vec<String>,
    actor: Vec<String>,
    actor_id: Vec<Option<Uuid>>,
    target_id: Vec<Option<Uuid>>,
    correlation_id: Vec<String>,
    details: Vec<Value>,
}

impl Rows {
    fn push(&mut self, event: &StoredEvent, target: Option<Uuid>, details: Value) {
        let meta = |key: &str| event.metadata[key].as_str().unwrap_or_default().to_owned();
        let actor = meta("actor");
        self.position.push(event.position);
        self.event_id.push(event.event_id);
        self.recorded_at.push(event.recorded_at);
        self.event_type.push(event.event_type.clone());
        self.aggregate_type.push(event.aggregate_type.clone());
        self.aggregate_id.push(event.aggregate_id.clone());
        self.actor_id.push(actor_id(&actor));
        self.actor.push(actor);
        self.target_id.push(target);
        self.correlation_id.push(meta("correlation_id"));
        self.details.push(details);
    }

    async fn insert(self, connection: &mut PgConnection, schema: &str) -> Result<(), ApplyError> {
        if self.position.is_empty() {
            return Ok(());
        }
        sqlx::query(&format!(
            "insert into {schema}.entries
               (position, event_id, recorded_at, event_type, aggregate_type, aggregate_id,
                actor, actor_id, target_id, correlation_id, details)
             select * from unnest($1::bigint[], $2::uuid[], $3::timestamptz[], $4::text[],
                                  $5::text[], $6::text[], $7::text[], $8::uuid[], $9::uuid[],
                                  $10::text[], $11::jsonb[])
             on conflict (position) do nothing"
        ))
        .bind(&self.position)
        .bind(&self.event_id)
        .bind(&self.recorded_at)
        .bind(&self.event_type)
        .bind(&self.aggregate_type)
        .bind(&self.aggregate_id)
        .bind(&self.actor)
        .bind(&self.actor_id)
        .bind(&self.target_id)
        .bind(&self.correlation_id)
        .bind(&self.details)
        .execute(connection)
        .await?;
        Ok(())
    }
}

/// One audit entry as admins read it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AuditEntry {
    pub position: i64,
    pub event_id: Uuid,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
    pub event_type: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub actor: String,
    pub actor_id: Option<Uuid>,
    pub actor_handle: Option<String>,
    pub target_id: Option<Uuid>,
    pub target_handle: Option<String>,
    pub correlation_id: String,
    pub details: Value,
}

/// What to look for.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub actor_id: Option<Uuid>,
    pub target_id: Option<Uuid>,
    pub event_types: Vec<String>,
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    pub to: Option<chrono::DateTime<chrono::Utc>>,
    /// Only entries older than this position (the previous page's last).
    pub before: Option<i64>,
}

pub mod queries {
    use super::*;
    use crate::model::live_schema;

    /// Newest first, at most `limit`, with handles from the users model.
    pub async fn page(
        pool: &PgPool,
        filter: &AuditFilter,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, sqlx::Error> {
        page_in(pool, &live_schema(AuditModel::NAME), filter, limit).await
    }

    pub async fn page_in(
        pool: &PgPool,
        schema: &str,
        filter: &AuditFilter,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, sqlx::Error> {
        let users = live_schema(crate::users::UsersModel::NAME);
        sqlx::query_as(&format!(
            "select e.position, e.event_id, e.recorded_at, e.event_type, e.aggregate_type,
                    e.aggregate_id, e.actor, e.actor_id, a.handle as actor_handle,
                    e.target_id, t.handle as target_handle, e.correlation_id, e.details
               from {schema}.entries e
               left join {users}.users a on a.user_id = e.actor_id
               left join {users}.users t on t.user_id = e.target_id
              where ($1::uuid is null or e.actor_id = $1)
                and ($2::uuid is null or e.target_id = $2)
                and (cardinality($3::text[]) = 0 or e.event_type = any($3))
                and ($4::timestamptz is null or e.recorded_at >= $4)
                and ($5::timestamptz is null or e.recorded_at < $5)
                and ($6::bigint is null or e.position < $6)
              order by e.position desc
              limit $7"
        ))
        .bind(filter.actor_id)
        .bind(filter.target_id)
        .bind(&filter.event_types)
        .bind(filter.from)
        .bind(filter.to)
        .bind(filter.before)
        .bind(limit)
        .fetch_all(pool)
        .await
    }
}
