//! A personal value as it is kept in events: encrypted under its owner's data key.
//!
//! The domain never sees keys; it only carries the opaque envelope. The `crypto` crate
//! produces and opens it. Deleting the owner's key makes every envelope unreadable.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An AES-256-GCM envelope in its text form (`v1.<nonce>.<ciphertext>`, base64url).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sealed(String);

impl Sealed {
    /// Wraps an envelope produced by the crypto layer.
    pub fn from_envelope(envelope: String) -> Self {
        Self(envelope)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Sealed {
    // Ciphertexts are not secret, but they are long and useless in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sealed(..{} chars)", self.0.len())
    }
}
