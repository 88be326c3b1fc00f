//! What happens to an account after registration: password changes, and what admins do
//! to it (ADM-1): disable, enable, change role, set a quota, assign an AI model.

use super::Role;
use crate::Sealed;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordChangeReason {
    /// The person changed it, knowing the old one.
    Changed,
    /// Through an emailed reset link.
    Reset,
    /// The same password, hashed again at today's parameters.
    Rehashed,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChangePassword {
    pub password_hash: Sealed,
    pub reason: PasswordChangeReason,
    pub at: DateTime<Utc>,
}

/// An admin's action on someone else's account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByAdmin {
    pub admin_id: Uuid,
    pub at: DateTime<Utc>,
}

/// The AI providers an admin can assign (AI-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AiProvider {
    /// The built-in classifier; no text leaves the server.
    Offline,
    Ollama,
    OpenaiCompatible,
}

impl AiProvider {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "offline" => Some(Self::Offline),
            "ollama" => Some(Self::Ollama),
            "openai_compatible" => Some(Self::OpenaiCompatible),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Offline => "offline",
            Self::Ollama => "ollama",
            Self::OpenaiCompatible => "openai_compatible",
        }
    }
}

/// A model name as providers spell them (`llama3.1:8b`, `gpt-4o-mini`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ModelName(String);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("Use 1–100 characters: letters, digits and . _ - : / @")]
pub struct ModelNameError;

impl ModelName {
    pub fn parse(text: &str) -> Result<Self, ModelNameError> {
        let text = text.trim();
        let allowed = |c: char| c.is_ascii_alphanumeric() || "._-:/@".contains(c);
        if text.is_empty() || text.len() > 100 || !text.chars().all(allowed) {
            return Err(ModelNameError);
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ModelName {
    type Error = ModelNameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ModelName> for String {
    fn from(name: ModelName) -> Self {
        name.0
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasswordChanged {
    pub user_id: Uuid,
    pub password_hash: Sealed,
    pub reason: PasswordChangeReason,
    pub changed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserDisabled {
    pub user_id: Uuid,
    pub by: Uuid,
    pub disabled_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserEnabled {
    pub user_id: Uuid,
    pub by: Uuid,
    pub enabled_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleChanged {
    pub user_id: Uuid,
    pub role: Role,
    pub by: Uuid,
    pub changed_at: DateTime<Utc>,
}

/// `bytes: None` returns the account to the default quota.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuotaSet {
    pub user_id: Uuid,
    pub bytes: Option<u64>,
    pub by: Uuid,
    pub set_at: DateTime<Utc>,
}

/// `None` for both returns the account to the server's default provider and model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AiModelAssigned {
    pub user_id: Uuid,
    pub provider: Option<AiProvider>,
    pub model: Option<ModelName>,
    pub by: Uuid,
    pub assigned_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names_are_short_and_plain() {
        assert!(ModelName::parse("llama3.1:8b").is_ok());
        assert!(ModelName::parse("org/model@v2").is_ok());
        assert!(ModelName::parse("").is_err());
        assert!(ModelName::parse("<script>").is_err());
        assert!(ModelName::parse(&"m".repeat(101)).is_err());
    }

    #[test]
    fn providers_round_trip() {
        for provider in [
            AiProvider::Offline,
            AiProvider::Ollama,
            AiProvider::OpenaiCompatible,
        ] {
            assert_eq!(AiProvider::parse(provider.as_str()), Some(provider));
        }
        assert_eq!(AiProvider::parse("skynet"), None);
    }
}
