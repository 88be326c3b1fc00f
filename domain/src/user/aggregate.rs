//! The user aggregate's commands, events and decisions.

use super::Handle;
use crate::{Aggregate, DomainEvent, Sealed};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }
}

/// Opens an account. Everything personal arrives sealed under the new user's data key;
/// the id is random, never derived from the email.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisterUser {
    pub user_id: Uuid,
    pub handle: Handle,
    pub email: Sealed,
    /// Keyed hash (HMAC) of the normalised email: finds and de-duplicates accounts without
    /// revealing the address.
    pub email_lookup: String,
    pub password_hash: Sealed,
    pub role: Role,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum UserCommand {
    Register(RegisterUser),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRegistered {
    pub user_id: Uuid,
    pub handle: Handle,
    pub email: Sealed,
    pub email_lookup: String,
    pub password_hash: Sealed,
    pub role: Role,
    pub registered_at: DateTime<Utc>,
}

/// Two-step sign-in was switched on (the first code confirmed the authenticator).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecondFactorEnabled {
    pub user_id: Uuid,
    pub recovery_codes: u32,
    pub enabled_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecondFactorDisabled {
    pub user_id: Uuid,
    pub disabled_at: DateTime<Utc>,
}

/// A new set of recovery codes replaced the old one (the old codes stopped working).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecoveryCodesRegenerated {
    pub user_id: Uuid,
    pub recovery_codes: u32,
    pub regenerated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum UserEvent {
    /// Version 2.0 added `role` (1.0 accounts were all ordinary users).
    UserRegistered(UserRegistered),
    SecondFactorEnabled(SecondFactorEnabled),
    SecondFactorDisabled(SecondFactorDisabled),
    RecoveryCodesRegenerated(RecoveryCodesRegenerated),
}

impl UserEvent {
    pub const USER_REGISTERED: &'static str = "UserRegistered";
}

impl DomainEvent for UserEvent {
    fn event_type(&self) -> &'static str {
        match self {
            UserEvent::UserRegistered(_) => Self::USER_REGISTERED,
            UserEvent::SecondFactorEnabled(_) => "SecondFactorEnabled",
            UserEvent::SecondFactorDisabled(_) => "SecondFactorDisabled",
            UserEvent::RecoveryCodesRegenerated(_) => "RecoveryCodesRegenerated",
        }
    }

    fn event_version(&self) -> &'static str {
        match self {
            UserEvent::UserRegistered(_) => "2.0",
            _ => "1.0",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UserError {
    /// 409: the account exists already (a retried or replayed command).
    #[error("this account is already registered")]
    AlreadyRegistered,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    user_id: Option<Uuid>,
    handle: Option<Handle>,
    role: Option<Role>,
    email: Option<Sealed>,
    password_hash: Option<Sealed>,
    #[serde(default)]
    second_factor: bool,
}

impl User {
    pub fn is_registered(&self) -> bool {
        self.user_id.is_some()
    }

    pub fn role(&self) -> Option<Role> {
        self.role
    }

    pub fn user_id(&self) -> Option<Uuid> {
        self.user_id
    }

    pub fn handle(&self) -> Option<&Handle> {
        self.handle.as_ref()
    }

    /// The email address, sealed under the user's data key.
    pub fn email(&self) -> Option<&Sealed> {
        self.email.as_ref()
    }

    /// Whether sign-in needs a second factor.
    pub fn has_second_factor(&self) -> bool {
        self.second_factor
    }

    /// The current password hash, sealed under the user's data key.
    pub fn password_hash(&self) -> Option<&Sealed> {
        self.password_hash.as_ref()
    }
}

impl Aggregate for User {
    const TYPE: &'static str = "user";
    type Command = UserCommand;
    type Event = UserEvent;
    type Error = UserError;
    type Services = ();

    fn handle(&self, command: UserCommand, _services: &()) -> Result<Vec<UserEvent>, UserError> {
        match command {
            UserCommand::Register(register) => {
                if self.is_registered() {
                    return Err(UserError::AlreadyRegistered);
                }
                Ok(vec![UserEvent::UserRegistered(UserRegistered {
                    user_id: register.user_id,
                    handle: register.handle,
                    email: register.email,
                    email_lookup: register.email_lookup,
                    password_hash: register.password_hash,
                    role: register.role,
                    registered_at: register.at,
                })])
            }
        }
    }

    fn apply(&mut self, event: UserEvent) {
        match event {
            UserEvent::UserRegistered(registered) => {
                self.user_id = Some(registered.user_id);
                self.handle = Some(registered.handle);
                self.role = Some(registered.role);
                self.email = Some(registered.email);
                self.password_hash = Some(registered.password_hash);
            }
            UserEvent::SecondFactorEnabled(_) => self.second_factor = true,
            UserEvent::SecondFactorDisabled(_) => self.second_factor = false,
            UserEvent::RecoveryCodesRegenerated(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::AggregateTest;
    use chrono::TimeZone;

    fn register(role: Role) -> RegisterUser {
        RegisterUser {
            user_id: Uuid::from_u128(7),
            handle: Handle::parse("ann").unwrap(),
            email: Sealed::from_envelope("v1.bm9uY2U.Y2lwaGVy".into()),
            email_lookup: "ab12".into(),
            password_hash: Sealed::from_envelope("v1.bm9uY2U.aGFzaA".into()),
            role,
            at: Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap(),
        }
    }

    fn registered(role: Role) -> UserEvent {
        let command = register(role);
        UserEvent::UserRegistered(UserRegistered {
            user_id: command.user_id,
            handle: command.handle,
            email: command.email,
            email_lookup: command.email_lookup,
            password_hash: command.password_hash,
            role,
            registered_at: command.at,
        })
    }

    #[test]
    fn a_new_user_registers() {
        AggregateTest::<User>::with(())
            .given_no_previous_events()
            .when(UserCommand::Register(register(Role::User)))
            .then_expect_events(vec![registered(Role::User)]);
    }

    #[test]
    fn the_first_admin_registers_as_admin() {
        AggregateTest::<User>::with(())
            .given_no_previous_events()
            .when(UserCommand::Register(register(Role::Admin)))
            .then_expect_events(vec![registered(Role::Admin)]);
    }

    #[test]
    fn registering_twice_is_refused() {
        AggregateTest::<User>::with(())
            .given(vec![registered(Role::User)])
            .when(UserCommand::Register(register(Role::User)))
            .then_expect_error(UserError::AlreadyRegistered);
    }

    #[test]
    fn applying_registration_records_role() {
        let mut user = User::default();
        user.apply(registered(Role::Admin));
        assert!(user.is_registered());
        assert_eq!(user.role(), Some(Role::Admin));
    }

    #[test]
    fn the_second_factor_follows_its_events() {
        let mut user = User::default();
        user.apply(registered(Role::User));
        assert!(!user.has_second_factor());
        let at = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
        user.apply(UserEvent::SecondFactorEnabled(SecondFactorEnabled {
            user_id: Uuid::from_u128(7),
            recovery_codes: 10,
            enabled_at: at,
        }));
        assert!(user.has_second_factor());
        user.apply(UserEvent::SecondFactorDisabled(SecondFactorDisabled {
            user_id: Uuid::from_u128(7),
            disabled_at: at,
        }));
        assert!(!user.has_second_factor());
    }

    #[test]
    fn events_serialise_with_their_type_as_tag() {
        let json = serde_json::to_value(registered(Role::User)).unwrap();
        assert_eq!(json["UserRegistered"]["handle"], "ann");
        assert_eq!(json["UserRegistered"]["role"], "user");
    }
}
