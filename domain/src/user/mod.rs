//! The user aggregate: an account, from registration on.

mod administration;
mod aggregate;
mod email;
mod handle;
mod password;
mod profile;

pub use administration::{
    AiModelAssigned, AiProvider, ByAdmin, ChangePassword, ModelName, ModelNameError,
    PasswordChangeReason, PasswordChanged, QuotaSet, RoleChanged, UserDisabled, UserEnabled,
};
pub use aggregate::{
    EmailChanged, EmailVerified, PasswordResetRequested, RecoveryCodesRegenerated, RegisterUser,
    Role, SecondFactorDisabled, SecondFactorEnabled, User, UserCommand, UserError, UserEvent,
    UserRegistered,
};
pub use email::{Email, EmailError};
pub use handle::{Handle, HandleError};
pub use password::{Password, PasswordError};
pub use profile::{DisplayName, DisplayNameError, ProfileUpdated, UserDeleted};

/// Names of the sealed fields of user events; each envelope is bound to its field.
pub mod sealed_fields {
    pub const EMAIL: &str = "email";
    pub const PASSWORD_HASH: &str = "password_hash";
    /// Not in events: the TOTP seed in `totp_secrets`, sealed the same way.
    pub const TOTP_SEED: &str = "totp_seed";
    pub const DISPLAY_NAME: &str = "display_name";
}

/// What a registration form gets wrong, field by field.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RegistrationProblems {
    pub email: Option<EmailError>,
    pub handle: Option<HandleError>,
    pub password: Option<PasswordError>,
}

/// A registration form whose fields all parsed.
#[derive(Debug)]
pub struct ValidRegistration {
    pub email: Email,
    pub handle: Handle,
    pub password: Password,
}

/// Parses the three fields of a registration form, reporting every problem at once.
pub fn parse_registration(
    email: &str,
    handle: &str,
    password: &str,
) -> Result<ValidRegistration, RegistrationProblems> {
    let email = Email::parse(email);
    let handle = Handle::parse(handle);
    // The password must not be guessable from the other two fields.
    let context: Vec<&str> = [
        email.as_ref().ok().map(Email::as_str),
        handle.as_ref().ok().map(Handle::as_str),
    ]
    .into_iter()
    .flatten()
    .collect();
    let password = Password::parse(password, &context);
    match (email, handle, password) {
        (Ok(email), Ok(handle), Ok(password)) => Ok(ValidRegistration {
            email,
            handle,
            password,
        }),
        (email, handle, password) => Err(RegistrationProblems {
            email: email.err(),
            handle: handle.err(),
            password: password.err(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let problems = parse_registration("nope", "x", "short").unwrap_err();
        assert_eq!(problems.email, Some(EmailError::Malformed));
        assert_eq!(problems.handle, Some(HandleError::TooShort));
        assert_eq!(problems.password, Some(PasswordError::TooShort));
    }

    #[test]
    fn a_password_made_of_the_handle_is_refused() {
        let problems = parse_registration("someone@example.org", "marmalade_sky", "marmalade_sky1")
            .unwrap_err();
        assert!(matches!(
            problems.password,
            Some(PasswordError::TooGuessable { .. })
        ));
    }

    #[test]
    fn a_good_form_parses() {
        let form = parse_registration(
            " Ann@Example.ORG ",
            "Ann_42",
            "correct horse battery staple",
        )
        .unwrap();
        assert_eq!(form.email.as_str(), "ann@example.org");
        assert_eq!(form.handle.as_str(), "ann_42");
    }
}
