//! The `users` read model: one row per account, for handle lookups and (later) sign-in
//! and admin listings.
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

    fn aggregate_type(&self) -> &'static str {
        <domain::user::User as domain::Aggregate>::TYPE
    }

    fn schema_version(&self) -> i32 {
        1
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
               registered_at timestamptz not null
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
            for event in events {
                let decoded: UserEvent = event.decode().map_err(|error| ApplyError::Poison {
                    position: event.position,
                    reason: error.to_string(),
                })?;
                match decoded {
                    UserEvent::UserRegistered(registered) => {
                        registrations.push((registered, event.position))
                    }
                    // Second factors are not part of this model.
                    UserEvent::SecondFactorEnabled(_)
                    | UserEvent::SecondFactorDisabled(_)
                    | UserEvent::RecoveryCodesRegenerated(_) => {}
                }
            }
            self.insert_registrations(connection, schema, registrations)
                .await
        })
    }
}

impl UsersModel {
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
        let keys = self
            .keys
            .find_many_on(&mut *connection, &owners)
            .await
            .map_err(|error| match error {
                crypto::KeyRingError::Database(sql) => ApplyError::Database(sql),
                wrong_key => ApplyError::Poison {
                    position: first_position,
                    reason: wrong_key.to_string(),
                },
            })?;
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
            "insert into {schema}.users (user_id, handle, email, email_lookup, role, registered_at)
             select * from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
             on conflict (user_id) do nothing"
        ))
        .bind(&columns.user_id)
        .bind(&columns.handle)
        .bind(&columns.email)
        .bind(&columns.email_lookup)
        .bind(&columns.role)
        .bind(&columns.registered_at)
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
        }
    }

    fn push(&mut self, registered: UserRegistered, email: Option<String>) {
        self.user_id.push(registered.user_id);
        self.handle.push(registered.handle.into());
        self.email.push(email);
        self.email_lookup.push(registered.email_lookup);
        self.role.push(registered.role.as_str().to_owned());
        self.registered_at.push(registered.registered_at);
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
}

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
            "select user_id, handle, email, role, registered_at from {}.users where handle = $1",
            live_schema(UsersModel::NAME)
        ))
        .bind(handle)
        .fetch_optional(pool)
        .await
    }

    /// Every user, ordered by handle (for equivalence checks and admin listings).
    pub async fn all_in(pool: &PgPool, schema: &str) -> Result<Vec<UserRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "select user_id, handle, email, role, registered_at from {schema}.users order by handle"
        ))
        .fetch_all(pool)
        .await
    }
}
