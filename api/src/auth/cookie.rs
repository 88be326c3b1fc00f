//! The refresh-token cookie (SECURITY 13): `__Host-` prefix, Secure, HttpOnly,
//! SameSite=Strict, Path=/, no Domain. Only the refresh and sign-out routes read it.

use axum::http::{header, HeaderMap, HeaderValue};
use chrono::{DateTime, Utc};

pub const REFRESH_COOKIE: &str = "__Host-dv_refresh";

/// A `Set-Cookie` value carrying `token` until `expires_at`.
pub fn set_refresh(token: &str, expires_at: DateTime<Utc>, now: DateTime<Utc>) -> HeaderValue {
    let max_age = (expires_at - now).num_seconds().max(0);
    let value = format!(
        "{REFRESH_COOKIE}={token}; Path=/; Max-Age={max_age}; Secure; HttpOnly; SameSite=Strict"
    );
    // Tokens are base64url: always a valid header value.
    HeaderValue::from_str(&value).unwrap_or_else(|_| clear_refresh())
}

/// A `Set-Cookie` value that deletes the cookie.
pub fn clear_refresh() -> HeaderValue {
    HeaderValue::from_static(
        "__Host-dv_refresh=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict",
    )
}

/// The refresh token the browser sent, if any.
pub fn refresh_from(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == REFRESH_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|value| !value.is_empty() && value.len() <= 128)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_cookie_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=b; __Host-dv_refresh=abc_-1; c=d"),
        );
        assert_eq!(refresh_from(&headers).as_deref(), Some("abc_-1"));
        assert_eq!(refresh_from(&HeaderMap::new()), None);
    }

    #[test]
    fn the_cookie_has_every_attribute_the_prefix_requires() {
        let now = DateTime::UNIX_EPOCH;
        let value = set_refresh("tok", now + chrono::Duration::days(7), now);
        let text = value.to_str().unwrap();
        for part in [
            "Path=/",
            "Secure",
            "HttpOnly",
            "SameSite=Strict",
            "Max-Age=604800",
        ] {
            assert!(text.contains(part), "{text}");
        }
        assert!(!text.to_lowercase().contains("domain"));
    }
}
