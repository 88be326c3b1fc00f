//! What can go wrong when executing a command.

use cqrs_es::AggregateError;
use thiserror::Error;

/// SQLSTATEs raised by the uniqueness trigger (migration `user_uniqueness`).
const HANDLE_TAKEN: &str = "DV001";
const EMAIL_TAKEN: &str = "DV002";

#[derive(Debug, Error)]
pub enum CommandError<E: std::error::Error> {
    /// A domain rule refused the command.
    #[error(transparent)]
    Rejected(E),
    /// Another command on the same aggregate committed first; nothing was written.
    #[error("another change to this item happened at the same time")]
    Conflict,
    #[error("that handle is already taken")]
    HandleTaken,
    #[error("that email is already registered")]
    EmailTaken,
    /// The store failed; details are logged, not shown.
    #[error("event store failure: {0}")]
    Store(String),
}

impl<E: std::error::Error> From<AggregateError<E>> for CommandError<E> {
    fn from(error: AggregateError<E>) -> Self {
        match error {
            AggregateError::UserError(rejection) => Self::Rejected(rejection),
            AggregateError::AggregateConflict => Self::Conflict,
            AggregateError::UnexpectedError(source) => {
                let code = source
                    .downcast_ref::<sqlx::Error>()
                    .and_then(|sql| sql.as_database_error())
                    .and_then(|db| db.code().map(|code| code.into_owned()));
                match code.as_deref() {
                    Some(HANDLE_TAKEN) => Self::HandleTaken,
                    Some(EMAIL_TAKEN) => Self::EmailTaken,
                    _ => Self::Store(source.to_string()),
                }
            }
            AggregateError::DatabaseConnectionError(source)
            | AggregateError::DeserializationError(source) => Self::Store(source.to_string()),
        }
    }
}
