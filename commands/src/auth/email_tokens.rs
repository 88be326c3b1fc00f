//! Single-use tokens for emailed links (SECURITY 30): 256 random bits, stored as SHA-256,
//! bound to a user and a purpose, with an expiry; a new one voids the older ones of the
//! same purpose, and redeeming is one `UPDATE … WHERE used_at IS NULL AND expires_at > now`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::{PgExecutor, Postgres, Transaction};
use uuid::Uuid;
use zeroize::Zeroizing;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
    ChangeEmail,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
            Purpose::ChangeEmail => "change_email",
        }
    }
}

/// The longest a token string from a client may be before it is not even hashed.
const MAX_TOKEN_CHARS: usize = 128;

fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Issues a token for `user_id` and `purpose`, voiding the older unused ones.
pub async fn issue(
    tx: &mut Transaction<'_, Postgres>,
    user_id: Uuid,
    purpose: Purpose,
    now: DateTime<Utc>,
    lifetime: Duration,
) -> Result<Zeroizing<String>, sqlx::Error> {
    sqlx::query("delete from email_tokens where user_id = $1 and purpose = $2 and used_at is null")
        .bind(user_id)
        .bind(purpose.as_str())
        .execute(&mut **tx)
        .await?;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = Zeroizing::new(URL_SAFE_NO_PAD.encode(bytes));
    sqlx::query(
        "insert into email_tokens (token_hash, user_id, purpose, created_at, expires_at)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(digest(&token))
    .bind(user_id)
    .bind(purpose.as_str())
    .bind(now)
    .bind(now + lifetime)
    .execute(&mut **tx)
    .await?;
    Ok(token)
}

/// The address an email change waits to confirm: sealed, and its keyed hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEmail {
    pub sealed: String,
    pub lookup: String,
}

/// Issues an email-change token carrying the new address.
pub async fn issue_change(
    tx: &mut Transaction<'_, Postgres>,
    user_id: Uuid,
    pending: &PendingEmail,
    now: DateTime<Utc>,
    lifetime: Duration,
) -> Result<Zeroizing<String>, sqlx::Error> {
    let token = issue(tx, user_id, Purpose::ChangeEmail, now, lifetime).await?;
    sqlx::query(
        "update email_tokens set pending_email = $2, pending_lookup = $3 where token_hash = $1",
    )
    .bind(digest(&token))
    .bind(&pending.sealed)
    .bind(&pending.lookup)
    .execute(&mut **tx)
    .await?;
    Ok(token)
}

/// Uses an email-change token: the user and the address waiting for them.
pub async fn redeem_change<'e>(
    executor: impl PgExecutor<'e>,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<(Uuid, PendingEmail)>, sqlx::Error> {
    if token.is_empty() || token.len() > MAX_TOKEN_CHARS {
        return Ok(None);
    }
    let row: Option<(Uuid, Option<String>, Option<String>)> = sqlx::query_as(
        "update email_tokens set used_at = $2
          where token_hash = $1 and purpose = 'change_email' and used_at is null and expires_at > $2
          returning user_id, pending_email, pending_lookup",
    )
    .bind(digest(token))
    .bind(now)
    .fetch_optional(executor)
    .await?;
    Ok(row.and_then(|(user_id, sealed, lookup)| {
        Some((
            user_id,
            PendingEmail {
                sealed: sealed?,
                lookup: lookup?,
            },
        ))
    }))
}

/// Uses a token: the user it was for, if it is of `purpose`, unused and unexpired.
pub async fn redeem<'e>(
    executor: impl PgExecutor<'e>,
    token: &str,
    purpose: Purpose,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, sqlx::Error> {
    if token.is_empty() || token.len() > MAX_TOKEN_CHARS {
        return Ok(None);
    }
    sqlx::query_scalar(
        "update email_tokens set used_at = $3
          where token_hash = $1 and purpose = $2 and used_at is null and expires_at > $3
          returning user_id",
    )
    .bind(digest(token))
    .bind(purpose.as_str())
    .bind(now)
    .fetch_optional(executor)
    .await
}

/// The user a token is for, without using it (to check a new password against the
/// account before spending the link).
pub async fn peek<'e>(
    executor: impl PgExecutor<'e>,
    token: &str,
    purpose: Purpose,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, sqlx::Error> {
    if token.is_empty() || token.len() > MAX_TOKEN_CHARS {
        return Ok(None);
    }
    sqlx::query_scalar(
        "select user_id from email_tokens
          where token_hash = $1 and purpose = $2 and used_at is null and expires_at > $3",
    )
    .bind(digest(token))
    .bind(purpose.as_str())
    .bind(now)
    .fetch_optional(executor)
    .await
}

/// Whether a `purpose` link went to `user_id` less than `spacing` ago. Takes a
/// transaction-scoped lock first, so concurrent requests for one account queue and the
/// spacing holds for the link the caller then issues in the same transaction.
pub async fn issued_within(
    tx: &mut Transaction<'_, Postgres>,
    user_id: Uuid,
    purpose: Purpose,
    now: DateTime<Utc>,
    spacing: Duration,
) -> Result<bool, sqlx::Error> {
    sqlx::query("select pg_advisory_xact_lock(hashtextextended($1, 11))")
        .bind(format!("email-link/{user_id}/{}", purpose.as_str()))
        .execute(&mut **tx)
        .await?;
    let last: Option<DateTime<Utc>> = sqlx::query_scalar(
        "select max(created_at) from email_tokens where user_id = $1 and purpose = $2",
    )
    .bind(user_id)
    .bind(purpose.as_str())
    .fetch_one(&mut **tx)
    .await?;
    Ok(last.is_some_and(|last| now - last < spacing))
}
