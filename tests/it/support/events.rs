//! Writing events straight into the log, as a foreign or faulty writer would.

use serde_json::{json, Value};
use sqlx::PgConnection;

/// Inserts a raw event row (the runtime role may insert). Returns its position.
pub async fn insert(
    connection: &mut PgConnection,
    aggregate_type: &str,
    aggregate_id: &str,
    sequence: i64,
    event_type: &str,
    event_version: &str,
    body: Value,
) -> i64 {
    let mut tagged = serde_json::Map::new();
    tagged.insert(event_type.to_owned(), body);
    sqlx::query_scalar(
        "insert into events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         values ($1, $2, $3, $4, $5, $6, $7) returning position",
    )
    .bind(aggregate_type)
    .bind(aggregate_id)
    .bind(sequence)
    .bind(event_type)
    .bind(event_version)
    .bind(Value::Object(tagged))
    .bind(json!({"actor": "test"}))
    .fetch_one(connection)
    .await
    .unwrap()
}

/// A probe event of an aggregate type no read model consumes.
pub async fn probe(connection: &mut PgConnection, id: &str, sequence: i64) -> i64 {
    insert(
        connection,
        "probe",
        id,
        sequence,
        "Probed",
        "1.0",
        json!({"n": sequence}),
    )
    .await
}
