//! A read model's progress, stored in its own schema so a swap moves it with the tables.

use eventlog::Token;
use sqlx::{PgConnection, PgExecutor, PgPool};
use std::time::Duration;
use thiserror::Error;

/// How far a model has applied the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    pub token: Token,
    /// The JetStream sequence of the last applied message (0 when built by replay only).
    pub stream_seq: u64,
}

/// The bookkeeping tables every model schema has besides its own.
pub(crate) fn state_tables_sql(schema: &str, schema_version: i32) -> String {
    format!(
        "create table {schema}.projection_state (
           id boolean primary key default true check (id),
           tx_id bigint not null default 0,
           position bigint not null default 0,
           stream_seq bigint not null default 0,
           schema_version integer not null,
           updated_at timestamptz not null default now()
         );
         insert into {schema}.projection_state (schema_version) values ({schema_version});
         -- The last sequence applied per aggregate: redelivery is a no-op, gaps are filled.
         create table {schema}.aggregate_sequences (
           aggregate_type text not null,
           aggregate_id text not null,
           sequence bigint not null,
           primary key (aggregate_type, aggregate_id)
         );"
    )
}

pub async fn read<'e>(
    executor: impl PgExecutor<'e>,
    schema: &str,
) -> Result<Progress, sqlx::Error> {
    let (tx_id, position, stream_seq): (i64, i64, i64) = sqlx::query_as(&format!(
        "select tx_id, position, stream_seq from {schema}.projection_state"
    ))
    .fetch_one(executor)
    .await?;
    Ok(Progress {
        token: Token::new(tx_id, position),
        stream_seq: u64::try_from(stream_seq).unwrap_or(0),
    })
}

/// Reads the progress and locks its row until the transaction ends.
pub async fn read_for_update(
    connection: &mut PgConnection,
    schema: &str,
) -> Result<Progress, sqlx::Error> {
    let (tx_id, position, stream_seq): (i64, i64, i64) = sqlx::query_as(&format!(
        "select tx_id, position, stream_seq from {schema}.projection_state for update"
    ))
    .fetch_one(connection)
    .await?;
    Ok(Progress {
        token: Token::new(tx_id, position),
        stream_seq: u64::try_from(stream_seq).unwrap_or(0),
    })
}

pub async fn write(
    connection: &mut PgConnection,
    schema: &str,
    progress: Progress,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "update {schema}.projection_state set tx_id = $1, position = $2, stream_seq = $3, updated_at = now()"
    ))
    .bind(progress.token.tx_id)
    .bind(progress.token.position)
    .bind(i64::try_from(progress.stream_seq).unwrap_or(i64::MAX))
    .execute(connection)
    .await?;
    Ok(())
}

#[derive(Debug, Error)]
pub enum WaitError {
    #[error("the read model has not reached the requested token yet")]
    NotYet,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Read your writes (EV-6): waits until the model reflects every event of its aggregate
/// type up to `token`, polling every `poll` and giving up after `timeout`.
///
/// The model's own progress only moves with events of its type, so a token from another
/// aggregate type counts as reached once no event of this model's type lies between the
/// model's progress and the token.
pub async fn wait_until_reached(
    pool: &PgPool,
    schema: &str,
    aggregate_types: &[&str],
    token: Token,
    timeout: Duration,
    poll: Duration,
) -> Result<(), WaitError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if reached(pool, schema, aggregate_types, token).await? {
            return Ok(());
        }
        if tokio::time::Instant::now() + poll > deadline {
            return Err(WaitError::NotYet);
        }
        tokio::time::sleep(poll).await;
    }
}

async fn reached(
    pool: &PgPool,
    schema: &str,
    aggregate_types: &[&str],
    token: Token,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(&format!(
        "select (s.tx_id, s.position) >= ($1, $2)
             or not exists (
                  select 1 from events e
                   where e.aggregate_type = any($3)
                     and (e.tx_id, e.position) > (s.tx_id::text::xid8, s.position)
                     and (e.tx_id, e.position) <= ($1::text::xid8, $2))
           from {schema}.projection_state s"
    ))
    .bind(token.tx_id)
    .bind(token.position)
    .bind(aggregate_types)
    .fetch_one(pool)
    .await
}
