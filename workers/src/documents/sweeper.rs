//! Removes orphans (DOC-4): stored objects that no live document owns — left by a crash
//! between an event and a delete, by an upload link used for a document that then
//! expired, or by an erased account. An object younger than the grace period is left
//! alone, since its document may not have reached the read model yet. Leftovers of
//! uploads cut off by a crash (the local store's `.part` files) go after the same grace.

use chrono::{DateTime, Utc};
use domain::Clock;
use sqlx::PgPool;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use storage::{ObjectKey, ObjectStore};
use tokio_util::sync::CancellationToken;

/// Keys checked against the read model per query.
const CHUNK: usize = 500;

/// One pass: removes orphans last changed before `now - grace`; returns how many.
pub async fn sweep(
    pool: &PgPool,
    objects: &ObjectStore,
    now: DateTime<Utc>,
    grace: chrono::Duration,
) -> Result<usize, String> {
    let unfinished = objects
        .remove_unfinished(now - grace)
        .await
        .map_err(|error| error.to_string())?;
    if unfinished > 0 {
        tracing::info!(unfinished, "removed what interrupted uploads left");
    }
    let listed = objects.list().await.map_err(|error| error.to_string())?;
    let old: Vec<String> = listed
        .into_iter()
        .filter(|object| object.last_modified < now - grace)
        .map(|object| object.key)
        .collect();
    let mut removed = 0;
    for chunk in old.chunks(CHUNK) {
        let owned: HashSet<String> = projections::documents::queries::owned_keys(pool, chunk)
            .await
            .map_err(|error| error.to_string())?
            .into_iter()
            .collect();
        for key in chunk.iter().filter(|key| !owned.contains(*key)) {
            let Some(key) = ObjectKey::parse(key) else {
                continue;
            };
            objects
                .delete(&key)
                .await
                .map_err(|error| error.to_string())?;
            tracing::info!(%key, "removed an object no document owns");
            removed += 1;
        }
    }
    Ok(removed)
}

/// Runs a pass every `every` until `shutdown`.
pub async fn run(
    pool: PgPool,
    objects: ObjectStore,
    clock: Arc<dyn Clock>,
    every: Duration,
    grace: chrono::Duration,
    shutdown: CancellationToken,
) {
    let (pool, objects, clock) = (&pool, &objects, clock.as_ref());
    super::every(every, shutdown, move || async move {
        if let Err(error) = sweep(pool, objects, clock.now(), grace).await {
            tracing::warn!(%error, "orphan sweep failed");
        }
    })
    .await
}
