//! Asking a signed-in person for their password again before a sensitive change (TOTP
//! set-up, new recovery codes, switching two-step off, leaving). Wrong passwords count
//! against the account like sign-in failures.

use crate::auth::Authenticated;
use crate::{ApiError, AppState};
use commands::auth::sign_in::SignInError;
use commands::CommandMeta;
use std::collections::BTreeMap;
use std::net::IpAddr;

pub async fn confirm_password(
    state: &AppState,
    who: &Authenticated,
    address: IpAddr,
    password: &str,
    meta: &CommandMeta,
) -> Result<(), ApiError> {
    state
        .sign_ins
        .reauthenticate(who.user_id, password, address, meta)
        .await
        .map_err(|error| match error {
            SignInError::InvalidCredentials => ApiError::InvalidInput {
                fields: BTreeMap::from([("password", "That is not your password.".to_owned())]),
            },
            SignInError::Throttled(wait) => ApiError::throttled(wait),
            other => ApiError::internal(other),
        })
}
