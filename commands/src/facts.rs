//! Records events whose state lives in tables (sessions, throttles; ADR 4) inside the
//! caller's transaction, so the state change and its event commit or vanish together.
//!
//! The rows look exactly like the ones postgres-es writes (externally tagged payload,
//! metadata map, sequences from 1), so the relay, projections and replays cannot tell
//! them apart.

use crate::CommandMeta;
use domain::DomainEvent;
use sqlx::{Postgres, Transaction};

/// Appends `event` to aggregate `aggregate_type/aggregate_id` at the next sequence.
/// Concurrent recorders of one aggregate queue on a transaction-scoped advisory lock.
pub async fn record<E: DomainEvent>(
    tx: &mut Transaction<'_, Postgres>,
    aggregate_type: &str,
    aggregate_id: &str,
    event: &E,
    meta: &CommandMeta,
) -> Result<(), sqlx::Error> {
    let payload =
        serde_json::to_value(event).map_err(|error| sqlx::Error::Encode(Box::new(error)))?;
    let metadata = serde_json::to_value(meta.to_map())
        .map_err(|error| sqlx::Error::Encode(Box::new(error)))?;
    sqlx::query("select pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 7))")
        .bind(aggregate_type)
        .bind(aggregate_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "insert into events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         select $1, $2, coalesce(max(sequence), 0) + 1, $3, $4, $5, $6
           from events where aggregate_type = $1 and aggregate_id = $2",
    )
    .bind(aggregate_type)
    .bind(aggregate_id)
    .bind(event.event_type())
    .bind(event.event_version())
    .bind(payload)
    .bind(metadata)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
