//! Signing in with a password (AUTH-2, AUTH-7; SECURITY 1, 3, 4).
//!
//! Every failure looks the same from outside: an unknown address costs a dummy hash, a
//! wrong password the real one, and both count against the account's bucket (keyed by
//! the email's keyed hash, so unknown addresses are throttled exactly like known ones)
//! and the client address's bucket.

use super::sessions::{IssuedSession, Sessions};
use super::throttle::{Bucket, Throttle};
use crate::facts::record;
use crate::{CommandMeta, EventStore, PasswordHasher};
use chrono::Duration;
use crypto::KeyRing;
use domain::session::SignInMethod;
use domain::sign_in::{Factor, SignInEvent, SignInFailed, SignInLockedOut, AGGREGATE_TYPE};
use domain::user::{sealed_fields, Email, User};
use domain::Clock;
use std::net::IpAddr;
use std::sync::Arc;
use thiserror::Error;
use uuid::Uuid;
use zeroize::Zeroizing;

/// A sign-in form and where it came from.
pub struct SignInAttempt<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub address: IpAddr,
    pub user_agent: &'a str,
}

#[derive(Debug, Error)]
pub enum SignInError {
    /// Unknown account or wrong password: one answer for both.
    #[error("the email or password is not right")]
    InvalidCredentials,
    /// Too many failures: try again after this long.
    #[error("too many attempts")]
    Throttled(Duration),
    #[error("sign-in failed: {0}")]
    Internal(String),
}

#[derive(Clone)]
pub struct SignIns {
    store: EventStore,
    keys: KeyRing,
    hasher: PasswordHasher,
    throttle: Throttle,
    sessions: Sessions,
    clock: Arc<dyn Clock>,
}

/// The account behind an email, when there is one.
struct Account {
    user_id: Uuid,
    user: User,
}

impl SignIns {
    pub fn new(
        store: EventStore,
        keys: KeyRing,
        hasher: PasswordHasher,
        sessions: Sessions,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let throttle = Throttle::new(store.pool().clone());
        Self {
            store,
            keys,
            hasher,
            throttle,
            sessions,
            clock,
        }
    }

    pub fn throttle(&self) -> &Throttle {
        &self.throttle
    }

    #[tracing::instrument(skip_all)]
    pub async fn with_password(
        &self,
        attempt: SignInAttempt<'_>,
        meta: &CommandMeta,
    ) -> Result<IssuedSession, SignInError> {
        // An unparseable address still costs a hash and a throttle entry.
        let lookup = match Email::parse(attempt.email) {
            Ok(email) => self.keys.master().email_lookup(email.as_str()),
            Err(_) => self.keys.master().email_lookup(attempt.email),
        };
        let account_bucket = Bucket::account(&lookup);
        let address_bucket = Bucket::address(attempt.address);
        let now = self.clock.now();
        if let Some(wait) = self
            .throttle
            .retry_after(&[account_bucket.clone(), address_bucket.clone()], now)
            .await
            .map_err(internal)?
        {
            return Err(SignInError::Throttled(wait));
        }
        let password = Zeroizing::new(attempt.password.to_owned());
        let account = self.account(&lookup).await?;
        let verified = match &account {
            Some(account) => self.verify(account, password).await?,
            None => {
                self.hasher.verify_dummy(password).await;
                false
            }
        };
        let user_id = account.as_ref().map(|account| account.user_id);
        let Some(account) = account.filter(|_| verified) else {
            self.failed(&lookup, user_id, &[account_bucket, address_bucket], meta)
                .await?;
            return Err(SignInError::InvalidCredentials);
        };
        self.throttle
            .clear(&account_bucket)
            .await
            .map_err(internal)?;
        let meta = CommandMeta {
            actor: format!("user:{}", account.user_id),
            ..meta.clone()
        };
        self.sessions
            .start(
                account.user_id,
                SignInMethod::Password,
                attempt.user_agent,
                &meta,
            )
            .await
            .map_err(internal)
    }

    async fn account(&self, lookup: &str) -> Result<Option<Account>, SignInError> {
        let user_id: Option<Uuid> =
            sqlx::query_scalar("select user_id from email_reservations where email_lookup = $1")
                .bind(lookup)
                .fetch_optional(self.store.pool())
                .await
                .map_err(internal)?;
        let Some(user_id) = user_id else {
            return Ok(None);
        };
        let user: User = self
            .store
            .load(&user_id.to_string())
            .await
            .map_err(internal)?;
        Ok(user.is_registered().then_some(Account { user_id, user }))
    }

    async fn verify(
        &self,
        account: &Account,
        password: Zeroizing<String>,
    ) -> Result<bool, SignInError> {
        let (Some(sealed), Some(key)) = (
            account.user.password_hash(),
            self.keys.find(account.user_id).await.map_err(internal)?,
        ) else {
            // Erased accounts have no key: they cannot sign in, at the usual cost.
            self.hasher.verify_dummy(password).await;
            return Ok(false);
        };
        let hash = key
            .open_text(account.user_id, sealed_fields::PASSWORD_HASH, sealed)
            .map_err(internal)?;
        Ok(self.hasher.verify(Zeroizing::new(hash), password).await)
    }

    /// Counts a failure in every bucket and records it (and a lockout it starts).
    async fn failed(
        &self,
        lookup: &str,
        user_id: Option<Uuid>,
        buckets: &[Bucket],
        meta: &CommandMeta,
    ) -> Result<(), SignInError> {
        let now = self.clock.now();
        let aggregate_id = user_id.map_or_else(|| lookup.to_owned(), |id| id.to_string());
        let mut tx = self.store.pool().begin().await.map_err(internal)?;
        let failed = SignInEvent::SignInFailed(SignInFailed {
            user_id,
            factor: Factor::Password,
            failed_at: now,
        });
        record(&mut tx, AGGREGATE_TYPE, &aggregate_id, &failed, meta)
            .await
            .map_err(internal)?;
        for bucket in buckets {
            let (state, locked_now) = self
                .throttle
                .fail(&mut tx, bucket, now)
                .await
                .map_err(internal)?;
            if locked_now && *bucket == buckets[0] {
                let locked = SignInEvent::SignInLockedOut(SignInLockedOut {
                    user_id,
                    failures: state.failures,
                    until: state.blocked_until.unwrap_or(now),
                    locked_at: now,
                });
                record(&mut tx, AGGREGATE_TYPE, &aggregate_id, &locked, meta)
                    .await
                    .map_err(internal)?;
            }
        }
        tx.commit().await.map_err(internal)
    }
}

fn internal(error: impl std::fmt::Display) -> SignInError {
    SignInError::Internal(error.to_string())
}
