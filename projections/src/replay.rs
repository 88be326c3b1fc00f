//! Rebuilding a read model from the events table (EV-5), beside the live one.
//!
//! The rebuild reads Postgres (the source of truth, not the stream) in relay order into
//! `rm_<name>_next` while the live model keeps serving and updating. Then, in one
//! transaction that also excludes the live builder's batches, it catches the new schema up
//! to the live model's progress and swaps the schemas. Reads wait at most for that swap.
//! Any database error aborts the rebuild and is returned, never swallowed.

use crate::apply::{load_sequences, plan, save_sequences, Sequences};
use crate::model::{live_schema, next_schema, retired_schema, swap_lock_key};
use crate::state::{self, state_tables_sql, Progress};
use crate::{dead_letter, ApplyError, ReadModel};
use eventlog::{StoredEvent, Token};
use sqlx::{Connection, PgConnection, PgPool};
use std::time::{Duration, Instant};
use thiserror::Error;

/// The role the runtime logs in through; it gets DML on every model's tables.
pub const RUNTIME_ROLE: &str = "docuvault_runtime";

#[derive(Debug, Error)]
pub enum ReplayError {
    #[error("database error during replay: {0}")]
    Database(#[from] sqlx::Error),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayReport {
    pub events_read: u64,
    pub events_parked: u64,
    pub elapsed: Duration,
}

impl ReplayReport {
    pub fn events_per_second(&self) -> f64 {
        self.events_read as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Creates the live schema of `model` if it does not exist yet; rebuilds it if its tables
/// changed shape (another schema version). Run by `docuvault migrate`.
pub async fn install(ddl: &PgPool, model: &dyn ReadModel, chunk: i64) -> Result<(), ReplayError> {
    let live = live_schema(model.name());
    let version: Option<i32> = match schema_exists(ddl, &live).await? {
        true => Some(
            sqlx::query_scalar(&format!(
                "select schema_version from {live}.projection_state"
            ))
            .fetch_one(ddl)
            .await?,
        ),
        false => None,
    };
    match version {
        Some(version) if version == model.schema_version() => Ok(()),
        Some(version) => {
            tracing::info!(
                projection = model.name(),
                from = version,
                to = model.schema_version(),
                "read model changed shape; rebuilding"
            );
            replay(ddl, model, chunk).await.map(|_| ())
        }
        None => {
            let mut connection = ddl.acquire().await?;
            let mut tx = connection.begin().await?;
            create_schema(&mut tx, model, &live).await?;
            create_indexes(&mut tx, model, &live).await?;
            tx.commit().await?;
            Ok(())
        }
    }
}

/// Rebuilds `model` from the events table and swaps it in. `chunk` events per read; the
/// next chunk is read while the current one is applied.
pub async fn replay(
    ddl: &PgPool,
    model: &dyn ReadModel,
    chunk: i64,
) -> Result<ReplayReport, ReplayError> {
    let started = Instant::now();
    let next = next_schema(model.name());
    {
        let mut tx = ddl.begin().await?;
        sqlx::query(&format!("drop schema if exists {next} cascade"))
            .execute(&mut *tx)
            .await?;
        create_schema(&mut tx, model, &next).await?;
        tx.commit().await?;
    }
    let mut report = ReplayReport {
        events_read: 0,
        events_parked: 0,
        elapsed: Duration::ZERO,
    };
    // The sequences of a rebuild stay in memory and are stored once, before the swap.
    let mut applied = Sequences::new();
    let mut built_to = Token::ZERO;
    let read = |after: Token| {
        let (pool, aggregate_types) = (ddl.clone(), model.aggregate_types());
        tokio::spawn(async move {
            eventlog::log::read_committed_between(&pool, after, None, Some(aggregate_types), chunk)
                .await
        })
    };
    let mut connection = ddl.acquire().await?;
    let mut current = read(built_to).await.map_err(join_failure)??;
    while let Some(last) = current.last().map(StoredEvent::token) {
        let ahead = read(last);
        let chunk_started = Instant::now();
        apply_chunk(
            &mut connection,
            model,
            &next,
            &current,
            &mut applied,
            &mut report,
        )
        .await?;
        tracing::debug!(events = current.len(), apply = ?chunk_started.elapsed(), "replayed a chunk");
        built_to = last;
        current = ahead.await.map_err(join_failure)??;
    }
    let finishing = Instant::now();
    save_sequences(
        &mut connection,
        &next,
        &applied.into_iter().collect::<Vec<_>>(),
    )
    .await?;
    state::write(
        &mut connection,
        &next,
        Progress {
            token: built_to,
            stream_seq: 0,
        },
    )
    .await?;
    drop(connection);
    tracing::debug!(sequences_and_indexes = ?finishing.elapsed(), "rebuild loaded; swapping");
    swap(ddl, model, &next, built_to, &mut report).await?;
    report.elapsed = started.elapsed();
    tracing::info!(
        projection = model.name(),
        events = report.events_read,
        parked = report.events_parked,
        per_second = report.events_per_second() as u64,
        "read model rebuilt and swapped in"
    );
    Ok(report)
}

fn join_failure(error: tokio::task::JoinError) -> ReplayError {
    ReplayError::Database(sqlx::Error::Protocol(format!(
        "the read-ahead task failed: {error}"
    )))
}

/// Catches `next` up to the live progress and swaps it in, excluding the live builder.
async fn swap(
    ddl: &PgPool,
    model: &dyn ReadModel,
    next: &str,
    mut built_to: Token,
    report: &mut ReplayReport,
) -> Result<(), ReplayError> {
    let live = live_schema(model.name());
    let retired = retired_schema(model.name());
    let mut connection = ddl.acquire().await?;
    let mut tx = connection.begin().await?;
    sqlx::query("select pg_advisory_xact_lock(hashtext($1)::bigint)")
        .bind(swap_lock_key(model.name()))
        .execute(&mut *tx)
        .await?;
    let live_progress = match schema_exists(&mut *tx, &live).await? {
        true => Some(state::read_for_update(&mut tx, &live).await?),
        false => None,
    };
    let live_token = live_progress.map(|p| p.token).unwrap_or(Token::ZERO);
    while built_to < live_token {
        let events = eventlog::log::read_committed_between(
            &mut *tx,
            built_to,
            Some(live_token),
            Some(model.aggregate_types()),
            10_000,
        )
        .await?;
        let Some(last) = events.last().map(StoredEvent::token) else {
            break;
        };
        let mut applied = load_sequences(&mut tx, next, &events).await?;
        apply_chunk(&mut tx, model, next, &events, &mut applied, report).await?;
        let applied: Vec<_> = applied.into_iter().collect();
        save_sequences(&mut tx, next, &applied).await?;
        built_to = last;
    }
    let progress = Progress {
        token: built_to.max(live_token),
        stream_seq: live_progress.map(|p| p.stream_seq).unwrap_or(0),
    };
    state::write(&mut tx, next, progress).await?;
    if live_progress.is_some() {
        sqlx::query(&format!("drop schema if exists {retired} cascade"))
            .execute(&mut *tx)
            .await?;
        sqlx::query(&format!("alter schema {live} rename to {retired}"))
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(&format!("alter schema {next} rename to {live}"))
        .execute(&mut *tx)
        .await?;
    sqlx::query(&format!("drop schema if exists {retired} cascade"))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Applies one chunk in a transaction, tracking sequences in `applied`; if an event in it
/// cannot be applied, applies the chunk event by event and parks the ones that fail, like
/// the live builder does. Commits need not wait for the disk: a rebuild that a crash
/// interrupts is started again from scratch.
async fn apply_chunk(
    connection: &mut PgConnection,
    model: &dyn ReadModel,
    schema: &str,
    events: &[StoredEvent],
    applied: &mut Sequences,
    report: &mut ReplayReport,
) -> Result<(), ReplayError> {
    report.events_read += events.len() as u64;
    let aggregate_types = model.aggregate_types();
    let mut tx = connection.begin().await?;
    sqlx::query("set local synchronous_commit = off")
        .execute(&mut *tx)
        .await?;
    let whole = plan(&mut tx, aggregate_types, events, applied).await?;
    match model.apply(&mut tx, schema, &whole.events).await {
        Ok(()) => {
            tx.commit().await?;
            applied.extend(whole.sequences);
            return Ok(());
        }
        Err(error) if !error.is_data_error() => return Err(system_failure(error)),
        Err(_) => tx.rollback().await?,
    }
    for event in events {
        let mut tx = connection.begin().await?;
        let single = plan(
            &mut tx,
            aggregate_types,
            std::slice::from_ref(event),
            applied,
        )
        .await?;
        match model.apply(&mut tx, schema, &single.events).await {
            Ok(()) => {
                tx.commit().await?;
                applied.extend(single.sequences);
            }
            Err(error) if !error.is_data_error() => return Err(system_failure(error)),
            Err(error) => {
                tx.rollback().await?;
                let mut tx = connection.begin().await?;
                dead_letter::park(&mut tx, model.name(), event, &error.to_string(), 1).await?;
                tx.commit().await?;
                let last = applied
                    .entry((event.aggregate_type.clone(), event.aggregate_id.clone()))
                    .or_default();
                *last = (*last).max(event.sequence);
                report.events_parked += 1;
            }
        }
    }
    Ok(())
}

fn system_failure(error: ApplyError) -> ReplayError {
    match error {
        ApplyError::Database(sql) => ReplayError::Database(sql),
        poison @ ApplyError::Poison { .. } => {
            ReplayError::Database(sqlx::Error::Protocol(poison.to_string()))
        }
    }
}

async fn create_schema(
    tx: &mut PgConnection,
    model: &dyn ReadModel,
    schema: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("create schema {schema}"))
        .execute(&mut *tx)
        .await?;
    sqlx::raw_sql(&model.tables_sql(schema))
        .execute(&mut *tx)
        .await?;
    sqlx::raw_sql(&state_tables_sql(schema, model.schema_version()))
        .execute(&mut *tx)
        .await?;
    sqlx::raw_sql(&format!(
        "grant usage on schema {schema} to {RUNTIME_ROLE};
         grant select, insert, update, delete on all tables in schema {schema} to {RUNTIME_ROLE};
         grant usage, select on all sequences in schema {schema} to {RUNTIME_ROLE};"
    ))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

async fn create_indexes(
    connection: &mut PgConnection,
    model: &dyn ReadModel,
    schema: &str,
) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(&model.indexes_sql(schema))
        .execute(connection)
        .await?;
    Ok(())
}

async fn schema_exists<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    schema: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("select exists (select 1 from pg_namespace where nspname = $1)")
        .bind(schema)
        .fetch_one(executor)
        .await
}
