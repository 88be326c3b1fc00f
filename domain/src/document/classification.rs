//! A document's classification (AI-1, AI-3): after a confirm, or when its owner asks
//! again, a worker extracts its text and files it under topics. Each run is a *request*
//! with its own id; the worker's results name the request they answer, so a redelivered
//! result changes nothing and a result of a run that a newer request superseded is
//! ignored.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use uuid::Uuid;

/// Where the current run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassificationStage {
    /// Waiting for its text.
    Extracting,
    /// Text recorded, waiting for its topics.
    Classifying,
    Classified,
    Failed,
}

impl ClassificationStage {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Extracting => "extracting",
            Self::Classifying => "classifying",
            Self::Classified => "classified",
            Self::Failed => "failed",
        }
    }

    /// Whether a worker still has something to do.
    pub fn is_running(self) -> bool {
        matches!(self, Self::Extracting | Self::Classifying)
    }
}

/// The current run: which request, how far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Classification {
    pub request: Uuid,
    pub stage: ClassificationStage,
}

/// The step of a run that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailedStep {
    Extraction,
    Classification,
}

/// The text a worker extracted, by reference: the text itself is document content and
/// can be large, so it lives sealed in a side store, never in the event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtractedText {
    /// The side store's key.
    pub text_id: Uuid,
    /// SHA-256 of the UTF-8 text, hex: the reader checks what it got.
    pub sha256: String,
    /// In bytes.
    pub length: u64,
    /// The PostgreSQL text-search configuration of its language, when it was recognised.
    pub language: Option<String>,
    /// Whether the text was cut at the extraction's output limit.
    pub truncated: bool,
}

/// The text-search configurations a stock PostgreSQL 15 ships, by name: the only values
/// `ExtractedText::language` may take. Whoever reads a language from an event or a child
/// process checks it against this list, so nothing else ever reaches a query.
pub const TEXT_SEARCH_CONFIGS: [&str; 15] = [
    "english",
    "german",
    "french",
    "spanish",
    "italian",
    "dutch",
    "portuguese",
    "russian",
    "swedish",
    "danish",
    "norwegian",
    "finnish",
    "hungarian",
    "romanian",
    "turkish",
];

/// The `&'static` form of a text-search configuration name, if it is one of
/// [`TEXT_SEARCH_CONFIGS`].
pub fn text_search_config(name: &str) -> Option<&'static str> {
    TEXT_SEARCH_CONFIGS
        .into_iter()
        .find(|config| *config == name)
}

/// The request of the run that starts with a confirm: the document's own id.
pub fn first_request(document_id: Uuid) -> Uuid {
    document_id
}

/// What the classifier decided: the topics it chose, and what says so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub suggested: BTreeSet<Uuid>,
    /// `offline`, `ollama`, `openai_compatible`.
    pub provider: String,
    pub model: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub step: FailedStep,
    /// Machine-readable: `zip_bomb`, `timed_out`, `provider_unavailable`, …
    pub code: String,
    /// For the owner, about the file or the provider, never the content.
    pub reason: String,
}
