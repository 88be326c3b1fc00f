//! An Ollama server as the classifier (AI-2): `POST {endpoint}/api/chat`, not streamed,
//! with the answer's JSON schema as `format` and temperature 0. No tools are ever sent;
//! the answer is `message.content`, read strictly by [`llm::parse_answer`]. An Ollama
//! behind a proxy that wants a key gets `Authorization: Bearer <key>`.

use super::llm;
use super::provider::{Answer, Provider, ProviderError, Question};
use futures::future::BoxFuture;
use outbound::{Policy, Request};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;

/// The provider's name in settings and in `DocumentClassified`.
pub const NAME: &str = "ollama";

/// `Debug` shows the key as redacted (`SecretString`).
#[derive(Debug, Clone)]
pub struct OllamaProvider {
    /// Base URL, e.g. `http://192.168.1.20:11434`.
    pub endpoint: String,
    pub api_key: Option<SecretString>,
    /// The model asked when the owner's settings name none.
    pub model_default: String,
    pub system_prompt: String,
    /// Where requests may go (SECURITY 22); a LAN server must be allow-listed.
    pub policy: Policy,
}

impl OllamaProvider {
    /// A provider with the default system prompt.
    pub fn new(
        endpoint: impl Into<String>,
        model_default: impl Into<String>,
        policy: Policy,
    ) -> Self {
        Self {
            endpoint: endpoint.into(),
            api_key: None,
            model_default: model_default.into(),
            system_prompt: llm::DEFAULT_SYSTEM_PROMPT.to_owned(),
            policy,
        }
    }

    #[tracing::instrument(skip_all, fields(provider = NAME, document_id = %question.document_id))]
    async fn ask(&self, question: Question<'_>) -> Result<Answer, ProviderError> {
        let model = llm::model_for(&question, &self.model_default)?;
        let body = json!({
            "model": model,
            "messages": llm::messages(&self.system_prompt, &question),
            "stream": false,
            "format": llm::answer_schema(),
            "options": { "temperature": 0 },
        });
        let url = llm::join(&self.endpoint, "/api/chat");
        let mut request = Request::post_json(url, body);
        llm::authorize(&mut request, self.api_key.as_ref())?;
        let response = outbound::send(&self.policy, request)
            .await
            .map_err(llm::outbound_error)?;
        llm::status_error(&response)?;
        let chat: ChatResponse = response.json().map_err(|_| {
            ProviderError::BadAnswer("the answer is not an Ollama chat response".to_owned())
        })?;
        llm::parse_answer(&chat.message.content, question.candidates, model)
    }
}

/// The part of Ollama's chat response that is read; anything else (including
/// `tool_calls`, which a model could invent) is ignored.
#[derive(Deserialize)]
struct ChatResponse {
    message: ChatMessage,
}

#[derive(Deserialize)]
struct ChatMessage {
    content: String,
}

impl Provider for OllamaProvider {
    fn name(&self) -> &'static str {
        NAME
    }

    fn classify<'a>(
        &'a self,
        question: Question<'a>,
    ) -> BoxFuture<'a, Result<Answer, ProviderError>> {
        Box::pin(self.ask(question))
    }
}
