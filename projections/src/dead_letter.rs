//! Parking events a model cannot apply, so the rest keep flowing (EV-4).

use eventlog::StoredEvent;
use sqlx::PgConnection;

/// Records `event` as parked for `projection`. Idempotent.
pub async fn park(
    connection: &mut PgConnection,
    projection: &str,
    event: &StoredEvent,
    error: &str,
    attempts: u32,
) -> Result<(), sqlx::Error> {
    tracing::error!(
        projection,
        position = event.position,
        event_type = %event.event_type,
        event_version = %event.event_version,
        attempts,
        error,
        "parked an event the read model cannot apply"
    );
    sqlx::query(
        "insert into projection_dead_letters
           (projection, position, tx_id, event_id, aggregate_type, aggregate_id, sequence,
            event_type, event_version, error, attempts)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         on conflict (projection, position) do nothing",
    )
    .bind(projection)
    .bind(event.position)
    .bind(event.tx_id)
    .bind(event.event_id)
    .bind(&event.aggregate_type)
    .bind(&event.aggregate_id)
    .bind(event.sequence)
    .bind(&event.event_type)
    .bind(&event.event_version)
    .bind(error)
    .bind(i32::try_from(attempts).unwrap_or(i32::MAX))
    .execute(connection)
    .await?;
    Ok(())
}

/// How many events are parked for `projection`.
pub async fn count(pool: &sqlx::PgPool, projection: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("select count(*) from projection_dead_letters where projection = $1")
        .bind(projection)
        .fetch_one(pool)
        .await
}
