//! Registering an account (AUTH-1): parse, hash, seal, append.

use crate::{CommandError, CommandMeta, EventStore, PasswordHasher};
use crypto::{seal, KeyRing};
use domain::user::{
    parse_registration, sealed_fields, RegisterUser, RegistrationProblems, Role, User, UserCommand,
};
use domain::Clock;
use eventlog::Token;
use std::sync::Arc;
use thiserror::Error;
use uuid::Uuid;

/// The fields of a registration form, as typed.
pub struct RegistrationForm<'a> {
    pub email: &'a str,
    pub handle: &'a str,
    pub password: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrationOutcome {
    Registered {
        user_id: Uuid,
        token: Token,
    },
    /// The email belongs to an account already. Callers must answer exactly as for a
    /// fresh registration, so addresses cannot be enumerated.
    EmailInUse,
}

#[derive(Debug, Error)]
pub enum RegistrationError {
    #[error("the form has problems")]
    Invalid(RegistrationProblems),
    #[error("that handle is already taken")]
    HandleTaken,
    #[error("registration failed: {0}")]
    Internal(String),
}

#[derive(Clone)]
pub struct Registrations {
    store: EventStore,
    keys: KeyRing,
    hasher: PasswordHasher,
    clock: Arc<dyn Clock>,
}

impl Registrations {
    pub fn new(
        store: EventStore,
        keys: KeyRing,
        hasher: PasswordHasher,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            keys,
            hasher,
            clock,
        }
    }

    /// Opens an account. `email_verified` is for accounts an admin or the command line
    /// creates; self-registration confirms the address by link before the first sign-in.
    #[tracing::instrument(skip_all, fields(role = role.as_str()))]
    pub async fn register(
        &self,
        form: RegistrationForm<'_>,
        role: Role,
        email_verified: bool,
        meta: &CommandMeta,
    ) -> Result<RegistrationOutcome, RegistrationError> {
        let valid = parse_registration(form.email, form.handle, form.password)
            .map_err(RegistrationError::Invalid)?;
        let user_id = Uuid::new_v4();
        let password_hash = self.hasher.hash(valid.password).await.map_err(internal)?;
        let data_key = self.keys.create(user_id).await.map_err(internal)?;
        let command = RegisterUser {
            user_id,
            handle: valid.handle,
            email: seal(
                &data_key,
                user_id,
                sealed_fields::EMAIL,
                valid.email.as_str().as_bytes(),
            ),
            email_lookup: self.keys.master().email_lookup(valid.email.as_str()),
            password_hash: seal(
                &data_key,
                user_id,
                sealed_fields::PASSWORD_HASH,
                password_hash.as_bytes(),
            ),
            role,
            email_verified,
            at: self.clock.now(),
        };
        let result = self
            .store
            .execute::<User>(
                &user_id.to_string(),
                UserCommand::Register(command),
                (),
                meta,
            )
            .await;
        if result.is_err() {
            // Nothing was sealed under the key that reached the log: drop it.
            if let Err(error) = self.keys.shred(user_id).await {
                tracing::warn!(%error, "could not remove the data key of a failed registration");
            }
        }
        match result {
            Ok(token) => Ok(RegistrationOutcome::Registered { user_id, token }),
            Err(CommandError::EmailTaken) => Ok(RegistrationOutcome::EmailInUse),
            Err(CommandError::HandleTaken) => Err(RegistrationError::HandleTaken),
            Err(other) => Err(internal(other)),
        }
    }
}

fn internal(error: impl std::fmt::Display) -> RegistrationError {
    RegistrationError::Internal(error.to_string())
}
