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

/// The last sequence applied per aggregate id (of the model's aggregate type).
pub type Sequences = HashMap<String, i64>;

/// What to apply for a run of events, and the sequences that applying it leaves.
pub struct Plan {
    pub events: Vec<StoredEvent>,
    pub sequences: Vec<(String, i64)>,
}

/// Orders `events` for application given `applied` (not changed): skips what is at or below
/// an aggregate's last applied sequence and fetches what is missing before an event.
pub async fn plan(
    connection: &mut PgConnection,
    aggregate_type: &str,
    events: &[StoredEvent],
    applied: &Sequences,
) -> Result<Plan, sqlx::Error> {
    let mut planned: HashMap<&str, i64> = HashMap::new();
    let mut to_apply = Vec::with_capacity(events.len());
    for event in events
        .iter()
        .filter(|event| event.aggregate_type == aggregate_type)
    {
        let id = event.aggregate_id.as_str();
        let last = planned
            .get(id)
            .or_else(|| applied.get(id))
            .copied()
            .unwrap_or(0);
        if event.sequence <= last {
            continue;
        }
        if event.sequence > last + 1 {
            let missing = eventlog::log::read_aggregate_range(
                &mut *connection,
                aggregate_type,
                id,
                last + 1,
                event.sequence - 1,
            )
            .await?;
            tracing::debug!(
                aggregate_id = id,
                filled = missing.len(),
                "filled a sequence gap from the events table"
            );
            to_apply.extend(missing);
        }
        planned.insert(id, event.sequence);
        to_apply.push(event.clone());
    }
    let sequences = planned
        .into_iter()
        .map(|(id, sequence)| (id.to_owned(), sequence))
        .collect();
    Ok(Plan {
        events: to_apply,
        sequences,
    })
}

/// The stored sequences of the aggregates `events` touch.
pub async fn load_sequences(
    connection: &mut PgConnection,
    schema: &str,
    aggregate_type: &str,
    events: &[StoredEvent],
) -> Result<Sequences, sqlx::Error> {
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
    .fetch_all(connection)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Stores sequences (never moving one backwards).
pub async fn save_sequences(
    connection: &mut PgConnection,
    schema: &str,
    aggregate_type: &str,
    sequences: &[(String, i64)],
) -> Result<(), sqlx::Error> {
    for chunk in sequences.chunks(10_000) {
        let (ids, numbers): (Vec<&str>, Vec<i64>) =
            chunk.iter().map(|(id, n)| (id.as_str(), *n)).unzip();
        sqlx::query(&format!(
            "insert into {schema}.aggregate_sequences (aggregate_type, aggregate_id, sequence)
             select $1, id, seq from unnest($2::text[], $3::bigint[]) as t(id, seq)
             on conflict (aggregate_type, aggregate_id) do update
               set sequence = greatest(aggregate_sequences.sequence, excluded.sequence)"
        ))
        .bind(aggregate_type)
        .bind(&ids)
        .bind(&numbers)
        .execute(&mut *connection)
        .await?;
    }
    Ok(())
}

/// Applies `events` (in relay order) to `model` in `schema`, inside the caller's
/// transaction, with the sequences kept in the schema. Returns how many events were
/// applied (gap fills included).
pub async fn apply_in_order(
    connection: &mut PgConnection,
    model: &dyn ReadModel,
    schema: &str,
    events: &[StoredEvent],
) -> Result<usize, ApplyError> {
    let aggregate_type = model.aggregate_type();
    let applied = load_sequences(connection, schema, aggregate_type, events).await?;
    let plan = plan(connection, aggregate_type, events, &applied).await?;
    if plan.events.is_empty() {
        return Ok(0);
    }
    let started = std::time::Instant::now();
    model.apply(&mut *connection, schema, &plan.events).await?;
    tracing::trace!(events = plan.events.len(), elapsed = ?started.elapsed(), "model applied");
    save_sequences(connection, schema, aggregate_type, &plan.sequences).await?;
    Ok(plan.events.len())
}

/// Records `event` as handled for its aggregate without applying it (a parked event), so
/// the aggregate's later events do not try to fill the gap with it.
pub async fn skip_event(
    connection: &mut PgConnection,
    schema: &str,
    event: &StoredEvent,
) -> Result<(), sqlx::Error> {
    save_sequences(
        connection,
        schema,
        &event.aggregate_type,
        &[(event.aggregate_id.clone(), event.sequence)],
    )
    .await
}
