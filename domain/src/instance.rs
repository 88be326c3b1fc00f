//! Settings of the whole installation that admins change: whether people may register
//! themselves or only by invitation (ADM-1), and where the LLM classifiers are (AI-2,
//! [`ai`]). One aggregate, id `settings`.

pub mod ai;

use crate::user::AiProvider;
use crate::{Aggregate, DomainEvent};
use ai::{
    AiSettings, AiSettingsError, ApiKeyChange, Endpoint, LlmEndpointRemoved, LlmEndpointSet,
    OutboundPolicyChanged,
};
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
    /// Store where `provider` is; `endpoint` has been vetted (SECURITY 22) by the caller.
    SetLlmEndpoint {
        provider: AiProvider,
        endpoint: Endpoint,
        api_key: ApiKeyChange,
        by: Uuid,
        at: DateTime<Utc>,
    },
    RemoveLlmEndpoint {
        provider: AiProvider,
        by: Uuid,
        at: DateTime<Utc>,
    },
    /// Replace the admin's allow-list (entries as typed) and the plain-http switch.
    SetOutboundPolicy {
        allow: Vec<String>,
        allow_http: bool,
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
    LlmEndpointSet(LlmEndpointSet),
    LlmEndpointRemoved(LlmEndpointRemoved),
    OutboundPolicyChanged(OutboundPolicyChanged),
}

impl DomainEvent for InstanceEvent {
    fn event_type(&self) -> &'static str {
        match self {
            InstanceEvent::SelfRegistrationChanged(_) => "SelfRegistrationChanged",
            InstanceEvent::LlmEndpointSet(_) => "LlmEndpointSet",
            InstanceEvent::LlmEndpointRemoved(_) => "LlmEndpointRemoved",
            InstanceEvent::OutboundPolicyChanged(_) => "OutboundPolicyChanged",
        }
    }

    fn event_version(&self) -> &'static str {
        "1.0"
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InstanceError {
    #[error(transparent)]
    Ai(#[from] AiSettingsError),
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    /// Registration is open until an admin closes it.
    self_registration_closed: bool,
    #[serde(default)]
    ai: AiSettings,
}

impl Instance {
    pub fn self_registration_open(&self) -> bool {
        !self.self_registration_closed
    }

    pub fn ai(&self) -> &AiSettings {
        &self.ai
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
            InstanceCommand::SetLlmEndpoint {
                provider,
                endpoint,
                api_key,
                by,
                at,
            } => {
                let next = self.ai.with_endpoint(provider, endpoint, api_key)?;
                if self.ai.endpoint(provider) == Some(&next) {
                    return Ok(Vec::new());
                }
                Ok(vec![InstanceEvent::LlmEndpointSet(LlmEndpointSet {
                    provider,
                    endpoint: next.endpoint,
                    api_key: next.api_key,
                    by,
                    set_at: at,
                })])
            }
            InstanceCommand::RemoveLlmEndpoint { provider, by, at } => {
                if self.ai.endpoint(provider).is_none() {
                    return Ok(Vec::new());
                }
                Ok(vec![InstanceEvent::LlmEndpointRemoved(
                    LlmEndpointRemoved {
                        provider,
                        by,
                        removed_at: at,
                    },
                )])
            }
            InstanceCommand::SetOutboundPolicy {
                allow,
                allow_http,
                by,
                at,
            } => {
                let allow = AiSettings::networks(&allow)?;
                if allow == self.ai.allow && allow_http == self.ai.allow_http {
                    return Ok(Vec::new());
                }
                Ok(vec![InstanceEvent::OutboundPolicyChanged(
                    OutboundPolicyChanged {
                        allow: allow.into_iter().collect(),
                        allow_http,
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
            InstanceEvent::LlmEndpointSet(set) => self.ai.apply_endpoint_set(&set),
            InstanceEvent::LlmEndpointRemoved(removed) => self.ai.apply_endpoint_removed(&removed),
            InstanceEvent::OutboundPolicyChanged(changed) => self.ai.apply_outbound(&changed),
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

    fn endpoint(text: &str) -> Endpoint {
        Endpoint::parse(text).unwrap()
    }

    fn set(api_key: Option<&str>) -> InstanceEvent {
        InstanceEvent::LlmEndpointSet(LlmEndpointSet {
            provider: AiProvider::Ollama,
            endpoint: endpoint("http://192.168.1.20:11434"),
            api_key: api_key.map(|key| crate::Sealed::from_envelope(key.into())),
            by: Uuid::from_u128(1),
            set_at: at(),
        })
    }

    fn set_ollama(api_key: ApiKeyChange) -> InstanceCommand {
        InstanceCommand::SetLlmEndpoint {
            provider: AiProvider::Ollama,
            endpoint: endpoint("http://192.168.1.20:11434"),
            api_key,
            by: Uuid::from_u128(1),
            at: at(),
        }
    }

    #[test]
    fn an_endpoint_is_stored_with_its_sealed_key() {
        AggregateTest::<Instance>::with(())
            .given_no_previous_events()
            .when(set_ollama(ApiKeyChange::Replace(
                crate::Sealed::from_envelope("v1.sealed".into()),
            )))
            .then_expect_events(vec![set(Some("v1.sealed"))]);
    }

    #[test]
    fn keeping_the_key_carries_it_into_the_new_endpoint_and_removing_drops_it() {
        let moved = InstanceCommand::SetLlmEndpoint {
            provider: AiProvider::Ollama,
            endpoint: endpoint("https://ollama.example.org"),
            api_key: ApiKeyChange::Keep,
            by: Uuid::from_u128(1),
            at: at(),
        };
        AggregateTest::<Instance>::with(())
            .given(vec![set(Some("v1.sealed"))])
            .when(moved)
            .then_expect_events(vec![InstanceEvent::LlmEndpointSet(LlmEndpointSet {
                provider: AiProvider::Ollama,
                endpoint: endpoint("https://ollama.example.org"),
                api_key: Some(crate::Sealed::from_envelope("v1.sealed".into())),
                by: Uuid::from_u128(1),
                set_at: at(),
            })]);
        AggregateTest::<Instance>::with(())
            .given(vec![set(Some("v1.sealed"))])
            .when(set_ollama(ApiKeyChange::Remove))
            .then_expect_events(vec![set(None)]);
    }

    #[test]
    fn storing_what_is_stored_changes_nothing() {
        AggregateTest::<Instance>::with(())
            .given(vec![set(Some("v1.sealed"))])
            .when(set_ollama(ApiKeyChange::Keep))
            .then_expect_events(vec![]);
        AggregateTest::<Instance>::with(())
            .given_no_previous_events()
            .when(InstanceCommand::RemoveLlmEndpoint {
                provider: AiProvider::Ollama,
                by: Uuid::from_u128(1),
                at: at(),
            })
            .then_expect_events(vec![]);
    }

    #[test]
    fn the_offline_classifier_has_no_endpoint() {
        AggregateTest::<Instance>::with(())
            .given_no_previous_events()
            .when(InstanceCommand::SetLlmEndpoint {
                provider: AiProvider::Offline,
                endpoint: endpoint("http://192.168.1.20:11434"),
                api_key: ApiKeyChange::Keep,
                by: Uuid::from_u128(1),
                at: at(),
            })
            .then_expect_error(InstanceError::Ai(AiSettingsError::OfflineHasNoEndpoint));
    }

    #[test]
    fn a_removed_endpoint_is_gone() {
        let mut instance = Instance::default();
        instance.apply(set(Some("v1.sealed")));
        assert!(instance.ai().endpoint(AiProvider::Ollama).is_some());
        instance.apply(InstanceEvent::LlmEndpointRemoved(LlmEndpointRemoved {
            provider: AiProvider::Ollama,
            by: Uuid::from_u128(1),
            removed_at: at(),
        }));
        assert!(instance.ai().endpoint(AiProvider::Ollama).is_none());
    }

    #[test]
    fn the_allow_list_is_replaced_in_canonical_form_and_bad_entries_refused() {
        let policy = |allow: &[&str], allow_http| InstanceCommand::SetOutboundPolicy {
            allow: allow.iter().map(|entry| entry.to_string()).collect(),
            allow_http,
            by: Uuid::from_u128(1),
            at: at(),
        };
        let changed = InstanceEvent::OutboundPolicyChanged(OutboundPolicyChanged {
            allow: vec![
                ai::Network::parse("10.0.0.0/8").unwrap(),
                ai::Network::parse("192.168.1.20/32").unwrap(),
            ],
            allow_http: true,
            by: Uuid::from_u128(1),
            changed_at: at(),
        });
        AggregateTest::<Instance>::with(())
            .given_no_previous_events()
            .when(policy(
                &["192.168.1.20", "10.0.0.0/8", "192.168.1.20/32"],
                true,
            ))
            .then_expect_events(vec![changed.clone()]);
        AggregateTest::<Instance>::with(())
            .given(vec![changed])
            .when(policy(&["10.0.0.0/8", "192.168.1.20"], true))
            .then_expect_events(vec![]);
        AggregateTest::<Instance>::with(())
            .given_no_previous_events()
            .when(policy(&["the lan"], false))
            .then_expect_error(InstanceError::Ai(AiSettingsError::BadNetwork(
                "the lan".into(),
            )));
    }
}
