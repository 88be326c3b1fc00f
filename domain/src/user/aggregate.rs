//! The user aggregate's commands, events and decisions.

use super::administration::{
    AiModelAssigned, AiProvider, ByAdmin, ChangePassword, ModelName, PasswordChanged, QuotaSet,
    RoleChanged, UserDisabled, UserEnabled,
};
use super::profile::{ProfileUpdated, UserDeleted};
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
    /// True when an admin or the command line created the account (they vouch for the
    /// address); self-registered accounts confirm it by an emailed link first.
    pub email_verified: bool,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum UserCommand {
    Register(RegisterUser),
    /// Marks the address as confirmed; nothing happens when it is already.
    VerifyEmail {
        at: DateTime<Utc>,
    },
    /// Replaces the address with one its owner confirmed.
    ChangeEmail {
        email: Sealed,
        email_lookup: String,
        at: DateTime<Utc>,
    },
    ChangePassword(ChangePassword),
    UpdateProfile {
        display_name: Option<Sealed>,
        at: DateTime<Utc>,
    },
    /// Closes the account for good: by its owner (`by: None`) or an admin.
    Delete {
        by: Option<Uuid>,
        at: DateTime<Utc>,
    },
    Disable(ByAdmin),
    Enable(ByAdmin),
    ChangeRole {
        role: Role,
        by: ByAdmin,
    },
    SetQuota {
        bytes: Option<u64>,
        by: ByAdmin,
    },
    AssignAiModel {
        provider: Option<AiProvider>,
        model: Option<ModelName>,
        by: ByAdmin,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRegistered {
    pub user_id: Uuid,
    pub handle: Handle,
    pub email: Sealed,
    pub email_lookup: String,
    pub password_hash: Sealed,
    pub role: Role,
    /// Added in 3.0; accounts registered before verification existed count as verified.
    pub email_verified: bool,
    pub registered_at: DateTime<Utc>,
}

/// The owner proved the address is theirs (a verification or password-reset link).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailVerified {
    pub user_id: Uuid,
    pub verified_at: DateTime<Utc>,
}

/// The account's address changed (confirmed from the new address).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailChanged {
    pub user_id: Uuid,
    pub email: Sealed,
    pub email_lookup: String,
    pub changed_at: DateTime<Utc>,
}

/// Someone asked for a password-reset link for this account (the link itself, a secret,
/// is never in an event).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasswordResetRequested {
    pub user_id: Uuid,
    pub requested_at: DateTime<Utc>,
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
    /// Version 2.0 added `role` (1.0 accounts were all ordinary users); 3.0 added
    /// `email_verified`.
    UserRegistered(UserRegistered),
    EmailVerified(EmailVerified),
    EmailChanged(EmailChanged),
    PasswordResetRequested(PasswordResetRequested),
    ProfileUpdated(ProfileUpdated),
    UserDeleted(UserDeleted),
    SecondFactorEnabled(SecondFactorEnabled),
    SecondFactorDisabled(SecondFactorDisabled),
    RecoveryCodesRegenerated(RecoveryCodesRegenerated),
    PasswordChanged(PasswordChanged),
    UserDisabled(UserDisabled),
    UserEnabled(UserEnabled),
    RoleChanged(RoleChanged),
    QuotaSet(QuotaSet),
    AiModelAssigned(AiModelAssigned),
}

impl UserEvent {
    pub const USER_REGISTERED: &'static str = "UserRegistered";
}

impl DomainEvent for UserEvent {
    fn event_type(&self) -> &'static str {
        match self {
            UserEvent::UserRegistered(_) => Self::USER_REGISTERED,
            UserEvent::EmailVerified(_) => "EmailVerified",
            UserEvent::EmailChanged(_) => "EmailChanged",
            UserEvent::PasswordResetRequested(_) => "PasswordResetRequested",
            UserEvent::ProfileUpdated(_) => "ProfileUpdated",
            UserEvent::UserDeleted(_) => "UserDeleted",
            UserEvent::SecondFactorEnabled(_) => "SecondFactorEnabled",
            UserEvent::SecondFactorDisabled(_) => "SecondFactorDisabled",
            UserEvent::RecoveryCodesRegenerated(_) => "RecoveryCodesRegenerated",
            UserEvent::PasswordChanged(_) => "PasswordChanged",
            UserEvent::UserDisabled(_) => "UserDisabled",
            UserEvent::UserEnabled(_) => "UserEnabled",
            UserEvent::RoleChanged(_) => "RoleChanged",
            UserEvent::QuotaSet(_) => "QuotaSet",
            UserEvent::AiModelAssigned(_) => "AiModelAssigned",
        }
    }

    fn event_version(&self) -> &'static str {
        match self {
            UserEvent::UserRegistered(_) => "3.0",
            _ => "1.0",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UserError {
    /// 409: the account exists already (a retried or replayed command).
    #[error("this account is already registered")]
    AlreadyRegistered,
    /// 404: there is no such account.
    #[error("there is no such account")]
    NotRegistered,
    #[error("the account is disabled already")]
    AlreadyDisabled,
    #[error("the account is not disabled")]
    NotDisabled,
    #[error("the account has that role already")]
    SameRole,
    /// Admins cannot disable or demote themselves (and so lock everyone out).
    #[error("admins cannot do this to their own account")]
    OwnAccount,
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
    #[serde(default)]
    disabled: bool,
    #[serde(default)]
    email_verified: bool,
    #[serde(default)]
    display_name: Option<Sealed>,
    #[serde(default)]
    deleted: bool,
    /// Set by an admin; `None`: the server's default.
    #[serde(default)]
    quota_bytes: Option<u64>,
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

    pub fn is_disabled(&self) -> bool {
        self.disabled
    }

    pub fn is_email_verified(&self) -> bool {
        self.email_verified
    }

    /// A deleted account stays registered (its id and handle are never reused) but
    /// nothing else happens to it.
    pub fn is_deleted(&self) -> bool {
        self.deleted
    }

    /// The display name, sealed under the user's data key.
    pub fn display_name(&self) -> Option<&Sealed> {
        self.display_name.as_ref()
    }

    /// Whether sign-in needs a second factor.
    pub fn has_second_factor(&self) -> bool {
        self.second_factor
    }

    /// The storage quota an admin set, if any (else the server's default applies).
    pub fn quota_bytes(&self) -> Option<u64> {
        self.quota_bytes
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
        let Some(user_id) = self.user_id else {
            return match command {
                UserCommand::Register(register) => Ok(vec![Self::registered(register)]),
                _ => Err(UserError::NotRegistered),
            };
        };
        if self.deleted {
            return Err(match command {
                UserCommand::Register(_) => UserError::AlreadyRegistered,
                _ => UserError::NotRegistered,
            });
        }
        let not_self = |by: &ByAdmin| {
            if by.admin_id == user_id {
                Err(UserError::OwnAccount)
            } else {
                Ok(())
            }
        };
        match command {
            UserCommand::Register(_) => Err(UserError::AlreadyRegistered),
            UserCommand::VerifyEmail { at } => Ok(if self.email_verified {
                Vec::new()
            } else {
                vec![UserEvent::EmailVerified(EmailVerified {
                    user_id,
                    verified_at: at,
                })]
            }),
            UserCommand::ChangeEmail {
                email,
                email_lookup,
                at,
            } => Ok(vec![UserEvent::EmailChanged(EmailChanged {
                user_id,
                email,
                email_lookup,
                changed_at: at,
            })]),
            UserCommand::UpdateProfile { display_name, at } => {
                Ok(vec![UserEvent::ProfileUpdated(ProfileUpdated {
                    user_id,
                    display_name,
                    updated_at: at,
                })])
            }
            UserCommand::Delete { by, at } => {
                if by == Some(user_id) {
                    return Err(UserError::OwnAccount);
                }
                Ok(vec![UserEvent::UserDeleted(UserDeleted {
                    user_id,
                    by,
                    deleted_at: at,
                })])
            }
            UserCommand::ChangePassword(change) => {
                Ok(vec![UserEvent::PasswordChanged(PasswordChanged {
                    user_id,
                    password_hash: change.password_hash,
                    reason: change.reason,
                    changed_at: change.at,
                })])
            }
            UserCommand::Disable(by) => {
                not_self(&by)?;
                if self.disabled {
                    return Err(UserError::AlreadyDisabled);
                }
                Ok(vec![UserEvent::UserDisabled(UserDisabled {
                    user_id,
                    by: by.admin_id,
                    disabled_at: by.at,
                })])
            }
            UserCommand::Enable(by) => {
                if !self.disabled {
                    return Err(UserError::NotDisabled);
                }
                Ok(vec![UserEvent::UserEnabled(UserEnabled {
                    user_id,
                    by: by.admin_id,
                    enabled_at: by.at,
                })])
            }
            UserCommand::ChangeRole { role, by } => {
                not_self(&by)?;
                if self.role == Some(role) {
                    return Err(UserError::SameRole);
                }
                Ok(vec![UserEvent::RoleChanged(RoleChanged {
                    user_id,
                    role,
                    by: by.admin_id,
                    changed_at: by.at,
                })])
            }
            UserCommand::SetQuota { bytes, by } => Ok(vec![UserEvent::QuotaSet(QuotaSet {
                user_id,
                bytes,
                by: by.admin_id,
                set_at: by.at,
            })]),
            UserCommand::AssignAiModel {
                provider,
                model,
                by,
            } => Ok(vec![UserEvent::AiModelAssigned(AiModelAssigned {
                user_id,
                provider,
                model,
                by: by.admin_id,
                assigned_at: by.at,
            })]),
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
                self.email_verified = registered.email_verified;
            }
            UserEvent::EmailVerified(_) => self.email_verified = true,
            UserEvent::EmailChanged(changed) => {
                self.email = Some(changed.email);
                self.email_verified = true;
            }
            UserEvent::ProfileUpdated(updated) => self.display_name = updated.display_name,
            UserEvent::UserDeleted(_) => {
                self.deleted = true;
                self.email = None;
                self.password_hash = None;
                self.display_name = None;
            }
            UserEvent::SecondFactorEnabled(_) => self.second_factor = true,
            UserEvent::SecondFactorDisabled(_) => self.second_factor = false,
            UserEvent::PasswordChanged(changed) => self.password_hash = Some(changed.password_hash),
            UserEvent::UserDisabled(_) => self.disabled = true,
            UserEvent::UserEnabled(_) => self.disabled = false,
            UserEvent::RoleChanged(changed) => self.role = Some(changed.role),
            UserEvent::RecoveryCodesRegenerated(_)
            | UserEvent::PasswordResetRequested(_)
            | UserEvent::AiModelAssigned(_) => {}
            UserEvent::QuotaSet(set) => self.quota_bytes = set.bytes,
        }
    }
}

impl User {
    fn registered(register: RegisterUser) -> UserEvent {
        UserEvent::UserRegistered(UserRegistered {
            user_id: register.user_id,
            handle: register.handle,
            email: register.email,
            email_lookup: register.email_lookup,
            password_hash: register.password_hash,
            role: register.role,
            email_verified: register.email_verified,
            registered_at: register.at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::AggregateTest;
    use crate::user::PasswordChangeReason;
    use chrono::TimeZone;

    fn register(role: Role) -> RegisterUser {
        RegisterUser {
            user_id: Uuid::from_u128(7),
            handle: Handle::parse("ann").unwrap(),
            email: Sealed::from_envelope("v1.bm9uY2U.Y2lwaGVy".into()),
            email_lookup: "ab12".into(),
            password_hash: Sealed::from_envelope("v1.bm9uY2U.aGFzaA".into()),
            role,
            email_verified: false,
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
            email_verified: false,
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

    fn admin_at(minute: u32) -> ByAdmin {
        ByAdmin {
            admin_id: Uuid::from_u128(1),
            at: Utc.with_ymd_and_hms(2026, 11, 23, 10, minute, 0).unwrap(),
        }
    }

    fn disabled() -> UserEvent {
        UserEvent::UserDisabled(UserDisabled {
            user_id: Uuid::from_u128(7),
            by: Uuid::from_u128(1),
            disabled_at: admin_at(0).at,
        })
    }

    #[test]
    fn an_admin_disables_and_enables_an_account() {
        AggregateTest::<User>::with(())
            .given(vec![registered(Role::User)])
            .when(UserCommand::Disable(admin_at(0)))
            .then_expect_events(vec![disabled()]);
        AggregateTest::<User>::with(())
            .given(vec![registered(Role::User), disabled()])
            .when(UserCommand::Disable(admin_at(1)))
            .then_expect_error(UserError::AlreadyDisabled);
        AggregateTest::<User>::with(())
            .given(vec![registered(Role::User), disabled()])
            .when(UserCommand::Enable(admin_at(2)))
            .then_expect_events(vec![UserEvent::UserEnabled(UserEnabled {
                user_id: Uuid::from_u128(7),
                by: Uuid::from_u128(1),
                enabled_at: admin_at(2).at,
            })]);
        AggregateTest::<User>::with(())
            .given(vec![registered(Role::User)])
            .when(UserCommand::Enable(admin_at(2)))
            .then_expect_error(UserError::NotDisabled);
    }

    #[test]
    fn a_deleted_account_takes_no_further_command() {
        let at = admin_at(10).at;
        let deleted = UserEvent::UserDeleted(crate::user::UserDeleted {
            user_id: Uuid::from_u128(7),
            by: None,
            deleted_at: at,
        });
        AggregateTest::<User>::with(())
            .given(vec![registered(Role::User)])
            .when(UserCommand::Delete { by: None, at })
            .then_expect_events(vec![deleted.clone()]);
        for command in [
            UserCommand::Delete { by: None, at },
            UserCommand::VerifyEmail { at },
            UserCommand::Enable(admin_at(11)),
        ] {
            AggregateTest::<User>::with(())
                .given(vec![registered(Role::User), deleted.clone()])
                .when(command)
                .then_expect_error(UserError::NotRegistered);
        }
        AggregateTest::<User>::with(())
            .given(vec![registered(Role::User), deleted.clone()])
            .when(UserCommand::Register(register(Role::User)))
            .then_expect_error(UserError::AlreadyRegistered);
        let mut user = User::default();
        user.apply(registered(Role::User));
        user.apply(deleted);
        assert!(user.is_deleted());
        assert_eq!(user.password_hash(), None);
        assert_eq!(user.email(), None);
    }

    #[test]
    fn an_admin_deletes_others_but_not_themselves_that_way() {
        AggregateTest::<User>::with(())
            .given(vec![registered(Role::Admin)])
            .when(UserCommand::Delete {
                by: Some(Uuid::from_u128(7)),
                at: admin_at(12).at,
            })
            .then_expect_error(UserError::OwnAccount);
    }

    #[test]
    fn an_address_is_verified_once() {
        let at = admin_at(9).at;
        let verified = UserEvent::EmailVerified(EmailVerified {
            user_id: Uuid::from_u128(7),
            verified_at: at,
        });
        AggregateTest::<User>::with(())
            .given(vec![registered(Role::User)])
            .when(UserCommand::VerifyEmail { at })
            .then_expect_events(vec![verified.clone()]);
        AggregateTest::<User>::with(())
            .given(vec![registered(Role::User), verified])
            .when(UserCommand::VerifyEmail { at })
            .then_expect_events(vec![]);
    }

    #[test]
    fn admins_cannot_disable_or_demote_themselves() {
        let own = ByAdmin {
            admin_id: Uuid::from_u128(7),
            at: admin_at(0).at,
        };
        AggregateTest::<User>::with(())
            .given(vec![registered(Role::Admin)])
            .when(UserCommand::Disable(own))
            .then_expect_error(UserError::OwnAccount);
        AggregateTest::<User>::with(())
            .given(vec![registered(Role::Admin)])
            .when(UserCommand::ChangeRole {
                role: Role::User,
                by: own,
            })
            .then_expect_error(UserError::OwnAccount);
    }

    #[test]
    fn roles_change_only_to_a_different_role() {
        AggregateTest::<User>::with(())
            .given(vec![registered(Role::User)])
            .when(UserCommand::ChangeRole {
                role: Role::Admin,
                by: admin_at(3),
            })
            .then_expect_events(vec![UserEvent::RoleChanged(RoleChanged {
                user_id: Uuid::from_u128(7),
                role: Role::Admin,
                by: Uuid::from_u128(1),
                changed_at: admin_at(3).at,
            })]);
        AggregateTest::<User>::with(())
            .given(vec![registered(Role::User)])
            .when(UserCommand::ChangeRole {
                role: Role::User,
                by: admin_at(3),
            })
            .then_expect_error(UserError::SameRole);
    }

    #[test]
    fn nothing_but_registration_happens_to_an_unknown_account() {
        AggregateTest::<User>::with(())
            .given_no_previous_events()
            .when(UserCommand::Disable(admin_at(0)))
            .then_expect_error(UserError::NotRegistered);
        AggregateTest::<User>::with(())
            .given_no_previous_events()
            .when(UserCommand::SetQuota {
                bytes: Some(1),
                by: admin_at(0),
            })
            .then_expect_error(UserError::NotRegistered);
    }

    #[test]
    fn a_new_password_replaces_the_old_hash() {
        let mut user = User::default();
        user.apply(registered(Role::User));
        let new_hash = Sealed::from_envelope("v1.bmV3.aGFzaA".into());
        let events = Aggregate::handle(
            &user,
            UserCommand::ChangePassword(ChangePassword {
                password_hash: new_hash.clone(),
                reason: PasswordChangeReason::Changed,
                at: admin_at(4).at,
            }),
            &(),
        )
        .unwrap();
        for event in events {
            user.apply(event);
        }
        assert_eq!(user.password_hash(), Some(&new_hash));
    }

    #[test]
    fn quota_and_ai_model_assignments_are_recorded() {
        AggregateTest::<User>::with(())
            .given(vec![registered(Role::User)])
            .when(UserCommand::AssignAiModel {
                provider: Some(AiProvider::Ollama),
                model: Some(ModelName::parse("llama3.1:8b").unwrap()),
                by: admin_at(5),
            })
            .then_expect_events(vec![UserEvent::AiModelAssigned(AiModelAssigned {
                user_id: Uuid::from_u128(7),
                provider: Some(AiProvider::Ollama),
                model: Some(ModelName::parse("llama3.1:8b").unwrap()),
                by: Uuid::from_u128(1),
                assigned_at: admin_at(5).at,
            })]);
        AggregateTest::<User>::with(())
            .given(vec![registered(Role::User)])
            .when(UserCommand::SetQuota {
                bytes: Some(500_000_000),
                by: admin_at(6),
            })
            .then_expect_events(vec![UserEvent::QuotaSet(QuotaSet {
                user_id: Uuid::from_u128(7),
                bytes: Some(500_000_000),
                by: Uuid::from_u128(1),
                set_at: admin_at(6).at,
            })]);
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
