//! Settings of the whole installation that admins change (ADM-1): for now, whether
//! people may register themselves or only by invitation. One aggregate, id `settings`.

use crate::{Aggregate, DomainEvent};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

pub const SETTINGS_ID: &str = "settings";

#[derive(Debug, Clone, PartialEq)]
pub enum InstanceCommand {
    SetSelfRegistration {
        open: bool,
        by: Uuid,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelfRegistrationChanged {
    pub open: bool,
    pub by: Uuid,
    pub changed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum InstanceEvent {
    SelfRegistrationChanged(SelfRegistrationChanged),
}

impl DomainEvent for InstanceEvent {
    fn event_type(&self) -> &'static str {
        match self {
            InstanceEvent::SelfRegistrationChanged(_) => "SelfRegistrationChanged",
        }
    }

    fn event_version(&self) -> &'static str {
        "1.0"
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InstanceError {}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    /// Registration is open until an admin closes it.
    self_registration_closed: bool,
}

impl Instance {
    pub fn self_registration_open(&self) -> bool {
        !self.self_registration_closed
    }
}

impl Aggregate for Instance {
    const TYPE: &'static str = "instance";
    type Command = InstanceCommand;
    type Event = InstanceEvent;
    type Error = InstanceError;
    type Services = ();

    fn handle(
        &self,
        command: InstanceCommand,
        _: &(),
    ) -> Result<Vec<InstanceEvent>, InstanceError> {
        match command {
            InstanceCommand::SetSelfRegistration { open, by, at } => {
                if open == self.self_registration_open() {
                    return Ok(Vec::new());
                }
                Ok(vec![InstanceEvent::SelfRegistrationChanged(
                    SelfRegistrationChanged {
                        open,
                        by,
                        changed_at: at,
                    },
                )])
            }
        }
    }

    fn apply(&mut self, event: InstanceEvent) {
        match event {
            InstanceEvent::SelfRegistrationChanged(changed) => {
                self.self_registration_closed = !changed.open
            }
        }
    }
}

/// Invitations, recorded beside the `invites` table (ADR 4). The address is never in an
/// event: it is personal data of someone who has not joined.
pub mod invite {
    use super::*;

    pub const AGGREGATE_TYPE: &str = "invite";

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct InviteSent {
        pub invite_id: Uuid,
        pub role: crate::user::Role,
        pub by: Uuid,
        pub expires_at: DateTime<Utc>,
        pub sent_at: DateTime<Utc>,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct InviteAccepted {
        pub invite_id: Uuid,
        pub user_id: Uuid,
        pub accepted_at: DateTime<Utc>,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub enum InviteEvent {
        InviteSent(InviteSent),
        InviteAccepted(InviteAccepted),
    }

    impl DomainEvent for InviteEvent {
        fn event_type(&self) -> &'static str {
            match self {
                InviteEvent::InviteSent(_) => "InviteSent",
                InviteEvent::InviteAccepted(_) => "InviteAccepted",
            }
        }

        fn event_version(&self) -> &'static str {
            "1.0"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::AggregateTest;
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
    }

    fn closed() -> InstanceEvent {
        InstanceEvent::SelfRegistrationChanged(SelfRegistrationChanged {
            open: false,
            by: Uuid::from_u128(1),
            changed_at: at(),
        })
    }

    #[test]
    fn registration_is_open_until_an_admin_closes_it() {
        assert!(Instance::default().self_registration_open());
        AggregateTest::<Instance>::with(())
            .given_no_previous_events()
            .when(InstanceCommand::SetSelfRegistration {
                open: false,
                by: Uuid::from_u128(1),
                at: at(),
            })
            .then_expect_events(vec![closed()]);
    }

    #[test]
    fn setting_what_is_already_set_changes_nothing() {
        AggregateTest::<Instance>::with(())
            .given(vec![closed()])
            .when(InstanceCommand::SetSelfRegistration {
                open: false,
                by: Uuid::from_u128(2),
                at: at(),
            })
            .then_expect_events(vec![]);
        AggregateTest::<Instance>::with(())
            .given_no_previous_events()
            .when(InstanceCommand::SetSelfRegistration {
                open: true,
                by: Uuid::from_u128(2),
                at: at(),
            })
            .then_expect_events(vec![]);
    }
}
