//! The `users` read model: one row per account, for handle lookups and the admins' user
//! list (ADM-1): role, status, second factor, quota and AI assignment. Never documents.
//!
//! The email arrives sealed; it is opened here with the owner's data key. Once the key is
//! shredded the row keeps a NULL email, and a rebuild produces the same.

use crate::{ApplyError, ReadModel};
use crypto::KeyRing;
use domain::user::{sealed_fields, UserEvent, UserRegistered};
use eventlog::StoredEvent;
use futures::future::BoxFuture;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

pub struct UsersModel {
    keys: KeyRing,
}

impl UsersModel {
    pub const NAME: &'static str = "users";

    pub fn new(keys: KeyRing) -> Self {
        Self { keys }
    }
}

impl ReadModel for UsersModel {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &[<domain::user::User as domain::Aggregate>::TYPE]
    }

    fn schema_version(&self) -> i32 {
        4
    }

    fn tables_sql(&self, schema: &str) -> String {
        format!(
            "create table {schema}.users (
               user_id uuid primary key,
               handle text not null,
               -- NULL once the owner's data key is shredded.
               email text,
               email_lookup text not null,
               role text not null,
               registered_at timestamptz not null,
               disabled boolean not null default false,
               email_verified boolean not null default false,
               -- Opened with the owner's key; NULL once it is shredded.
               display_name text,
               second_factor boolean not null default false,
               -- NULL: the server's default quota / AI provider and model.
               quota_bytes bigint,
               ai_provider text,
               ai_model text
             );"
        )
    }

    fn indexes_sql(&self, schema: &str) -> String {
        format!(
            "create unique index users_handle on {schema}.users (handle);
             create unique index users_email_lookup on {schema}.users (email_lookup);"
        )
    }

    fn apply<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        schema: &'a str,
        events: &'a [StoredEvent],
    ) -> BoxFuture<'a, Result<(), ApplyError>> {
        Box::pin(async move {
            let mut registrations: Vec<(UserRegistered, i64)> = Vec::with_capacity(events.len());
            let mut changes: Vec<UserEvent> = Vec::new();
            for event in events {
                let decoded: UserEvent = event.decode().map_err(|error| ApplyError::Poison {
                    position: event.position,
                    reason: error.to_string(),
                })?;
                match decoded {
                    UserEvent::UserRegistered(registered) => {
                        registrations.push((registered, event.position))
                    }
                    UserEvent::PasswordChanged(_)
                    | UserEvent::PasswordResetRequested(_)
                    | UserEvent::RecoveryCodesRegenerated(_) => {}
                    sealed @ (UserEvent::ProfileUpdated(_) | UserEvent::EmailChanged(_)) => {
                        // Opening needs the key: apply what came before, then this.
                        self.insert_registrations(
                            &mut *connection,
                            schema,
                            std::mem::take(&mut registrations),
                        )
                        .await?;
                        for change in std::mem::take(&mut changes) {
                            apply_change(&mut *connection, schema, change).await?;
                        }
                        self.apply_sealed(&mut *connection, schema, sealed, event.position)
                            .await?;
                    }
                    change => changes.push(change),
                }
            }
            self.insert_registrations(&mut *connection, schema, registrations)
                .await?;
            for change in changes {
                apply_change(&mut *connection, schema, change).await?;
            }
            Ok(())
        })
    }
}

/// One change to an existing row, in log order.
async fn apply_change(
    connection: &mut PgConnection,
    schema: &str,
    change: UserEvent,
) -> Result<(), ApplyError> {
    // (user, SET clause, $2 text, $3 text, $4 bigint)
    type Change = (
        Uuid,
        &'static str,
        Option<String>,
        Option<String>,
        Option<i64>,
    );
    let (user_id, set, text, more_text, number): Change = match change {
        UserEvent::UserDisabled(e) => (e.user_id, "disabled = true", None, None, None),
        UserEvent::EmailVerified(e) => (e.user_id, "email_verified = true", None, None, None),
        UserEvent::UserEnabled(e) => (e.user_id, "disabled = false", None, None, None),
        UserEvent::SecondFactorEnabled(e) => (e.user_id, "second_factor = true", None, None, None),
        UserEvent::SecondFactorDisabled(e) => {
            (e.user_id, "second_factor = false", None, None, None)
        }
        UserEvent::RoleChanged(e) => (
            e.user_id,
            "role = $2",
            Some(e.role.as_str().into()),
            None,
            None,
        ),
        UserEvent::QuotaSet(e) => (
            e.user_id,
            "quota_bytes = $4",
            None,
            None,
            e.bytes.and_then(|bytes| i64::try_from(bytes).ok()),
        ),
        UserEvent::AiModelAssigned(e) => (
            e.user_id,
            "ai_provider = $2, ai_model = $3",
            e.provider.map(|provider| provider.as_str().to_owned()),
            e.model.map(String::from),
            None,
        ),
        UserEvent::UserDeleted(e) => {
            sqlx::query(&format!("delete from {schema}.users where user_id = $1"))
                .bind(e.user_id)
                .execute(connection)
                .await?;
            return Ok(());
        }
        UserEvent::UserRegistered(_)
        | UserEvent::PasswordChanged(_)
        | UserEvent::PasswordResetRequested(_)
        | UserEvent::ProfileUpdated(_)
        | UserEvent::EmailChanged(_)
        | UserEvent::RecoveryCodesRegenerated(_) => return Ok(()),
    };
    sqlx::query(&format!(
        "update {schema}.users set {set} where user_id = $1"
    ))
    .bind(user_id)
    .bind(text)
    .bind(more_text)
    .bind(number)
    .execute(connection)
    .await?;
    Ok(())
}

impl UsersModel {
    /// Applies an event whose value is sealed: the display name, or a changed email.
    async fn apply_sealed(
        &self,
        connection: &mut PgConnection,
        schema: &str,
        event: UserEvent,
        position: i64,
    ) -> Result<(), ApplyError> {
        let (user_id, field, sealed, set, lookup) = match event {
            UserEvent::ProfileUpdated(e) => (
                e.user_id,
                sealed_fields::DISPLAY_NAME,
                e.display_name,
                "display_name = $2",
                None,
            ),
            UserEvent::EmailChanged(e) => (
                e.user_id,
                sealed_fields::EMAIL,
                Some(e.email),
                "email = $2, email_lookup = $3, email_verified = true",
                Some(e.email_lookup),
            ),
            _ => return Ok(()),
        };
        let key = crate::model::data_keys(&self.keys, &mut *connection, &[user_id], position)
            .await?
            .remove(&user_id);
        let value = match (sealed, key) {
            (Some(sealed), Some(key)) => {
                Some(key.open_text(user_id, field, &sealed).map_err(|error| {
                    ApplyError::Poison {
                        position,
                        reason: error.to_string(),
                    }
                })?)
            }
            _ => None,
        };
        sqlx::query(&format!(
            "update {schema}.users set {set} where user_id = $1"
        ))
        .bind(user_id)
        .bind(value)
        .bind(lookup)
        .execute(connection)
        .await?;
        Ok(())
    }

    async fn insert_registrations(
        &self,
        connection: &mut PgConnection,
        schema: &str,
        registrations: Vec<(UserRegistered, i64)>,
    ) -> Result<(), ApplyError> {
        let Some(&(_, first_position)) = registrations.first() else {
            return Ok(());
        };
        let owners: Vec<Uuid> = registrations.iter().map(|(r, _)| r.user_id).collect();
        let keys =
            crate::model::data_keys(&self.keys, &mut *connection, &owners, first_position).await?;
        let mut columns = UserColumns::with_capacity(registrations.len());
        for (registered, position) in registrations {
            let email = match keys.get(&registered.user_id) {
                Some(key) => Some(
                    key.open_text(registered.user_id, sealed_fields::EMAIL, &registered.email)
                        .map_err(|error| ApplyError::Poison {
                            position,
                            reason: error.to_string(),
                        })?,
                ),
                None => None,
            };
            columns.push(registered, email);
        }
        sqlx::query(&format!(
            "insert into {schema}.users (user_id, handle, email, email_lookup, role, registered_at, email_verified)
             select * from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::boolean[])
             on conflict (user_id) do nothing"
        ))
        .bind(&columns.user_id)
        .bind(&columns.handle)
        .bind(&columns.email)
        .bind(&columns.email_lookup)
        .bind(&columns.role)
        .bind(&columns.registered_at)
        .bind(&columns.email_verified)
        .execute(connection)
        .await?;
        Ok(())
    }
}

#[derive(Default)]
struct UserColumns {
    user_id: Vec<Uuid>,
    handle: Vec<String>,
    email: Vec<Option<String>>,
    email_lookup: Vec<String>,
    role: Vec<String>,
    registered_at: Vec<chrono::DateTime<chrono::Utc>>,
    email_verified: Vec<bool>,
}

impl UserColumns {
    fn with_capacity(n: usize) -> Self {
        Self {
            user_id: Vec::with_capacity(n),
            handle: Vec::with_capacity(n),
            email: Vec::with_capacity(n),
            email_lookup: Vec::with_capacity(n),
            role: Vec::with_capacity(n),
            registered_at: Vec::with_capacity(n),
            email_verified: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, registered: UserRegistered, email: Option<String>) {
        self.user_id.push(registered.user_id);
        self.handle.push(registered.handle.into());
        self.email.push(email);
        self.email_lookup.push(registered.email_lookup);
        self.role.push(registered.role.as_str().to_owned());
        self.registered_at.push(registered.registered_at);
        self.email_verified.push(registered.email_verified);
    }
}

/// A user as the read model shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserRow {
    pub user_id: Uuid,
    pub handle: String,
    pub email: Option<String>,
    pub role: String,
    pub registered_at: chrono::DateTime<chrono::Utc>,
    pub disabled: bool,
    pub email_verified: bool,
    pub display_name: Option<String>,
    pub second_factor: bool,
    pub quota_bytes: Option<i64>,
    pub ai_provider: Option<String>,
    pub ai_model: Option<String>,
}

const ROW_COLUMNS: &str = "user_id, handle, email, role, registered_at, disabled, email_verified, display_name, second_factor, quota_bytes, ai_provider, ai_model";

/// Queries the API runs against the live model.
pub mod queries {
    use super::*;
    use crate::model::live_schema;

    pub async fn handle_exists(pool: &PgPool, handle: &str) -> Result<bool, sqlx::Error> {
        sqlx::query_scalar(&format!(
            "select exists (select 1 from {}.users where handle = $1)",
            live_schema(UsersModel::NAME)
        ))
        .bind(handle)
        .fetch_one(pool)
        .await
    }

    pub async fn find_by_handle(
        pool: &PgPool,
        handle: &str,
    ) -> Result<Option<UserRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "select {ROW_COLUMNS} from {}.users where handle = $1",
            live_schema(UsersModel::NAME)
        ))
        .bind(handle)
        .fetch_optional(pool)
        .await
    }

    /// The handles of `user_ids` (those still registered).
    pub async fn handles_of(
        pool: &PgPool,
        user_ids: &[Uuid],
    ) -> Result<std::collections::HashMap<Uuid, String>, sqlx::Error> {
        let rows: Vec<(Uuid, String)> = sqlx::query_as(&format!(
            "select user_id, handle from {}.users where user_id = any($1)",
            live_schema(UsersModel::NAME)
        ))
        .bind(user_ids)
        .fetch_all(pool)
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// Every user, ordered by handle (for equivalence checks and admin listings).
    pub async fn all_in(pool: &PgPool, schema: &str) -> Result<Vec<UserRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "select {ROW_COLUMNS} from {schema}.users order by handle"
        ))
        .fetch_all(pool)
        .await
    }

    pub async fn find_by_id(pool: &PgPool, user_id: Uuid) -> Result<Option<UserRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "select {ROW_COLUMNS} from {}.users where user_id = $1",
            live_schema(UsersModel::NAME)
        ))
        .bind(user_id)
        .fetch_optional(pool)
        .await
    }

    /// One page of users whose handle or email contains `search`, ordered by handle, and
    /// how many match in all.
    pub async fn page(
        pool: &PgPool,
        search: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<UserRow>, i64), sqlx::Error> {
        let schema = live_schema(UsersModel::NAME);
        let pattern = search.map(|text| {
            let escaped = text
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            format!("%{}%", escaped.to_lowercase())
        });
        let filter = "($1::text is null or handle like $1 or lower(email) like $1)";
        let rows = sqlx::query_as(&format!(
            "select {ROW_COLUMNS} from {schema}.users where {filter} order by handle limit $2 offset $3"
        ))
        .bind(&pattern)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?;
        let total = sqlx::query_scalar(&format!(
            "select count(*) from {schema}.users where {filter}"
        ))
        .bind(&pattern)
        .fetch_one(pool)
        .await?;
        Ok((rows, total))
    }
}
