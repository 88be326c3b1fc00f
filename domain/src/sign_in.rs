//! Failed sign-ins and lockouts (AUTH-7, AUTH-8): recorded for the audit log under the
//! aggregate type `sign_in`, keyed by the account's id (or, for an address that has no
//! account, by the keyed hash of that address, never the address itself).

use crate::DomainEvent;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const AGGREGATE_TYPE: &str = "sign_in";

/// Which proof was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Factor {
    Password,
    Totp,
    RecoveryCode,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignInFailed {
    /// `None` when no account has that email.
    pub user_id: Option<Uuid>,
    pub factor: Factor,
    pub failed_at: DateTime<Utc>,
}

/// An account's attempts are held back until `until` (never for ever).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignInLockedOut {
    pub user_id: Option<Uuid>,
    pub failures: i32,
    pub until: DateTime<Utc>,
    pub locked_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SignInEvent {
    SignInFailed(SignInFailed),
    SignInLockedOut(SignInLockedOut),
}

impl DomainEvent for SignInEvent {
    fn event_type(&self) -> &'static str {
        match self {
            SignInEvent::SignInFailed(_) => "SignInFailed",
            SignInEvent::SignInLockedOut(_) => "SignInLockedOut",
        }
    }

    fn event_version(&self) -> &'static str {
        "1.0"
    }
}
