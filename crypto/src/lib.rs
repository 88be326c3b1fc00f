//! Envelope encryption for personal data kept in events (SECURITY 25, 29).
//!
//! - A 256-bit master secret comes from configuration and never leaves memory.
//! - Each user has a random data key, stored in `user_keys` wrapped (AES-256-GCM) by a
//!   key-encryption key derived from the master secret with HKDF-SHA256 and the user id.
//! - Personal fields are sealed under the data key, with the user id and field name as
//!   associated data, so an envelope cannot be moved to another user or field.
//! - Deleting the user's row makes every envelope of theirs unreadable everywhere: in the
//!   events table, on the bus and in any replay (crypto-shredding).

mod envelope;
mod keyring;
mod master;
mod settings;
pub mod texts;

pub use envelope::{open, seal, DataKey, EnvelopeError};
pub use keyring::{KeyRing, KeyRingError};
pub use master::{MasterKey, MasterKeyError};
pub use settings::{open_setting, seal_setting};
