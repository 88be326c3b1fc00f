//! What a classifier is to the worker (AI-2): given a document's text and the topics it
//! may have, the topics it should have. The built-in offline classifier is one; Ollama
//! and OpenAI-compatible endpoints are others.

use super::llm::RetryAfter;
use futures::future::BoxFuture;
use std::collections::BTreeSet;
use thiserror::Error;
use uuid::Uuid;

/// A topic the document may be filed under: a system topic or one of the owner's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: Uuid,
    pub name: String,
}

/// One document to classify.
#[derive(Debug, Clone, Copy)]
pub struct Question<'a> {
    pub owner: Uuid,
    pub document_id: Uuid,
    /// Extracted text: hostile input.
    pub text: &'a str,
    pub candidates: &'a [Candidate],
    /// The model the owner's settings name, if any.
    pub model: Option<&'a str>,
}

/// The classifier's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Candidates it chose.
    pub topics: BTreeSet<Uuid>,
    /// Names of new topics it suggests (created in the owner's namespace).
    pub new_topics: Vec<String>,
    /// The model that answered.
    pub model: String,
}

#[derive(Debug, Error)]
pub enum ProviderError {
    /// Worth trying again later: unreachable, 5xx, a timeout.
    #[error("the classifier is unavailable: {0}")]
    Unavailable(String),
    /// It is limiting requests (429): try again, not before it said (`Retry-After`).
    #[error("the classifier is unavailable: {0}")]
    Limited(String, Option<RetryAfter>),
    /// Its configuration is wrong (401, 403, 404 model): retrying will not help soon.
    #[error("the classifier refused the request: {0}")]
    Refused(String),
    /// Its answer does not parse to the schema.
    #[error("the classifier's answer was not usable: {0}")]
    BadAnswer(String),
    #[error("the classifier's data could not be read: {0}")]
    Internal(String),
}

impl ProviderError {
    pub fn code(&self) -> &'static str {
        match self {
            ProviderError::Unavailable(_) => "provider_unavailable",
            ProviderError::Limited(..) => "provider_rate_limited",
            ProviderError::Refused(_) => "provider_refused",
            ProviderError::BadAnswer(_) => "provider_bad_answer",
            ProviderError::Internal(_) => "internal_error",
        }
    }
}

pub trait Provider: Send + Sync {
    /// `offline`, `ollama`, `openai_compatible`.
    fn name(&self) -> &'static str;
    fn classify<'a>(
        &'a self,
        question: Question<'a>,
    ) -> BoxFuture<'a, Result<Answer, ProviderError>>;
}
