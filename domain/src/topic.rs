//! Topics (ORG-2, ADM-2): labels that file documents across folders. There are two kinds
//! of namespace, each one aggregate: the system topics every person sees (managed by
//! admins; aggregate id [`SYSTEM_TOPICS`]) and each person's own (aggregate id: the
//! person's id). A person's topic names are personal data, sealed under their data key;
//! system topic names are public. Names are unique within a namespace, compared through a
//! `name_key` the command layer computes (the lower-cased name for system topics, a keyed
//! hash of it for a person's), since sealed names cannot be compared.
//!
//! Which topics a document has is the document's business (`DocumentTopicsSet`); a
//! deleted topic simply stops counting wherever it was set.

use crate::{Aggregate, DomainEvent, Sealed, SnapshotPolicy};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use thiserror::Error;
use uuid::Uuid;

/// The field name a person's topic name is sealed under (with their data key).
pub const TOPIC_NAME_FIELD: &str = "topic_name";

/// The aggregate id of the system topics.
pub const SYSTEM_TOPICS: Uuid = Uuid::nil();

/// How many topics one namespace may hold.
pub const MAX_TOPICS: usize = 1000;

const MAX_TOPIC_NAME_CHARS: usize = 64;

/// Whose topics these are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "owner")]
pub enum Namespace {
    /// Everyone's, managed by admins.
    System,
    /// One person's own.
    Person(Uuid),
}

impl Namespace {
    /// The id of the aggregate that holds this namespace's topics.
    pub fn aggregate_id(self) -> Uuid {
        match self {
            Namespace::System => SYSTEM_TOPICS,
            Namespace::Person(owner) => owner,
        }
    }

    pub fn owner(self) -> Option<Uuid> {
        match self {
            Namespace::System => None,
            Namespace::Person(owner) => Some(owner),
        }
    }
}

/// A topic's name as events keep it: public for system topics, sealed for a person's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TopicName {
    Public(String),
    Sealed(Sealed),
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TopicNameError {
    #[error("Give the topic a name.")]
    Empty,
    #[error("Use at most 64 characters.")]
    TooLong,
}

/// A topic name as a person typed it: control and bidi characters removed, runs of white
/// space made one space, trimmed, at most 64 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicText(String);

impl TopicText {
    pub fn parse(raw: &str) -> Result<Self, TopicNameError> {
        let cleaned: String = raw
            .chars()
            .filter(|c| !crate::document::unsafe_char(*c) || c.is_whitespace())
            .collect();
        let name = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            return Err(TopicNameError::Empty);
        }
        if name.chars().count() > MAX_TOPIC_NAME_CHARS {
            return Err(TopicNameError::TooLong);
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What two names that count as the same have in common: case does not matter.
    pub fn comparable(&self) -> String {
        self.0.to_lowercase()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum TopicCommand {
    Create {
        namespace: Namespace,
        topic_id: Uuid,
        name: TopicName,
        name_key: String,
        at: DateTime<Utc>,
    },
    Rename {
        topic_id: Uuid,
        name: TopicName,
        name_key: String,
        at: DateTime<Utc>,
    },
    Delete {
        topic_id: Uuid,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicCreated {
    pub topic_id: Uuid,
    pub namespace: Namespace,
    pub name: TopicName,
    pub name_key: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicRenamed {
    pub topic_id: Uuid,
    pub namespace: Namespace,
    pub name: TopicName,
    pub name_key: String,
    pub renamed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicDeleted {
    pub topic_id: Uuid,
    pub namespace: Namespace,
    pub deleted_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TopicEvent {
    TopicCreated(TopicCreated),
    TopicRenamed(TopicRenamed),
    TopicDeleted(TopicDeleted),
}

impl DomainEvent for TopicEvent {
    fn event_type(&self) -> &'static str {
        match self {
            TopicEvent::TopicCreated(_) => "TopicCreated",
            TopicEvent::TopicRenamed(_) => "TopicRenamed",
            TopicEvent::TopicDeleted(_) => "TopicDeleted",
        }
    }

    fn event_version(&self) -> &'static str {
        "1.0"
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TopicError {
    /// No such topic in this namespace: the same answer for another person's (DOC-7).
    #[error("no such topic")]
    NotFound,
    #[error("the topic exists already")]
    AlreadyExists,
    #[error("There is a topic with this name already.")]
    NameTaken,
    #[error("A namespace holds at most {max} topics.")]
    TooMany { max: usize },
    /// A system topic's name must be public and a person's sealed.
    #[error("the name is not kept the way this namespace keeps names")]
    WrongNameForm,
}

/// The topics of one namespace, by id, with their comparable names.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicSet {
    namespace: Option<Namespace>,
    name_keys: BTreeMap<Uuid, String>,
}

impl TopicSet {
    pub fn contains(&self, topic_id: Uuid) -> bool {
        self.name_keys.contains_key(&topic_id)
    }

    /// The topic whose comparable name is `name_key`, if any.
    pub fn named(&self, name_key: &str) -> Option<Uuid> {
        self.name_keys
            .iter()
            .find(|(_, key)| key.as_str() == name_key)
            .map(|(id, _)| *id)
    }

    pub fn len(&self) -> usize {
        self.name_keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.name_keys.is_empty()
    }

    fn existing(&self, topic_id: Uuid) -> Result<Namespace, TopicError> {
        match self.namespace {
            Some(namespace) if self.contains(topic_id) => Ok(namespace),
            _ => Err(TopicError::NotFound),
        }
    }

    fn check_name(
        &self,
        namespace: Namespace,
        name: &TopicName,
        name_key: &str,
        renaming: Option<Uuid>,
    ) -> Result<(), TopicError> {
        let form_fits = matches!(
            (namespace, name),
            (Namespace::System, TopicName::Public(_))
                | (Namespace::Person(_), TopicName::Sealed(_))
        );
        if !form_fits {
            return Err(TopicError::WrongNameForm);
        }
        match self.named(name_key) {
            Some(other) if Some(other) != renaming => Err(TopicError::NameTaken),
            _ => Ok(()),
        }
    }
}

impl Aggregate for TopicSet {
    const TYPE: &'static str = "topics";
    type Command = TopicCommand;
    type Event = TopicEvent;
    type Error = TopicError;
    type Services = ();
    /// The system topics gain events for as long as the instance lives.
    const SNAPSHOTS: Option<SnapshotPolicy> = Some(SnapshotPolicy {
        every: 100,
        shape: 1,
    });

    fn handle(&self, command: TopicCommand, _: &()) -> Result<Vec<TopicEvent>, TopicError> {
        match command {
            TopicCommand::Create {
                namespace,
                topic_id,
                name,
                name_key,
                at,
            } => {
                if self.namespace.is_some_and(|known| known != namespace) {
                    return Err(TopicError::NotFound);
                }
                if self.contains(topic_id) {
                    return Err(TopicError::AlreadyExists);
                }
                if self.len() >= MAX_TOPICS {
                    return Err(TopicError::TooMany { max: MAX_TOPICS });
                }
                self.check_name(namespace, &name, &name_key, None)?;
                Ok(vec![TopicEvent::TopicCreated(TopicCreated {
                    topic_id,
                    namespace,
                    name,
                    name_key,
                    created_at: at,
                })])
            }
            TopicCommand::Rename {
                topic_id,
                name,
                name_key,
                at,
            } => {
                let namespace = self.existing(topic_id)?;
                self.check_name(namespace, &name, &name_key, Some(topic_id))?;
                Ok(vec![TopicEvent::TopicRenamed(TopicRenamed {
                    topic_id,
                    namespace,
                    name,
                    name_key,
                    renamed_at: at,
                })])
            }
            TopicCommand::Delete { topic_id, at } => {
                let namespace = self.existing(topic_id)?;
                Ok(vec![TopicEvent::TopicDeleted(TopicDeleted {
                    topic_id,
                    namespace,
                    deleted_at: at,
                })])
            }
        }
    }

    fn apply(&mut self, event: TopicEvent) {
        match event {
            TopicEvent::TopicCreated(created) => {
                self.namespace = Some(created.namespace);
                self.name_keys.insert(created.topic_id, created.name_key);
            }
            TopicEvent::TopicRenamed(renamed) => {
                self.name_keys.insert(renamed.topic_id, renamed.name_key);
            }
            TopicEvent::TopicDeleted(deleted) => {
                self.name_keys.remove(&deleted.topic_id);
            }
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

    fn person() -> Namespace {
        Namespace::Person(Uuid::from_u128(1))
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(100 + n)
    }

    fn sealed() -> TopicName {
        TopicName::Sealed(Sealed::from_envelope("v1.AAAAAAAAAAAAAAAA.AAAA".into()))
    }

    fn created(namespace: Namespace, n: u128, key: &str) -> TopicEvent {
        let name = match namespace {
            Namespace::System => TopicName::Public(key.into()),
            Namespace::Person(_) => sealed(),
        };
        TopicEvent::TopicCreated(TopicCreated {
            topic_id: id(n),
            namespace,
            name,
            name_key: key.into(),
            created_at: at(),
        })
    }

    fn create(namespace: Namespace, n: u128, key: &str) -> TopicCommand {
        let TopicEvent::TopicCreated(event) = created(namespace, n, key) else {
            unreachable!()
        };
        TopicCommand::Create {
            namespace,
            topic_id: event.topic_id,
            name: event.name,
            name_key: event.name_key,
            at: at(),
        }
    }

    fn rename(n: u128, name: TopicName, key: &str) -> TopicCommand {
        TopicCommand::Rename {
            topic_id: id(n),
            name,
            name_key: key.into(),
            at: at(),
        }
    }

    #[test]
    fn a_person_creates_renames_and_deletes_their_topics() {
        AggregateTest::<TopicSet>::with(())
            .given_no_previous_events()
            .when(create(person(), 1, "k-taxes"))
            .then_expect_events(vec![created(person(), 1, "k-taxes")]);
        AggregateTest::<TopicSet>::with(())
            .given(vec![created(person(), 1, "k-taxes")])
            .when(rename(1, sealed(), "k-receipts"))
            .then_expect_events(vec![TopicEvent::TopicRenamed(TopicRenamed {
                topic_id: id(1),
                namespace: person(),
                name: sealed(),
                name_key: "k-receipts".into(),
                renamed_at: at(),
            })]);
        AggregateTest::<TopicSet>::with(())
            .given(vec![created(person(), 1, "k-taxes")])
            .when(TopicCommand::Delete {
                topic_id: id(1),
                at: at(),
            })
            .then_expect_events(vec![TopicEvent::TopicDeleted(TopicDeleted {
                topic_id: id(1),
                namespace: person(),
                deleted_at: at(),
            })]);
    }

    #[test]
    fn names_are_unique_within_a_namespace_but_a_topic_keeps_its_own() {
        let given = vec![
            created(person(), 1, "k-taxes"),
            created(person(), 2, "k-travel"),
        ];
        AggregateTest::<TopicSet>::with(())
            .given(given.clone())
            .when(create(person(), 3, "k-taxes"))
            .then_expect_error(TopicError::NameTaken);
        AggregateTest::<TopicSet>::with(())
            .given(given.clone())
            .when(rename(2, sealed(), "k-taxes"))
            .then_expect_error(TopicError::NameTaken);
        // Renaming to its own name (another spelling of it) is allowed.
        AggregateTest::<TopicSet>::with(())
            .given(given.clone())
            .when(rename(1, sealed(), "k-taxes"))
            .then_expect_events(vec![TopicEvent::TopicRenamed(TopicRenamed {
                topic_id: id(1),
                namespace: person(),
                name: sealed(),
                name_key: "k-taxes".into(),
                renamed_at: at(),
            })]);
        // A deleted topic's name is free again.
        let mut after_delete = given;
        after_delete.push(TopicEvent::TopicDeleted(TopicDeleted {
            topic_id: id(1),
            namespace: person(),
            deleted_at: at(),
        }));
        AggregateTest::<TopicSet>::with(())
            .given(after_delete)
            .when(create(person(), 3, "k-taxes"))
            .then_expect_events(vec![created(person(), 3, "k-taxes")]);
    }

    #[test]
    fn system_names_are_public_and_a_persons_are_sealed() {
        AggregateTest::<TopicSet>::with(())
            .given_no_previous_events()
            .when(TopicCommand::Create {
                namespace: Namespace::System,
                topic_id: id(1),
                name: sealed(),
                name_key: "finance".into(),
                at: at(),
            })
            .then_expect_error(TopicError::WrongNameForm);
        AggregateTest::<TopicSet>::with(())
            .given_no_previous_events()
            .when(TopicCommand::Create {
                namespace: person(),
                topic_id: id(1),
                name: TopicName::Public("Finance".into()),
                name_key: "finance".into(),
                at: at(),
            })
            .then_expect_error(TopicError::WrongNameForm);
        AggregateTest::<TopicSet>::with(())
            .given(vec![created(Namespace::System, 1, "finance")])
            .when(rename(1, sealed(), "finance"))
            .then_expect_error(TopicError::WrongNameForm);
    }

    #[test]
    fn another_namespace_and_unknown_topics_are_not_found() {
        let given = vec![created(person(), 1, "k-taxes")];
        AggregateTest::<TopicSet>::with(())
            .given(given.clone())
            .when(create(Namespace::Person(Uuid::from_u128(2)), 2, "k-other"))
            .then_expect_error(TopicError::NotFound);
        AggregateTest::<TopicSet>::with(())
            .given(given.clone())
            .when(rename(9, sealed(), "k-x"))
            .then_expect_error(TopicError::NotFound);
        AggregateTest::<TopicSet>::with(())
            .given(given.clone())
            .when(TopicCommand::Delete {
                topic_id: id(9),
                at: at(),
            })
            .then_expect_error(TopicError::NotFound);
        AggregateTest::<TopicSet>::with(())
            .given(given)
            .when(create(person(), 1, "k-again"))
            .then_expect_error(TopicError::AlreadyExists);
    }

    #[test]
    fn a_namespace_holds_a_bounded_number_of_topics() {
        let full: Vec<TopicEvent> = (0..MAX_TOPICS as u128)
            .map(|n| created(person(), n, &format!("k-{n}")))
            .collect();
        AggregateTest::<TopicSet>::with(())
            .given(full)
            .when(create(person(), 5000, "k-one-more"))
            .then_expect_error(TopicError::TooMany { max: MAX_TOPICS });
    }

    #[test]
    fn typed_names_are_cleaned_and_compared_without_case() {
        let typed = TopicText::parse("  Tax\u{202e}es \t 2026\n").unwrap();
        assert_eq!(typed.as_str(), "Taxes 2026");
        assert_eq!(
            typed.comparable(),
            TopicText::parse("TAXES 2026").unwrap().comparable()
        );
        assert_eq!(TopicText::parse(" \u{200f} "), Err(TopicNameError::Empty));
        assert_eq!(
            TopicText::parse(&"x".repeat(65)),
            Err(TopicNameError::TooLong)
        );
        assert!(TopicText::parse(&"é".repeat(64)).is_ok());
    }
}
