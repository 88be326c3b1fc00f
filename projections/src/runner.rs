//! The live builder of one read model (EV-4).
//!
//! Exactly one process builds a model at a time: it holds the model's session advisory
//! lock, and other `project` processes wait as standbys. On taking over, the builder
//! recreates the model's durable consumer to start just after the last message the model
//! applied, so nothing is delivered out of order across a takeover. Each batch is applied
//! together with the model's progress in one transaction, then acknowledged; a message
//! delivered again is a no-op. An event that keeps failing is parked after its tries and
//! the model moves on.

use crate::apply::{apply_in_order, skip_event};
use crate::model::{builder_lock_key, live_schema, swap_lock_key};
use crate::state::{self, Progress};
use crate::{dead_letter, ApplyError, ReadModel};
use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy};
use async_nats::jetstream::{self, Message};
use eventlog::bus::{self, Bus};
use eventlog::lock::SessionLock;
use eventlog::StoredEvent;
use futures::{FutureExt, StreamExt};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Most events applied in one transaction.
    pub batch_size: usize,
    /// How often a standby tries to take over.
    pub standby_poll: Duration,
    /// How long an idle builder waits before checking it still holds its lock.
    pub idle_check: Duration,
    /// Tries before an event that fails to apply is parked.
    pub max_attempts: u32,
    /// Pause between tries, multiplied by the try's number.
    pub retry_backoff: Duration,
    /// JetStream redelivers a message not acknowledged within this time.
    pub ack_wait: Duration,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            batch_size: 500,
            standby_poll: Duration::from_millis(500),
            idle_check: Duration::from_secs(2),
            max_attempts: 5,
            retry_backoff: Duration::from_millis(50),
            ack_wait: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, Error)]
pub enum RunnerError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("NATS error: {0}")]
    Nats(String),
    #[error("lost the builder lock")]
    LockLost,
}

impl From<ApplyError> for RunnerError {
    fn from(error: ApplyError) -> Self {
        match error {
            ApplyError::Database(sql) => RunnerError::Database(sql),
            poison @ ApplyError::Poison { .. } => RunnerError::Nats(poison.to_string()),
        }
    }
}

fn nats(error: impl std::fmt::Display) -> RunnerError {
    RunnerError::Nats(error.to_string())
}

/// Builds one read model from the stream.
pub struct Runner {
    pool: PgPool,
    js: jetstream::Context,
    bus: Bus,
    model: Arc<dyn ReadModel>,
    config: RunnerConfig,
    schema: String,
}

impl Runner {
    pub fn new(
        pool: PgPool,
        js: jetstream::Context,
        bus: Bus,
        model: Arc<dyn ReadModel>,
        config: RunnerConfig,
    ) -> Self {
        let schema = live_schema(model.name());
        Self {
            pool,
            js,
            bus,
            model,
            config,
            schema,
        }
    }

    /// Runs until `shutdown` is cancelled: standby, take over, build; after any failure,
    /// back to standby.
    pub async fn run(self, shutdown: CancellationToken) {
        let projection = self.model.name();
        while !shutdown.is_cancelled() {
            if let Err(error) = self.run_active(&shutdown).await {
                tracing::warn!(projection, %error, "projection builder stopped; standing by to retry");
                tokio::select! {
                    _ = shutdown.cancelled() => {}
                    _ = tokio::time::sleep(self.config.standby_poll) => {}
                }
            }
        }
    }

    async fn run_active(&self, shutdown: &CancellationToken) -> Result<(), RunnerError> {
        let key = builder_lock_key(self.model.name());
        let options = self.pool.connect_options();
        let Some(mut lock) =
            SessionLock::acquire_or_wait(&options, &key, self.config.standby_poll, shutdown)
                .await?
        else {
            return Ok(());
        };
        tracing::info!(projection = self.model.name(), "active projection builder");
        let progress = state::read(&self.pool, &self.schema).await?;
        let consumer = self.reset_consumer(progress.stream_seq).await?;
        let mut messages = consumer
            .stream()
            .max_messages_per_batch(self.config.batch_size)
            .messages()
            .await
            .map_err(nats)?;
        loop {
            let first = tokio::select! {
                _ = shutdown.cancelled() => {
                    lock.release().await?;
                    return Ok(());
                }
                next = messages.next() => next,
                _ = tokio::time::sleep(self.config.idle_check) => {
                    if !lock.is_alive().await {
                        return Err(RunnerError::LockLost);
                    }
                    continue;
                }
            };
            let Some(first) = first else {
                return Err(RunnerError::Nats(
                    "the consumer's message stream ended".into(),
                ));
            };
            let mut batch = vec![first.map_err(nats)?];
            // Take whatever else is already here, without waiting.
            while batch.len() < self.config.batch_size {
                match messages.next().now_or_never() {
                    Some(Some(next)) => batch.push(next.map_err(nats)?),
                    _ => break,
                }
            }
            self.process(&lock, &batch).await?;
            if let Some(last) = batch.last() {
                // AckPolicy::All: acknowledging the last acknowledges the batch.
                last.ack().await.map_err(nats)?;
            }
        }
    }

    /// Recreates the durable consumer to deliver from just after `stream_seq`.
    async fn reset_consumer(
        &self,
        stream_seq: u64,
    ) -> Result<jetstream::consumer::PullConsumer, RunnerError> {
        let stream = self
            .js
            .get_stream(self.bus.stream_name())
            .await
            .map_err(nats)?;
        let name = self.bus.projection_consumer(self.model.name());
        if stream.consumer_info(&name).await.is_ok() {
            stream.delete_consumer(&name).await.map_err(nats)?;
        }
        let deliver_policy = match stream_seq {
            0 => DeliverPolicy::All,
            seq => DeliverPolicy::ByStartSequence {
                start_sequence: seq + 1,
            },
        };
        let max_ack_pending = i64::try_from(self.config.batch_size * 4).unwrap_or(i64::MAX);
        stream
            .create_consumer(pull::Config {
                durable_name: Some(name),
                filter_subject: match self.model.aggregate_types() {
                    [only] => self.bus.events_of(only),
                    _ => self.bus.all_events(),
                },
                deliver_policy,
                ack_policy: AckPolicy::All,
                ack_wait: self.config.ack_wait,
                max_deliver: -1,
                max_ack_pending,
                ..Default::default()
            })
            .await
            .map_err(nats)
    }

    /// Applies a batch; if an event in it fails, applies them one by one so only the
    /// failing event is retried and, in the end, parked.
    async fn process(&self, lock: &SessionLock, batch: &[Message]) -> Result<(), RunnerError> {
        let mut events = Vec::with_capacity(batch.len());
        for message in batch {
            let stream_seq = message.info().map_err(nats)?.stream_sequence;
            match bus::decode(&message.payload) {
                Ok(event) => events.push((event, stream_seq)),
                // Not an event at all: nothing to apply or park by position; skip it loudly.
                Err(error) => {
                    tracing::error!(projection = self.model.name(), stream_seq, %error, "skipped a message that is not an event")
                }
            }
        }
        match self.apply_batch(lock, &events).await {
            Ok(()) => Ok(()),
            Err(error) if error.is_data_error() => {
                tracing::warn!(projection = self.model.name(), %error, "batch failed; applying its events one by one");
                for event in &events {
                    self.apply_with_tries(lock, event).await?;
                }
                Ok(())
            }
            Err(error) => Err(error.into()),
        }
    }

    async fn apply_with_tries(
        &self,
        lock: &SessionLock,
        event: &(StoredEvent, u64),
    ) -> Result<(), RunnerError> {
        let mut attempt = 1;
        loop {
            match self.apply_batch(lock, std::slice::from_ref(event)).await {
                Ok(()) => return Ok(()),
                Err(error) if error.is_data_error() && attempt >= self.config.max_attempts => {
                    return self.park(lock, event, &error.to_string(), attempt).await;
                }
                Err(error) if error.is_data_error() => {
                    tokio::time::sleep(self.config.retry_backoff * attempt).await;
                    attempt += 1;
                }
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// One transaction: fence, skip what is already applied, apply, move the progress.
    async fn apply_batch(
        &self,
        lock: &SessionLock,
        events: &[(StoredEvent, u64)],
    ) -> Result<(), ApplyError> {
        let Some(last_stream_seq) = events.iter().map(|(_, seq)| *seq).max() else {
            return Ok(());
        };
        let mut tx = self.pool.begin().await?;
        let progress = self.begin_guarded(lock, &mut tx).await?;
        let fresh: Vec<StoredEvent> = events
            .iter()
            .filter(|(event, _)| event.token() > progress.token)
            .map(|(event, _)| event.clone())
            .collect();
        apply_in_order(&mut tx, self.model.as_ref(), &self.schema, &fresh).await?;
        let token = fresh
            .iter()
            .map(StoredEvent::token)
            .max()
            .unwrap_or(progress.token)
            .max(progress.token);
        state::write(
            &mut tx,
            &self.schema,
            Progress {
                token,
                stream_seq: last_stream_seq.max(progress.stream_seq),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Parks an event for good and moves the model past it, in one transaction.
    async fn park(
        &self,
        lock: &SessionLock,
        (event, stream_seq): &(StoredEvent, u64),
        error: &str,
        attempts: u32,
    ) -> Result<(), RunnerError> {
        let mut tx = self.pool.begin().await?;
        let progress = self.begin_guarded(lock, &mut tx).await?;
        if event.token() > progress.token {
            dead_letter::park(&mut tx, self.model.name(), event, error, attempts).await?;
            skip_event(&mut tx, &self.schema, event).await?;
            state::write(
                &mut tx,
                &self.schema,
                Progress {
                    token: event.token(),
                    stream_seq: (*stream_seq).max(progress.stream_seq),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Starts a guarded write: takes the transaction lock that serialises batches (and
    /// waits out a swap in progress), checks the builder lock is still ours, and reads the
    /// progress. Nothing here writes, so the transaction gets its id only at its first
    /// write: every open write transaction holds the relay back, so ours stay short.
    /// The commit need not wait for the disk: after a crash that loses it, the builder
    /// restarts its consumer from the progress that survived.
    async fn begin_guarded(
        &self,
        lock: &SessionLock,
        tx: &mut sqlx::PgConnection,
    ) -> Result<Progress, ApplyError> {
        // The swap lock comes first, in a statement of its own: a swap renames the schema
        // that the next statement names.
        sqlx::query("select set_config('synchronous_commit', 'off', true), pg_advisory_xact_lock(hashtext($1)::bigint)::text")
            .bind(swap_lock_key(self.model.name()))
            .execute(&mut *tx)
            .await?;
        let (tx_id, position, stream_seq, held): (i64, i64, i64, bool) = sqlx::query_as(&format!(
            "select tx_id, position, stream_seq, {} from {}.projection_state",
            eventlog::lock::holds_sql(1, 2),
            self.schema
        ))
        .bind(lock.pid())
        .bind(lock.key())
        .fetch_one(&mut *tx)
        .await?;
        if !held {
            return Err(ApplyError::Database(sqlx::Error::Protocol(
                "the builder lock is no longer held".into(),
            )));
        }
        Ok(Progress {
            token: eventlog::Token::new(tx_id, position),
            stream_seq: u64::try_from(stream_seq).unwrap_or(0),
        })
    }
}
