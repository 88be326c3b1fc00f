//! The relay: Postgres `events` → one JetStream stream, in `(tx_id, position)` order,
//! exactly once in effect (EV-3).
//!
//! - One active relay: it holds a session advisory lock; others wait as standbys.
//! - It reads only below the snapshot's xmin (see `eventlog::log`), so a transaction that
//!   commits late is never skipped; it wakes on `NOTIFY dv_events` and also polls.
//! - Each publish carries `Nats-Msg-Id` = `{aggregate_type}/{aggregate_id}/{sequence}` and
//!   the stream sequence it expects to follow, so a stale second relay is refused.
//! - It resumes from the later of the stream's last message and its checkpoint row.
//! - An event larger than the stream accepts is parked (row, error log, metric) and the
//!   relay moves on; it never skips silently and never blocks on it.

mod publisher;

pub use publisher::{PublishError, Publisher, Run};

use async_nats::jetstream;
use eventlog::bus::{headers, Bus};
use eventlog::lock::SessionLock;
use eventlog::{StoredEvent, Token};
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use thiserror::Error;
use tokio_util::sync::CancellationToken;

pub const RELAY_LOCK_KEY: &str = "docuvault:relay";
const NOTIFY_CHANNEL: &str = "dv_events";

#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Most events read per query.
    pub batch_size: i64,
    /// Poll interval when no notification arrives.
    pub poll_interval: Duration,
    /// Poll interval while committed events wait behind an open transaction.
    pub held_back_poll: Duration,
    /// How often a standby tries to take over.
    pub standby_poll: Duration,
    /// Largest message the stream accepts (its `max_msg_size`).
    pub max_message_bytes: i32,
    /// How often the checkpoint is saved while events flow (always when idle).
    pub checkpoint_interval: Duration,
    /// JetStream's de-duplication window for message ids.
    pub duplicate_window: Duration,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            batch_size: 500,
            poll_interval: Duration::from_millis(200),
            held_back_poll: Duration::from_millis(2),
            standby_poll: Duration::from_millis(500),
            max_message_bytes: 1024 * 1024,
            checkpoint_interval: Duration::from_millis(250),
            duplicate_window: Duration::from_secs(120),
        }
    }
}

#[derive(Debug, Error)]
pub enum RelayError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("NATS error: {0}")]
    Nats(String),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error("lost the relay lock")]
    LockLost,
    /// Resuming from it would skip or mix events: refuse, loudly, until an operator acts.
    #[error("stream {stream} holds events of another database ({found}); use another NATS_PREFIX or delete the stream, then rebuild the read models with `docuvault replay`")]
    ForeignStream { stream: String, found: String },
}

/// What the relay has done, for `/metrics` and tests.
#[derive(Debug, Default)]
pub struct RelayStats {
    pub published: AtomicU64,
    /// The position of the last event published or parked (its transaction id beside it).
    pub last_position: AtomicI64,
    pub last_tx_id: AtomicI64,
    pub parked: AtomicU64,
    pub active: AtomicBool,
}

impl RelayStats {
    /// The token of the last event the relay passed (published or parked).
    pub fn last_token(&self) -> Token {
        Token::new(
            self.last_tx_id.load(Ordering::Relaxed),
            self.last_position.load(Ordering::Relaxed),
        )
    }
}

pub struct Relay {
    pool: PgPool,
    js: jetstream::Context,
    bus: Bus,
    config: RelayConfig,
    stats: Arc<RelayStats>,
}

impl Relay {
    pub fn new(pool: PgPool, js: jetstream::Context, bus: Bus, config: RelayConfig) -> Self {
        Self {
            pool,
            js,
            bus,
            config,
            stats: Arc::default(),
        }
    }

    pub fn stats(&self) -> Arc<RelayStats> {
        self.stats.clone()
    }

    /// Runs until `shutdown`: standby, take over, relay; after any failure, standby again.
    pub async fn run(self, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            let result = self.run_active(&shutdown).await;
            self.stats.active.store(false, Ordering::Relaxed);
            if let Err(error) = result {
                tracing::warn!(%error, "relay stopped; standing by to retry");
                tokio::select! {
                    _ = shutdown.cancelled() => {}
                    _ = tokio::time::sleep(self.config.standby_poll) => {}
                }
            }
        }
    }

    async fn run_active(&self, shutdown: &CancellationToken) -> Result<(), RelayError> {
        let options = self.pool.connect_options();
        let Some(mut lock) = SessionLock::acquire_or_wait(
            &options,
            RELAY_LOCK_KEY,
            self.config.standby_poll,
            shutdown,
        )
        .await?
        else {
            return Ok(());
        };
        let stream = self
            .bus
            .ensure_stream(
                &self.js,
                self.config.max_message_bytes,
                self.config.duplicate_window,
            )
            .await
            .map_err(|error| RelayError::Nats(error.to_string()))?;
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(NOTIFY_CHANNEL).await?;
        let instance = instance_id(&self.pool).await?;
        let publisher = Publisher::new(
            self.js.clone(),
            self.bus.clone(),
            self.max_message_bytes(),
            instance.clone(),
        );
        let (mut cursor, mut last_seq) = self.resume_point(&stream, &instance).await?;
        self.stats.active.store(true, Ordering::Relaxed);
        tracing::info!(%cursor, last_seq, "active relay");
        let mut held_back_wait = self.config.held_back_poll;
        let (mut saved, mut saved_at) = (cursor, Instant::now());
        loop {
            let events =
                eventlog::log::read_committed_after(&self.pool, cursor, self.config.batch_size)
                    .await?;
            if events.is_empty() {
                if saved != cursor {
                    self.save_checkpoint(cursor).await?;
                    (saved, saved_at) = (cursor, Instant::now());
                }
                // Committed events exist past the cursor but an open transaction holds
                // them back: look again soon rather than at the next notification, which
                // a transaction that writes no event never sends.
                // Backs off while the stall lasts, so a long transaction costs little.
                let (held_back, _) = eventlog::log::backlog_after(&self.pool, cursor).await?;
                tracing::trace!(held_back, "nothing to relay yet");
                let wait = if held_back > 0 {
                    held_back_wait = (held_back_wait * 2).min(self.config.poll_interval);
                    held_back_wait / 2
                } else {
                    self.config.poll_interval
                };
                tokio::select! {
                    _ = shutdown.cancelled() => {
                        lock.release().await?;
                        return Ok(());
                    }
                    notification = listener.recv() => { notification?; }
                    _ = tokio::time::sleep(wait) => {
                        if !lock.is_alive().await {
                            return Err(RelayError::LockLost);
                        }
                    }
                }
                continue;
            }
            held_back_wait = self.config.held_back_poll;
            let publish_started = Instant::now();
            let mut rest = events.as_slice();
            while !rest.is_empty() {
                let run = publisher.publish_run(rest, last_seq).await?;
                last_seq = run.last_seq;
                self.stats
                    .published
                    .fetch_add(run.published as u64, Ordering::Relaxed);
                if let Some(last) = rest[..run.published].last() {
                    cursor = last.token();
                }
                rest = &rest[run.published..];
                if let (Some((bytes, limit)), Some(oversized)) = (run.too_large, rest.first()) {
                    self.park(
                        oversized,
                        &format!("message of {bytes} bytes exceeds the stream's limit of {limit}"),
                    )
                    .await?;
                    cursor = oversized.token();
                    rest = &rest[1..];
                }
            }
            tracing::trace!(events = events.len(), publish = ?publish_started.elapsed(), "relayed a batch");
            self.stats.last_tx_id.store(cursor.tx_id, Ordering::Relaxed);
            self.stats
                .last_position
                .store(cursor.position, Ordering::Relaxed);
            if saved_at.elapsed() >= self.config.checkpoint_interval {
                self.save_checkpoint(cursor).await?;
                (saved, saved_at) = (cursor, Instant::now());
            }
        }
    }

    fn max_message_bytes(&self) -> usize {
        let server_limit = self.js.client().server_info().max_payload;
        usize::try_from(self.config.max_message_bytes)
            .unwrap_or(usize::MAX)
            .min(server_limit)
    }

    /// Where to continue: after the later of the stream's last message and the checkpoint
    /// (which alone knows about parked events), and the stream sequence to follow.
    async fn resume_point(
        &self,
        stream: &jetstream::stream::Stream,
        instance: &str,
    ) -> Result<(Token, u64), RelayError> {
        let last_seq = stream
            .get_info()
            .await
            .map_err(|e| RelayError::Nats(e.to_string()))?
            .state
            .last_sequence;
        let from_stream = if last_seq == 0 {
            Token::ZERO
        } else {
            let message = stream
                .get_raw_message(last_seq)
                .await
                .map_err(|e| RelayError::Nats(e.to_string()))?;
            let from = message
                .headers
                .get(headers::INSTANCE)
                .map(|v| v.as_str().to_owned());
            if from.as_deref() != Some(instance) {
                return Err(RelayError::ForeignStream {
                    stream: self.bus.stream_name(),
                    found: from.unwrap_or_else(|| "no instance".into()),
                });
            }
            let header = |name: &str| {
                message
                    .headers
                    .get(name)
                    .and_then(|v| v.as_str().parse::<i64>().ok())
            };
            match (header(headers::TX_ID), header(headers::POSITION)) {
                (Some(tx_id), Some(position)) => Token::new(tx_id, position),
                _ => {
                    return Err(RelayError::Nats(format!(
                        "stream message {last_seq} lacks relay headers"
                    )))
                }
            }
        };
        let from_checkpoint: Option<(i64, i64)> =
            sqlx::query_as("select tx_id, position from relay_checkpoint")
                .fetch_optional(&self.pool)
                .await?;
        let from_checkpoint = from_checkpoint
            .map(|(tx, pos)| Token::new(tx, pos))
            .unwrap_or(Token::ZERO);
        Ok((from_stream.max(from_checkpoint), last_seq))
    }

    /// Saved every `checkpoint_interval` and when idle. A stale or lost checkpoint is
    /// harmless: the relay resumes from the later of it and the stream's last message, and
    /// re-parks a parked event it meets again. Nor does it need the lock's fence: a stale
    /// relay is stopped by the stream's expected-last-sequence check before it can publish.
    /// Its commit need not wait for the disk for the same reasons.
    async fn save_checkpoint(&self, cursor: Token) -> Result<(), RelayError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("set local synchronous_commit = off")
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "insert into relay_checkpoint (id, tx_id, position) values (true, $1, $2)
             on conflict (id) do update set tx_id = excluded.tx_id, position = excluded.position, updated_at = now()",
        )
        .bind(cursor.tx_id)
        .bind(cursor.position)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn park(&self, event: &StoredEvent, reason: &str) -> Result<(), RelayError> {
        tracing::error!(position = event.position, event_type = %event.event_type, reason, "relay parked an event it cannot publish");
        sqlx::query(
            "insert into relay_parked (position, tx_id, event_id, reason) values ($1, $2, $3, $4)
             on conflict (position) do nothing",
        )
        .bind(event.position)
        .bind(event.tx_id)
        .bind(event.event_id)
        .bind(reason)
        .execute(&self.pool)
        .await?;
        self.stats.parked.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// This database's identity, stamped on every published message.
pub async fn instance_id(pool: &PgPool) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("select value from instance_settings where name = 'instance_id'")
        .fetch_one(pool)
        .await
}

/// The relay's checkpoint, for lag metrics.
pub async fn checkpoint(pool: &PgPool) -> Result<Token, sqlx::Error> {
    let row: Option<(i64, i64)> = sqlx::query_as("select tx_id, position from relay_checkpoint")
        .fetch_optional(pool)
        .await?;
    Ok(row
        .map(|(tx, pos)| Token::new(tx, pos))
        .unwrap_or(Token::ZERO))
}
