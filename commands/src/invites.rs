//! Closed registration and invitations (ADM-1).
//!
//! Whether self-registration is open lives in the `instance` aggregate; invitations in
//! the `invites` table with their events recorded beside it (ADR 4). An invitation is a
//! 256-bit token, kept as SHA-256, bound to the keyed hash of one address.

use crate::facts::record;
use crate::{CommandError, CommandMeta, EventStore};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use crypto::KeyRing;
use domain::instance::invite::{InviteAccepted, InviteEvent, InviteSent, AGGREGATE_TYPE};
use domain::instance::{Instance, InstanceCommand, SETTINGS_ID};
use domain::user::{Email, Role};
use domain::Clock;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use thiserror::Error;
use uuid::Uuid;
use zeroize::Zeroizing;

#[derive(Debug, Error)]
pub enum InviteError {
    #[error("that is not an email address")]
    BadEmail,
    #[error("that address has an account already")]
    AlreadyRegistered,
    #[error("invitation failure: {0}")]
    Internal(String),
}

fn internal(error: impl std::fmt::Display) -> InviteError {
    InviteError::Internal(error.to_string())
}

/// A sent invitation, for the email.
pub struct Invitation {
    pub invite_id: Uuid,
    pub email: String,
    pub token: Zeroizing<String>,
    pub expires_at: DateTime<Utc>,
}

/// What a valid invitation grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub invite_id: Uuid,
    pub role: Role,
}

#[derive(Clone)]
pub struct Invites {
    store: EventStore,
    keys: KeyRing,
    clock: Arc<dyn Clock>,
    lifetime: Duration,
}

fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

impl Invites {
    pub fn new(
        store: EventStore,
        keys: KeyRing,
        clock: Arc<dyn Clock>,
        lifetime: Duration,
    ) -> Self {
        Self {
            store,
            keys,
            clock,
            lifetime,
        }
    }

    pub async fn self_registration_open(
        &self,
    ) -> Result<bool, CommandError<domain::instance::InstanceError>> {
        let instance: Instance = self.store.load(SETTINGS_ID).await?;
        Ok(instance.self_registration_open())
    }

    pub async fn set_self_registration(
        &self,
        open: bool,
        admin_id: Uuid,
        meta: &CommandMeta,
    ) -> Result<(), CommandError<domain::instance::InstanceError>> {
        let command = InstanceCommand::SetSelfRegistration {
            open,
            by: admin_id,
            at: self.clock.now(),
        };
        self.store
            .execute::<Instance>(SETTINGS_ID, command, (), meta)
            .await
            .map(|_| ())
    }

    /// Invites `email` with `role`; a newer invitation to the same address replaces an
    /// unused older one.
    pub async fn send(
        &self,
        admin_id: Uuid,
        email: &str,
        role: Role,
        meta: &CommandMeta,
    ) -> Result<Invitation, InviteError> {
        let email = Email::parse(email).map_err(|_| InviteError::BadEmail)?;
        let lookup = self.keys.master().email_lookup(email.as_str());
        let now = self.clock.now();
        let taken = crate::directory::holder_of(self.store.pool(), &lookup)
            .await
            .map_err(internal)?
            .is_some();
        if taken {
            return Err(InviteError::AlreadyRegistered);
        }
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token = Zeroizing::new(URL_SAFE_NO_PAD.encode(bytes));
        let invite_id = Uuid::new_v4();
        let expires_at = now + self.lifetime;
        let mut tx = self.store.pool().begin().await.map_err(internal)?;
        sqlx::query("delete from invites where email_lookup = $1 and accepted_at is null")
            .bind(&lookup)
            .execute(&mut *tx)
            .await
            .map_err(internal)?;
        sqlx::query(
            "insert into invites (invite_id, token_hash, email_lookup, role, invited_by, created_at, expires_at)
             values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(invite_id)
        .bind(digest(&token))
        .bind(&lookup)
        .bind(role.as_str())
        .bind(admin_id)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await
        .map_err(internal)?;
        let event = InviteEvent::InviteSent(InviteSent {
            invite_id,
            role,
            by: admin_id,
            expires_at,
            sent_at: now,
        });
        record(
            &mut tx,
            AGGREGATE_TYPE,
            &invite_id.to_string(),
            &event,
            meta,
        )
        .await
        .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        Ok(Invitation {
            invite_id,
            email: email.as_str().to_owned(),
            token,
            expires_at,
        })
    }

    /// The grant of an unused, unexpired invitation for exactly this address.
    pub async fn check(&self, token: &str, email: &str) -> Result<Option<Grant>, InviteError> {
        let Ok(email) = Email::parse(email) else {
            return Ok(None);
        };
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        let lookup = self.keys.master().email_lookup(email.as_str());
        let row: Option<(Uuid, String)> = sqlx::query_as(
            "select invite_id, role from invites
              where token_hash = $1 and email_lookup = $2 and accepted_at is null and expires_at > $3",
        )
        .bind(digest(token))
        .bind(lookup)
        .bind(self.clock.now())
        .fetch_optional(self.store.pool())
        .await
        .map_err(internal)?;
        Ok(row.map(|(invite_id, role)| Grant {
            invite_id,
            role: if role == "admin" {
                Role::Admin
            } else {
                Role::User
            },
        }))
    }

    /// Marks an invitation used by the account it created.
    pub async fn accepted(
        &self,
        invite_id: Uuid,
        user_id: Uuid,
        meta: &CommandMeta,
    ) -> Result<(), InviteError> {
        let now = self.clock.now();
        let mut tx = self.store.pool().begin().await.map_err(internal)?;
        let marked = sqlx::query(
            "update invites set accepted_at = $2, accepted_by = $3
              where invite_id = $1 and accepted_at is null",
        )
        .bind(invite_id)
        .bind(now)
        .bind(user_id)
        .execute(&mut *tx)
        .await
        .map_err(internal)?
        .rows_affected();
        if marked == 1 {
            let event = InviteEvent::InviteAccepted(InviteAccepted {
                invite_id,
                user_id,
                accepted_at: now,
            });
            record(
                &mut tx,
                AGGREGATE_TYPE,
                &invite_id.to_string(),
                &event,
                meta,
            )
            .await
            .map_err(internal)?;
        }
        tx.commit().await.map_err(internal)
    }
}
