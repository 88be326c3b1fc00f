//! Which classifier a document's owner gets (AI-2): the provider and model an admin
//! assigned to them (`AiModelAssigned`, kept by the users model), else the server's
//! defaults (`DEFAULT_AI_PROVIDER`, `DEFAULT_AI_MODEL`). A provider this server has no
//! endpoint for is a configuration problem: the run fails and says so.

use super::llm::DEFAULT_SYSTEM_PROMPT;
use super::ollama::OllamaProvider;
use super::openai::OpenAiProvider;
use super::provider::{Provider, ProviderError};
use commands::llm::{LlmEndpoints, LlmSettings};
use domain::user::AiProvider;
use domain::Clock;
use std::sync::Arc;

pub struct Providers {
    pub offline: Arc<dyn Provider>,
    /// Where the LLM providers are (admins' settings over the server's); `None`: nowhere,
    /// only the offline classifier exists.
    pub endpoints: Option<LlmEndpoints>,
    pub default_provider: AiProvider,
    pub default_model: Option<String>,
    /// The system message sent to LLM providers.
    pub system_prompt: String,
    /// For a `Retry-After` given as a date.
    pub clock: Arc<dyn Clock>,
}

/// The provider for one owner, and the model to ask for (`None`: its own default).
pub struct Choice {
    pub provider: Arc<dyn Provider>,
    pub model: Option<String>,
}

impl Providers {
    /// Everyone gets the offline classifier.
    pub fn offline(offline: Arc<dyn Provider>, clock: Arc<dyn Clock>) -> Self {
        Self {
            offline,
            endpoints: None,
            default_provider: AiProvider::Offline,
            default_model: None,
            system_prompt: DEFAULT_SYSTEM_PROMPT.to_owned(),
            clock,
        }
    }

    /// The provider for an owner whose assignment is `assigned` (provider and model as the
    /// users model keeps them), with the endpoints as they are stored now (read only when
    /// the owner gets an LLM).
    pub async fn for_owner(
        &self,
        assigned_provider: Option<&str>,
        assigned_model: Option<&str>,
    ) -> Result<Choice, ProviderError> {
        let (provider, model) = self.resolve(assigned_provider, assigned_model);
        let settings = match &self.endpoints {
            Some(endpoints) if provider != AiProvider::Offline => {
                endpoints.effective().await.map_err(|error| {
                    tracing::warn!(%error, "the LLM settings could not be read");
                    ProviderError::Internal("the classifier settings could not be read".to_owned())
                })?
            }
            _ => LlmSettings::default(),
        };
        self.pick(&settings, provider, model)
    }

    /// The provider for an owner whose assignment is `assigned`, given `settings`.
    pub fn choose(
        &self,
        settings: &LlmSettings,
        assigned_provider: Option<&str>,
        assigned_model: Option<&str>,
    ) -> Result<Choice, ProviderError> {
        let (provider, model) = self.resolve(assigned_provider, assigned_model);
        self.pick(settings, provider, model)
    }

    /// The provider and model an assignment means: the assigned ones, else the defaults
    /// (an assignment this build does not know is no assignment).
    fn resolve(
        &self,
        assigned_provider: Option<&str>,
        assigned_model: Option<&str>,
    ) -> (AiProvider, Option<String>) {
        match assigned_provider.and_then(AiProvider::parse) {
            Some(provider) => (provider, assigned_model.map(str::to_owned)),
            None => (self.default_provider, self.default_model.clone()),
        }
    }

    /// `provider`: the offline classifier, or an LLM at the endpoint `settings` name.
    fn pick(
        &self,
        settings: &LlmSettings,
        provider: AiProvider,
        model: Option<String>,
    ) -> Result<Choice, ProviderError> {
        if provider == AiProvider::Offline {
            return Ok(Choice {
                provider: self.offline.clone(),
                model,
            });
        }
        let endpoint = settings.endpoint(provider).ok_or_else(|| {
            ProviderError::Refused(format!(
                "the {} classifier is not configured on this server",
                provider.as_str()
            ))
        })?;
        let model_default = self.default_model.clone().unwrap_or_default();
        let policy = settings.policy.clone();
        let provider: Arc<dyn Provider> = match provider {
            AiProvider::Ollama => Arc::new(OllamaProvider {
                api_key: endpoint.api_key.clone(),
                system_prompt: self.system_prompt.clone(),
                ..OllamaProvider::new(endpoint.url.clone(), model_default, policy)
            }),
            _ => Arc::new(OpenAiProvider {
                system_prompt: self.system_prompt.clone(),
                ..OpenAiProvider::new(
                    endpoint.url.clone(),
                    endpoint.api_key.clone(),
                    model_default,
                    policy,
                )
            }),
        };
        Ok(Choice { provider, model })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::provider::{Answer, Question};
    use commands::llm::LlmEndpoint;
    use futures::future::BoxFuture;

    struct Offline;

    impl Provider for Offline {
        fn name(&self) -> &'static str {
            "offline"
        }

        fn classify<'a>(&'a self, _: Question<'a>) -> BoxFuture<'a, Result<Answer, ProviderError>> {
            Box::pin(async { Err(ProviderError::Internal("unused".into())) })
        }
    }

    fn providers(default_provider: AiProvider) -> Providers {
        Providers {
            default_provider,
            default_model: Some("llama3.2".into()),
            ..Providers::offline(Arc::new(Offline), Arc::new(eventlog::SystemClock))
        }
    }

    fn ollama_only() -> LlmSettings {
        LlmSettings {
            ollama: Some(LlmEndpoint {
                url: "http://192.168.1.20:11434".into(),
                api_key: None,
            }),
            ..LlmSettings::default()
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
        let settings = ollama_only();
        assert_eq!(
            chosen(providers.choose(&settings, None, None)),
            ("ollama", Some("llama3.2".into()))
        );
        assert_eq!(
            chosen(providers.choose(&settings, Some("offline"), None)),
            ("offline", None)
        );
        assert_eq!(
            chosen(providers.choose(&settings, Some("ollama"), Some("qwen2.5"))),
            ("ollama", Some("qwen2.5".into()))
        );
        // An assignment this build does not know is no assignment.
        assert_eq!(
            chosen(providers.choose(&settings, Some("skynet"), Some("t-800"))),
            ("ollama", Some("llama3.2".into()))
        );
    }

    #[test]
    fn a_provider_without_an_endpoint_is_refused_with_a_reason() {
        let providers = providers(AiProvider::Offline);
        match providers.choose(&ollama_only(), Some("openai_compatible"), None) {
            Err(ProviderError::Refused(reason)) => assert!(reason.contains("not configured")),
            _ => panic!("an unconfigured provider was chosen"),
        }
        match providers.choose(&LlmSettings::default(), Some("ollama"), None) {
            Err(ProviderError::Refused(reason)) => assert!(reason.contains("not configured")),
            _ => panic!("an unconfigured provider was chosen"),
        }
    }
}
