//! The HTTP API, end to end: registration, handles, read-your-writes, bad input,
//! headers, OpenAPI, the SPA.

use crate::support::TestEnv;
use docuvault::system::Components;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;

const STRONG: &str = "correct horse battery staple";

async fn post_register(client: &reqwest::Client, url: &str, body: Value) -> (StatusCode, Vec<u8>) {
    let response = client
        .post(format!("{url}/api/auth/register"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status(), response.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn a_user_registers_and_their_handle_becomes_taken() {
    let env = TestEnv::new().await;
    let (running, url) = env.start_all().await;
    let client = reqwest::Client::new();
    let (status, body) = post_register(
        &client,
        &url,
        json!({"email": "Ann@Example.org", "handle": "Ann", "password": STRONG}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert!(body["message"]
        .as_str()
        .unwrap()
        .starts_with("Check your email"));

    let pool = env.pool.clone();
    env.eventually("the users model shows ann", || {
        let pool = pool.clone();
        async move {
            projections::users::queries::handle_exists(&pool, "ann")
                .await
                .unwrap()
        }
    })
    .await;
    let taken: Value = client
        .get(format!("{url}/api/handles/ANN"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(taken, json!({"handle": "ann", "available": false}));
    let free: Value = client
        .get(format!("{url}/api/handles/bob"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(free, json!({"handle": "bob", "available": true}));

    let row = projections::users::queries::find_by_handle(&env.pool, "ann")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.email.as_deref(), Some("ann@example.org"));
    assert_eq!(row.role, "user");
    running.stop().await;
}

#[tokio::test]
async fn a_read_with_a_consistency_token_sees_the_write_at_once() {
    let env = TestEnv::new().await;
    let (running, url) = env.start_all().await;
    let (_, token) = env.register("carol").await;
    // No sleeping, no polling: the token makes the read wait for the projection.
    let response = reqwest::Client::new()
        .get(format!("{url}/api/handles/carol"))
        .header("X-Consistency-Token", token.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["available"], false);
    running.stop().await;
}

#[tokio::test]
async fn a_lagging_projection_answers_503_with_retry_after_in_time() {
    let mut env = TestEnv::new().await;
    env.settings.consistency_wait_ms = 300;
    // The API and relay run; no projection builder does, so the model never catches up.
    let running = env
        .start(Components {
            api: true,
            relay: true,
            ..Components::default()
        })
        .await;
    let url = format!("http://{}", running.addr.unwrap());
    let (_, token) = env.register("dave").await;
    let started = std::time::Instant::now();
    let response = reqwest::Client::new()
        .get(format!("{url}/api/handles/dave"))
        .header("X-Consistency-Token", token.to_string())
        .send()
        .await
        .unwrap();
    let waited = started.elapsed();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "1");
    assert!(
        waited >= std::time::Duration::from_millis(250),
        "answered before waiting: {waited:?}"
    );
    assert!(
        waited < std::time::Duration::from_secs(3),
        "waited too long: {waited:?}"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "not_yet_consistent");
    running.stop().await;
}

#[tokio::test]
async fn a_taken_email_gets_the_same_reply_as_a_fresh_registration() {
    let env = TestEnv::new().await;
    let (running, url) = env.start_api().await;
    let client = reqwest::Client::new();
    let fresh = post_register(
        &client,
        &url,
        json!({"email": "eve@example.org", "handle": "eve", "password": STRONG}),
    )
    .await;
    let again = post_register(
        &client,
        &url,
        json!({"email": "EVE@example.org", "handle": "eve2", "password": STRONG}),
    )
    .await;
    assert_eq!(
        fresh, again,
        "the replies must not reveal that the email is registered"
    );
    assert_eq!(fresh.0, StatusCode::ACCEPTED);
    assert_eq!(
        env.event_count().await,
        1,
        "the second registration appends nothing"
    );
    // Its data key was cleaned up: only eve has one.
    let keys: i64 = sqlx::query_scalar("select count(*) from user_keys")
        .fetch_one(&env.ddl)
        .await
        .unwrap();
    assert_eq!(keys, 1);
    running.stop().await;
}

#[tokio::test]
async fn twenty_concurrent_registrations_of_one_handle_yield_one_account() {
    let env = TestEnv::new().await;
    // Twenty people behind one proxy: each address has its own registration allowance
    // (from one address, the throttle would refuse some; admin.rs tests that).
    let clock = Arc::new(eventlog::SystemClock);
    let (running, url) = env
        .start_api_with(clock, |settings| {
            settings.trusted_proxies =
                docuvault::config::TrustedProxies(vec!["127.0.0.1/32".parse().unwrap()]);
        })
        .await;
    let client = reqwest::Client::new();
    let attempts = (0..20).map(|i| {
        let (client, url) = (client.clone(), url.clone());
        tokio::spawn(async move {
            let response = client
                .post(format!("{url}/api/auth/register"))
                .header("x-forwarded-for", format!("198.51.100.{i}"))
                .json(&json!({"email": format!("frank{i}@example.org"), "handle": "frank", "password": STRONG}))
                .send()
                .await
                .unwrap();
            (response.status(), response.bytes().await.unwrap().to_vec())
        })
    });
    let results: Vec<(StatusCode, Vec<u8>)> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let accepted = results
        .iter()
        .filter(|(status, _)| *status == StatusCode::ACCEPTED)
        .count();
    assert_eq!(accepted, 1, "{results:?}");
    for (status, body) in results
        .iter()
        .filter(|(status, _)| *status != StatusCode::ACCEPTED)
    {
        assert_eq!(*status, StatusCode::CONFLICT);
        let body: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(body["code"], "handle_taken");
        assert_eq!(body["fields"]["handle"], "That handle is already taken.");
    }
    assert_eq!(env.event_count().await, 1);
    running.stop().await;
}

#[tokio::test]
async fn bad_input_gets_a_4xx_json_error_and_appends_nothing() {
    let env = TestEnv::new().await;
    let (running, base) = env.start_api().await;
    let url = format!("{base}/api/auth/register");
    let client = reqwest::Client::new();
    let send = |body: Vec<u8>, content_type: &'static str| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let response = client
                .post(&url)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (status, body)
        }
    };
    let cases: Vec<(&str, Vec<u8>, &str, StatusCode, &str)> = vec![
        ("malformed JSON", b"{\"email\": ".to_vec(), "application/json", StatusCode::BAD_REQUEST, "malformed_request"),
        ("missing fields", br#"{"email": "x@example.org"}"#.to_vec(), "application/json", StatusCode::BAD_REQUEST, "malformed_request"),
        ("wrong types", br#"{"email": 1, "handle": [], "password": null}"#.to_vec(), "application/json", StatusCode::BAD_REQUEST, "malformed_request"),
        ("unknown field", format!(r#"{{"email": "g@example.org", "handle": "gina", "password": "{STRONG}", "role": "admin"}}"#).into_bytes(), "application/json", StatusCode::BAD_REQUEST, "malformed_request"),
        ("not JSON", b"email=x".to_vec(), "application/x-www-form-urlencoded", StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        ("1 MB body", format!(r#"{{"email": "g@example.org", "handle": "gina", "password": "{}"}}"#, "a".repeat(1024 * 1024)).into_bytes(), "application/json", StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        ("10 KB password", format!(r#"{{"email": "g@example.org", "handle": "gina", "password": "{}"}}"#, "ab cd ".repeat(10 * 1024 / 6)).into_bytes(), "application/json", StatusCode::BAD_REQUEST, "invalid_input"),
        ("common password", br#"{"email": "g@example.org", "handle": "gina", "password": "password1"}"#.to_vec(), "application/json", StatusCode::BAD_REQUEST, "invalid_input"),
        ("bad email and handle", format!(r#"{{"email": "nope", "handle": "-x", "password": "{STRONG}"}}"#).into_bytes(), "application/json", StatusCode::BAD_REQUEST, "invalid_input"),
    ];
    for (what, body, content_type, status, code) in cases {
        let started = std::time::Instant::now();
        let (got_status, got_body) = send(body, content_type).await;
        assert_eq!(got_status, status, "{what}: {got_body}");
        assert_eq!(got_body["code"], code, "{what}: {got_body}");
        assert!(got_body["message"].is_string(), "{what}: {got_body}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{what} was slow"
        );
    }
    let (_, body) = send(
        br#"{"email": "nope", "handle": "-xy", "password": "short"}"#.to_vec(),
        "application/json",
    )
    .await;
    assert_eq!(
        body["fields"]["email"],
        "That does not look like an email address."
    );
    assert!(body["fields"]["handle"]
        .as_str()
        .unwrap()
        .starts_with("Use only letters"));
    assert_eq!(body["fields"]["password"], "Use at least 8 characters.");
    let (_, body) = send(
        br#"{"email": "g@example.org", "handle": "gina", "password": "password1"}"#.to_vec(),
        "application/json",
    )
    .await;
    assert!(
        body["fields"]["password"]
            .as_str()
            .unwrap()
            .starts_with("This password is too easy to guess."),
        "{body}"
    );
    assert_eq!(
        env.event_count().await,
        0,
        "nothing may be appended for bad input"
    );
    let malformed_token = client
        .get(format!("{base}/api/handles/ann"))
        .header("X-Consistency-Token", "soon")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed_token.status(), StatusCode::BAD_REQUEST);
    running.stop().await;
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_api_json_is_not_cached() {
    let env = TestEnv::new().await;
    let (running, url) = env.start_api().await;
    for path in [
        "/",
        "/register",
        "/health",
        "/api/handles/ann",
        "/api/nope",
        "/api/openapi.json",
    ] {
        let response = reqwest::get(format!("{url}{path}")).await.unwrap();
        let headers = response.headers();
        assert_eq!(headers["content-security-policy"], "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'", "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert!(
            headers["strict-transport-security"]
                .to_str()
                .unwrap()
                .starts_with("max-age="),
            "{path}"
        );
        assert_eq!(
            headers["cross-origin-opener-policy"], "same-origin",
            "{path}"
        );
        assert!(headers.contains_key("x-request-id"), "{path}");
        if path.starts_with("/api") {
            assert_eq!(headers["cache-control"], "no-store", "{path}");
        }
    }
    running.stop().await;
}

#[tokio::test]
async fn the_spa_is_served_with_history_fallback_and_unknown_api_paths_are_json_404s() {
    let env = TestEnv::new().await;
    let (running, url) = env.start_api().await;
    for page in ["/", "/register", "/some/deep/route"] {
        let response = reqwest::get(format!("{url}{page}")).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{page}");
        assert!(
            response.text().await.unwrap().contains("<div id=\"app\">"),
            "{page} serves index.html"
        );
    }
    let missing_asset = reqwest::get(format!("{url}/assets/missing-123.js"))
        .await
        .unwrap();
    assert_eq!(missing_asset.status(), StatusCode::NOT_FOUND);
    let api = reqwest::get(format!("{url}/api/nope")).await.unwrap();
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
    let body: Value = api.json().await.unwrap();
    assert_eq!(body["code"], "not_found");
    running.stop().await;
}

#[tokio::test]
async fn the_openapi_document_lists_every_route() {
    let env = TestEnv::new().await;
    let (running, url) = env.start_api().await;
    let document: Value = reqwest::get(format!("{url}/api/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/auth/register",
        "/api/handles/{handle}",
        "/health",
        "/ready",
        "/metrics",
    ] {
        assert!(
            document["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
    running.stop().await;
}

#[tokio::test]
async fn health_ready_and_metrics_report() {
    let env = TestEnv::new().await;
    let (running, url) = env.start_all().await;
    assert_eq!(
        reqwest::get(format!("{url}/health"))
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap(),
        json!({"status": "ok"})
    );
    let ready = reqwest::get(format!("{url}/ready")).await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(
        ready.json::<Value>().await.unwrap(),
        json!({"postgres": "ok", "nats": "ok", "storage": "ok"})
    );
    let (_, token) = env.register("heidi").await;
    env.users_reach(token).await;
    let metrics = reqwest::get(format!("{url}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "docuvault_projection_lag_events{projection=\"users\"} 0",
        "docuvault_projection_dead_letters{projection=\"users\"} 0",
        "docuvault_relay_parked_events 0",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "missing {line:?} in\n{metrics}"
        );
    }
    assert!(metrics.contains("docuvault_relay_lag_seconds"));
    running.stop().await;
}
