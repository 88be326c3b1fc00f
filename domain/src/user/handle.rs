//! A handle: the public name people share documents with.

use thiserror::Error;

const MIN_HANDLE_CHARS: usize = 3;
const MAX_HANDLE_CHARS: usize = 30;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HandleError {
    #[error("Use at least 3 characters.")]
    TooShort,
    #[error("Use at most 30 characters.")]
    TooLong,
    #[error("Use only letters a–z, digits, '_' or '-', starting with a letter or digit.")]
    InvalidCharacters,
}

/// A lower-cased handle of 3–30 characters from `[a-z0-9_-]`, starting with `[a-z0-9]`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Handle(String);

impl Handle {
    pub fn parse(raw: &str) -> Result<Self, HandleError> {
        let handle = raw.trim().to_lowercase();
        let length = handle.chars().count();
        if length < MIN_HANDLE_CHARS {
            return Err(HandleError::TooShort);
        }
        if length > MAX_HANDLE_CHARS {
            return Err(HandleError::TooLong);
        }
        let allowed =
            |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-';
        let starts_well =
            handle.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit());
        if !starts_well || !handle.chars().all(allowed) {
            return Err(HandleError::InvalidCharacters);
        }
        Ok(Self(handle))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Handle {
    type Error = HandleError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Handle> for String {
    fn from(handle: Handle) -> Self {
        handle.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowercases_so_that_case_variants_collide() {
        assert_eq!(
            Handle::parse("Alice").unwrap(),
            Handle::parse("alice").unwrap()
        );
    }

    #[test]
    fn enforces_length_and_alphabet() {
        assert_eq!(Handle::parse("ab"), Err(HandleError::TooShort));
        assert_eq!(Handle::parse(&"a".repeat(31)), Err(HandleError::TooLong));
        assert!(Handle::parse(&"a".repeat(30)).is_ok());
        for bad in [
            "_alice",
            "-alice",
            "al ice",
            "al.ice",
            "alïce",
            "al/ce",
            "a\u{202e}bc",
        ] {
            assert_eq!(
                Handle::parse(bad),
                Err(HandleError::InvalidCharacters),
                "{bad:?}"
            );
        }
        assert!(Handle::parse("a_b-c9").is_ok());
    }
}
