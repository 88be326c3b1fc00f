//! Changes to existing accounts: a person's own password change, and admins' actions on
//! other accounts (ADM-1). Each is a user-aggregate command; the ones that must end
//! sessions (SECURITY 10) end them right after.

use crate::auth::sessions::Sessions;
use crate::auth::sign_in::{SignInError, SignIns};
use crate::{CommandError, CommandMeta, EventStore, PasswordHasher};
use chrono::Duration;
use crypto::{seal, KeyRing};
use domain::session::EndReason;
use domain::user::{
    sealed_fields, AiProvider, ByAdmin, ChangePassword, ModelName, Password, PasswordChangeReason,
    PasswordError, Role, User, UserCommand, UserError,
};
use domain::Clock;
use eventlog::Token;
use std::net::IpAddr;
use std::sync::Arc;
use thiserror::Error;
use uuid::Uuid;

#[derive(Debug, Error)]
pub enum AccountError {
    #[error("the current password is not right")]
    WrongPassword,
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
}

impl Accounts {
    pub fn new(
        store: EventStore,
        keys: KeyRing,
        hasher: PasswordHasher,
        sessions: Sessions,
        sign_ins: SignIns,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            keys,
            hasher,
            sessions,
            sign_ins,
            clock,
        }
    }

    /// Changes a person's password after checking the current one; every other session
    /// of theirs ends (the one they are using stays).
    #[allow(clippy::too_many_arguments)]
    pub async fn change_password(
        &self,
        user_id: Uuid,
        session_id: Uuid,
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
            .end_all(user_id, Some(session_id), EndReason::PasswordChanged, meta)
            .await
            .map_err(internal)?;
        Ok(token)
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
