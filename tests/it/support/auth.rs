//! Signing in and holding sessions over HTTP, as the SPA does.

use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};

pub const PASSWORD: &str = "correct horse battery staple";

/// Every `Set-Cookie` a response carries.
pub fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .collect()
}

/// The refresh token a response set (`None` when it cleared or set nothing).
pub fn refresh_cookie(headers: &HeaderMap) -> Option<String> {
    set_cookies(headers).iter().find_map(|cookie| {
        let value = cookie
            .strip_prefix("__Host-dv_refresh=")?
            .split(';')
            .next()?;
        (!value.is_empty()).then(|| value.to_owned())
    })
}

/// Whether a response deleted the refresh cookie.
pub fn cleared_cookie(headers: &HeaderMap) -> bool {
    set_cookies(headers)
        .iter()
        .any(|cookie| cookie.starts_with("__Host-dv_refresh=;") && cookie.contains("Max-Age=0"))
}

/// A signed-in session: its access token and its current refresh token.
#[derive(Debug, Clone)]
pub struct Session {
    pub access: String,
    pub refresh: String,
}

pub async fn login(client: &Client, url: &str, email: &str, password: &str) -> Response {
    client
        .post(format!("{url}/api/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

/// Signs `<handle>@example.test` in with the test password.
pub async fn sign_in(client: &Client, url: &str, handle: &str) -> Session {
    let response = login(client, url, &format!("{handle}@example.test"), PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let refresh = refresh_cookie(response.headers()).expect("a refresh cookie");
    let body: Value = response.json().await.unwrap();
    Session {
        access: body["access_token"].as_str().unwrap().to_owned(),
        refresh,
    }
}

/// A POST to a cookie route with the refresh cookie and the SPA's CSRF header.
pub async fn cookie_post(client: &Client, url: &str, path: &str, refresh: &str) -> Response {
    client
        .post(format!("{url}{path}"))
        .header("cookie", format!("__Host-dv_refresh={refresh}"))
        .header("x-docuvault-csrf", "1")
        .json(&json!({}))
        .send()
        .await
        .unwrap()
}

/// The status of `GET /api/me` with `access`.
pub async fn me_status(client: &Client, url: &str, access: &str) -> StatusCode {
    client
        .get(format!("{url}/api/me"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .status()
}
