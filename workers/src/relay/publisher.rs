//! Publishing one event with the guarantees the relay relies on.

use async_nats::jetstream;
use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::message::PublishMessage;
use eventlog::bus::{self, Bus};
use eventlog::StoredEvent;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum PublishError {
    #[error("message of {bytes} bytes exceeds the limit of {limit}")]
    TooLarge { bytes: usize, limit: usize },
    /// Someone else published to the stream since we last did: we are a stale relay.
    #[error("the stream moved on without this relay (expected last sequence {expected})")]
    Stale { expected: u64 },
    #[error("NATS publish failed: {0}")]
    Nats(String),
}

pub struct Publisher {
    js: jetstream::Context,
    bus: Bus,
    max_message_bytes: usize,
    instance: String,
}

impl Publisher {
    /// A publisher for the database `instance` (its `instance_id`).
    pub fn new(
        js: jetstream::Context,
        bus: Bus,
        max_message_bytes: usize,
        instance: String,
    ) -> Self {
        Self {
            js,
            bus,
            max_message_bytes,
            instance,
        }
    }

    /// Publishes `event` provided the stream's last sequence is `expected_last`; returns
    /// the event's stream sequence.
    pub async fn publish(
        &self,
        event: &StoredEvent,
        expected_last: u64,
    ) -> Result<u64, PublishError> {
        match self
            .publish_run(std::slice::from_ref(event), expected_last)
            .await?
        {
            Run {
                published: 1,
                last_seq,
                ..
            } => Ok(last_seq),
            Run {
                too_large: Some((bytes, limit)),
                ..
            } => Err(PublishError::TooLarge { bytes, limit }),
            _ => Err(PublishError::Nats("the event was not published".into())),
        }
    }

    /// Publishes `events` in order without waiting for each acknowledgement: each message
    /// expects to follow the one before it, so the stream still refuses a stale relay (and
    /// everything after the first refusal). Stops before the first event too large to
    /// publish and reports it, for the caller to park.
    pub async fn publish_run(
        &self,
        events: &[StoredEvent],
        expected_last: u64,
    ) -> Result<Run, PublishError> {
        let mut acks = Vec::with_capacity(events.len());
        let mut too_large = None;
        for (i, event) in events.iter().enumerate() {
            let (mut headers, body) =
                bus::encode(event).map_err(|error| PublishError::Nats(error.to_string()))?;
            headers.insert(bus::headers::INSTANCE, self.instance.as_str());
            // Nats-Msg-Id and Nats-Expected-Last-Sequence are added by the client on top.
            let bytes = body.len() + header_bytes(&headers) + 128;
            if bytes > self.max_message_bytes {
                too_large = Some((bytes, self.max_message_bytes));
                break;
            }
            let expected = expected_last + i as u64;
            let message = PublishMessage::build()
                .payload(body)
                .headers(headers)
                .message_id(bus::message_id(event))
                .expected_last_sequence(expected);
            let ack = self
                .js
                .send_publish(self.bus.subject_of(event), message)
                .await
                .map_err(|error| PublishError::Nats(error.to_string()))?;
            acks.push((expected, ack));
        }
        let mut last_seq = expected_last;
        let published = acks.len();
        for (expected, ack) in acks {
            let ack = ack.await.map_err(|error| match error.kind() {
                PublishErrorKind::WrongLastSequence => PublishError::Stale { expected },
                _ => PublishError::Nats(error.to_string()),
            })?;
            if ack.duplicate || ack.sequence != expected + 1 {
                // A copy the stream already had: the chain of expectations is off, so
                // start again from the stream's real state.
                return Err(PublishError::Stale { expected });
            }
            last_seq = ack.sequence;
        }
        Ok(Run {
            published,
            last_seq,
            too_large,
        })
    }
}

/// What [`Publisher::publish_run`] did: how many events it published (from the start),
/// the stream's last sequence after them, and the size of the event it stopped at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub published: usize,
    pub last_seq: u64,
    pub too_large: Option<(usize, usize)>,
}

/// The size headers take on the wire (`Name: value\r\n` per value, plus the preamble).
fn header_bytes(headers: &async_nats::HeaderMap) -> usize {
    const PREAMBLE: usize = "NATS/1.0\r\n\r\n".len();
    let lines: usize = headers
        .iter()
        .map(|(name, values)| {
            let name: &str = name.as_ref();
            values
                .iter()
                .map(|value| name.len() + value.as_str().len() + 4)
                .sum::<usize>()
        })
        .sum();
    PREAMBLE + lines
}
