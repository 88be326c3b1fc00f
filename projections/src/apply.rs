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

/// An aggregate: `(aggregate_type, aggregate_id)`.
pub type AggregateKey = (String, String);

/// The last sequence applied per aggregate.
pub type Sequences = HashMap<AggregateKey, i64>;

/// What to apply for a run of events, and the sequences that applying it leaves.
pub struct Plan {
    pub events: Vec<StoredEvent>,
    pub sequences: Vec<(AggregateKey, i64)>,
}

/// Orders `events` for application given `applied` (not changed): skips what is at or below
/// an aggregate's last applied sequence and fetches what is missing before an event.
pub async fn plan(
    connection: &mut PgConnection,
    aggregate_types: &[&str],
    events: &[StoredEvent],
    applied: &Sequences,
) -> Result<Plan, sqlx::Error> {
    let mut planned: HashMap<AggregateKey, i64> = HashMap::new();
    let mut to_apply = Vec::with_capacity(events.len());
    for event in events
        .iter()
        .filter(|event| aggregate_types.contains(&event.aggregate_type.as_str()))
    {
        let id = event.aggregate_id.as_str();
        let key = (event.aggregate_type.clone(), event.aggregate_id.clone());
        let last = planned
            .get(&key)
            .or_else(|| applied.get(&key))
            .copied()
            .unwrap_or(0);
        if event.sequence <= last {
            continue;
        }
        if event.sequence > last + 1 {
            let missing = eventlog::log::read_aggregate_range(
                &mut *connection,
                &event.aggregate_type,
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
        planned.insert(key, event.sequence);
        to_apply.push(event.clone());
    }
    let sequences = planned.into_iter().collect();
    Ok(Plan {
        events: to_apply,
        sequences,
    })
}

/// The stored sequences of the aggregates `events` touch.
pub async fn load_sequences(
    connection: &mut PgConnection,
    schema: &str,
    events: &[StoredEvent],
) -> Result<Sequences, sqlx::Error> {
    let (types, ids): (Vec<&str>, Vec<&str>) = events
        .iter()
        .map(|event| (event.aggregate_type.as_str(), event.aggregate_id.as_str()))
        .unzip();
    let rows: Vec<(String, String, i64)> = sqlx::query_as(&format!(
        "select s.aggregate_type, s.aggregate_id, s.sequence
           from {schema}.aggregate_sequences s
           join unnest($1::text[], $2::text[]) as wanted(aggregate_type, aggregate_id)
             using (aggregate_type, aggregate_id)"
    ))
    .bind(&types)
    .bind(&ids)
    .fetch_all(connection)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(aggregate_type, id, sequence)| ((aggregate_type, id), sequence))
        .collect())
}

/// Stores sequences (never moving one backwards).
pub async fn save_sequences(
    connection: &mut PgConnection,
    schema: &str,
    sequences: &[(AggregateKey, i64)],
) -> Result<(), sqlx::Error> {
    for chunk in sequences.chunks(10_000) {
        let types: Vec<&str> = chunk.iter().map(|((t, _), _)| t.as_str()).collect();
        let ids: Vec<&str> = chunk.iter().map(|((_, id), _)| id.as_str()).collect();
        let numbers: Vec<i64> = chunk.iter().map(|(_, n)| *n).collect();
        sqlx::query(&format!(
            "insert into {schema}.aggregate_sequences (aggregate_type, aggregate_id, sequence)
             select t, id, seq from unnest($1::text[], $2::text[], $3::bigint[]) as u(t, id, seq)
             on conflict (aggregate_type, aggregate_id) do update
               set sequence = greatest(aggregate_sequences.sequence, excluded.sequence)"
        ))
        .bind(&types)
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
    let applied = load_sequences(connection, schema, events).await?;
    let plan = plan(connection, model.aggregate_types(), events, &applied).await?;
    if plan.events.is_empty() {
        return Ok(0);
    }
    let started = std::time::Instant::now();
    model.apply(&mut *connection, schema, &plan.events).await?;
    tracing::trace!(events = plan.events.len(), elapsed = ?started.elapsed(), "model applied");
    save_sequences(connection, schema, &plan.sequences).await?;
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
        &[(
            (event.aggregate_type.clone(), event.aggregate_id.clone()),
            event.sequence,
        )],
    )
    .await
}
