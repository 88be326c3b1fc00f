//! The documents' background work (DOC-3, DOC-4, DOC-5):
//!
//! - [`follow`]: after a confirm, the SHA-256 of the bytes; after a deletion, an expiry or
//!   a rejection, the bytes freed in the owner's storage and the object removed.
//! - [`expiry`]: pending uploads past their hour are expired.
//! - [`sweeper`]: objects that no live document owns are removed.

pub mod expiry;
pub mod follow;
pub mod sweeper;

use commands::CommandMeta;
use eventlog::StoredEvent;
use std::future::Future;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Runs `pass` now and then every `period`, until `shutdown`.
pub(crate) async fn every<F, Fut>(period: Duration, shutdown: CancellationToken, mut pass: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    loop {
        pass().await;
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(period) => {}
        }
    }
}

/// The metadata of a command a worker runs because of `event`: its id is derived from
/// the event and the job, so a redelivered event repeats the same command.
pub(crate) fn caused_by(event: &StoredEvent, job: &str) -> CommandMeta {
    let correlation = event
        .metadata
        .get("correlation_id")
        .and_then(|value| value.as_str())
        .unwrap_or_default()
        .to_owned();
    CommandMeta {
        command_id: Uuid::new_v5(&event.event_id, job.as_bytes()),
        actor: format!("system:{job}"),
        correlation_id: correlation,
        causation_id: Some(event.event_id.to_string()),
    }
}
