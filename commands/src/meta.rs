//! What every appended event records about the command that caused it.

use std::collections::HashMap;
use uuid::Uuid;

/// Stored in each event's `metadata`: who asked, and how this command relates to others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandMeta {
    /// Unique per command; a retried command keeps its id.
    pub command_id: Uuid,
    /// `user:<id>`, `system:<component>`, `cli:<name>` or `anonymous`.
    pub actor: String,
    /// Shared by everything one user action caused (the HTTP request id, usually).
    pub correlation_id: String,
    /// The event or command that directly caused this one.
    pub causation_id: Option<String>,
}

impl CommandMeta {
    /// A command started by `actor` within the request or job `correlation_id`.
    pub fn new(actor: impl Into<String>, correlation_id: impl Into<String>) -> Self {
        Self {
            command_id: Uuid::new_v4(),
            actor: actor.into(),
            correlation_id: correlation_id.into(),
            causation_id: None,
        }
    }

    pub fn to_map(&self) -> HashMap<String, String> {
        let mut map = HashMap::from([
            ("command_id".to_owned(), self.command_id.to_string()),
            ("actor".to_owned(), self.actor.clone()),
            ("correlation_id".to_owned(), self.correlation_id.clone()),
        ]);
        if let Some(causation) = &self.causation_id {
            map.insert("causation_id".to_owned(), causation.clone());
        }
        map
    }
}
