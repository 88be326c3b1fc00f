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
}

impl Publisher {
    pub fn new(js: jetstream::Context, bus: Bus, max_message_bytes: usize) -> Self {
        Self {
            js,
            bus,
            max_message_bytes,
        }
    }

    /// Publishes `event` provided the stream's last sequence is `expected_last`; returns
    /// the event's stream sequence.
    pub async fn publish(
        &self,
        event: &StoredEvent,
        expected_last: u64,
    ) -> Result<u64, PublishError> {
        let (headers, body) =
            bus::encode(event).map_err(|error| PublishError::Nats(error.to_string()))?;
        // Nats-Msg-Id and Nats-Expected-Last-Sequence are added by the client on top.
        let bytes = body.len() + header_bytes(&headers) + 128;
        if bytes > self.max_message_bytes {
            return Err(PublishError::TooLarge {
                bytes,
                limit: self.max_message_bytes,
            });
        }
        let message = PublishMessage::build()
            .payload(body)
            .headers(headers)
            .message_id(bus::message_id(event))
            .expected_last_sequence(expected_last);
        let ack = self
            .js
            .send_publish(self.bus.subject_of(event), message)
            .await
            .map_err(|error| PublishError::Nats(error.to_string()))?
            .await
            .map_err(|error| match error.kind() {
                PublishErrorKind::WrongLastSequence => PublishError::Stale {
                    expected: expected_last,
                },
                _ => PublishError::Nats(error.to_string()),
            })?;
        Ok(ack.sequence)
    }
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
