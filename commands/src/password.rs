//! Password hashing with argon2id at OWASP's parameters (SECURITY 1).

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use domain::user::Password;
use std::sync::{Arc, OnceLock};
use thiserror::Error;
use zeroize::Zeroizing;

#[derive(Debug, Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// argon2id, m = 19 MiB, t = 2, p = 1 (`Params::DEFAULT`), a fresh salt per hash.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    /// A hash of nothing anyone knows, verified against when an account does not exist,
    /// so that such a sign-in costs what a real one costs (SECURITY 1, 4).
    dummy: Arc<OnceLock<String>>,
}

impl Default for PasswordHasher {
    fn default() -> Self {
        Self {
            params: Params::DEFAULT,
            dummy: Arc::new(OnceLock::new()),
        }
    }
}

/// Longest password a sign-in will even hash: the registration policy allows 256
/// characters, and hashing megabytes would be a denial of service.
pub const MAX_PASSWORD_BYTES: usize = 1024;

impl PasswordHasher {
    /// Hashes on a blocking thread: each hash takes tens of milliseconds of CPU.
    pub async fn hash(&self, password: Password) -> Result<String, HashError> {
        let params = self.params.clone();
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut rand::rngs::OsRng);
            Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
                .hash_password(password.expose().as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|error| HashError(error.to_string()))
        })
        .await
        .map_err(|error| HashError(error.to_string()))?
    }

    /// Whether `password` matches the PHC string `hash`, on a blocking thread. Oversized
    /// passwords are refused without hashing; a malformed hash never matches.
    pub async fn verify(&self, hash: Zeroizing<String>, password: Zeroizing<String>) -> bool {
        if password.len() > MAX_PASSWORD_BYTES {
            return false;
        }
        tokio::task::spawn_blocking(move || verify_blocking(&hash, &password))
            .await
            .unwrap_or(false)
    }

    /// Spends the time of a real verification, for an account that does not exist.
    pub async fn verify_dummy(&self, password: Zeroizing<String>) {
        let params = self.params.clone();
        let dummy = self.dummy.clone();
        let _ = tokio::task::spawn_blocking(move || {
            let hash = dummy.get_or_init(|| {
                let salt = SaltString::generate(&mut rand::rngs::OsRng);
                Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
                    .hash_password(b"no account has this password", &salt)
                    .map(|hash| hash.to_string())
                    .unwrap_or_default()
            });
            verify_blocking(hash, &password)
        })
        .await;
    }

    /// Whether a stored hash was made with weaker parameters than today's policy (it is
    /// then re-hashed at the next successful sign-in).
    pub fn needs_rehash(&self, hash: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(hash) else {
            return true;
        };
        let Ok(params) = Params::try_from(&parsed) else {
            return true;
        };
        parsed.algorithm.as_str() != "argon2id"
            || params.m_cost() < self.params.m_cost()
            || params.t_cost() < self.params.t_cost()
    }
}

fn verify_blocking(hash: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_at_owasp_parameters_with_unique_salts() {
        let hasher = PasswordHasher::default();
        let first = hasher
            .hash(Password::parse("correct horse battery staple", &[]).unwrap())
            .await
            .unwrap();
        let second = hasher
            .hash(Password::parse("correct horse battery staple", &[]).unwrap())
            .await
            .unwrap();
        assert!(
            first.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{first}"
        );
        assert_ne!(first, second);
        assert!(!hasher.needs_rehash(&first));
    }

    #[tokio::test]
    async fn verifies_the_right_password_only() {
        let hasher = PasswordHasher::default();
        let hash = hasher
            .hash(Password::parse("correct horse battery staple", &[]).unwrap())
            .await
            .unwrap();
        let check = |password: &str| {
            hasher.verify(
                Zeroizing::new(hash.clone()),
                Zeroizing::new(password.into()),
            )
        };
        assert!(check("correct horse battery staple").await);
        assert!(!check("correct horse battery stapl").await);
        assert!(!check(&"x".repeat(10_000)).await);
        hasher.verify_dummy(Zeroizing::new("anything".into())).await;
    }

    #[test]
    fn weaker_hashes_need_rehashing() {
        let hasher = PasswordHasher::default();
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(4096, 1, 1, None).unwrap(),
        )
        .hash_password(b"pw", &SaltString::generate(&mut rand::rngs::OsRng))
        .unwrap()
        .to_string();
        assert!(hasher.needs_rehash(&weak));
        assert!(hasher.needs_rehash("not a hash"));
    }
}
