//! Changes to existing accounts: a person's own password change, and admins' actions on
//! other accounts (ADM-1). Each is a user-aggregate command; the ones that must end
//! sessions (SECURITY 10) end them right after.

use crate::auth::email_tokens::{self, Purpose};
use crate::auth::sessions::Sessions;
use crate::auth::sign_in::{SignInError, SignIns};
use crate::facts::record;
use crate::{CommandError, CommandMeta, EventStore, PasswordHasher};
use chrono::Duration;
use crypto::{seal, KeyRing};
use domain::session::EndReason;
use domain::user::{
    sealed_fields, AiProvider, ByAdmin, ChangePassword, DisplayName, Email, ModelName, Password,
    PasswordChangeReason, PasswordError, PasswordResetRequested, Role, User, UserCommand,
    UserError, UserEvent,
};
use domain::Clock;
use eventlog::Token;
use std::net::IpAddr;
use std::sync::Arc;
use thiserror::Error;
use uuid::Uuid;
use zeroize::Zeroizing;

/// How long emailed links live, and how often one account can be sent one.
#[derive(Debug, Clone, Copy)]
pub struct LinkPolicy {
    pub verify_email: Duration,
    /// At most 60 minutes (SECURITY 30).
    pub reset_password: Duration,
    /// No second link of a kind to one account within this.
    pub spacing: Duration,
}

impl Default for LinkPolicy {
    fn default() -> Self {
        Self {
            verify_email: Duration::hours(48),
            reset_password: Duration::minutes(60),
            spacing: Duration::seconds(60),
        }
    }
}

/// What asking for a new address leads to.
pub enum EmailChange {
    /// Send `link` to the new address, and tell the old one.
    Confirm {
        link: EmailLink,
        old_email: Option<String>,
    },
    /// The address belongs to another account: tell its owner, nothing else.
    Taken { new_email: String },
    /// Nothing to send.
    Nothing,
}

/// What an emailed link needs: where to send it and its token. Never logged.
pub struct EmailLink {
    pub user_id: Uuid,
    pub email: String,
    pub token: Zeroizing<String>,
}

#[derive(Debug, Error)]
pub enum AccountError {
    /// The link is unknown, used, expired or for something else.
    #[error("the link is not valid")]
    InvalidToken,
    #[error("the current password is not right")]
    WrongPassword,
    #[error("that is not an email address: {0}")]
    BadEmail(domain::user::EmailError),
    #[error("that address belongs to another account")]
    EmailTaken,
    #[error("the new password is not acceptable: {0}")]
    WeakPassword(PasswordError),
    #[error("too many attempts")]
    Throttled(Duration),
    #[error(transparent)]
    Refused(UserError),
    #[error("another change to this account happened at the same time")]
    Conflict,
    #[error("account change failed: {0}")]
    Internal(String),
}

fn internal(error: impl std::fmt::Display) -> AccountError {
    AccountError::Internal(error.to_string())
}

impl From<CommandError<UserError>> for AccountError {
    fn from(error: CommandError<UserError>) -> Self {
        match error {
            CommandError::Rejected(rejection) => Self::Refused(rejection),
            CommandError::Conflict => Self::Conflict,
            other => internal(other),
        }
    }
}

/// What an admin does to another account.
#[derive(Debug, Clone, PartialEq)]
pub enum AdminAction {
    Disable,
    Enable,
    SetRole(Role),
    /// `None`: back to the default quota.
    SetQuota(Option<u64>),
    /// `None` for both: back to the server's default.
    AssignAi {
        provider: Option<AiProvider>,
        model: Option<ModelName>,
    },
}

#[derive(Clone)]
pub struct Accounts {
    store: EventStore,
    keys: KeyRing,
    hasher: PasswordHasher,
    sessions: Sessions,
    sign_ins: SignIns,
    clock: Arc<dyn Clock>,
    links: LinkPolicy,
}

impl Accounts {
    pub fn new(
        store: EventStore,
        keys: KeyRing,
        hasher: PasswordHasher,
        sessions: Sessions,
        sign_ins: SignIns,
        clock: Arc<dyn Clock>,
        links: LinkPolicy,
    ) -> Self {
        Self {
            store,
            keys,
            hasher,
            sessions,
            sign_ins,
            clock,
            links,
        }
    }

    pub fn links(&self) -> LinkPolicy {
        self.links
    }

    /// The account with this (typed) email, if there is one.
    async fn account_of(&self, email: &str) -> Result<Option<(Uuid, User)>, AccountError> {
        let Ok(email) = Email::parse(email) else {
            return Ok(None);
        };
        let lookup = self.keys.master().email_lookup(email.as_str());
        Ok(crate::directory::account_with(&self.store, &lookup).await?)
    }

    /// The account's own email address, opened (None once erased).
    async fn email_of(&self, user_id: Uuid, user: &User) -> Result<Option<String>, AccountError> {
        let (Some(key), Some(sealed)) = (
            self.keys.find(user_id).await.map_err(internal)?,
            user.email(),
        ) else {
            return Ok(None);
        };
        key.open_text(user_id, sealed_fields::EMAIL, sealed)
            .map(Some)
            .map_err(internal)
    }

    /// A link of `purpose` for the account, unless one was sent within the spacing.
    async fn link(
        &self,
        user_id: Uuid,
        email: String,
        purpose: Purpose,
        lifetime: Duration,
        event: Option<(UserEvent, &CommandMeta)>,
    ) -> Result<Option<EmailLink>, AccountError> {
        let now = self.clock.now();
        let mut tx = self.store.pool().begin().await.map_err(internal)?;
        if email_tokens::issued_within(&mut tx, user_id, purpose, now, self.links.spacing)
            .await
            .map_err(internal)?
        {
            return Ok(None);
        }
        let token = email_tokens::issue(&mut tx, user_id, purpose, now, lifetime)
            .await
            .map_err(internal)?;
        if let Some((event, meta)) = event {
            record(&mut tx, "user", &user_id.to_string(), &event, meta)
                .await
                .map_err(internal)?;
        }
        tx.commit().await.map_err(internal)?;
        Ok(Some(EmailLink {
            user_id,
            email,
            token,
        }))
    }

    /// A verification link for a new, unverified account.
    pub async fn verification_link(
        &self,
        user_id: Uuid,
    ) -> Result<Option<EmailLink>, AccountError> {
        let user: User = self.store.load(&user_id.to_string()).await?;
        if user.is_email_verified() {
            return Ok(None);
        }
        let Some(email) = self.email_of(user_id, &user).await? else {
            return Ok(None);
        };
        self.link(
            user_id,
            email,
            Purpose::VerifyEmail,
            self.links.verify_email,
            None,
        )
        .await
    }

    /// Another verification link, asked for by address (None when there is nothing to
    /// send: no such account, verified already, or one was sent a moment ago).
    pub async fn resend_verification(
        &self,
        email: &str,
    ) -> Result<Option<EmailLink>, AccountError> {
        match self.account_of(email).await? {
            Some((user_id, user)) if !user.is_email_verified() && !user.is_disabled() => {
                self.verification_link(user_id).await
            }
            _ => Ok(None),
        }
    }

    /// Confirms an address with its link.
    pub async fn verify_email(
        &self,
        token: &str,
        meta: &CommandMeta,
    ) -> Result<Token, AccountError> {
        let now = self.clock.now();
        let user_id = email_tokens::redeem(self.store.pool(), token, Purpose::VerifyEmail, now)
            .await
            .map_err(internal)?
            .ok_or(AccountError::InvalidToken)?;
        let meta = CommandMeta {
            actor: format!("user:{user_id}"),
            ..meta.clone()
        };
        Ok(self
            .store
            .execute::<User>(
                &user_id.to_string(),
                UserCommand::VerifyEmail { at: now },
                (),
                &meta,
            )
            .await?)
    }

    /// Asks to move the account to `new_email`, after the password: a link goes to the new
    /// address (returned), and the old address hears of it. Returns `None` when there is
    /// nothing to send (the same address, or a link sent a moment ago); an address that
    /// belongs to another account gets its owner an "already registered" note instead,
    /// so the reply never says whose it is.
    pub async fn request_email_change(
        &self,
        user_id: Uuid,
        new_email: &str,
    ) -> Result<EmailChange, AccountError> {
        let email = Email::parse(new_email).map_err(AccountError::BadEmail)?;
        let user: User = self.store.load(&user_id.to_string()).await?;
        let current = self.email_of(user_id, &user).await?;
        if current.as_deref() == Some(email.as_str()) {
            return Ok(EmailChange::Nothing);
        }
        let lookup = self.keys.master().email_lookup(email.as_str());
        let taken = crate::directory::holder_of(self.store.pool(), &lookup)
            .await
            .map_err(internal)?
            .is_some();
        if taken {
            return Ok(EmailChange::Taken {
                new_email: email.as_str().to_owned(),
            });
        }
        let key = self
            .keys
            .find(user_id)
            .await
            .map_err(internal)?
            .ok_or_else(|| internal("the account has no data key"))?;
        let pending = email_tokens::PendingEmail {
            sealed: seal(
                &key,
                user_id,
                sealed_fields::EMAIL,
                email.as_str().as_bytes(),
            )
            .as_str()
            .to_owned(),
            lookup,
        };
        let now = self.clock.now();
        let mut tx = self.store.pool().begin().await.map_err(internal)?;
        if email_tokens::issued_within(
            &mut tx,
            user_id,
            Purpose::ChangeEmail,
            now,
            self.links.spacing,
        )
        .await
        .map_err(internal)?
        {
            return Ok(EmailChange::Nothing);
        }
        let token =
            email_tokens::issue_change(&mut tx, user_id, &pending, now, self.links.verify_email)
                .await
                .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        Ok(EmailChange::Confirm {
            link: EmailLink {
                user_id,
                email: email.as_str().to_owned(),
                token,
            },
            old_email: current,
        })
    }

    /// Confirms an email change from the link sent to the new address. Returns the old
    /// and the new address.
    pub async fn confirm_email_change(
        &self,
        token: &str,
        meta: &CommandMeta,
    ) -> Result<(Uuid, Option<String>, String), AccountError> {
        let now = self.clock.now();
        let (user_id, pending) = email_tokens::redeem_change(self.store.pool(), token, now)
            .await
            .map_err(internal)?
            .ok_or(AccountError::InvalidToken)?;
        let user: User = self.store.load(&user_id.to_string()).await?;
        let old = self.email_of(user_id, &user).await?;
        let key = self
            .keys
            .find(user_id)
            .await
            .map_err(internal)?
            .ok_or(AccountError::InvalidToken)?;
        let sealed = domain::Sealed::from_envelope(pending.sealed);
        let new = key
            .open_text(user_id, sealed_fields::EMAIL, &sealed)
            .map_err(internal)?;
        let meta = CommandMeta {
            actor: format!("user:{user_id}"),
            ..meta.clone()
        };
        let command = UserCommand::ChangeEmail {
            email: sealed,
            email_lookup: pending.lookup,
            at: now,
        };
        match self
            .store
            .execute::<User>(&user_id.to_string(), command, (), &meta)
            .await
        {
            Ok(_) => Ok((user_id, old, new)),
            Err(CommandError::EmailTaken) => Err(AccountError::EmailTaken),
            Err(other) => Err(other.into()),
        }
    }

    /// A password-reset link for the account with this address, if it exists and is
    /// enabled (callers answer the same either way).
    pub async fn password_reset_link(
        &self,
        email: &str,
        meta: &CommandMeta,
    ) -> Result<Option<EmailLink>, AccountError> {
        let Some((user_id, user)) = self.account_of(email).await? else {
            return Ok(None);
        };
        if user.is_disabled() {
            return Ok(None);
        }
        let Some(address) = self.email_of(user_id, &user).await? else {
            return Ok(None);
        };
        let requested = UserEvent::PasswordResetRequested(PasswordResetRequested {
            user_id,
            requested_at: self.clock.now(),
        });
        self.link(
            user_id,
            address,
            Purpose::ResetPassword,
            self.links.reset_password,
            Some((requested, meta)),
        )
        .await
    }

    /// Sets a new password with a reset link: the link is spent, the address counts as
    /// verified, every session ends, and nobody is signed in (two-step sign-in, if on,
    /// still applies at the next sign-in). Returns the account and its address.
    pub async fn reset_password(
        &self,
        token: &str,
        new_password: &str,
        meta: &CommandMeta,
    ) -> Result<(Uuid, Option<String>), AccountError> {
        let now = self.clock.now();
        let user_id = email_tokens::peek(self.store.pool(), token, Purpose::ResetPassword, now)
            .await
            .map_err(internal)?
            .ok_or(AccountError::InvalidToken)?;
        let user: User = self.store.load(&user_id.to_string()).await?;
        let email = self.email_of(user_id, &user).await?;
        let handle = user
            .handle()
            .map(|h| h.as_str().to_owned())
            .unwrap_or_default();
        let password = Password::parse(new_password, &[email.as_deref().unwrap_or(""), &handle])
            .map_err(AccountError::WeakPassword)?;
        let key = self
            .keys
            .find(user_id)
            .await
            .map_err(internal)?
            .ok_or(AccountError::InvalidToken)?;
        let hash = self.hasher.hash(password).await.map_err(internal)?;
        // Spent only now, atomically: of two racing resets, one wins.
        email_tokens::redeem(self.store.pool(), token, Purpose::ResetPassword, now)
            .await
            .map_err(internal)?
            .ok_or(AccountError::InvalidToken)?;
        let meta = CommandMeta {
            actor: format!("user:{user_id}"),
            ..meta.clone()
        };
        let id = user_id.to_string();
        let change = UserCommand::ChangePassword(ChangePassword {
            password_hash: seal(&key, user_id, sealed_fields::PASSWORD_HASH, hash.as_bytes()),
            reason: PasswordChangeReason::Reset,
            at: now,
        });
        self.store.execute::<User>(&id, change, (), &meta).await?;
        self.store
            .execute::<User>(&id, UserCommand::VerifyEmail { at: now }, (), &meta)
            .await?;
        self.sessions
            .end_all(user_id, None, EndReason::PasswordReset, &meta)
            .await
            .map_err(internal)?;
        Ok((user_id, email))
    }

    /// Changes a person's password after checking the current one; every session of
    /// theirs ends (SECURITY 10: the API starts a fresh one for the person changing it).
    pub async fn change_password(
        &self,
        user_id: Uuid,
        current: &str,
        new: &str,
        address: IpAddr,
        meta: &CommandMeta,
    ) -> Result<Token, AccountError> {
        self.sign_ins
            .reauthenticate(user_id, current, address, meta)
            .await
            .map_err(|error| match error {
                SignInError::InvalidCredentials => AccountError::WrongPassword,
                SignInError::Throttled(wait) => AccountError::Throttled(wait),
                other => internal(other),
            })?;
        let user: User = self.store.load(&user_id.to_string()).await?;
        let key = self
            .keys
            .find(user_id)
            .await
            .map_err(internal)?
            .ok_or_else(|| internal("the account has no data key"))?;
        let email = match user.email() {
            Some(sealed) => key
                .open_text(user_id, sealed_fields::EMAIL, sealed)
                .map_err(internal)?,
            None => String::new(),
        };
        let handle = user
            .handle()
            .map(|h| h.as_str().to_owned())
            .unwrap_or_default();
        let password =
            Password::parse(new, &[&email, &handle]).map_err(AccountError::WeakPassword)?;
        let hash = self.hasher.hash(password).await.map_err(internal)?;
        let command = UserCommand::ChangePassword(ChangePassword {
            password_hash: seal(&key, user_id, sealed_fields::PASSWORD_HASH, hash.as_bytes()),
            reason: PasswordChangeReason::Changed,
            at: self.clock.now(),
        });
        let token = self
            .store
            .execute::<User>(&user_id.to_string(), command, (), meta)
            .await?;
        self.sessions
            .end_all(user_id, None, EndReason::PasswordChanged, meta)
            .await
            .map_err(internal)?;
        Ok(token)
    }

    /// Sets or removes the display name (sealed under the owner's key).
    pub async fn update_profile(
        &self,
        user_id: Uuid,
        display_name: Option<DisplayName>,
        meta: &CommandMeta,
    ) -> Result<Token, AccountError> {
        let sealed = match display_name {
            Some(name) => {
                let key = self
                    .keys
                    .find(user_id)
                    .await
                    .map_err(internal)?
                    .ok_or_else(|| internal("the account has no data key"))?;
                Some(seal(
                    &key,
                    user_id,
                    sealed_fields::DISPLAY_NAME,
                    name.as_str().as_bytes(),
                ))
            }
            None => None,
        };
        let command = UserCommand::UpdateProfile {
            display_name: sealed,
            at: self.clock.now(),
        };
        Ok(self
            .store
            .execute::<User>(&user_id.to_string(), command, (), meta)
            .await?)
    }

    /// Closes an account (by its owner, `by: None`, or an admin): the `UserDeleted` event
    /// frees the email address; then the data key is destroyed, so every sealed field of
    /// the account, in every event, replay and copy of the stream, is unreadable; its
    /// second-factor secrets, links and sessions go too.
    pub async fn delete_account(
        &self,
        user_id: Uuid,
        by: Option<Uuid>,
        meta: &CommandMeta,
    ) -> Result<Token, AccountError> {
        let command = UserCommand::Delete {
            by,
            at: self.clock.now(),
        };
        let token = self
            .store
            .execute::<User>(&user_id.to_string(), command, (), meta)
            .await?;
        self.erase(user_id, meta).await?;
        Ok(token)
    }

    /// Destroys what a deleted account leaves outside the log. Idempotent.
    async fn erase(&self, user_id: Uuid, meta: &CommandMeta) -> Result<(), AccountError> {
        self.sessions
            .end_all(user_id, None, EndReason::AccountDeleted, meta)
            .await
            .map_err(internal)?;
        let mut tx = self.store.pool().begin().await.map_err(internal)?;
        for table in [
            "totp_secrets",
            "recovery_codes",
            "email_tokens",
            "user_keys",
        ] {
            sqlx::query(&format!("delete from {table} where user_id = $1"))
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .map_err(internal)?;
        }
        // Sealed under the shredded key already; gone too, so nothing of it lingers.
        sqlx::query("delete from document_texts where owner = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        tracing::info!(%user_id, "account deleted and its data key destroyed");
        Ok(())
    }

    /// An admin's action on `target`; disabling and role changes end the target's
    /// sessions, so no token of theirs outlives the change.
    pub async fn administer(
        &self,
        admin_id: Uuid,
        target: Uuid,
        action: AdminAction,
        meta: &CommandMeta,
    ) -> Result<Token, AccountError> {
        let by = ByAdmin {
            admin_id,
            at: self.clock.now(),
        };
        let (command, ends) = match action {
            AdminAction::Disable => (UserCommand::Disable(by), Some(EndReason::AccountDisabled)),
            AdminAction::Enable => (UserCommand::Enable(by), None),
            AdminAction::SetRole(role) => (
                UserCommand::ChangeRole { role, by },
                Some(EndReason::RoleChanged),
            ),
            AdminAction::SetQuota(bytes) => (UserCommand::SetQuota { bytes, by }, None),
            AdminAction::AssignAi { provider, model } => (
                UserCommand::AssignAiModel {
                    provider,
                    model,
                    by,
                },
                None,
            ),
        };
        let token = self
            .store
            .execute::<User>(&target.to_string(), command, (), meta)
            .await?;
        if let Some(reason) = ends {
            self.sessions
                .end_all(target, None, reason, meta)
                .await
                .map_err(internal)?;
        }
        Ok(token)
    }
}
