//! Read models and the machinery that keeps them (EV-4, EV-5, EV-6).
//!
//! - [`model`]: what a read model is ([`ReadModel`]) and the list of all of them.
//! - [`state`]: a model's progress, kept in its own schema beside its tables, and the
//!   read-your-writes wait on it.
//! - [`apply`]: applying events in order, idempotently, filling per-aggregate gaps; shared
//!   by the live builder and by replay, so both produce the same tables.
//! - [`runner`]: the live builder: one durable JetStream consumer, one active process.
//! - [`replay`]: rebuild from the events table beside the live model, then swap.
//! - one module per read model: [`users`], [`audit`], [`documents`], [`classifier`].

pub mod apply;
pub mod audit;
pub mod classifier;
pub mod dead_letter;
pub mod documents;
pub mod model;
pub mod replay;
pub mod runner;
pub mod state;
pub mod users;

pub use model::{ApplyError, ReadModel};
