//! Outbound HTTP with SSRF checks (SECURITY 22).
//!
//! Every request the server makes to an address a person typed (an Ollama server, an
//! OpenAI-compatible endpoint, later a cloud drive) goes through [`send`]:
//!
//! 1. [`vet`] parses the URL strictly (WHATWG, so `http://2130706433` and
//!    `http://0x7f.1` become `127.0.0.1` before anything else looks at them), requires
//!    https (http only when the [`Policy`] allows it), refuses user names and passwords in
//!    it, resolves the host **once** and refuses it if any address is not globally
//!    routable ([`is_public`]) and not on the administrator's allow-list.
//! 2. The request goes to the vetted addresses only: the HTTP client's resolver answers
//!    with them and nothing else, so a second DNS answer (rebinding) is never used.
//!    Environment proxies are ignored for the same reason.
//! 3. Redirects are followed here, not by the client, and every `Location` is vetted
//!    again; credentials are dropped when a redirect leaves the origin.
//! 4. The whole exchange has a deadline and the body a size cap; bodies are never
//!    decompressed.
//!
//! Nothing here logs headers, bodies or query strings: requests carry API keys and
//! document text.

mod address;
mod send;

pub use address::{canonical, is_public};
pub use ipnet::IpNet;
pub use reqwest::{header, Method, StatusCode, Url};
pub use send::{send, OutboundError, Request, Response};

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use thiserror::Error;
use url::Host;

/// What outbound requests may do. The default is the safe one: https only, public
/// addresses only, 5 s to connect, 60 s in all, 1 MiB of answer, 3 redirects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Networks the administrator allows although they are not public, e.g. the LAN
    /// address of an Ollama server (or `127.0.0.1/32` in tests).
    pub allow: Vec<IpNet>,
    /// Whether plain http is allowed (a LAN server without TLS).
    pub allow_http: bool,
    /// Deadline for name resolution and for each TCP/TLS connection.
    pub connect_timeout: Duration,
    /// Deadline for the whole exchange: resolution, redirects and reading the body.
    pub timeout: Duration,
    /// Largest answer body read, in bytes.
    pub max_response_bytes: usize,
    /// Most redirects followed (each one vetted again).
    pub max_redirects: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            allow: Vec::new(),
            allow_http: false,
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(60),
            max_response_bytes: 1024 * 1024,
            max_redirects: 3,
        }
    }
}

impl Policy {
    /// Whether a request may reach `ip`: on the allow-list, or public.
    pub fn permits(&self, ip: IpAddr) -> bool {
        let canonical = canonical(ip);
        let listed = self
            .allow
            .iter()
            .any(|net| net.contains(&ip) || net.contains(&canonical));
        listed || is_public(canonical)
    }
}

/// Why a URL was not allowed. The messages name the problem, never the whole URL (its
/// query may carry a key).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Refusal {
    #[error("the address is not a valid URL")]
    Malformed,
    /// Anything but https, or http when the policy allows it.
    #[error("the scheme {0:?} is not allowed")]
    Scheme(String),
    #[error("addresses with a user name or password are not allowed")]
    Userinfo,
    #[error("the address has no host")]
    NoHost,
    /// Name resolution failed, timed out or gave no address.
    #[error("the host name could not be resolved")]
    Unresolved,
    /// The host is, or resolves to, an address that is neither public nor allow-listed.
    #[error("the host resolves to {0}, which is not a public address")]
    Forbidden(IpAddr),
}

/// A URL that passed [`vet`], with the addresses it may be reached at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vetted {
    pub url: Url,
    /// The first vetted address.
    pub addr: SocketAddr,
    /// Every address the host resolved to; all of them passed.
    pub addrs: Vec<SocketAddr>,
}

/// Checks `url` against `policy` and resolves its host once (SECURITY 22).
pub async fn vet(policy: &Policy, url: &str) -> Result<Vetted, Refusal> {
    let mut url = Url::parse(url).map_err(|_| Refusal::Malformed)?;
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_http => {}
        other => return Err(Refusal::Scheme(other.to_owned())),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Refusal::Userinfo);
    }
    // http and https always have a known default port.
    let port = url.port_or_known_default().ok_or(Refusal::NoHost)?;
    let addrs: Vec<SocketAddr> = match url.host().ok_or(Refusal::NoHost)? {
        Host::Ipv4(ip) => vec![SocketAddr::new(ip.into(), port)],
        Host::Ipv6(ip) => vec![SocketAddr::new(ip.into(), port)],
        Host::Domain(domain) => resolve(policy, domain, port).await?,
    };
    if let Some(bad) = addrs.iter().find(|addr| !policy.permits(addr.ip())) {
        tracing::info!(host = ?url.host_str(), ip = %bad.ip(), "outbound request refused");
        return Err(Refusal::Forbidden(bad.ip()));
    }
    let addr = *addrs.first().ok_or(Refusal::Unresolved)?;
    url.set_fragment(None);
    Ok(Vetted { url, addr, addrs })
}

async fn resolve(policy: &Policy, domain: &str, port: u16) -> Result<Vec<SocketAddr>, Refusal> {
    let lookup = tokio::net::lookup_host((domain, port));
    let found = match tokio::time::timeout(policy.connect_timeout, lookup).await {
        Ok(Ok(found)) => found,
        Ok(Err(_)) | Err(_) => return Err(Refusal::Unresolved),
    };
    let mut addrs: Vec<SocketAddr> = Vec::new();
    for addr in found {
        if !addrs.contains(&addr) {
            addrs.push(addr);
        }
    }
    if addrs.is_empty() {
        return Err(Refusal::Unresolved);
    }
    Ok(addrs)
}
