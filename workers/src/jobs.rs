//! Jobs that follow events: a durable JetStream consumer per job, shared by every worker
//! process (competing consumers: start more workers to go faster). Each event is
//! acknowledged after its handler succeeds; a failure is redelivered after a pause that
//! doubles each time, up to a bound, so a handler must be idempotent (redelivery changes
//! nothing). The handler learns which delivery it is handling, so it can record a final
//! failure on the last one.

use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy};
use async_nats::jetstream::{self, AckKind};
use eventlog::bus::{self, Bus};
use eventlog::StoredEvent;
use futures::future::BoxFuture;
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Which delivery of an event a handler is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// 1 for the first.
    pub number: i64,
    /// No further delivery follows a failure of this one.
    pub last: bool,
}

/// Why a handler failed, and how long the event should wait at least before it comes
/// back (a rate-limited service's `Retry-After`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    pub reason: String,
    pub not_before: Option<Duration>,
}

impl From<String> for Retry {
    fn from(reason: String) -> Self {
        Self {
            reason,
            not_before: None,
        }
    }
}

/// The longest wait a handler may ask for: a service asking for more is tried then.
pub const MAX_REQUESTED_PAUSE: Duration = Duration::from_secs(3600);

/// What a job does with one event. `Err` is retried later; an event the job has no
/// business with is simply `Ok`.
pub trait Job: Send + Sync {
    /// The durable consumer's name: `job-<name>`.
    fn name(&self) -> &'static str;
    /// The aggregate type whose events it reads (NATS 2.9: one filter subject).
    fn aggregate_type(&self) -> &'static str;
    fn handle<'a>(
        &'a self,
        event: &'a StoredEvent,
        delivery: Delivery,
    ) -> BoxFuture<'a, Result<(), Retry>>;
}

#[derive(Debug, Clone)]
pub struct JobConfig {
    /// How long a delivery may take before JetStream hands it to another worker.
    pub ack_wait: Duration,
    /// Deliveries of one event before it is given up (and logged).
    pub max_deliver: i64,
    /// The pause before a failed event comes back the first time; it doubles after each
    /// further failure, up to `max_retry_after`.
    pub retry_after: Duration,
    pub max_retry_after: Duration,
    /// Between attempts to reach the stream when it is not there yet.
    pub standby_poll: Duration,
}

impl Default for JobConfig {
    fn default() -> Self {
        Self {
            ack_wait: Duration::from_secs(60),
            max_deliver: 8,
            retry_after: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(300),
            standby_poll: Duration::from_millis(500),
        }
    }
}

/// Runs `job` until `shutdown`; after a failure of the consumer itself, starts again.
pub async fn run(
    js: jetstream::Context,
    bus: Bus,
    job: Arc<dyn Job>,
    config: JobConfig,
    shutdown: CancellationToken,
) {
    while !shutdown.is_cancelled() {
        if let Err(error) = consume(&js, &bus, job.as_ref(), &config, &shutdown).await {
            tracing::warn!(job = job.name(), %error, "job consumer stopped; retrying");
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = tokio::time::sleep(config.standby_poll) => {}
            }
        }
    }
}

async fn consume(
    js: &jetstream::Context,
    bus: &Bus,
    job: &dyn Job,
    config: &JobConfig,
    shutdown: &CancellationToken,
) -> Result<(), String> {
    let stream = js
        .get_stream(bus.stream_name())
        .await
        .map_err(|error| error.to_string())?;
    let name = format!("job-{}", job.name());
    let consumer = stream
        .get_or_create_consumer(
            &name,
            pull::Config {
                durable_name: Some(name.clone()),
                filter_subject: bus.events_of(job.aggregate_type()),
                deliver_policy: DeliverPolicy::All,
                ack_policy: AckPolicy::Explicit,
                ack_wait: config.ack_wait,
                max_deliver: config.max_deliver,
                ..Default::default()
            },
        )
        .await
        .map_err(|error| error.to_string())?;
    let mut messages = consumer
        .messages()
        .await
        .map_err(|error| error.to_string())?;
    loop {
        let message = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            next = messages.next() => next,
        };
        let Some(message) = message else {
            return Err("the consumer's message stream ended".into());
        };
        let message = message.map_err(|error| error.to_string())?;
        let event = match bus::decode(&message.payload) {
            Ok(event) => event,
            Err(error) => {
                tracing::error!(job = job.name(), %error, "skipped a message that is not an event");
                message.ack().await.map_err(|error| error.to_string())?;
                continue;
            }
        };
        let delivered = message.info().map(|info| info.delivered).unwrap_or(1);
        let delivery = Delivery {
            number: delivered,
            last: delivered >= config.max_deliver,
        };
        match job.handle(&event, delivery).await {
            Ok(()) => message.ack().await.map_err(|error| error.to_string())?,
            Err(retry) => {
                let error = &retry.reason;
                if delivery.last {
                    tracing::error!(job = job.name(), event_id = %event.event_id, event_type = %event.event_type, %error, "job gave up on an event");
                } else {
                    tracing::warn!(job = job.name(), event_id = %event.event_id, delivered, %error, "job failed; will retry");
                }
                message
                    .ack_with(AckKind::Nak(Some(pause(config, delivered, &retry))))
                    .await
                    .map_err(|error| error.to_string())?;
            }
        }
    }
}

/// The pause after the `delivered`th failure: the backoff, or longer when the handler
/// asked for it (up to [`MAX_REQUESTED_PAUSE`]).
fn pause(config: &JobConfig, delivered: i64, retry: &Retry) -> Duration {
    let asked = retry
        .not_before
        .unwrap_or_default()
        .min(MAX_REQUESTED_PAUSE);
    backoff(config, delivered).max(asked)
}

/// The pause after the `delivered`th failure: `retry_after`, doubled per earlier failure,
/// at most `max_retry_after`.
fn backoff(config: &JobConfig, delivered: i64) -> Duration {
    let doublings = u32::try_from(delivered.saturating_sub(1))
        .unwrap_or(u32::MAX)
        .min(16);
    config
        .retry_after
        .saturating_mul(1 << doublings)
        .min(config.max_retry_after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_doubles_up_to_its_bound() {
        let config = JobConfig {
            retry_after: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(20),
            ..JobConfig::default()
        };
        let pauses: Vec<u64> = (1..=6).map(|n| backoff(&config, n).as_secs()).collect();
        assert_eq!(pauses, vec![2, 4, 8, 16, 20, 20]);
        assert_eq!(backoff(&config, i64::MAX).as_secs(), 20);
    }

    #[test]
    fn a_requested_pause_is_honoured_within_its_bound() {
        let config = JobConfig {
            retry_after: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(20),
            ..JobConfig::default()
        };
        let asking = |seconds| Retry {
            reason: "429".into(),
            not_before: Some(Duration::from_secs(seconds)),
        };
        assert_eq!(
            pause(&config, 1, &Retry::from("boom".to_owned())).as_secs(),
            2
        );
        assert_eq!(pause(&config, 1, &asking(1)).as_secs(), 2, "never shorter");
        assert_eq!(
            pause(&config, 1, &asking(90)).as_secs(),
            90,
            "longer than the bound"
        );
        assert_eq!(
            pause(&config, 1, &asking(86_400)),
            MAX_REQUESTED_PAUSE,
            "a day is too long"
        );
    }
}
