//! The JetStream contract: one stream of domain events, subjects, headers and body.
//!
//! Subjects are `<prefix>.evt.<aggregate_type>.<event_type>`, so a consumer that wants one
//! aggregate's events filters on a single subject (`<prefix>.evt.user.>`), which is all a
//! 2.9 server allows. The prefix (default `dv`) lets tests and tenants share a server.
//! Bodies are the [`StoredEvent`] as JSON; headers repeat what a router needs without
//! parsing. The document `docs/asyncapi.yaml` describes all of it for integrators.

use crate::StoredEvent;
use async_nats::jetstream::stream::{Config, DiscardPolicy, RetentionPolicy, StorageType};
use async_nats::jetstream::{self, Context};
use async_nats::HeaderMap;
use bytes::Bytes;
use std::time::Duration;
use thiserror::Error;

/// Header names; `Nats-Msg-Id` (set via the publish builder) makes re-publishing harmless.
pub mod headers {
    pub const EVENT_ID: &str = "Dv-Event-Id";
    pub const AGGREGATE_TYPE: &str = "Dv-Aggregate-Type";
    pub const AGGREGATE_ID: &str = "Dv-Aggregate-Id";
    pub const SEQUENCE: &str = "Dv-Sequence";
    pub const EVENT_TYPE: &str = "Dv-Event-Type";
    pub const EVENT_VERSION: &str = "Dv-Event-Version";
    pub const TX_ID: &str = "Dv-Tx-Id";
    pub const POSITION: &str = "Dv-Position";
    /// The identity of the database the event comes from (`instance_settings`).
    pub const INSTANCE: &str = "Dv-Instance";
}

#[derive(Debug, Error)]
pub enum BusError {
    #[error("the stream prefix must be 1–32 characters of letters, digits, '_' or '-'")]
    BadPrefix,
    #[error("cannot set up stream {stream}: {message}")]
    Stream { stream: String, message: String },
    #[error("message body is not an event: {0}")]
    Body(#[from] serde_json::Error),
}

/// Names on the bus for one deployment (or one test).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bus {
    prefix: String,
}

impl Bus {
    pub fn new(prefix: &str) -> Result<Self, BusError> {
        let valid = !prefix.is_empty()
            && prefix.len() <= 32
            && prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return Err(BusError::BadPrefix);
        }
        Ok(Self {
            prefix: prefix.to_owned(),
        })
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Stream names may not contain dots; upper case keeps them apart from subjects.
    pub fn stream_name(&self) -> String {
        format!("{}_EVENTS", self.prefix.to_uppercase().replace('-', "_"))
    }

    pub fn subject_of(&self, event: &StoredEvent) -> String {
        format!(
            "{}.evt.{}.{}",
            self.prefix, event.aggregate_type, event.event_type
        )
    }

    /// Every domain event.
    pub fn all_events(&self) -> String {
        format!("{}.evt.>", self.prefix)
    }

    /// One aggregate type's events: the filter of a projection's consumer.
    pub fn events_of(&self, aggregate_type: &str) -> String {
        format!("{}.evt.{aggregate_type}.>", self.prefix)
    }

    /// The durable consumer name of a projection builder.
    pub fn projection_consumer(&self, projection: &str) -> String {
        format!("projection-{projection}")
    }

    /// Creates the stream if it is missing: file storage, limits retention, no deletes or
    /// purges. JetStream is a derived copy; Postgres stays the source of truth.
    pub async fn ensure_stream(
        &self,
        js: &Context,
        max_message_bytes: i32,
        duplicate_window: Duration,
    ) -> Result<jetstream::stream::Stream, BusError> {
        let config = Config {
            name: self.stream_name(),
            subjects: vec![self.all_events()],
            retention: RetentionPolicy::Limits,
            storage: StorageType::File,
            discard: DiscardPolicy::Old,
            max_message_size: max_message_bytes,
            duplicate_window,
            deny_delete: true,
            deny_purge: true,
            ..Default::default()
        };
        js.get_or_create_stream(config)
            .await
            .map_err(|error| BusError::Stream {
                stream: self.stream_name(),
                message: error.to_string(),
            })
    }
}

/// `{aggregate_type}/{aggregate_id}/{sequence}`: identical on every re-publish, so the
/// stream's de-duplication drops copies.
pub fn message_id(event: &StoredEvent) -> String {
    format!(
        "{}/{}/{}",
        event.aggregate_type, event.aggregate_id, event.sequence
    )
}

/// The headers and body an event is published with.
pub fn encode(event: &StoredEvent) -> Result<(HeaderMap, Bytes), BusError> {
    let mut map = HeaderMap::new();
    map.insert(headers::EVENT_ID, event.event_id.to_string().as_str());
    map.insert(headers::AGGREGATE_TYPE, event.aggregate_type.as_str());
    map.insert(headers::AGGREGATE_ID, event.aggregate_id.as_str());
    map.insert(headers::SEQUENCE, event.sequence.to_string().as_str());
    map.insert(headers::EVENT_TYPE, event.event_type.as_str());
    map.insert(headers::EVENT_VERSION, event.event_version.as_str());
    map.insert(headers::TX_ID, event.tx_id.to_string().as_str());
    map.insert(headers::POSITION, event.position.to_string().as_str());
    Ok((map, Bytes::from(serde_json::to_vec(event)?)))
}

/// Reads an event from a message body.
pub fn decode(body: &[u8]) -> Result<StoredEvent, BusError> {
    Ok(serde_json::from_slice(body)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn event() -> StoredEvent {
        StoredEvent {
            event_id: uuid::Uuid::from_u128(9),
            aggregate_type: "user".into(),
            aggregate_id: "u1".into(),
            sequence: 3,
            event_type: "UserRegistered".into(),
            event_version: "2.0".into(),
            tx_id: 812,
            position: 44,
            recorded_at: chrono::Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap(),
            payload: serde_json::json!({"handle": "ann"}),
            metadata: serde_json::json!({"command_id": "c"}),
        }
    }

    #[test]
    fn names_follow_the_prefix() {
        let bus = Bus::new("t-42").unwrap();
        assert_eq!(bus.stream_name(), "T_42_EVENTS");
        assert_eq!(bus.subject_of(&event()), "t-42.evt.user.UserRegistered");
        assert_eq!(bus.events_of("user"), "t-42.evt.user.>");
        assert!(Bus::new("a.b").is_err());
        assert!(Bus::new("").is_err());
    }

    #[test]
    fn encodes_headers_and_round_trips_the_body() {
        let (headers, body) = encode(&event()).unwrap();
        assert_eq!(
            headers.get(headers::POSITION).map(|v| v.as_str()),
            Some("44")
        );
        assert_eq!(headers.get(headers::TX_ID).map(|v| v.as_str()), Some("812"));
        assert_eq!(message_id(&event()), "user/u1/3");
        assert_eq!(decode(&body).unwrap(), event());
    }
}
