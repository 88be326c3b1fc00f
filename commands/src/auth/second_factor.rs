//! Two-step sign-in: TOTP (RFC 6238: SHA-1, 6 digits, 30 s, ±1 step) and single-use
//! recovery codes (AUTH-4; SECURITY 5-8).
//!
//! The seed (160 random bits) is sealed under the user's data key in `totp_secrets` and
//! shown only while enrolling. A code is accepted once: the matched time step must be
//! later than the last accepted one, checked and stored by one `UPDATE … WHERE`. Recovery
//! codes are stored as SHA-256 hashes and used by one `UPDATE … WHERE used_at IS NULL`.

use crate::facts::record;
use crate::CommandMeta;
use chrono::{DateTime, Utc};
use crypto::{seal, KeyRing};
use domain::user::{
    sealed_fields, RecoveryCodesRegenerated, SecondFactorDisabled, SecondFactorEnabled, UserEvent,
};
use domain::{Clock, Sealed};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Postgres, Transaction};
use std::sync::Arc;
use thiserror::Error;
use totp_rs::{Algorithm, TOTP};
use uuid::Uuid;
use zeroize::Zeroizing;

/// Seed length: RFC 4226 recommends 160 bits.
const SEED_BYTES: usize = 20;
const DIGITS: usize = 6;
const STEP_SECONDS: u64 = 30;
/// How many recovery codes a set has.
pub const RECOVERY_CODES: usize = 10;
const ISSUER: &str = "DocuVault";

#[derive(Debug, Error)]
pub enum SecondFactorError {
    #[error("two-step sign-in is already on")]
    AlreadyEnabled,
    #[error("two-step sign-in is not on")]
    NotEnabled,
    #[error("no enrolment is waiting for a code")]
    NotStarted,
    /// Wrong, reused or malformed code.
    #[error("the code is not right")]
    WrongCode,
    #[error("second factor failure: {0}")]
    Internal(String),
}

impl From<sqlx::Error> for SecondFactorError {
    fn from(error: sqlx::Error) -> Self {
        Self::Internal(error.to_string())
    }
}

/// What a person needs to add DocuVault to an authenticator app (shown once).
pub struct Enrolment {
    /// Base32, for typing in by hand.
    pub secret: Zeroizing<String>,
    /// `otpauth://totp/…`, for the QR code.
    pub otpauth_uri: Zeroizing<String>,
}

fn totp(seed: Vec<u8>) -> TOTP {
    TOTP::new_unchecked(Algorithm::SHA1, DIGITS, 1, STEP_SECONDS, seed)
}

/// The time step of `at`.
fn step_of(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(STEP_SECONDS as i64)
}

/// The step among `now - 1`, `now`, `now + 1` whose code is `code`, if any.
pub fn matching_step(seed: &[u8], code: &str, now: DateTime<Utc>) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let generator = totp(seed.to_vec());
    let current = step_of(now);
    (current - 1..=current + 1).find(|step| {
        let time = u64::try_from(*step).unwrap_or(0) * STEP_SECONDS;
        let expected = generator.generate(time);
        constant_time_eq(expected.as_bytes(), code.as_bytes())
    })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A recovery code as people type it: ten base32 characters in two groups.
fn new_recovery_code() -> Zeroizing<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 10];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let chars: String = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    Zeroizing::new(format!("{}-{}", &chars[..5], &chars[5..]))
}

/// Recovery codes compare without case, spaces or dashes.
fn recovery_hash(code: &str) -> Vec<u8> {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    Sha256::digest(normal.as_bytes()).to_vec()
}

/// Whether `user_id` has a confirmed second factor, through `executor`.
async fn enabled_on<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    user_id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists (select 1 from totp_secrets where user_id = $1 and confirmed_at is not null)",
    )
    .bind(user_id)
    .fetch_one(executor)
    .await
}

#[derive(Clone)]
pub struct SecondFactors {
    pool: PgPool,
    keys: KeyRing,
    clock: Arc<dyn Clock>,
}

impl SecondFactors {
    pub fn new(pool: PgPool, keys: KeyRing, clock: Arc<dyn Clock>) -> Self {
        Self { pool, keys, clock }
    }

    pub async fn is_enabled(&self, user_id: Uuid) -> Result<bool, sqlx::Error> {
        enabled_on(&self.pool, user_id).await
    }

    /// Starts (or restarts) enrolment with a fresh seed; `label` names the account in the
    /// authenticator app.
    pub async fn begin(&self, user_id: Uuid, label: &str) -> Result<Enrolment, SecondFactorError> {
        if self.is_enabled(user_id).await? {
            return Err(SecondFactorError::AlreadyEnabled);
        }
        let key = self
            .keys
            .find(user_id)
            .await
            .map_err(|error| SecondFactorError::Internal(error.to_string()))?
            .ok_or_else(|| SecondFactorError::Internal("the account has no data key".into()))?;
        let mut seed = Zeroizing::new(vec![0u8; SEED_BYTES]);
        rand::rngs::OsRng.fill_bytes(&mut seed);
        let sealed = seal(&key, user_id, sealed_fields::TOTP_SEED, &seed);
        sqlx::query(
            "insert into totp_secrets (user_id, sealed_seed, created_at) values ($1, $2, $3)
             on conflict (user_id) do update
               set sealed_seed = excluded.sealed_seed, created_at = excluded.created_at, last_step = 0
             where totp_secrets.confirmed_at is null",
        )
        .bind(user_id)
        .bind(sealed.as_str())
        .bind(self.clock.now())
        .execute(&self.pool)
        .await?;
        let secret = Zeroizing::new(totp(seed.to_vec()).get_secret_base32());
        let otpauth_uri = Zeroizing::new(format!(
            "otpauth://totp/{ISSUER}:{label}?secret={}&issuer={ISSUER}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
            secret.as_str()
        ));
        Ok(Enrolment {
            secret,
            otpauth_uri,
        })
    }

    /// The seed of `user_id` (confirmed or pending, as asked), opened.
    async fn seed(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        user_id: Uuid,
        confirmed: bool,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, SecondFactorError> {
        let sealed: Option<String> = sqlx::query_scalar(
            "select sealed_seed from totp_secrets
              where user_id = $1 and (confirmed_at is not null) = $2",
        )
        .bind(user_id)
        .bind(confirmed)
        .fetch_optional(&mut **tx)
        .await?;
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        // Through the transaction's own connection: taking a second one from the pool
        // while holding this one starves the pool under concurrent sign-ins.
        let key = self
            .keys
            .find_many_on(&mut **tx, &[user_id])
            .await
            .map_err(|error| SecondFactorError::Internal(error.to_string()))?
            .remove(&user_id)
            .ok_or_else(|| SecondFactorError::Internal("the account has no data key".into()))?;
        crypto::open(
            &key,
            user_id,
            sealed_fields::TOTP_SEED,
            &Sealed::from_envelope(sealed),
        )
        .map(Some)
        .map_err(|error| SecondFactorError::Internal(error.to_string()))
    }

    /// Accepts `code` for `step` only if no code of that or a later step was accepted.
    async fn claim_step(
        tx: &mut Transaction<'_, Postgres>,
        user_id: Uuid,
        step: i64,
    ) -> Result<bool, sqlx::Error> {
        Ok(sqlx::query(
            "update totp_secrets set last_step = $2 where user_id = $1 and last_step < $2",
        )
        .bind(user_id)
        .bind(step)
        .execute(&mut **tx)
        .await?
        .rows_affected()
            == 1)
    }

    /// Confirms enrolment with a first code: two-step sign-in is on, and here are the
    /// recovery codes (shown once).
    pub async fn confirm(
        &self,
        user_id: Uuid,
        code: &str,
        meta: &CommandMeta,
    ) -> Result<Vec<Zeroizing<String>>, SecondFactorError> {
        let now = self.clock.now();
        let mut tx = self.pool.begin().await?;
        sqlx::query("select 1 from totp_secrets where user_id = $1 for update")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let Some(seed) = self.seed(&mut tx, user_id, false).await? else {
            return Err(if enabled_on(&mut *tx, user_id).await? {
                SecondFactorError::AlreadyEnabled
            } else {
                SecondFactorError::NotStarted
            });
        };
        let step = matching_step(&seed, code, now).ok_or(SecondFactorError::WrongCode)?;
        if !Self::claim_step(&mut tx, user_id, step).await? {
            return Err(SecondFactorError::WrongCode);
        }
        sqlx::query("update totp_secrets set confirmed_at = $2 where user_id = $1")
            .bind(user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let codes = Self::replace_codes(&mut tx, user_id, now).await?;
        let enabled = UserEvent::SecondFactorEnabled(SecondFactorEnabled {
            user_id,
            recovery_codes: RECOVERY_CODES as u32,
            enabled_at: now,
        });
        record(&mut tx, "user", &user_id.to_string(), &enabled, meta).await?;
        tx.commit().await?;
        Ok(codes)
    }

    async fn replace_codes(
        tx: &mut Transaction<'_, Postgres>,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<Zeroizing<String>>, sqlx::Error> {
        sqlx::query("delete from recovery_codes where user_id = $1")
            .bind(user_id)
            .execute(&mut **tx)
            .await?;
        let codes: Vec<Zeroizing<String>> =
            (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
        let hashes: Vec<Vec<u8>> = codes.iter().map(|code| recovery_hash(code)).collect();
        sqlx::query(
            "insert into recovery_codes (user_id, code_hash, created_at)
             select $1, hash, $3 from unnest($2::bytea[]) as hash",
        )
        .bind(user_id)
        .bind(&hashes)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        Ok(codes)
    }

    /// Checks a sign-in code; true once per time step.
    pub async fn verify_code(&self, user_id: Uuid, code: &str) -> Result<bool, SecondFactorError> {
        let now = self.clock.now();
        let mut tx = self.pool.begin().await?;
        let Some(seed) = self.seed(&mut tx, user_id, true).await? else {
            return Err(SecondFactorError::NotEnabled);
        };
        let Some(step) = matching_step(&seed, code, now) else {
            return Ok(false);
        };
        let accepted = Self::claim_step(&mut tx, user_id, step).await?;
        tx.commit().await?;
        Ok(accepted)
    }

    /// Uses a recovery code; true if it was one of the current set and unused.
    pub async fn use_recovery_code(&self, user_id: Uuid, code: &str) -> Result<bool, sqlx::Error> {
        if code.len() > 64 {
            return Ok(false);
        }
        Ok(sqlx::query(
            "update recovery_codes set used_at = $3
              where user_id = $1 and code_hash = $2 and used_at is null",
        )
        .bind(user_id)
        .bind(recovery_hash(code))
        .bind(self.clock.now())
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1)
    }

    /// Replaces the recovery codes; the old set stops working.
    pub async fn regenerate(
        &self,
        user_id: Uuid,
        meta: &CommandMeta,
    ) -> Result<Vec<Zeroizing<String>>, SecondFactorError> {
        let now = self.clock.now();
        if !self.is_enabled(user_id).await? {
            return Err(SecondFactorError::NotEnabled);
        }
        let mut tx = self.pool.begin().await?;
        let codes = Self::replace_codes(&mut tx, user_id, now).await?;
        let event = UserEvent::RecoveryCodesRegenerated(RecoveryCodesRegenerated {
            user_id,
            recovery_codes: RECOVERY_CODES as u32,
            regenerated_at: now,
        });
        record(&mut tx, "user", &user_id.to_string(), &event, meta).await?;
        tx.commit().await?;
        Ok(codes)
    }

    /// Turns two-step sign-in off: seed and recovery codes are deleted.
    pub async fn disable(
        &self,
        user_id: Uuid,
        meta: &CommandMeta,
    ) -> Result<(), SecondFactorError> {
        let now = self.clock.now();
        let mut tx = self.pool.begin().await?;
        let removed =
            sqlx::query("delete from totp_secrets where user_id = $1 and confirmed_at is not null")
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if removed == 0 {
            return Err(SecondFactorError::NotEnabled);
        }
        sqlx::query("delete from recovery_codes where user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let event = UserEvent::SecondFactorDisabled(SecondFactorDisabled {
            user_id,
            disabled_at: now,
        });
        record(&mut tx, "user", &user_id.to_string(), &event, meta).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const RFC_SEED: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc_6238_sha1_test_vectors() {
        let generator = TOTP::new_unchecked(Algorithm::SHA1, 8, 1, 30, RFC_SEED.to_vec());
        for (time, code) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(generator.generate(time), code, "t = {time}");
        }
    }

    #[test]
    fn codes_match_one_step_either_side_and_no_further() {
        let now = Utc.timestamp_opt(1_234_567_890, 0).unwrap();
        let generator = totp(RFC_SEED.to_vec());
        let code_at =
            |offset: i64| generator.generate(u64::try_from(1_234_567_890 + offset).unwrap());
        let current = step_of(now);
        assert_eq!(matching_step(RFC_SEED, &code_at(0), now), Some(current));
        assert_eq!(
            matching_step(RFC_SEED, &code_at(-30), now),
            Some(current - 1)
        );
        assert_eq!(
            matching_step(RFC_SEED, &code_at(30), now),
            Some(current + 1)
        );
        assert_eq!(matching_step(RFC_SEED, &code_at(-60), now), None);
        assert_eq!(matching_step(RFC_SEED, &code_at(60), now), None);
        assert_eq!(matching_step(RFC_SEED, "12345", now), None);
        assert_eq!(matching_step(RFC_SEED, "abcdef", now), None);
    }

    #[test]
    fn recovery_codes_are_long_distinct_and_forgiving_to_type() {
        let a = new_recovery_code();
        let b = new_recovery_code();
        assert_ne!(*a, *b);
        assert_eq!(a.len(), 11);
        assert_eq!(
            recovery_hash(&a),
            recovery_hash(&a.to_uppercase().replace('-', " "))
        );
    }
}
