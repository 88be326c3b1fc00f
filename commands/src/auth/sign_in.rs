//! Signing in with a password (AUTH-2, AUTH-7; SECURITY 1, 3, 4).
//!
//! Every failure looks the same from outside: an unknown address costs a dummy hash, a
//! wrong password the real one, and both count against the account's bucket (keyed by
//! the email's keyed hash, so unknown addresses are throttled exactly like known ones)
//! and the client address's bucket.

use super::second_factor::{SecondFactorError, SecondFactors};
use super::sessions::{IssuedSession, Sessions};
use super::throttle::{Bucket, Throttle};
use crate::facts::record;
use crate::{CommandMeta, EventStore, PasswordHasher};
use chrono::Duration;
use crypto::KeyRing;
use domain::session::SignInMethod;
use domain::sign_in::{Factor, SignInEvent, SignInFailed, SignInLockedOut, AGGREGATE_TYPE};
use domain::user::{sealed_fields, ChangePassword, Email, PasswordChangeReason, User, UserCommand};
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

/// What a correct password leads to.
#[derive(Debug)]
pub enum PasswordOutcome {
    /// Signed in.
    SignedIn(IssuedSession),
    /// The account has two-step sign-in: a code or recovery code must follow.
    SecondFactorRequired { user_id: Uuid },
}

/// The second step of a sign-in.
pub enum SecondProof<'a> {
    Totp(&'a str),
    RecoveryCode(&'a str),
}

#[derive(Debug, Error)]
pub enum SignInError {
    /// Unknown account or wrong password: one answer for both.
    #[error("the email or password is not right")]
    InvalidCredentials,
    /// The right password for an account an admin has disabled.
    #[error("the account is disabled")]
    Disabled,
    /// The right password for an account whose address is not confirmed yet.
    #[error("the email address is not confirmed yet")]
    EmailUnverified,
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
    second_factors: SecondFactors,
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
        let second_factors = SecondFactors::new(store.pool().clone(), keys.clone(), clock.clone());
        Self {
            store,
            keys,
            hasher,
            throttle,
            sessions,
            second_factors,
            clock,
        }
    }

    pub fn throttle(&self) -> &Throttle {
        &self.throttle
    }

    pub fn second_factors(&self) -> &SecondFactors {
        &self.second_factors
    }

    async fn held_back(&self, buckets: &[Bucket]) -> Result<(), SignInError> {
        match self
            .throttle
            .retry_after(buckets, self.clock.now())
            .await
            .map_err(internal)?
        {
            Some(wait) => Err(SignInError::Throttled(wait)),
            None => Ok(()),
        }
    }

    #[tracing::instrument(skip_all)]
    pub async fn with_password(
        &self,
        attempt: SignInAttempt<'_>,
        meta: &CommandMeta,
    ) -> Result<PasswordOutcome, SignInError> {
        // An unparseable address still costs a hash and a throttle entry.
        let lookup = match Email::parse(attempt.email) {
            Ok(email) => self.keys.master().email_lookup(email.as_str()),
            Err(_) => self.keys.master().email_lookup(attempt.email),
        };
        let account_bucket = Bucket::account(&lookup);
        let address_bucket = Bucket::address(attempt.address);
        self.held_back(&[account_bucket.clone(), address_bucket.clone()])
            .await?;
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
            let aggregate_id = user_id.map_or_else(|| lookup.clone(), |id| id.to_string());
            self.failed(
                &aggregate_id,
                user_id,
                Factor::Password,
                &[account_bucket, address_bucket],
                meta,
            )
            .await?;
            return Err(SignInError::InvalidCredentials);
        };
        self.throttle
            .clear(&account_bucket)
            .await
            .map_err(internal)?;
        if account.user.is_disabled() {
            return Err(SignInError::Disabled);
        }
        if !account.user.is_email_verified() {
            return Err(SignInError::EmailUnverified);
        }
        let second_factor = self
            .second_factors
            .is_enabled(account.user_id)
            .await
            .map_err(internal)?;
        if second_factor {
            return Ok(PasswordOutcome::SecondFactorRequired {
                user_id: account.user_id,
            });
        }
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
            .map(PasswordOutcome::SignedIn)
            .map_err(internal)
    }

    /// The second step: a TOTP code or a recovery code, throttled per account and
    /// address like passwords.
    #[tracing::instrument(skip_all, fields(%user_id))]
    pub async fn with_second_factor(
        &self,
        user_id: Uuid,
        proof: SecondProof<'_>,
        address: IpAddr,
        user_agent: &str,
        meta: &CommandMeta,
    ) -> Result<IssuedSession, SignInError> {
        let buckets = [
            Bucket::account(&user_id.to_string()),
            Bucket::address(address),
        ];
        self.held_back(&buckets).await?;
        let (accepted, factor, method) = match proof {
            SecondProof::Totp(code) => (
                match self.second_factors.verify_code(user_id, code).await {
                    Ok(accepted) => accepted,
                    Err(SecondFactorError::NotEnabled) => false,
                    Err(error) => return Err(internal(error)),
                },
                Factor::Totp,
                SignInMethod::PasswordAndTotp,
            ),
            SecondProof::RecoveryCode(code) => (
                self.second_factors
                    .use_recovery_code(user_id, code)
                    .await
                    .map_err(internal)?,
                Factor::RecoveryCode,
                SignInMethod::PasswordAndRecoveryCode,
            ),
        };
        let meta = CommandMeta {
            actor: format!("user:{user_id}"),
            ..meta.clone()
        };
        if !accepted {
            self.failed(&user_id.to_string(), Some(user_id), factor, &buckets, &meta)
                .await?;
            return Err(SignInError::InvalidCredentials);
        }
        self.throttle.clear(&buckets[0]).await.map_err(internal)?;
        self.sessions
            .start(user_id, method, user_agent, &meta)
            .await
            .map_err(internal)
    }

    /// Asks a signed-in person for their password again before a sensitive change.
    pub async fn reauthenticate(
        &self,
        user_id: Uuid,
        password: &str,
        address: IpAddr,
        meta: &CommandMeta,
    ) -> Result<(), SignInError> {
        let buckets = [
            Bucket::account(&user_id.to_string()),
            Bucket::address(address),
        ];
        self.held_back(&buckets).await?;
        let user: User = self
            .store
            .load(&user_id.to_string())
            .await
            .map_err(internal)?;
        let account = Account { user_id, user };
        if self
            .verify(&account, Zeroizing::new(password.to_owned()))
            .await?
        {
            return Ok(());
        }
        self.failed(
            &user_id.to_string(),
            Some(user_id),
            Factor::Password,
            &buckets,
            meta,
        )
        .await?;
        Err(SignInError::InvalidCredentials)
    }

    async fn account(&self, lookup: &str) -> Result<Option<Account>, SignInError> {
        Ok(crate::directory::account_with(&self.store, lookup)
            .await
            .map_err(internal)?
            .map(|(user_id, user)| Account { user_id, user }))
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
        let stale = self.hasher.needs_rehash(&hash);
        let right = self
            .hasher
            .verify(Zeroizing::new(hash), password.clone())
            .await;
        if right && stale {
            self.rehash(account.user_id, &key, password).await;
        }
        Ok(right)
    }

    /// Hashes a right password again at today's parameters (SECURITY 1). A failure is
    /// logged and retried at the next sign-in; it never fails the sign-in.
    async fn rehash(&self, user_id: Uuid, key: &crypto::DataKey, password: Zeroizing<String>) {
        let Ok(password) = domain::user::Password::accept_existing(&password) else {
            return;
        };
        let result = async {
            let hash = self.hasher.hash(password).await.map_err(internal)?;
            let command = UserCommand::ChangePassword(ChangePassword {
                password_hash: crypto::seal(
                    key,
                    user_id,
                    sealed_fields::PASSWORD_HASH,
                    hash.as_bytes(),
                ),
                reason: PasswordChangeReason::Rehashed,
                at: self.clock.now(),
            });
            let meta = CommandMeta::new("system:rehash", Uuid::new_v4().to_string());
            self.store
                .execute::<User>(&user_id.to_string(), command, (), &meta)
                .await
                .map_err(internal)
        }
        .await;
        match result {
            Ok(_) => tracing::info!(%user_id, "password hash upgraded to the current parameters"),
            Err(error) => tracing::warn!(%user_id, %error, "could not upgrade a password hash"),
        }
    }

    /// Counts a failure in every bucket and records it (and a lockout it starts).
    async fn failed(
        &self,
        aggregate_id: &str,
        user_id: Option<Uuid>,
        factor: Factor,
        buckets: &[Bucket],
        meta: &CommandMeta,
    ) -> Result<(), SignInError> {
        let now = self.clock.now();
        let mut tx = self.store.pool().begin().await.map_err(internal)?;
        let failed = SignInEvent::SignInFailed(SignInFailed {
            user_id,
            factor,
            failed_at: now,
        });
        record(&mut tx, AGGREGATE_TYPE, aggregate_id, &failed, meta)
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
                record(&mut tx, AGGREGATE_TYPE, aggregate_id, &locked, meta)
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
