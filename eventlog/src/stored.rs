//! One event as stored and as published.

use crate::Token;
use chrono::{DateTime, Utc};
use domain::upcast::{upcast, UpcastError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;
use uuid::Uuid;

/// An event with everything the log knows about it. `payload` holds the event's own fields
/// (without postgres-es's enum tag), upcast to the current version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub event_id: Uuid,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub tx_id: i64,
    pub position: i64,
    pub recorded_at: DateTime<Utc>,
    pub payload: Value,
    pub metadata: Value,
}

#[derive(Debug, Error)]
pub enum DecodeError {
    #[error(transparent)]
    Upcast(#[from] UpcastError),
    #[error("payload does not match {event_type} {event_version}: {source}")]
    Shape {
        event_type: String,
        event_version: String,
        source: serde_json::Error,
    },
}

impl StoredEvent {
    pub fn token(&self) -> Token {
        Token::new(self.tx_id, self.position)
    }

    /// Builds the event from a row's columns: strips the enum tag and upcasts. Lenient on
    /// purpose: a row this build cannot read is still carried as it is (the relay must
    /// never stall on one event); consumers decode strictly and park what fails.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn from_row_parts(
        event_id: Uuid,
        aggregate_type: String,
        aggregate_id: String,
        sequence: i64,
        event_type: String,
        event_version: String,
        tx_id: i64,
        position: i64,
        recorded_at: DateTime<Utc>,
        tagged_payload: Value,
        metadata: Value,
    ) -> Self {
        let payload = match tagged_payload {
            Value::Object(mut tagged) if tagged.len() == 1 && tagged.contains_key(&event_type) => {
                tagged.remove(&event_type).unwrap_or(Value::Null)
            }
            other => other,
        };
        let mut event = Self {
            event_id,
            aggregate_type,
            aggregate_id,
            sequence,
            event_type,
            event_version,
            tx_id,
            position,
            recorded_at,
            payload,
            metadata,
        };
        // An unknown version stays as it is; `decode` reports it where it matters.
        let _ = event.upcast();
        event
    }

    /// Brings the payload to the current version of its type (idempotent).
    pub fn upcast(&mut self) -> Result<(), UpcastError> {
        self.event_version = upcast(
            &self.aggregate_type,
            &self.event_type,
            &self.event_version,
            &mut self.payload,
        )?;
        Ok(())
    }

    /// The payload in postgres-es's externally tagged form, `{"<event_type>": {...}}`.
    pub fn tagged_payload(&self) -> Value {
        let mut tagged = serde_json::Map::with_capacity(1);
        tagged.insert(self.event_type.clone(), self.payload.clone());
        Value::Object(tagged)
    }

    /// Reads the payload as a domain event enum (externally tagged, like postgres-es),
    /// upcasting first. Fails for unknown versions and shapes that do not match.
    pub fn decode<E: serde::de::DeserializeOwned>(&self) -> Result<E, DecodeError> {
        let mut current = self.clone();
        current.upcast()?;
        serde_json::from_value(current.tagged_payload()).map_err(|source| DecodeError::Shape {
            event_type: self.event_type.clone(),
            event_version: self.event_version.clone(),
            source,
        })
    }
}
