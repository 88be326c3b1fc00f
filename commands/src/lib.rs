//! The write side: domain aggregates executed by cqrs-es and stored by postgres-es.
//!
//! Every successful command returns a [`eventlog::Token`] (the `(tx_id, position)` of the
//! aggregate's last event) that a read can wait for (EV-6). Nothing here relies on cqrs-es's
//! in-process query dispatch: projections are fed from the relay, which cannot lose
//! events to a crash between commit and dispatch.

pub mod accounts;
mod adapter;
pub mod auth;
pub mod classification;
pub mod directory;
pub mod documents;
mod error;
pub mod facts;
pub mod folders;
pub mod invites;
pub mod llm;
mod meta;
mod password;
pub mod registration;
pub mod shares;
mod snapshots;
mod store;
pub mod topics;

pub use error::CommandError;
pub use meta::CommandMeta;
pub use password::PasswordHasher;
pub use store::EventStore;
