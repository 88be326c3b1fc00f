//! Password hashing with argon2id at OWASP's parameters (SECURITY 1).

use argon2::password_hash::{PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use domain::user::Password;
use thiserror::Error;

#[derive(Debug, Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// argon2id, m = 19 MiB, t = 2, p = 1 (`Params::DEFAULT`), a fresh salt per hash.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
}

impl Default for PasswordHasher {
    fn default() -> Self {
        Self {
            params: Params::DEFAULT,
        }
    }
}

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
    }
}
