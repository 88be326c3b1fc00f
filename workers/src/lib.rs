//! Processes that act on the event log in the background.
//!
//! - [`relay`]: publishes every committed event to JetStream in relay order (EV-3).
//!
//! The classifier, upload expiry and webhook workers join here in later issues.

pub mod relay;
