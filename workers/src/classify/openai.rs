//! An OpenAI-compatible endpoint as the classifier (AI-2): `POST
//! {endpoint}/v1/chat/completions` with `Authorization: Bearer <key>` when a key is set,
//! temperature 0 and a strict `json_schema` response format. No tools are ever sent; the
//! answer is `choices[0].message.content`, read strictly by [`llm::parse_answer`].

use super::llm;
use super::provider::{Answer, Provider, ProviderError, Question};
use futures::future::BoxFuture;
use outbound::{Policy, Request};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;

/// The provider's name in settings and in `DocumentClassified`.
pub const NAME: &str = "openai_compatible";

/// `Debug` shows the key as redacted (`SecretString`).
#[derive(Debug, Clone)]
pub struct OpenAiProvider {
    /// Base URL, e.g. `https://api.openai.com` or `http://10.0.0.5:8000`; a trailing
    /// `/v1` is accepted and not doubled.
    pub endpoint: String,
    pub api_key: Option<SecretString>,
    /// The model asked when the owner's settings name none.
    pub model_default: String,
    pub system_prompt: String,
    /// Where requests may go (SECURITY 22); a LAN server must be allow-listed.
    pub policy: Policy,
}

impl OpenAiProvider {
    /// A provider with the default system prompt.
    pub fn new(
        endpoint: impl Into<String>,
        api_key: Option<SecretString>,
        model_default: impl Into<String>,
        policy: Policy,
    ) -> Self {
        Self {
            endpoint: endpoint.into(),
            api_key,
            model_default: model_default.into(),
            system_prompt: llm::DEFAULT_SYSTEM_PROMPT.to_owned(),
            policy,
        }
    }

    fn url(&self) -> String {
        let base = self.endpoint.trim_end_matches('/');
        if base.ends_with("/v1") {
            llm::join(base, "/chat/completions")
        } else {
            llm::join(base, "/v1/chat/completions")
        }
    }

    #[tracing::instrument(skip_all, fields(provider = NAME, document_id = %question.document_id))]
    async fn ask(&self, question: Question<'_>) -> Result<Answer, ProviderError> {
        let model = llm::model_for(&question, &self.model_default)?;
        let body = json!({
            "model": model,
            "messages": llm::messages(&self.system_prompt, &question),
            "temperature": 0,
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": "classification",
                    "strict": true,
                    "schema": llm::answer_schema(),
                },
            },
        });
        let mut request = Request::post_json(self.url(), body);
        llm::authorize(&mut request, self.api_key.as_ref())?;
        let response = outbound::send(&self.policy, request)
            .await
            .map_err(llm::outbound_error)?;
        llm::status_error(&response)?;
        let completion: Completion = response.json().map_err(|_| {
            ProviderError::BadAnswer("the answer is not a chat completion".to_owned())
        })?;
        let message = completion
            .choices
            .into_iter()
            .next()
            .map(|choice| choice.message)
            .ok_or_else(|| ProviderError::BadAnswer("the answer has no choices".to_owned()))?;
        match message.content {
            Some(content) => llm::parse_answer(&content, question.candidates, model),
            None if message.refusal.is_some() => Err(ProviderError::BadAnswer(
                "the model declined to classify the document".to_owned(),
            )),
            None => Err(ProviderError::BadAnswer(
                "the answer has no content".to_owned(),
            )),
        }
    }
}

/// The part of a chat completion that is read; anything else (including `tool_calls`,
/// which a model could invent) is ignored.
#[derive(Deserialize)]
struct Completion {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: ChoiceMessage,
}

#[derive(Deserialize)]
struct ChoiceMessage {
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
}

impl Provider for OpenAiProvider {
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
