//! Applying events to a model in order, exactly once in effect.
//!
//! Relay order is `(tx_id, position)`, which is not always each aggregate's own order, and
//! a message may arrive twice. So every model keeps the last sequence it applied per
//! aggregate: an event at or below it is skipped, and an event beyond the next one first
//! pulls the missing ones from the events table.

use crate::{ApplyError, ReadModel};
use eventlog::StoredEvent;
use sqlx::PgConnection;
use std::collections::HashMap;

/// Applies `events` (in relay order) to `model` in `schema`, inside the caller's
/// transaction. Returns how many events were applied (gap fills included).
pub async fn apply_in_order(
    connection: &mut PgConnection,
    model: &dyn ReadModel,
    schema: &str,
    events: &[StoredEvent],
) -> Result<usize, ApplyError> {
    if events.is_empty() {
        return Ok(0);
    }
    let aggregate_type = model.aggregate_type();
    let ids: Vec<&str> = events
        .iter()
        .map(|event| event.aggregate_id.as_str())
        .collect();
    let rows: Vec<(String, i64)> = sqlx::query_as(&format!(
        "select aggregate_id, sequence from {schema}.aggregate_sequences
          where aggregate_type = $1 and aggregate_id = any($2)"
    ))
    .bind(aggregate_type)
    .bind(&ids)
    .fetch_all(&mut *connection)
    .await?;
    let mut last_applied: HashMap<String, i64> = rows.into_iter().collect();

    let mut to_apply = Vec::with_capacity(events.len());
    for event in events
        .iter()
        .filter(|event| event.aggregate_type == aggregate_type)
    {
        let last = last_applied.get(&event.aggregate_id).copied().unwrap_or(0);
        if event.sequence <= last {
            continue;
        }
        if event.sequence > last + 1 {
            let missing = eventlog::log::read_aggregate_range(
                &mut *connection,
                aggregate_type,
                &event.aggregate_id,
                last + 1,
                event.sequence - 1,
            )
            .await?;
            tracing::debug!(aggregate_id = %event.aggregate_id, filled = missing.len(), "filled a sequence gap from the events table");
            to_apply.extend(missing);
        }
        last_applied.insert(event.aggregate_id.clone(), event.sequence);
        to_apply.push(event.clone());
    }
    if to_apply.is_empty() {
        return Ok(0);
    }
    model.apply(&mut *connection, schema, &to_apply).await?;

    let (ids, sequences): (Vec<String>, Vec<i64>) = last_applied.into_iter().unzip();
    sqlx::query(&format!(
        "insert into {schema}.aggregate_sequences (aggregate_type, aggregate_id, sequence)
         select $1, id, seq from unnest($2::text[], $3::bigint[]) as t(id, seq)
         on conflict (aggregate_type, aggregate_id) do update set sequence = excluded.sequence"
    ))
    .bind(aggregate_type)
    .bind(&ids)
    .bind(&sequences)
    .execute(&mut *connection)
    .await?;
    Ok(to_apply.len())
}

/// Records `event` as handled for its aggregate without applying it (a parked event), so
/// the aggregate's later events do not try to fill the gap with it.
pub async fn skip_event(
    connection: &mut PgConnection,
    schema: &str,
    event: &StoredEvent,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "insert into {schema}.aggregate_sequences (aggregate_type, aggregate_id, sequence) values ($1, $2, $3)
         on conflict (aggregate_type, aggregate_id) do update
           set sequence = greatest(aggregate_sequences.sequence, excluded.sequence)"
    ))
    .bind(&event.aggregate_type)
    .bind(&event.aggregate_id)
    .bind(event.sequence)
    .execute(connection)
    .await?;
    Ok(())
}
