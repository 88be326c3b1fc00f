//! Finding an account by its email address. Addresses are kept only as keyed hashes
//! (`email_reservations`, filled and emptied by the event store's trigger), so every
//! lookup goes through the hash.

use crate::{CommandError, EventStore};
use domain::user::{User, UserError};
use sqlx::PgPool;
use uuid::Uuid;

/// The account holding the address with keyed hash `lookup`, if any.
pub async fn holder_of(pool: &PgPool, lookup: &str) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("select user_id from email_reservations where email_lookup = $1")
        .bind(lookup)
        .fetch_optional(pool)
        .await
}

/// The registered account holding `lookup`, with its state.
pub async fn account_with(
    store: &EventStore,
    lookup: &str,
) -> Result<Option<(Uuid, User)>, CommandError<UserError>> {
    let Some(user_id) = holder_of(store.pool(), lookup)
        .await
        .map_err(|error| CommandError::Store(error.to_string()))?
    else {
        return Ok(None);
    };
    let user: User = store.load(&user_id.to_string()).await?;
    Ok(user.is_registered().then_some((user_id, user)))
}
