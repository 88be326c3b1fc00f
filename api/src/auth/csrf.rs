//! CSRF defence for the routes a cookie authenticates (SECURITY 12): they are POST only
//! (the router answers 405 to anything else), take a JSON content type, need the custom
//! header below (which a cross-site form or simple request cannot send), refuse
//! `Sec-Fetch-Site: cross-site`/`same-site`, and an `Origin`, when sent, must be the app's.

use crate::{ApiError, AppState};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};

/// The header the SPA sends on cookie routes.
pub const CSRF_HEADER: &str = "x-docuvault-csrf";

/// Proof that a request to a cookie route came from the app itself.
pub struct SameOrigin;

impl FromRequestParts<AppState> for SameOrigin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        check(&parts.headers, state.config.public_origin.as_deref())
            .map(|()| SameOrigin)
            .map_err(|why| {
                tracing::info!(why, "cross-site request refused");
                ApiError::CrossSite
            })
    }
}

fn check(headers: &HeaderMap, public_origin: Option<&str>) -> Result<(), &'static str> {
    let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    if !text(header::CONTENT_TYPE.as_str()).is_some_and(|value| {
        value
            .trim()
            .to_ascii_lowercase()
            .starts_with("application/json")
    }) {
        return Err("not JSON");
    }
    if text(CSRF_HEADER) != Some("1") {
        return Err("no CSRF header");
    }
    if matches!(text("sec-fetch-site"), Some("cross-site" | "same-site")) {
        return Err("Sec-Fetch-Site says cross-site");
    }
    if let Some(origin) = text(header::ORIGIN.as_str()) {
        let host = text(header::HOST.as_str()).unwrap_or_default();
        let own = [format!("http://{host}"), format!("https://{host}")];
        let allowed = public_origin == Some(origin) || own.iter().any(|own| own == origin);
        if !allowed {
            return Err("foreign Origin");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn good() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(CSRF_HEADER, HeaderValue::from_static("1"));
        headers.insert(header::HOST, HeaderValue::from_static("vault.example:8080"));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://vault.example:8080"),
        );
        headers.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        headers
    }

    #[test]
    fn the_app_itself_passes() {
        assert_eq!(check(&good(), None), Ok(()));
        let mut proxied = good();
        proxied.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://vault.example"),
        );
        assert_eq!(check(&proxied, Some("https://vault.example")), Ok(()));
    }

    #[test]
    fn anything_cross_site_is_refused() {
        let mut foreign = good();
        foreign.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(check(&foreign, None).is_err());
        let mut no_header = good();
        no_header.remove(CSRF_HEADER);
        assert!(check(&no_header, None).is_err());
        let mut text = good();
        text.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert!(check(&text, None).is_err());
        let mut fetch = good();
        fetch.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(check(&fetch, None).is_err());
    }
}
