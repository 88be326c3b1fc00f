//! Document bytes: where they live and what they must look like.
//!
//! - [`content`]: the checks a confirmed upload passes (SECURITY 21, 26): its kind is
//!   decided by its bytes, never by its name or declared type alone.
//! - [`key`]: object keys, chosen by the server and checked when they come back.
//! - [`local`]: the embedded local-disk store with its signed upload links.

pub mod content;
pub mod key;
pub mod local;

pub use key::ObjectKey;
