//! Sessions and their rotating refresh tokens (AUTH-2, AUTH-3, AUTH-6; SECURITY 9, 10).
//!
//! A refresh token is 256 random bits shown to the client once; only its SHA-256 is
//! kept. Rotation locks the token's row, so of several requests presenting one token
//! exactly one rotates it and the others see it used: that is reuse, and the whole
//! session ends (no grace period; the SPA serialises refreshes across tabs).

use crate::facts::record;
use crate::CommandMeta;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use domain::session::{
    decide_refresh, EndReason, PresentedToken, RefreshDecision, RefreshTokenReused, SessionEnded,
    SessionEvent, SessionStarted, SignInMethod, AGGREGATE_TYPE,
};
use domain::Clock;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Postgres, Transaction};
use std::sync::Arc;
use thiserror::Error;
use uuid::Uuid;
use zeroize::Zeroizing;

/// How long sessions and their tokens live.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// A refresh token not used within this lapses (the person signs in again).
    pub idle: Duration,
    /// No session outlives this, however active.
    pub absolute: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle: Duration::days(7),
            absolute: Duration::days(30),
        }
    }
}

/// A refresh token as the client holds it. Never logged.
#[derive(Clone)]
pub struct RefreshToken(Zeroizing<String>);

impl RefreshToken {
    fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(Zeroizing::new(URL_SAFE_NO_PAD.encode(bytes)))
    }

    pub fn from_client(raw: &str) -> Self {
        Self(Zeroizing::new(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    fn digest(&self) -> Vec<u8> {
        Sha256::digest(self.0.as_bytes()).to_vec()
    }
}

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshToken(..)")
    }
}

/// A session and the refresh token the client gets for it.
#[derive(Debug, Clone)]
pub struct IssuedSession {
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub refresh_token: RefreshToken,
    /// When the refresh token lapses if unused (the cookie's lifetime).
    pub refresh_expires_at: DateTime<Utc>,
}

#[derive(Debug, Error)]
pub enum RefreshError {
    /// Unknown, lapsed or revoked: sign in again.
    #[error("the refresh token is not valid")]
    Invalid,
    /// A rotated token came back: its session has been ended.
    #[error("a refresh token was used twice; its session has been ended")]
    Reused,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// One row of a person's sessions list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionSummary {
    pub session_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_reason: Option<String>,
    pub user_agent: String,
}

/// A presented refresh token's row joined with its session's.
#[derive(sqlx::FromRow)]
struct PresentedRow {
    session_id: Uuid,
    user_id: Uuid,
    used_at: Option<DateTime<Utc>>,
    expires_at: DateTime<Utc>,
    session_expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

#[derive(Clone)]
pub struct Sessions {
    pool: PgPool,
    clock: Arc<dyn Clock>,
    policy: SessionPolicy,
}

/// User agents are shown back to their owner only; long ones are cut.
const MAX_USER_AGENT_CHARS: usize = 200;

impl Sessions {
    pub fn new(pool: PgPool, clock: Arc<dyn Clock>, policy: SessionPolicy) -> Self {
        Self {
            pool,
            clock,
            policy,
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Starts a session after a complete sign-in.
    pub async fn start(
        &self,
        user_id: Uuid,
        method: SignInMethod,
        user_agent: &str,
        meta: &CommandMeta,
    ) -> Result<IssuedSession, sqlx::Error> {
        let now = self.clock.now();
        let session_id = Uuid::new_v4();
        let expires_at = now + self.policy.absolute;
        let user_agent: String = user_agent
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_USER_AGENT_CHARS)
            .collect();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "insert into auth_sessions (session_id, user_id, created_at, last_used_at, expires_at, user_agent, method)
             values ($1, $2, $3, $3, $4, $5, $6)",
        )
        .bind(session_id)
        .bind(user_id)
        .bind(now)
        .bind(expires_at)
        .bind(&user_agent)
        .bind(method.as_str())
        .execute(&mut *tx)
        .await?;
        let (refresh_token, refresh_expires_at) = self
            .issue_token(&mut tx, session_id, now, expires_at)
            .await?;
        let event = SessionEvent::SessionStarted(SessionStarted {
            session_id,
            user_id,
            method,
            started_at: now,
            expires_at,
        });
        record(
            &mut tx,
            AGGREGATE_TYPE,
            &session_id.to_string(),
            &event,
            meta,
        )
        .await?;
        tx.commit().await?;
        Ok(IssuedSession {
            session_id,
            user_id,
            refresh_token,
            refresh_expires_at,
        })
    }

    async fn issue_token(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        session_id: Uuid,
        now: DateTime<Utc>,
        session_expires_at: DateTime<Utc>,
    ) -> Result<(RefreshToken, DateTime<Utc>), sqlx::Error> {
        let token = RefreshToken::generate();
        let expires_at = (now + self.policy.idle).min(session_expires_at);
        sqlx::query(
            "insert into refresh_tokens (token_hash, session_id, issued_at, expires_at) values ($1, $2, $3, $4)",
        )
        .bind(token.digest())
        .bind(session_id)
        .bind(now)
        .bind(expires_at)
        .execute(&mut **tx)
        .await?;
        Ok((token, expires_at))
    }

    /// Exchanges a refresh token for its successor, or detects its reuse.
    pub async fn refresh(
        &self,
        presented: &RefreshToken,
        meta: &CommandMeta,
    ) -> Result<IssuedSession, RefreshError> {
        let now = self.clock.now();
        let mut tx = self.pool.begin().await?;
        let row: Option<PresentedRow> = sqlx::query_as(
            "select s.session_id, s.user_id, t.used_at, t.expires_at,
                    s.expires_at as session_expires_at, s.revoked_at
                   from refresh_tokens t join auth_sessions s using (session_id)
                  where t.token_hash = $1
                    for update",
        )
        .bind(presented.digest())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(RefreshError::Invalid);
        };
        let (session_id, user_id, session_expires_at) =
            (row.session_id, row.user_id, row.session_expires_at);
        let token = PresentedToken {
            used_at: row.used_at,
            expires_at: row.expires_at,
            session_expires_at,
            session_revoked_at: row.revoked_at,
        };
        match decide_refresh(&token, now) {
            RefreshDecision::Rotate => {
                sqlx::query("update refresh_tokens set used_at = $2 where token_hash = $1")
                    .bind(presented.digest())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("update auth_sessions set last_used_at = $2 where session_id = $1")
                    .bind(session_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                let (refresh_token, refresh_expires_at) = self
                    .issue_token(&mut tx, session_id, now, session_expires_at)
                    .await?;
                tx.commit().await?;
                Ok(IssuedSession {
                    session_id,
                    user_id,
                    refresh_token,
                    refresh_expires_at,
                })
            }
            RefreshDecision::Reuse => {
                let reused = SessionEvent::RefreshTokenReused(RefreshTokenReused {
                    session_id,
                    user_id,
                    detected_at: now,
                });
                record(
                    &mut tx,
                    AGGREGATE_TYPE,
                    &session_id.to_string(),
                    &reused,
                    meta,
                )
                .await?;
                self.revoke(
                    &mut tx,
                    session_id,
                    user_id,
                    EndReason::TokenReuse,
                    now,
                    meta,
                )
                .await?;
                tx.commit().await?;
                tracing::warn!(%session_id, %user_id, "a rotated refresh token was reused; session ended");
                Err(RefreshError::Reused)
            }
            RefreshDecision::SessionOver | RefreshDecision::Expired => Err(RefreshError::Invalid),
        }
    }

    async fn revoke(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        session_id: Uuid,
        user_id: Uuid,
        reason: EndReason,
        now: DateTime<Utc>,
        meta: &CommandMeta,
    ) -> Result<bool, sqlx::Error> {
        let revoked = sqlx::query(
            "update auth_sessions set revoked_at = $2, revoked_reason = $3
              where session_id = $1 and revoked_at is null",
        )
        .bind(session_id)
        .bind(now)
        .bind(reason.as_str())
        .execute(&mut **tx)
        .await?
        .rows_affected()
            == 1;
        if revoked {
            let ended = SessionEvent::SessionEnded(SessionEnded {
                session_id,
                user_id,
                reason,
                ended_at: now,
            });
            record(tx, AGGREGATE_TYPE, &session_id.to_string(), &ended, meta).await?;
        }
        Ok(revoked)
    }

    /// Ends one session of `user_id` (a session of someone else is left alone).
    pub async fn end(
        &self,
        user_id: Uuid,
        session_id: Uuid,
        reason: EndReason,
        meta: &CommandMeta,
    ) -> Result<bool, sqlx::Error> {
        let now = self.clock.now();
        let mut tx = self.pool.begin().await?;
        let owned: Option<Uuid> = sqlx::query_scalar(
            "select session_id from auth_sessions where session_id = $1 and user_id = $2 for update",
        )
        .bind(session_id)
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
        let ended = match owned {
            Some(_) => {
                self.revoke(&mut tx, session_id, user_id, reason, now, meta)
                    .await?
            }
            None => false,
        };
        tx.commit().await?;
        Ok(ended)
    }

    /// Ends every live session of `user_id` (SECURITY 10) but `except`; returns how many.
    pub async fn end_all(
        &self,
        user_id: Uuid,
        except: Option<Uuid>,
        reason: EndReason,
        meta: &CommandMeta,
    ) -> Result<usize, sqlx::Error> {
        let now = self.clock.now();
        let mut tx = self.pool.begin().await?;
        let live: Vec<Uuid> = sqlx::query_scalar(
            "select session_id from auth_sessions
              where user_id = $1 and revoked_at is null and session_id is distinct from $2
              order by created_at for update",
        )
        .bind(user_id)
        .bind(except)
        .fetch_all(&mut *tx)
        .await?;
        let mut ended = 0;
        for session_id in live {
            if self
                .revoke(&mut tx, session_id, user_id, reason, now, meta)
                .await?
            {
                ended += 1;
            }
        }
        tx.commit().await?;
        Ok(ended)
    }

    /// The session a refresh token belongs to (used or not), if it is still live:
    /// `(session_id, user_id)`.
    pub async fn live_session_of(
        &self,
        presented: &RefreshToken,
    ) -> Result<Option<(Uuid, Uuid)>, sqlx::Error> {
        sqlx::query_as(
            "select s.session_id, s.user_id
               from refresh_tokens t join auth_sessions s using (session_id)
              where t.token_hash = $1 and s.revoked_at is null and s.expires_at > $2",
        )
        .bind(presented.digest())
        .bind(self.clock.now())
        .fetch_optional(&self.pool)
        .await
    }

    /// The user of a live session (not revoked, not past its absolute expiry), and
    /// whether it was signed in with a second factor.
    pub async fn live_user(&self, session_id: Uuid) -> Result<Option<(Uuid, bool)>, sqlx::Error> {
        sqlx::query_as(
            "select user_id, method <> 'password' from auth_sessions
              where session_id = $1 and revoked_at is null and expires_at > $2",
        )
        .bind(session_id)
        .bind(self.clock.now())
        .fetch_optional(&self.pool)
        .await
    }

    /// A person's sessions, newest first: the live ones and those ended in the last 30
    /// days (so a reuse alert stays visible).
    pub async fn list(&self, user_id: Uuid) -> Result<Vec<SessionSummary>, sqlx::Error> {
        sqlx::query_as(
            "select session_id, created_at, last_used_at, expires_at, revoked_at, revoked_reason, user_agent
               from auth_sessions
              where user_id = $1 and (revoked_at is null or revoked_at > $2 - interval '30 days')
              order by created_at desc
              limit 100",
        )
        .bind(user_id)
        .bind(self.clock.now())
        .fetch_all(&self.pool)
        .await
    }
}
