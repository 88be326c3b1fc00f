//! DocuVault's domain: aggregates, commands, events, value objects and their rules.
//!
//! Pure by design: nothing here performs IO, reads a clock or draws randomness. Time,
//! identifiers and anything computed outside (password hashes, ciphertexts) arrive inside
//! commands, so every decision is a function of its inputs and is tested as
//! given-events / when-command / then-events (see [`testing`]).

pub mod aggregate;
pub mod clock;
pub mod document;
pub mod folder;
pub mod instance;
pub mod sealed;
pub mod session;
pub mod share;
pub mod sign_in;
pub mod testing;
pub mod throttle;
pub mod topic;
pub mod upcast;
pub mod user;

pub use aggregate::{Aggregate, DomainEvent, SnapshotPolicy};
pub use clock::Clock;
pub use sealed::Sealed;
