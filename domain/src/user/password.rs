//! The password policy (NIST 800-63B, OWASP ASVS 6.2): length, not composition; refuse
//! what a guesser would try first. The plaintext never leaves the process: it is hashed by
//! the command layer and only the sealed hash reaches an event.

use thiserror::Error;

const MIN_PASSWORD_CHARS: usize = 8;
/// Long enough for any passphrase (ASVS asks for at least 64), short enough that hashing
/// and strength estimation stay cheap.
const MAX_PASSWORD_CHARS: usize = 256;
/// zxcvbn's scale: 0–1 are guessed within about a million tries even when hashed well.
const MIN_STRENGTH_SCORE: u8 = 2;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PasswordError {
    #[error("Use at least 8 characters.")]
    TooShort,
    #[error("Use at most 256 characters.")]
    TooLong,
    #[error("This password is too easy to guess. {hint}")]
    TooGuessable { hint: String },
}

/// A password that meets the policy. Deliberately neither `Clone` nor `Debug`-printable.
pub struct Password(String);

impl Password {
    /// Checks the policy; `context` holds the user's other inputs (email, handle), which a
    /// password must not lean on.
    pub fn parse(raw: &str, context: &[&str]) -> Result<Self, PasswordError> {
        // Counted before any other work so a huge input costs nothing.
        let length = raw.chars().take(MAX_PASSWORD_CHARS + 1).count();
        if length < MIN_PASSWORD_CHARS {
            return Err(PasswordError::TooShort);
        }
        if length > MAX_PASSWORD_CHARS {
            return Err(PasswordError::TooLong);
        }
        let estimate = zxcvbn::zxcvbn(raw, context);
        if u8::from(estimate.score()) < MIN_STRENGTH_SCORE {
            let hint = estimate
                .feedback()
                .and_then(|feedback| feedback.warning().map(|warning| warning.to_string()))
                .unwrap_or_else(|| "Try a longer phrase of unrelated words.".to_owned());
            return Err(PasswordError::TooGuessable { hint });
        }
        Ok(Self(raw.to_owned()))
    }

    /// The plaintext, for the hasher only.
    /// A password already in use, accepted as it is (for re-hashing it at stronger
    /// parameters: the policy applied when it was chosen). Only the length cap applies.
    pub fn accept_existing(raw: &str) -> Result<Self, PasswordError> {
        if raw.chars().count() > 256 {
            return Err(PasswordError::TooLong);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_bounds() {
        assert_eq!(
            Password::parse("short", &[]).unwrap_err(),
            PasswordError::TooShort
        );
        assert_eq!(
            Password::parse(&"x".repeat(257), &[]).unwrap_err(),
            PasswordError::TooLong
        );
        assert_eq!(
            Password::parse(&"x".repeat(10 * 1024), &[]).unwrap_err(),
            PasswordError::TooLong
        );
    }

    #[test]
    fn a_64_character_passphrase_is_accepted() {
        let phrase = "quiet lanterns drift over the harbour while gulls argue loudly!!";
        assert_eq!(phrase.chars().count(), 64);
        assert!(Password::parse(phrase, &[]).is_ok());
    }

    #[test]
    fn common_passwords_are_refused_with_a_hint() {
        for common in [
            "password",
            "password1",
            "12345678",
            "qwertyuiop",
            "iloveyou1",
        ] {
            match Password::parse(common, &[]) {
                Err(PasswordError::TooGuessable { hint }) => assert!(!hint.is_empty()),
                other => unreachable_in_test(common, other.is_ok()),
            }
        }
    }

    #[test]
    fn the_policy_has_no_composition_rules() {
        assert!(Password::parse("correct horse battery staple", &[]).is_ok());
    }

    #[allow(clippy::panic)]
    fn unreachable_in_test(password: &str, accepted: bool) {
        panic!("{password:?} should be refused as too guessable (accepted: {accepted})");
    }
}
