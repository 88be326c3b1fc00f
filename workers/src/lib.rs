//! Processes that act on the event log in the background.
//!
//! - [`relay`]: publishes every committed event to JetStream in relay order (EV-3).
//! - [`jobs`]: durable competing consumers that act on events.
//! - [`documents`]: hashing, settling gone documents, upload expiry, the orphan sweeper.
//! - [`classify`]: text extraction and classification of confirmed documents.

pub mod classify;
pub mod documents;
pub mod jobs;
pub mod relay;
