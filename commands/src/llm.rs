//! Where the LLM classifiers are (AI-2, SECURITY 22): the endpoints and API keys admins
//! store in the `instance` aggregate, over the server's own configuration.
//!
//! - An endpoint an admin stores wins over the server's (`OLLAMA_URL`, `OPENAI_URL`,
//!   `OPENAI_API_KEY`); removing it brings the server's back.
//! - The allow-list of non-public networks is the server's (`OUTBOUND_ALLOW`) and the
//!   admin's together; plain http is allowed when either allows it.
//! - An endpoint is vetted when it is stored: a URL outbound calls could not reach (not
//!   http(s), userinfo, unresolvable, or resolving to a private address nobody allowed) is
//!   refused then, not when the first document fails. Every call is vetted again.
//! - An API key is sealed under a key derived from the master secret before it enters a
//!   command; only [`LlmEndpoints::effective`] opens it, for the classifier. Nothing returns
//!   it to a person.

use crate::{CommandError, CommandMeta, EventStore};
use crypto::MasterKey;
use domain::instance::ai::{self, AiSettingsError, ApiKeyChange, Endpoint};
use domain::instance::{Instance, InstanceCommand, InstanceError, SETTINGS_ID};
use domain::user::AiProvider;
use domain::Clock;
use secrecy::SecretString;
use std::sync::Arc;
use thiserror::Error;
use uuid::Uuid;

/// The longest API key accepted, in characters.
pub const MAX_API_KEY_CHARS: usize = 4096;

/// One provider's endpoint, ready to call.
#[derive(Debug, Clone)]
pub struct LlmEndpoint {
    pub url: String,
    pub api_key: Option<SecretString>,
}

/// Where each LLM provider is and where outbound calls may go.
#[derive(Debug, Clone, Default)]
pub struct LlmSettings {
    pub ollama: Option<LlmEndpoint>,
    pub openai_compatible: Option<LlmEndpoint>,
    pub policy: outbound::Policy,
}

impl LlmSettings {
    pub fn endpoint(&self, provider: AiProvider) -> Option<&LlmEndpoint> {
        match provider {
            AiProvider::Offline => None,
            AiProvider::Ollama => self.ollama.as_ref(),
            AiProvider::OpenaiCompatible => self.openai_compatible.as_ref(),
        }
    }
}

/// Who set the endpoint in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Admin,
    Server,
}

/// A provider as admins see it: never its key, only whether one is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderOverview {
    pub provider: AiProvider,
    pub endpoint: Option<String>,
    pub api_key_set: bool,
    pub source: Option<Source>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overview {
    pub providers: Vec<ProviderOverview>,
    /// The admins' allow-list.
    pub allow: Vec<String>,
    pub allow_http: bool,
    /// What the server's configuration allows besides; admins cannot change it.
    pub server_allow: Vec<String>,
    pub server_allow_http: bool,
}

/// What to do with a provider's API key when its endpoint is stored.
pub enum KeyInput {
    Keep,
    Replace(SecretString),
    Remove,
}

#[derive(Debug, Error)]
pub enum LlmSettingsError {
    #[error(transparent)]
    Invalid(#[from] AiSettingsError),
    #[error("that endpoint cannot be used: {0}")]
    Refused(#[from] outbound::Refusal),
    #[error("the API key must be 1–{MAX_API_KEY_CHARS} printable characters without spaces")]
    BadApiKey,
    #[error("a stored API key does not open with this server's master key")]
    Undecryptable,
    #[error("settings failure: {0}")]
    Store(String),
}

impl From<CommandError<InstanceError>> for LlmSettingsError {
    fn from(error: CommandError<InstanceError>) -> Self {
        match error {
            CommandError::Rejected(InstanceError::Ai(invalid)) => Self::Invalid(invalid),
            other => Self::Store(other.to_string()),
        }
    }
}

const PROVIDERS: [AiProvider; 2] = [AiProvider::Ollama, AiProvider::OpenaiCompatible];

fn key_setting(provider: AiProvider) -> String {
    format!("llm-api-key|{}", provider.as_str())
}

#[derive(Clone)]
pub struct LlmEndpoints {
    store: EventStore,
    master: MasterKey,
    clock: Arc<dyn Clock>,
    server: LlmSettings,
}

impl LlmEndpoints {
    /// `server`: what the server's configuration sets, used where admins stored nothing.
    pub fn new(
        store: EventStore,
        master: MasterKey,
        clock: Arc<dyn Clock>,
        server: LlmSettings,
    ) -> Self {
        Self {
            store,
            master,
            clock,
            server,
        }
    }

    async fn stored(&self) -> Result<ai::AiSettings, LlmSettingsError> {
        let instance: Instance = self.store.load(SETTINGS_ID).await?;
        Ok(instance.ai().clone())
    }

    /// The settings a classifier uses now: stored endpoints over the server's, keys open.
    pub async fn effective(&self) -> Result<LlmSettings, LlmSettingsError> {
        let stored = self.stored().await?;
        let mut settings = LlmSettings {
            policy: self.policy(&stored),
            ..self.server.clone()
        };
        for provider in PROVIDERS {
            let Some(kept) = stored.endpoint(provider) else {
                continue;
            };
            let api_key = match &kept.api_key {
                Some(sealed) => {
                    let key = crypto::open_setting(&self.master, &key_setting(provider), sealed)
                        .map_err(|_| LlmSettingsError::Undecryptable)?;
                    Some(SecretString::from(key.as_str()))
                }
                None => None,
            };
            let endpoint = LlmEndpoint {
                url: kept.endpoint.as_str().to_owned(),
                api_key,
            };
            match provider {
                AiProvider::Ollama => settings.ollama = Some(endpoint),
                AiProvider::OpenaiCompatible => settings.openai_compatible = Some(endpoint),
                AiProvider::Offline => {}
            }
        }
        Ok(settings)
    }

    /// The server's policy with the admins' allow-list and http switch added.
    fn policy(&self, stored: &ai::AiSettings) -> outbound::Policy {
        let mut policy = self.server.policy.clone();
        for network in &stored.allow {
            if let Ok(net) = network.as_str().parse::<outbound::IpNet>() {
                if !policy.allow.contains(&net) {
                    policy.allow.push(net);
                }
            }
        }
        policy.allow_http |= stored.allow_http;
        policy
    }

    /// What admins see: endpoints and their source, whether a key is set, the lists.
    pub async fn overview(&self) -> Result<Overview, LlmSettingsError> {
        let stored = self.stored().await?;
        let providers = PROVIDERS
            .into_iter()
            .map(|provider| match stored.endpoint(provider) {
                Some(kept) => ProviderOverview {
                    provider,
                    endpoint: Some(kept.endpoint.as_str().to_owned()),
                    api_key_set: kept.api_key.is_some(),
                    source: Some(Source::Admin),
                },
                None => {
                    let server = self.server.endpoint(provider);
                    ProviderOverview {
                        provider,
                        endpoint: server.map(|endpoint| endpoint.url.clone()),
                        api_key_set: server.is_some_and(|endpoint| endpoint.api_key.is_some()),
                        source: server.map(|_| Source::Server),
                    }
                }
            })
            .collect();
        Ok(Overview {
            providers,
            allow: stored
                .allow
                .iter()
                .map(|network| network.as_str().to_owned())
                .collect(),
            allow_http: stored.allow_http,
            server_allow: self
                .server
                .policy
                .allow
                .iter()
                .map(ToString::to_string)
                .collect(),
            server_allow_http: self.server.policy.allow_http,
        })
    }

    /// Stores `provider`'s endpoint after vetting it against the allow-lists as they are.
    pub async fn set_endpoint(
        &self,
        provider: AiProvider,
        url: &str,
        api_key: KeyInput,
        admin_id: Uuid,
        meta: &CommandMeta,
    ) -> Result<(), LlmSettingsError> {
        if provider == AiProvider::Offline {
            return Err(AiSettingsError::OfflineHasNoEndpoint.into());
        }
        let endpoint = Endpoint::parse(url)?;
        let stored = self.stored().await?;
        outbound::vet(&self.policy(&stored), endpoint.as_str()).await?;
        let api_key = match api_key {
            KeyInput::Keep => ApiKeyChange::Keep,
            KeyInput::Remove => ApiKeyChange::Remove,
            KeyInput::Replace(key) => {
                use secrecy::ExposeSecret;
                let key = key.expose_secret();
                let header_safe = key.chars().all(|c| c.is_ascii_graphic());
                if key.is_empty() || key.len() > MAX_API_KEY_CHARS || !header_safe {
                    return Err(LlmSettingsError::BadApiKey);
                }
                ApiKeyChange::Replace(crypto::seal_setting(
                    &self.master,
                    &key_setting(provider),
                    key,
                ))
            }
        };
        let command = InstanceCommand::SetLlmEndpoint {
            provider,
            endpoint,
            api_key,
            by: admin_id,
            at: self.clock.now(),
        };
        self.execute(command, meta).await
    }

    /// Forgets `provider`'s stored endpoint and key; the server's setting applies again.
    pub async fn remove_endpoint(
        &self,
        provider: AiProvider,
        admin_id: Uuid,
        meta: &CommandMeta,
    ) -> Result<(), LlmSettingsError> {
        let command = InstanceCommand::RemoveLlmEndpoint {
            provider,
            by: admin_id,
            at: self.clock.now(),
        };
        self.execute(command, meta).await
    }

    /// Replaces the admins' allow-list and http switch.
    pub async fn set_outbound(
        &self,
        allow: Vec<String>,
        allow_http: bool,
        admin_id: Uuid,
        meta: &CommandMeta,
    ) -> Result<(), LlmSettingsError> {
        let command = InstanceCommand::SetOutboundPolicy {
            allow,
            allow_http,
            by: admin_id,
            at: self.clock.now(),
        };
        self.execute(command, meta).await
    }

    async fn execute(
        &self,
        command: InstanceCommand,
        meta: &CommandMeta,
    ) -> Result<(), LlmSettingsError> {
        self.store
            .execute::<Instance>(SETTINGS_ID, command, (), meta)
            .await?;
        Ok(())
    }
}
