//! The built-in offline classifier (AI-2, the default): topic names and the owner's own
//! naive Bayes model, kept by the `classifier` read model. No network, no other person's
//! documents.

use super::provider::{Answer, Provider, ProviderError, Question};
use futures::future::BoxFuture;
use sqlx::PgPool;

/// The model's name in `DocumentClassified`.
const MODEL: &str = "naive-bayes";

pub struct OfflineClassifier {
    pool: PgPool,
    settings: classifier::Settings,
}

impl OfflineClassifier {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            settings: classifier::Settings::default(),
        }
    }
}

impl Provider for OfflineClassifier {
    fn name(&self) -> &'static str {
        "offline"
    }

    fn classify<'a>(
        &'a self,
        question: Question<'a>,
    ) -> BoxFuture<'a, Result<Answer, ProviderError>> {
        Box::pin(async move {
            let terms = classifier::terms(question.text);
            let view = projections::classifier::queries::view(&self.pool, question.owner, &terms)
                .await
                .map_err(|error| ProviderError::Internal(error.to_string()))?;
            let candidates: Vec<classifier::Candidate> = question
                .candidates
                .iter()
                .map(|candidate| classifier::Candidate {
                    id: candidate.id,
                    name: candidate.name.clone(),
                })
                .collect();
            let suggestions = classifier::classify(&view, &candidates, &terms, &self.settings);
            Ok(Answer {
                topics: suggestions.iter().map(|s| s.topic).collect(),
                new_topics: Vec::new(),
                model: MODEL.to_owned(),
            })
        })
    }
}
