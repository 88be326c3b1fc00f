//! Where the LLM classifiers are (AI-2, SECURITY 22): the endpoint and API key an admin
//! stores for each LLM provider, and the networks outbound calls may reach although they
//! are not public (a LAN Ollama server).
//!
//! The domain checks the form; whether an endpoint may be called (its host resolved and
//! vetted against the allow-list) is decided outside, before the command, because it
//! needs the network. The API key arrives sealed by the crypto layer and is kept only
//! sealed: nothing here can read it.

use crate::user::AiProvider;
use crate::Sealed;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::net::IpAddr;
use thiserror::Error;
use uuid::Uuid;

/// The longest endpoint URL kept.
pub const MAX_ENDPOINT_CHARS: usize = 2048;
/// The most networks on the allow-list.
pub const MAX_ALLOWED_NETWORKS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AiSettingsError {
    #[error("the offline classifier runs inside the server and has no endpoint")]
    OfflineHasNoEndpoint,
    #[error(
        "the endpoint must be an http or https URL of at most {MAX_ENDPOINT_CHARS} characters"
    )]
    BadEndpoint,
    #[error(
        "{0:?} is not a network: write an address (192.168.1.20) or a network (192.168.1.0/24)"
    )]
    BadNetwork(String),
    #[error("at most {MAX_ALLOWED_NETWORKS} networks may be allowed")]
    TooManyNetworks,
}

/// An endpoint URL in the form it is kept: trimmed, http(s), bounded. Whether it may be
/// reached is vetted elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Endpoint(String);

impl Endpoint {
    pub fn parse(text: &str) -> Result<Self, AiSettingsError> {
        let text = text.trim();
        let lower = text.to_ascii_lowercase();
        let scheme = lower.starts_with("https://") || lower.starts_with("http://");
        let printable = text.chars().all(|c| c.is_ascii_graphic());
        if !scheme || !printable || text.len() > MAX_ENDPOINT_CHARS {
            return Err(AiSettingsError::BadEndpoint);
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Endpoint {
    type Error = AiSettingsError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<Endpoint> for String {
    fn from(endpoint: Endpoint) -> Self {
        endpoint.0
    }
}

/// A network in CIDR form (`10.0.0.0/8`, `fd00::/8`); a bare address is a network of one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Network(String);

impl Network {
    pub fn parse(text: &str) -> Result<Self, AiSettingsError> {
        let text = text.trim();
        let bad = || AiSettingsError::BadNetwork(text.chars().take(64).collect());
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address.parse().map_err(|_| bad())?;
        let longest: u8 = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => longest,
            Some(digits) if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) => {
                digits.parse::<u8>().map_err(|_| bad())?
            }
            Some(_) => return Err(bad()),
        };
        if prefix > longest {
            return Err(bad());
        }
        Ok(Self(format!("{address}/{prefix}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Network {
    type Error = AiSettingsError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<Network> for String {
    fn from(network: Network) -> Self {
        network.0
    }
}

/// What to do with a provider's stored API key when its endpoint is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiKeyChange {
    Keep,
    Replace(Sealed),
    Remove,
}

/// A provider's endpoint as stored: the URL and the sealed API key, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LlmEndpoint {
    pub endpoint: Endpoint,
    pub api_key: Option<Sealed>,
}

/// The state the settings aggregate keeps.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AiSettings {
    pub ollama: Option<LlmEndpoint>,
    pub openai_compatible: Option<LlmEndpoint>,
    pub allow: BTreeSet<Network>,
    pub allow_http: bool,
}

impl AiSettings {
    pub fn endpoint(&self, provider: AiProvider) -> Option<&LlmEndpoint> {
        match provider {
            AiProvider::Offline => None,
            AiProvider::Ollama => self.ollama.as_ref(),
            AiProvider::OpenaiCompatible => self.openai_compatible.as_ref(),
        }
    }

    fn slot(&mut self, provider: AiProvider) -> Option<&mut Option<LlmEndpoint>> {
        match provider {
            AiProvider::Offline => None,
            AiProvider::Ollama => Some(&mut self.ollama),
            AiProvider::OpenaiCompatible => Some(&mut self.openai_compatible),
        }
    }

    /// The endpoint `provider` would have after the change, or why it cannot.
    pub fn with_endpoint(
        &self,
        provider: AiProvider,
        endpoint: Endpoint,
        api_key: ApiKeyChange,
    ) -> Result<LlmEndpoint, AiSettingsError> {
        if provider == AiProvider::Offline {
            return Err(AiSettingsError::OfflineHasNoEndpoint);
        }
        let kept = self
            .endpoint(provider)
            .and_then(|stored| stored.api_key.clone());
        let api_key = match api_key {
            ApiKeyChange::Keep => kept,
            ApiKeyChange::Replace(sealed) => Some(sealed),
            ApiKeyChange::Remove => None,
        };
        Ok(LlmEndpoint { endpoint, api_key })
    }

    /// The allow-list from what an admin typed: each entry parsed, duplicates dropped.
    pub fn networks(entries: &[String]) -> Result<BTreeSet<Network>, AiSettingsError> {
        let networks = entries
            .iter()
            .map(|entry| Network::parse(entry))
            .collect::<Result<BTreeSet<_>, _>>()?;
        if networks.len() > MAX_ALLOWED_NETWORKS {
            return Err(AiSettingsError::TooManyNetworks);
        }
        Ok(networks)
    }

    pub fn apply_endpoint_set(&mut self, event: &LlmEndpointSet) {
        if let Some(slot) = self.slot(event.provider) {
            *slot = Some(LlmEndpoint {
                endpoint: event.endpoint.clone(),
                api_key: event.api_key.clone(),
            });
        }
    }

    pub fn apply_endpoint_removed(&mut self, event: &LlmEndpointRemoved) {
        if let Some(slot) = self.slot(event.provider) {
            *slot = None;
        }
    }

    pub fn apply_outbound(&mut self, event: &OutboundPolicyChanged) {
        self.allow = event.allow.iter().cloned().collect();
        self.allow_http = event.allow_http;
    }
}

/// An admin stored where an LLM provider is, and its API key (sealed under a key derived
/// from the master secret; `None`: it needs none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlmEndpointSet {
    pub provider: AiProvider,
    pub endpoint: Endpoint,
    pub api_key: Option<Sealed>,
    pub by: Uuid,
    pub set_at: DateTime<Utc>,
}

/// An admin removed a provider's stored endpoint; the server's own setting, if any,
/// applies again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlmEndpointRemoved {
    pub provider: AiProvider,
    pub by: Uuid,
    pub removed_at: DateTime<Utc>,
}

/// An admin changed which non-public networks outbound calls may reach, and whether
/// plain http is allowed, in addition to what the server's configuration allows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboundPolicyChanged {
    pub allow: Vec<Network>,
    pub allow_http: bool,
    pub by: Uuid,
    pub changed_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_http_urls_of_bounded_length() {
        assert_eq!(
            Endpoint::parse(" http://192.168.1.20:11434 ")
                .unwrap()
                .as_str(),
            "http://192.168.1.20:11434"
        );
        assert!(Endpoint::parse("HTTPS://api.example.org/v1").is_ok());
        for bad in [
            "",
            "ftp://example.org",
            "file:///etc/passwd",
            "example.org",
            "http://exa mple.org",
            "javascript:alert(1)",
        ] {
            assert_eq!(
                Endpoint::parse(bad),
                Err(AiSettingsError::BadEndpoint),
                "{bad}"
            );
        }
        let long = format!("https://example.org/{}", "a".repeat(MAX_ENDPOINT_CHARS));
        assert_eq!(Endpoint::parse(&long), Err(AiSettingsError::BadEndpoint));
    }

    #[test]
    fn networks_are_addresses_or_cidr_blocks() {
        let parsed = |text: &str| Network::parse(text).map(|n| n.as_str().to_owned());
        assert_eq!(parsed("192.168.1.20").unwrap(), "192.168.1.20/32");
        assert_eq!(parsed(" 10.0.0.0/8 ").unwrap(), "10.0.0.0/8");
        assert_eq!(parsed("fd00::/8").unwrap(), "fd00::/8");
        assert_eq!(parsed("::1").unwrap(), "::1/128");
        for bad in [
            "",
            "lan",
            "10.0.0.0/33",
            "10.0.0.0/",
            "10.0.0.0/-1",
            "10.0.0.0/+8",
            "fd00::/129",
            "http://10.0.0.1",
            "10.0.0.0/8/8",
        ] {
            assert!(parsed(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_allow_list_drops_duplicates_and_is_bounded() {
        let entries = vec!["10.0.0.1".to_owned(), "10.0.0.1/32".to_owned()];
        assert_eq!(AiSettings::networks(&entries).unwrap().len(), 1);
        let many: Vec<String> = (0..=MAX_ALLOWED_NETWORKS)
            .map(|n| format!("10.0.{n}.0/24"))
            .collect();
        assert_eq!(
            AiSettings::networks(&many),
            Err(AiSettingsError::TooManyNetworks)
        );
    }
}
