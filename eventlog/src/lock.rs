//! Session advisory locks: one active relay, one active builder per projection.
//!
//! The lock lives on a dedicated connection; if that connection dies, Postgres releases
//! the lock and a standby takes over. Writes that must not come from a former holder are
//! fenced: inside their own transaction they check, with [`holds_sql`], that the lock
//! connection still holds the lock. (The relay needs no fence: the stream's
//! expected-last-sequence check refuses a stale relay.)

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::Connection;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// A held advisory lock and the connection that holds it.
pub struct SessionLock {
    connection: PgConnection,
    key: String,
    pid: i32,
}

impl SessionLock {
    /// Takes the lock named `key` if it is free.
    pub async fn try_acquire(
        options: &PgConnectOptions,
        key: &str,
    ) -> Result<Option<Self>, sqlx::Error> {
        let mut connection = PgConnection::connect_with(options).await?;
        let (acquired, pid): (bool, i32) =
            sqlx::query_as("select pg_try_advisory_lock(hashtext($1)::bigint), pg_backend_pid()")
                .bind(key)
                .fetch_one(&mut connection)
                .await?;
        if !acquired {
            connection.close().await?;
            return Ok(None);
        }
        Ok(Some(Self {
            connection,
            key: key.to_owned(),
            pid,
        }))
    }

    /// Waits as a standby, trying every `poll`, until the lock is ours (or `shutdown`).
    pub async fn acquire_or_wait(
        options: &PgConnectOptions,
        key: &str,
        poll: Duration,
        shutdown: &CancellationToken,
    ) -> Result<Option<Self>, sqlx::Error> {
        loop {
            if let Some(lock) = Self::try_acquire(options, key).await? {
                return Ok(Some(lock));
            }
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(None),
                _ = tokio::time::sleep(poll) => {}
            }
        }
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    /// Whether the lock connection is alive (and so still holds the lock).
    pub async fn is_alive(&mut self) -> bool {
        self.connection.ping().await.is_ok()
    }

    /// The backend id of the lock's connection, for [`holds_sql`].
    pub fn pid(&self) -> i32 {
        self.pid
    }

    pub async fn release(mut self) -> Result<(), sqlx::Error> {
        sqlx::query("select pg_advisory_unlock(hashtext($1)::bigint)")
            .bind(&self.key)
            .execute(&mut self.connection)
            .await?;
        self.connection.close().await
    }
}

/// A boolean SQL expression: backend `$<pid>` holds the advisory lock named `$<key>`,
/// for callers that fold the fence into a statement of their own.
pub fn holds_sql(pid_param: usize, key_param: usize) -> String {
    // A bigint key shows in pg_locks as classid (high half) and objid (low half).
    format!(
        "exists (
           select 1 from pg_locks
            where locktype = 'advisory' and granted and pid = ${pid_param} and objsubid = 1
              and ((classid::bigint << 32) | objid::bigint) = hashtext(${key_param})::bigint
              and database = (select oid from pg_database where datname = current_database()))"
    )
}
