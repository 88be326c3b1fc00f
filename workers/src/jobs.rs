//! Jobs that follow events: a durable JetStream consumer per job, shared by every worker
//! process (competing consumers: start more workers to go faster). Each event is
//! acknowledged after its handler succeeds; a failure is redelivered after a pause, up
//! to a bound, so a handler must be idempotent (redelivery changes nothing).

use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy};
use async_nats::jetstream::{self, AckKind};
use eventlog::bus::{self, Bus};
use eventlog::StoredEvent;
use futures::future::BoxFuture;
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What a job does with one event. `Err` is retried later; an event the job has no
/// business with is simply `Ok`.
pub trait Job: Send + Sync {
    /// The durable consumer's name: `job-<name>`.
    fn name(&self) -> &'static str;
    /// The aggregate type whose events it reads (NATS 2.9: one filter subject).
    fn aggregate_type(&self) -> &'static str;
    fn handle<'a>(&'a self, event: &'a StoredEvent) -> BoxFuture<'a, Result<(), String>>;
}

#[derive(Debug, Clone)]
pub struct JobConfig {
    /// How long a delivery may take before JetStream hands it to another worker.
    pub ack_wait: Duration,
    /// Deliveries of one event before it is given up (and logged).
    pub max_deliver: i64,
    /// The pause before a failed event comes back.
    pub retry_after: Duration,
    /// Between attempts to reach the stream when it is not there yet.
    pub standby_poll: Duration,
}

impl Default for JobConfig {
    fn default() -> Self {
        Self {
            ack_wait: Duration::from_secs(60),
            max_deliver: 8,
            retry_after: Duration::from_secs(5),
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
        match job.handle(&event).await {
            Ok(()) => message.ack().await.map_err(|error| error.to_string())?,
            Err(error) => {
                let delivered = message.info().map(|info| info.delivered).unwrap_or(0);
                if delivered >= config.max_deliver {
                    tracing::error!(job = job.name(), event_id = %event.event_id, event_type = %event.event_type, %error, "job gave up on an event");
                } else {
                    tracing::warn!(job = job.name(), event_id = %event.event_id, delivered, %error, "job failed; will retry");
                }
                message
                    .ack_with(AckKind::Nak(Some(config.retry_after)))
                    .await
                    .map_err(|error| error.to_string())?;
            }
        }
    }
}
