//! Topics (ORG-2, ADM-2) on the write side: the system topics (admins) and each person's
//! own, and which topics a document has. A person's topic names are sealed under their
//! data key and compared through a keyed hash of the lower-cased name; system names are
//! public and compared as they are.

use crate::documents::{Documents, DocumentsError};
use crate::{CommandError, CommandMeta, EventStore};
use domain::document::{Document, DocumentCommand};
use domain::topic::{
    Namespace, TopicCommand, TopicError, TopicName, TopicNameError, TopicSet, TopicText,
    TOPIC_NAME_FIELD,
};
use domain::Clock;
use eventlog::Token;
use std::collections::BTreeSet;
use std::sync::Arc;
use thiserror::Error;
use uuid::Uuid;

#[derive(Debug, Error)]
pub enum TopicsError {
    /// No such topic in the namespace (another person's is none): one answer (DOC-7).
    #[error("no such topic")]
    NotFound,
    #[error("{0}")]
    BadName(TopicNameError),
    #[error("There is a topic with this name already.")]
    NameTaken,
    #[error("A namespace holds at most {max} topics.")]
    TooMany { max: usize },
    /// Every attempt lost a race: the caller may try again.
    #[error("too many changes at the same time")]
    Busy,
    #[error("event store failure: {0}")]
    Store(String),
    #[error(transparent)]
    Documents(#[from] DocumentsError),
}

impl From<CommandError<TopicError>> for TopicsError {
    fn from(error: CommandError<TopicError>) -> Self {
        match error {
            CommandError::Rejected(TopicError::NotFound | TopicError::AlreadyExists) => {
                Self::NotFound
            }
            CommandError::Rejected(TopicError::NameTaken) => Self::NameTaken,
            CommandError::Rejected(TopicError::TooMany { max }) => Self::TooMany { max },
            CommandError::Conflict => Self::Busy,
            other => Self::Store(other.to_string()),
        }
    }
}

/// A new topic.
#[derive(Debug, Clone)]
pub struct CreatedTopic {
    pub topic_id: Uuid,
    /// The name as kept: white space tidied, control and bidi characters removed.
    pub name: TopicText,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub token: Token,
}

#[derive(Clone)]
pub struct Topics {
    store: EventStore,
    clock: Arc<dyn Clock>,
    documents: Documents,
}

impl Topics {
    pub fn new(store: EventStore, clock: Arc<dyn Clock>, documents: Documents) -> Self {
        Self {
            store,
            clock,
            documents,
        }
    }

    pub async fn create(
        &self,
        namespace: Namespace,
        name: &str,
        meta: &CommandMeta,
    ) -> Result<CreatedTopic, TopicsError> {
        let text = TopicText::parse(name).map_err(TopicsError::BadName)?;
        let (name, name_key) = self.kept_name(namespace, &text).await?;
        let topic_id = Uuid::now_v7();
        let at = self.clock.now();
        let token = self
            .run_create(namespace, topic_id, name, name_key, at, meta)
            .await?;
        Ok(CreatedTopic {
            topic_id,
            name: text,
            created_at: at,
            token,
        })
    }

    pub async fn rename(
        &self,
        namespace: Namespace,
        topic_id: Uuid,
        name: &str,
        meta: &CommandMeta,
    ) -> Result<Token, TopicsError> {
        let text = TopicText::parse(name).map_err(TopicsError::BadName)?;
        let (name, name_key) = self.kept_name(namespace, &text).await?;
        let at = self.clock.now();
        self.run(
            namespace,
            || TopicCommand::Rename {
                topic_id,
                name: name.clone(),
                name_key: name_key.clone(),
                at,
            },
            meta,
        )
        .await
    }

    /// Deletes a topic; every document that had it stops having it.
    pub async fn delete(
        &self,
        namespace: Namespace,
        topic_id: Uuid,
        meta: &CommandMeta,
    ) -> Result<Token, TopicsError> {
        let at = self.clock.now();
        self.run(namespace, || TopicCommand::Delete { topic_id, at }, meta)
            .await
    }

    /// Gives one of `owner`'s documents exactly `topics`: each a system topic or one of
    /// the owner's own (anything else is no topic at all).
    pub async fn assign(
        &self,
        owner: Uuid,
        document_id: Uuid,
        topics: BTreeSet<Uuid>,
        meta: &CommandMeta,
    ) -> Result<Token, TopicsError> {
        let system: TopicSet = self
            .documents
            .load(Namespace::System.aggregate_id())
            .await?;
        let own: TopicSet = self.documents.load(owner).await?;
        if !topics
            .iter()
            .all(|topic| system.contains(*topic) || own.contains(*topic))
        {
            return Err(TopicsError::NotFound);
        }
        let at = self.clock.now();
        Ok(self
            .documents
            .retrying::<Document>(
                &document_id.to_string(),
                || DocumentCommand::SetTopics {
                    by: owner,
                    topics: topics.clone(),
                    at,
                },
                meta,
            )
            .await?)
    }

    /// The topic of `namespace` called `name` (in any case), created with id `topic_id`
    /// when there is none: what a classifier's suggestion becomes. Asking again with the
    /// same id finds the topic it made.
    pub async fn ensure(
        &self,
        namespace: Namespace,
        name: &str,
        topic_id: Uuid,
        meta: &CommandMeta,
    ) -> Result<Uuid, TopicsError> {
        let text = TopicText::parse(name).map_err(TopicsError::BadName)?;
        let (name, name_key) = self.kept_name(namespace, &text).await?;
        let set: TopicSet = self.documents.load(namespace.aggregate_id()).await?;
        if let Some(existing) = set.named(&name_key) {
            return Ok(existing);
        }
        let at = self.clock.now();
        let created = self
            .run_create(namespace, topic_id, name, name_key.clone(), at, meta)
            .await;
        match created {
            Ok(_) => Ok(topic_id),
            // Made a moment ago by someone else: that one.
            Err(TopicsError::NameTaken) => {
                let set: TopicSet = self.documents.load(namespace.aggregate_id()).await?;
                set.named(&name_key).ok_or(TopicsError::NotFound)
            }
            Err(error) => Err(error),
        }
    }

    /// The name as this namespace keeps it, and the key it is compared by.
    async fn kept_name(
        &self,
        namespace: Namespace,
        text: &TopicText,
    ) -> Result<(TopicName, String), TopicsError> {
        match namespace {
            Namespace::System => Ok((
                TopicName::Public(text.as_str().to_owned()),
                text.comparable(),
            )),
            Namespace::Person(owner) => {
                let key = self.documents.data_key(owner).await?;
                let sealed = crypto::seal(&key, owner, TOPIC_NAME_FIELD, text.as_str().as_bytes());
                let name_key = key.lookup(owner, TOPIC_NAME_FIELD, &text.comparable());
                Ok((TopicName::Sealed(sealed), name_key))
            }
        }
    }

    /// Creates topic `topic_id` with a name as [`Self::kept_name`] gave it.
    async fn run_create(
        &self,
        namespace: Namespace,
        topic_id: Uuid,
        name: TopicName,
        name_key: String,
        at: chrono::DateTime<chrono::Utc>,
        meta: &CommandMeta,
    ) -> Result<Token, TopicsError> {
        self.run(
            namespace,
            || TopicCommand::Create {
                namespace,
                topic_id,
                name: name.clone(),
                name_key: name_key.clone(),
                at,
            },
            meta,
        )
        .await
    }

    async fn run(
        &self,
        namespace: Namespace,
        command: impl Fn() -> TopicCommand,
        meta: &CommandMeta,
    ) -> Result<Token, TopicsError> {
        self.store
            .execute_retrying::<TopicSet>(
                &namespace.aggregate_id().to_string(),
                command,
                meta,
                self.documents.policy().conflict_attempts,
            )
            .await
            .map_err(TopicsError::from)
    }
}
