//! Reading the `events` table in relay order.
//!
//! A reader taking `position > last` would skip transactions that commit late with a lower
//! position. Instead it reads by `(tx_id, position)` and only below the snapshot's xmin:
//! every transaction with an id below xmin has finished, so nothing can appear there
//! later. A long open write transaction therefore holds readers back, never makes them
//! skip.

use crate::{StoredEvent, Token};
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{PgExecutor, Row};
use uuid::Uuid;

const COLUMNS: &str =
    "event_id, aggregate_type, aggregate_id, sequence, event_type, event_version, \
     tx_id::text::bigint as tx_id, position, recorded_at, payload, metadata";

/// Committed events after `after`, in relay order, at most `limit`.
pub async fn read_committed_after<'e>(
    executor: impl PgExecutor<'e>,
    after: Token,
    limit: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    read_committed_between(executor, after, None, None, limit).await
}

/// Committed events in `(after, until]`, optionally of some aggregate types, in relay order.
pub async fn read_committed_between<'e>(
    executor: impl PgExecutor<'e>,
    after: Token,
    until: Option<Token>,
    aggregate_types: Option<&[&str]>,
    limit: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let until = until.unwrap_or(Token::new(i64::MAX, i64::MAX));
    let sql = format!(
        "select {COLUMNS} from events
          where (tx_id, position) > ($1::text::xid8, $2)
            and (tx_id, position) <= ($3::text::xid8, $4)
            and tx_id < pg_snapshot_xmin(pg_current_snapshot())
            and ($5::text[] is null or aggregate_type = any($5))
          order by tx_id, position
          limit $6"
    );
    let rows = sqlx::query(&sql)
        .bind(after.tx_id.to_string())
        .bind(after.position)
        .bind(until.tx_id.to_string())
        .bind(until.position)
        .bind(aggregate_types)
        .bind(limit)
        .fetch_all(executor)
        .await?;
    rows.iter().map(decode_row).collect()
}

/// One aggregate's events with `from <= sequence <= to` (for filling a gap).
pub async fn read_aggregate_range<'e>(
    executor: impl PgExecutor<'e>,
    aggregate_type: &str,
    aggregate_id: &str,
    from: i64,
    to: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let sql = format!(
        "select {COLUMNS} from events
          where aggregate_type = $1 and aggregate_id = $2 and sequence between $3 and $4
          order by sequence"
    );
    let rows = sqlx::query(&sql)
        .bind(aggregate_type)
        .bind(aggregate_id)
        .bind(from)
        .bind(to)
        .fetch_all(executor)
        .await?;
    rows.iter().map(decode_row).collect()
}

/// The token of an aggregate's last event, read back after an append (postgres-es has no
/// RETURNING).
pub async fn last_token_of<'e>(
    executor: impl PgExecutor<'e>,
    aggregate_type: &str,
    aggregate_id: &str,
) -> Result<Option<Token>, sqlx::Error> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "select tx_id::text::bigint, position from events
          where aggregate_type = $1 and aggregate_id = $2
          order by sequence desc limit 1",
    )
    .bind(aggregate_type)
    .bind(aggregate_id)
    .fetch_optional(executor)
    .await?;
    Ok(row.map(|(tx_id, position)| Token::new(tx_id, position)))
}

/// How much of the log lies after `after`: committed events not yet passed, and the age
/// of the oldest. Events held back by an open transaction count too, so a stall shows.
pub async fn backlog_after<'e>(
    executor: impl PgExecutor<'e>,
    after: Token,
) -> Result<(i64, Option<DateTime<Utc>>), sqlx::Error> {
    let row: (i64, Option<DateTime<Utc>>) = sqlx::query_as(
        "select count(*), min(recorded_at) from events where (tx_id, position) > ($1::text::xid8, $2)",
    )
    .bind(after.tx_id.to_string())
    .bind(after.position)
    .fetch_one(executor)
    .await?;
    Ok(row)
}

fn decode_row(row: &PgRow) -> Result<StoredEvent, sqlx::Error> {
    Ok(StoredEvent::from_row_parts(
        row.try_get::<Uuid, _>("event_id")?,
        row.try_get("aggregate_type")?,
        row.try_get("aggregate_id")?,
        row.try_get("sequence")?,
        row.try_get("event_type")?,
        row.try_get("event_version")?,
        row.try_get("tx_id")?,
        row.try_get("position")?,
        row.try_get("recorded_at")?,
        row.try_get::<Value, _>("payload")?,
        row.try_get::<Value, _>("metadata")?,
    ))
}
