//! The API's use of the shared throttle (AUTH-7): refuse while a bucket is held back,
//! count what should count. Used by refresh, registration and the emailed-link routes;
//! sign-in counts inside `commands::auth::sign_in`.

use crate::{ApiError, AppState};
use commands::auth::throttle::Bucket;

/// A 429 with `Retry-After` while any of `buckets` is held back.
pub async fn held_back(state: &AppState, buckets: &[Bucket]) -> Result<(), ApiError> {
    let wait = state
        .sign_ins
        .throttle()
        .retry_after(buckets, state.clock.now())
        .await
        .map_err(ApiError::internal)?;
    refuse_for(wait)
}

/// Counts this attempt in `bucket`, or refuses it with a 429 while the bucket is held
/// back (one transaction: attempts at once cannot all slip past the check).
pub async fn admit(state: &AppState, bucket: &Bucket) -> Result<(), ApiError> {
    let wait = state
        .sign_ins
        .throttle()
        .admit(bucket, state.clock.now())
        .await
        .map_err(ApiError::internal)?;
    refuse_for(wait)
}

fn refuse_for(wait: Option<chrono::Duration>) -> Result<(), ApiError> {
    wait.map_or(Ok(()), |wait| Err(ApiError::throttled(wait)))
}

/// Counts one more in each of `buckets`.
pub async fn count(state: &AppState, buckets: &[Bucket]) -> Result<(), ApiError> {
    for bucket in buckets {
        state
            .sign_ins
            .throttle()
            .fail_alone(bucket, state.clock.now())
            .await
            .map_err(ApiError::internal)?;
    }
    Ok(())
}
