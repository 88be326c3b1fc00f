//! `docuvault admin`: administration from the command line.

use crate::config::Settings;
use crate::{database, master_key};
use anyhow::{bail, Context};
use commands::registration::{
    RegistrationError, RegistrationForm, RegistrationOutcome, Registrations,
};
use commands::{CommandMeta, EventStore, PasswordHasher};
use crypto::KeyRing;
use domain::user::Role;
use domain::Clock;
use std::sync::Arc;
use uuid::Uuid;

/// Creates an administrator account (ADM-1: the first admin comes from here).
pub async fn create_admin(
    settings: &Settings,
    email: &str,
    handle: &str,
    password: &str,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Uuid> {
    let master = master_key::load(settings, false)?;
    let pool = database::runtime_pool(&settings.database_url, 2).await?;
    master_key::verify(&pool, &master).await?;
    let registrations = Registrations::new(
        EventStore::new(pool.clone()),
        KeyRing::new(pool.clone(), master),
        PasswordHasher::default(),
        clock,
    );
    let meta = CommandMeta::new("cli:admin-create", Uuid::new_v4().to_string());
    let outcome = registrations
        .register(
            RegistrationForm {
                email,
                handle,
                password,
            },
            Role::Admin,
            true,
            &meta,
        )
        .await;
    pool.close().await;
    match outcome {
        Ok(RegistrationOutcome::Registered { user_id, .. }) => Ok(user_id),
        Ok(RegistrationOutcome::EmailInUse) => bail!("an account with that email exists already"),
        Err(RegistrationError::HandleTaken) => bail!("the handle {handle:?} is taken"),
        Err(RegistrationError::Invalid(problems)) => {
            let mut lines = Vec::new();
            if let Some(p) = problems.email {
                lines.push(format!("email: {p}"));
            }
            if let Some(p) = problems.handle {
                lines.push(format!("handle: {p}"));
            }
            if let Some(p) = problems.password {
                lines.push(format!("password: {p}"));
            }
            bail!("{}", lines.join("; "))
        }
        Err(RegistrationError::Internal(detail)) => {
            Err(anyhow::anyhow!(detail)).context("creating the admin")
        }
    }
}
