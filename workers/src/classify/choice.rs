//! Which classifier a document's owner gets (AI-2): the provider and model an admin
//! assigned to them (`AiModelAssigned`, kept by the users model), else the server's
//! defaults (`DEFAULT_AI_PROVIDER`, `DEFAULT_AI_MODEL`). A provider this server has no
//! endpoint for is a configuration problem: the run fails and says so.

use super::provider::{Provider, ProviderError};
use domain::user::AiProvider;
use std::sync::Arc;

pub struct Providers {
    pub offline: Arc<dyn Provider>,
    pub ollama: Option<Arc<dyn Provider>>,
    pub openai_compatible: Option<Arc<dyn Provider>>,
    pub default_provider: AiProvider,
    pub default_model: Option<String>,
}

/// The provider for one owner, and the model to ask for (`None`: its own default).
pub struct Choice {
    pub provider: Arc<dyn Provider>,
    pub model: Option<String>,
}

impl Providers {
    /// Everyone gets the offline classifier.
    pub fn offline(offline: Arc<dyn Provider>) -> Self {
        Self {
            offline,
            ollama: None,
            openai_compatible: None,
            default_provider: AiProvider::Offline,
            default_model: None,
        }
    }

    /// The provider for an owner whose assignment is `assigned` (provider and model as the
    /// users model keeps them).
    pub fn choose(
        &self,
        assigned_provider: Option<&str>,
        assigned_model: Option<&str>,
    ) -> Result<Choice, ProviderError> {
        let assigned = assigned_provider.and_then(AiProvider::parse);
        let provider = assigned.unwrap_or(self.default_provider);
        let model = match assigned {
            Some(_) => assigned_model.map(str::to_owned),
            None => self.default_model.clone(),
        };
        let configured = match provider {
            AiProvider::Offline => Some(self.offline.clone()),
            AiProvider::Ollama => self.ollama.clone(),
            AiProvider::OpenaiCompatible => self.openai_compatible.clone(),
        };
        let provider = configured.ok_or_else(|| {
            ProviderError::Refused(format!(
                "the {} classifier is not configured on this server",
                provider.as_str()
            ))
        })?;
        Ok(Choice { provider, model })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::provider::{Answer, Question};
    use futures::future::BoxFuture;

    struct Named(&'static str);

    impl Provider for Named {
        fn name(&self) -> &'static str {
            self.0
        }

        fn classify<'a>(&'a self, _: Question<'a>) -> BoxFuture<'a, Result<Answer, ProviderError>> {
            Box::pin(async { Err(ProviderError::Internal("unused".into())) })
        }
    }

    fn providers(default_provider: AiProvider) -> Providers {
        Providers {
            offline: Arc::new(Named("offline")),
            ollama: Some(Arc::new(Named("ollama"))),
            openai_compatible: None,
            default_provider,
            default_model: Some("llama3.2".into()),
        }
    }

    fn chosen(choice: Result<Choice, ProviderError>) -> (&'static str, Option<String>) {
        match choice {
            Ok(choice) => (choice.provider.name(), choice.model),
            Err(error) => panic!("{error}"),
        }
    }

    #[test]
    fn an_assignment_wins_over_the_defaults() {
        let providers = providers(AiProvider::Ollama);
        assert_eq!(
            chosen(providers.choose(None, None)),
            ("ollama", Some("llama3.2".into()))
        );
        assert_eq!(
            chosen(providers.choose(Some("offline"), None)),
            ("offline", None)
        );
        assert_eq!(
            chosen(providers.choose(Some("ollama"), Some("qwen2.5"))),
            ("ollama", Some("qwen2.5".into()))
        );
        // An assignment this build does not know is no assignment.
        assert_eq!(
            chosen(providers.choose(Some("skynet"), Some("t-800"))),
            ("ollama", Some("llama3.2".into()))
        );
    }

    #[test]
    fn a_provider_without_an_endpoint_is_refused_with_a_reason() {
        let providers = providers(AiProvider::Offline);
        match providers.choose(Some("openai_compatible"), None) {
            Err(ProviderError::Refused(reason)) => assert!(reason.contains("not configured")),
            _ => panic!("an unconfigured provider was chosen"),
        }
    }
}
