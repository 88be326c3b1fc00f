//! What a person tells others about themselves, and leaving.

use crate::Sealed;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

/// A name to show beside the handle: personal data, sealed in events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("Use 1–80 characters, without control characters.")]
pub struct DisplayNameError;

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, DisplayNameError> {
        let name = raw.trim();
        let length = name.chars().count();
        let bidi = |c: char| {
            ('\u{202a}'..='\u{202e}').contains(&c) || ('\u{2066}'..='\u{2069}').contains(&c)
        };
        if length == 0 || length > 80 || name.chars().any(|c| c.is_control() || bidi(c)) {
            return Err(DisplayNameError);
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The display name changed (`None`: removed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileUpdated {
    pub user_id: Uuid,
    pub display_name: Option<Sealed>,
    pub updated_at: DateTime<Utc>,
}

/// The account is gone: its data key was destroyed with it, so every sealed field it
/// ever had is unreadable. `by` is the admin who deleted it, or `None` for its owner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserDeleted {
    pub user_id: Uuid,
    pub by: Option<Uuid>,
    pub deleted_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_are_plain_and_short() {
        assert_eq!(
            DisplayName::parse("  Ann Lee ").unwrap().as_str(),
            "Ann Lee"
        );
        assert!(DisplayName::parse("").is_err());
        assert!(DisplayName::parse(&"a".repeat(81)).is_err());
        assert!(DisplayName::parse("a\u{0}b").is_err());
        assert!(DisplayName::parse("\u{202e}evil").is_err());
        assert!(DisplayName::parse("Zoë 🌿").is_ok());
    }
}
