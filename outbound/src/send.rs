//! Sending one request under a [`Policy`]: pinned to the vetted addresses, redirects
//! followed (and vetted) here, a deadline over the whole exchange and a cap on the body.

use crate::{vet, Policy, Refusal, Vetted};
use bytes::{Bytes, BytesMut};
use reqwest::header::{self, HeaderMap};
use reqwest::{Method, StatusCode, Url};
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use thiserror::Error;

/// What to send. `Debug` shows the method and host only: headers carry keys, the body
/// document text, the query perhaps a token.
#[derive(Clone)]
pub struct Request {
    pub method: Method,
    pub url: String,
    /// Mark credentials with [`header::HeaderValue::set_sensitive`]; they are dropped
    /// anyway when a redirect leaves the origin.
    pub headers: HeaderMap,
    /// Sent as `application/json` when present.
    pub json: Option<serde_json::Value>,
}

impl Request {
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Self {
            method,
            url: url.into(),
            headers: HeaderMap::new(),
            json: None,
        }
    }

    pub fn get(url: impl Into<String>) -> Self {
        Self::new(Method::GET, url)
    }

    pub fn post_json(url: impl Into<String>, body: serde_json::Value) -> Self {
        Self {
            json: Some(body),
            ..Self::new(Method::POST, url)
        }
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = Url::parse(&self.url)
            .ok()
            .and_then(|url| url.host_str().map(str::to_owned));
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("host", &host)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("json", &self.json.as_ref().map(|_| ".."))
            .finish()
    }
}

/// The final answer (after redirects), whatever its status.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Response {
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

#[derive(Debug, Error)]
pub enum OutboundError {
    /// The URL, or a redirect's, is not allowed (SSRF rules).
    #[error("the address is not allowed: {0}")]
    Refused(Refusal),
    /// The deadline passed: connecting, waiting or reading.
    #[error("the server did not answer in time")]
    Timeout,
    /// No connection: refused, unreachable, TLS failed, or the name did not resolve.
    #[error("could not connect to the server: {0}")]
    Connect(String),
    /// The body is larger than the policy's cap (the value).
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
    /// More redirects than the policy's limit (the value).
    #[error("more than {0} redirects")]
    TooManyRedirects(usize),
    /// Anything else HTTP went wrong with (a broken answer, a bad header).
    #[error("the exchange failed: {0}")]
    Http(String),
}

impl From<Refusal> for OutboundError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            // Not an SSRF matter: the network or the name is wrong; worth a retry.
            Refusal::Unresolved => OutboundError::Connect(refusal.to_string()),
            refusal => OutboundError::Refused(refusal),
        }
    }
}

impl From<reqwest::Error> for OutboundError {
    fn from(error: reqwest::Error) -> Self {
        if error.is_timeout() {
            return OutboundError::Timeout;
        }
        let connect = error.is_connect();
        // The URL can hold a token: leave it out, and name the innermost cause.
        let error = error.without_url();
        let mut detail = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            detail = cause.to_string();
            source = cause.source();
        }
        if connect {
            OutboundError::Connect(detail)
        } else {
            OutboundError::Http(detail)
        }
    }
}

/// Sends `request` under `policy` (SECURITY 22): vets the URL, connects only to the
/// vetted addresses, follows and re-vets up to `max_redirects` redirects, and reads at
/// most `max_response_bytes`, all within `timeout`.
pub async fn send(policy: &Policy, request: Request) -> Result<Response, OutboundError> {
    match tokio::time::timeout(policy.timeout, exchange(policy, request)).await {
        Ok(result) => result,
        Err(_) => Err(OutboundError::Timeout),
    }
}

async fn exchange(policy: &Policy, request: Request) -> Result<Response, OutboundError> {
    let Request {
        mut method,
        url,
        mut headers,
        mut json,
    } = request;
    let mut vetted = vet(policy, &url).await?;
    let mut redirects = 0;
    loop {
        let client = client_for(policy, &vetted)?;
        let mut builder = client
            .request(method.clone(), vetted.url.clone())
            .headers(headers.clone());
        if let Some(body) = &json {
            builder = builder.json(body);
        }
        let mut response = builder.send().await?;
        let status = response.status();
        tracing::debug!(host = ?vetted.url.host_str(), %status, "outbound request");

        let location = redirect_target(status, response.headers());
        let Some(location) = location else {
            let headers = response.headers().clone();
            let body = read_capped(&mut response, policy.max_response_bytes).await?;
            return Ok(Response {
                status,
                headers,
                body,
            });
        };
        redirects += 1;
        if redirects > policy.max_redirects {
            return Err(OutboundError::TooManyRedirects(policy.max_redirects));
        }
        let next = vetted
            .url
            .join(&location)
            .map_err(|_| OutboundError::Refused(Refusal::Malformed))?;
        let next = vet(policy, next.as_str()).await?;
        if next.url.origin() != vetted.url.origin() {
            for name in [
                header::AUTHORIZATION,
                header::COOKIE,
                header::PROXY_AUTHORIZATION,
            ] {
                headers.remove(name);
            }
        }
        // 303, and 301/302 after a POST, continue as a GET without the body (as
        // browsers do); 307 and 308 repeat the request as it was.
        let as_get = status == StatusCode::SEE_OTHER
            || (matches!(status, StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND)
                && method == Method::POST);
        if as_get {
            method = Method::GET;
            json = None;
            headers.remove(header::CONTENT_TYPE);
            headers.remove(header::CONTENT_LENGTH);
        }
        vetted = next;
    }
}

/// The `Location` of a redirect this module follows.
fn redirect_target(status: StatusCode, headers: &HeaderMap) -> Option<String> {
    let follows = matches!(
        status,
        StatusCode::MOVED_PERMANENTLY
            | StatusCode::FOUND
            | StatusCode::SEE_OTHER
            | StatusCode::TEMPORARY_REDIRECT
            | StatusCode::PERMANENT_REDIRECT
    );
    if !follows {
        return None;
    }
    headers
        .get(header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// A client that can only reach `vetted`: its resolver answers with the vetted addresses
/// for the vetted host and fails for any other name. (IP-literal hosts never reach the
/// resolver; they were vetted as they are.)
fn client_for(policy: &Policy, vetted: &Vetted) -> Result<reqwest::Client, OutboundError> {
    let pinned = Pinned {
        host: vetted.url.host_str().unwrap_or_default().to_owned(),
        addrs: vetted.addrs.clone(),
    };
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .referer(false)
        .https_only(!policy.allow_http)
        .connect_timeout(policy.connect_timeout)
        .timeout(policy.timeout)
        .dns_resolver(Arc::new(pinned))
        .build()
        .map_err(|error| OutboundError::Http(error.without_url().to_string()))
}

struct Pinned {
    host: String,
    addrs: Vec<SocketAddr>,
}

impl reqwest::dns::Resolve for Pinned {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let answer: Result<reqwest::dns::Addrs, Box<dyn std::error::Error + Send + Sync>> =
            if name.as_str().eq_ignore_ascii_case(&self.host) {
                Ok(Box::new(self.addrs.clone().into_iter()))
            } else {
                Err("name not vetted".into())
            };
        Box::pin(std::future::ready(answer))
    }
}

/// The body, refusing more than `cap` bytes: by the declared length when there is one,
/// and while reading in any case.
async fn read_capped(response: &mut reqwest::Response, cap: usize) -> Result<Bytes, OutboundError> {
    if let Some(length) = response.content_length() {
        if length > cap as u64 {
            return Err(OutboundError::TooLarge(cap));
        }
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > cap {
            return Err(OutboundError::TooLarge(cap));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
