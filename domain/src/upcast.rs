//! Upcasters: turn an old version of an event's payload into the current one.
//!
//! Events are immutable, so a change of shape is a new `event_version` plus a step here.
//! The same function runs wherever events are read: the aggregate loader, the relay, the
//! projection builders and replays. Payloads are the event's own fields (without the
//! enum tag), as published on the bus.

use serde_json::Value;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UpcastError {
    #[error("{event_type} {version} has no upcaster to the current version")]
    UnknownVersion { event_type: String, version: String },
    #[error("{event_type} {version} payload is not a JSON object")]
    NotAnObject { event_type: String, version: String },
}

/// One step: from `(event_type, from)` to version `to`.
struct Step {
    aggregate_type: &'static str,
    event_type: &'static str,
    from: &'static str,
    to: &'static str,
    apply: fn(&mut serde_json::Map<String, Value>),
}

const STEPS: &[Step] = &[
    Step {
        aggregate_type: "user",
        event_type: "UserRegistered",
        from: "1.0",
        to: "2.0",
        // 1.0 predates roles: every account it describes is an ordinary user.
        apply: |payload| {
            payload
                .entry("role")
                .or_insert_with(|| Value::String("user".to_owned()));
        },
    },
    Step {
        aggregate_type: "user",
        event_type: "UserRegistered",
        from: "2.0",
        to: "3.0",
        // 2.0 predates email verification: those accounts were let in without it.
        apply: |payload| {
            payload.entry("email_verified").or_insert(Value::Bool(true));
        },
    },
];

/// The current version of every event type, so unknown versions are refused rather than
/// misread.
const CURRENT: &[(&str, &str, &str)] = &[
    ("user", "UserRegistered", "3.0"),
    ("user", "EmailVerified", "1.0"),
    ("user", "EmailChanged", "1.0"),
    ("user", "PasswordResetRequested", "1.0"),
    ("user", "ProfileUpdated", "1.0"),
    ("user", "UserDeleted", "1.0"),
    ("user", "SecondFactorEnabled", "1.0"),
    ("user", "SecondFactorDisabled", "1.0"),
    ("user", "RecoveryCodesRegenerated", "1.0"),
    ("user", "PasswordChanged", "1.0"),
    ("user", "UserDisabled", "1.0"),
    ("user", "UserEnabled", "1.0"),
    ("user", "RoleChanged", "1.0"),
    ("user", "QuotaSet", "1.0"),
    ("user", "AiModelAssigned", "1.0"),
    ("instance", "SelfRegistrationChanged", "1.0"),
    ("instance", "LlmEndpointSet", "1.0"),
    ("instance", "LlmEndpointRemoved", "1.0"),
    ("instance", "OutboundPolicyChanged", "1.0"),
    ("invite", "InviteSent", "1.0"),
    ("invite", "InviteAccepted", "1.0"),
    ("session", "SessionStarted", "1.0"),
    ("session", "SessionEnded", "1.0"),
    ("session", "RefreshTokenReused", "1.0"),
    ("sign_in", "SignInFailed", "1.0"),
    ("sign_in", "SignInLockedOut", "1.0"),
    ("document", "UploadInitiated", "1.0"),
    ("document", "UploadConfirmed", "1.0"),
    ("document", "UploadExpired", "1.0"),
    ("document", "UploadRejected", "1.0"),
    ("document", "DocumentRenamed", "1.0"),
    ("document", "DocumentDeleted", "1.0"),
    ("document", "ContentHashed", "1.0"),
    ("storage", "StorageAdmitted", "1.0"),
    ("storage", "StorageReleased", "1.0"),
    ("document", "DocumentFiled", "1.0"),
    ("folders", "FolderCreated", "1.0"),
    ("folders", "FolderRenamed", "1.0"),
    ("folders", "FolderMoved", "1.0"),
    ("folders", "FolderDeleted", "1.0"),
    ("document", "DocumentTopicsSet", "1.0"),
    ("topics", "TopicCreated", "1.0"),
    ("topics", "TopicRenamed", "1.0"),
    ("topics", "TopicDeleted", "1.0"),
    ("shares", "ShareGranted", "1.0"),
    ("shares", "ShareRevoked", "1.0"),
    ("document", "ClassificationRequested", "1.0"),
    ("document", "TextExtracted", "1.0"),
    ("document", "DocumentClassified", "1.0"),
    ("document", "ClassificationFailed", "1.0"),
];

/// Upcasts `payload` in place to the current version and returns that version. An event
/// type this build does not know is returned unchanged (consumers decide what to do with
/// it); an unknown version of a known type is an error.
pub fn upcast(
    aggregate_type: &str,
    event_type: &str,
    version: &str,
    payload: &mut Value,
) -> Result<String, UpcastError> {
    let Some(current) = current_version(aggregate_type, event_type) else {
        return Ok(version.to_owned());
    };
    let mut version = version.to_owned();
    while version != current {
        let step = STEPS
            .iter()
            .find(|s| {
                s.aggregate_type == aggregate_type
                    && s.event_type == event_type
                    && s.from == version
            })
            .ok_or_else(|| UpcastError::UnknownVersion {
                event_type: event_type.to_owned(),
                version: version.clone(),
            })?;
        let object = payload
            .as_object_mut()
            .ok_or_else(|| UpcastError::NotAnObject {
                event_type: event_type.to_owned(),
                version: version.clone(),
            })?;
        (step.apply)(object);
        version = step.to.to_owned();
    }
    Ok(version)
}

/// Every event this build knows, as `(aggregate_type, event_type, current_version)`.
pub fn known_events() -> &'static [(&'static str, &'static str, &'static str)] {
    CURRENT
}

/// The current version of `(aggregate_type, event_type)`, if this build knows the type.
pub fn current_version(aggregate_type: &str, event_type: &str) -> Option<&'static str> {
    CURRENT
        .iter()
        .find(|(agg, ty, _)| *agg == aggregate_type && *ty == event_type)
        .map(|&(_, _, current)| current)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn user_registered_1_0_gains_the_user_role_and_counts_as_verified() {
        let mut payload =
            json!({"user_id": "00000000-0000-0000-0000-000000000007", "handle": "ann"});
        let version = upcast("user", "UserRegistered", "1.0", &mut payload).unwrap();
        assert_eq!(version, "3.0");
        assert_eq!(payload["role"], "user");
        assert_eq!(payload["email_verified"], true);
    }

    #[test]
    fn user_registered_2_0_counts_as_verified() {
        let mut payload = json!({"role": "admin"});
        let version = upcast("user", "UserRegistered", "2.0", &mut payload).unwrap();
        assert_eq!(version, "3.0");
        assert_eq!(payload, json!({"role": "admin", "email_verified": true}));
    }

    #[test]
    fn the_current_version_is_left_alone() {
        let mut payload = json!({"role": "admin", "email_verified": false});
        assert_eq!(
            upcast("user", "UserRegistered", "3.0", &mut payload).unwrap(),
            "3.0"
        );
        assert_eq!(payload, json!({"role": "admin", "email_verified": false}));
    }

    #[test]
    fn an_unknown_version_is_refused() {
        let mut payload = json!({});
        assert!(matches!(
            upcast("user", "UserRegistered", "9.0", &mut payload),
            Err(UpcastError::UnknownVersion { .. })
        ));
    }

    #[test]
    fn unknown_types_pass_through() {
        let mut payload = json!({"x": 1});
        assert_eq!(
            upcast("user", "Mystery", "1.0", &mut payload).unwrap(),
            "1.0"
        );
        assert_eq!(current_version("user", "Mystery"), None);
    }
}
