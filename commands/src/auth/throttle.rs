//! Throttle buckets in Postgres (`auth_throttle`), shared by every API instance.

use chrono::{DateTime, Duration, Utc};
use domain::throttle::{address_bucket, ThrottlePolicy, ThrottleState};
use sqlx::{PgPool, Postgres, Transaction};
use std::net::IpAddr;

/// Something whose failed attempts are counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    key: String,
    policy: ThrottlePolicy,
}

impl Bucket {
    /// Guesses at one account's secrets (password, TOTP, recovery codes), keyed by the
    /// account id or, before the account is known, by its email's keyed hash.
    pub fn account(key: &str) -> Self {
        Self {
            key: format!("account:{key}"),
            policy: ThrottlePolicy::ACCOUNT,
        }
    }

    /// Everything failed from one client address (IPv6 by /64).
    pub fn address(address: IpAddr) -> Self {
        Self {
            key: address_bucket(address),
            policy: ThrottlePolicy::ADDRESS,
        }
    }

    /// Registrations from one client address (every attempt counts).
    pub fn registrations(address: IpAddr) -> Self {
        Self {
            key: format!("register:{}", address_bucket(address)),
            policy: ThrottlePolicy::REGISTRATION,
        }
    }

    /// Guesses at one single-use token (a reset link), whoever sends them.
    pub fn token(key: &str) -> Self {
        Self {
            key: format!("token:{key}"),
            policy: ThrottlePolicy::ACCOUNT,
        }
    }
}

#[derive(Clone)]
pub struct Throttle {
    pool: PgPool,
}

impl Throttle {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// How long the most restricted of `buckets` is still held back, if any is.
    pub async fn retry_after(
        &self,
        buckets: &[Bucket],
        now: DateTime<Utc>,
    ) -> Result<Option<Duration>, sqlx::Error> {
        let keys: Vec<&str> = buckets.iter().map(|bucket| bucket.key.as_str()).collect();
        let until: Option<DateTime<Utc>> = sqlx::query_scalar(
            "select max(blocked_until) from auth_throttle where bucket = any($1)",
        )
        .bind(&keys)
        .fetch_one(&self.pool)
        .await?;
        Ok(until.filter(|until| *until > now).map(|until| until - now))
    }

    /// Counts one failure in `bucket`; returns its new state and whether this failure
    /// started a delay (a lockout, for the audit log).
    pub async fn fail(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        bucket: &Bucket,
        now: DateTime<Utc>,
    ) -> Result<(ThrottleState, bool), sqlx::Error> {
        let before = locked_state(tx, bucket, now).await?;
        let was_blocked = before.and_then(|state| state.retry_after(now)).is_some();
        let after = count_one(tx, bucket, before, now).await?;
        let locked_now = !was_blocked && after.retry_after(now).is_some();
        Ok((after, locked_now))
    }

    /// Counts one attempt in `bucket` unless it is held back, and says how long it is
    /// held back if so. The check and the count are one transaction on the bucket's row,
    /// so attempts sent at once cannot all pass a check made before any of them counted.
    pub async fn admit(
        &self,
        bucket: &Bucket,
        now: DateTime<Utc>,
    ) -> Result<Option<Duration>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let before = locked_state(&mut tx, bucket, now).await?;
        if let Some(wait) = before.and_then(|state| state.retry_after(now)) {
            tx.rollback().await?;
            return Ok(Some(wait));
        }
        count_one(&mut tx, bucket, before, now).await?;
        tx.commit().await?;
        Ok(None)
    }

    /// Counts one failure in `bucket` in a transaction of its own.
    pub async fn fail_alone(&self, bucket: &Bucket, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        self.fail(&mut tx, bucket, now).await?;
        tx.commit().await
    }

    /// Forgets `bucket`'s failures (after a success).
    pub async fn clear(&self, bucket: &Bucket) -> Result<(), sqlx::Error> {
        sqlx::query("delete from auth_throttle where bucket = $1")
            .bind(&bucket.key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// `bucket`'s state, its row locked until the transaction ends (`None`: nothing counted).
async fn locked_state(
    tx: &mut Transaction<'_, Postgres>,
    bucket: &Bucket,
    now: DateTime<Utc>,
) -> Result<Option<ThrottleState>, sqlx::Error> {
    sqlx::query(
        "insert into auth_throttle (bucket, failures, window_started_at) values ($1, 0, $2)
         on conflict (bucket) do nothing",
    )
    .bind(&bucket.key)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let (failures, window_started_at, blocked_until): (i32, DateTime<Utc>, Option<DateTime<Utc>>) =
        sqlx::query_as(
            "select failures, window_started_at, blocked_until from auth_throttle
              where bucket = $1 for update",
        )
        .bind(&bucket.key)
        .fetch_one(&mut **tx)
        .await?;
    Ok((failures > 0).then_some(ThrottleState {
        failures,
        window_started_at,
        blocked_until,
    }))
}

/// Counts one more in `bucket`, whose locked state is `before`; returns the new state.
async fn count_one(
    tx: &mut Transaction<'_, Postgres>,
    bucket: &Bucket,
    before: Option<ThrottleState>,
    now: DateTime<Utc>,
) -> Result<ThrottleState, sqlx::Error> {
    let after = bucket.policy.after_failure(before, now);
    sqlx::query(
        "update auth_throttle set failures = $2, window_started_at = $3, blocked_until = $4
          where bucket = $1",
    )
    .bind(&bucket.key)
    .bind(after.failures)
    .bind(after.window_started_at)
    .bind(after.blocked_until)
    .execute(&mut **tx)
    .await?;
    Ok(after)
}
