//! Expires uploads left pending past their time (DOC-3): the event is appended, then the
//! object removed (by the same settle that follows deletions).

use commands::documents::Documents;
use commands::CommandMeta;
use domain::Clock;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Uploads expired per pass, at most.
const BATCH: i64 = 500;

/// One pass: expires every pending upload due at the clock's now; returns how many.
pub async fn expire_due(
    pool: &PgPool,
    documents: &Documents,
    clock: &dyn Clock,
) -> Result<usize, String> {
    let due = projections::documents::queries::expired_pending(pool, clock.now(), BATCH)
        .await
        .map_err(|error| error.to_string())?;
    let mut expired = 0;
    for document_id in due {
        let meta = CommandMeta::new("system:expiry", format!("expiry:{document_id}"));
        match documents.expire(document_id, &meta).await {
            Ok(Some(_)) => expired += 1,
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(%document_id, %error, "could not expire an upload; next pass")
            }
        }
    }
    Ok(expired)
}

/// Runs a pass every `every` until `shutdown`.
pub async fn run(
    pool: PgPool,
    documents: Documents,
    clock: Arc<dyn Clock>,
    every: Duration,
    shutdown: CancellationToken,
) {
    let (pool, documents, clock) = (&pool, &documents, clock.as_ref());
    super::every(every, shutdown, move || async move {
        match expire_due(pool, documents, clock).await {
            Ok(0) => {}
            Ok(expired) => tracing::info!(expired, "expired pending uploads"),
            Err(error) => tracing::warn!(%error, "upload expiry pass failed"),
        }
    })
    .await
}
