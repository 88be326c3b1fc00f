//! Signing in, sessions and their protections over HTTP (AUTH-2, AUTH-3, AUTH-6, AUTH-7;
//! SECURITY 1–4, 9–13).

use crate::support::auth::{
    cleared_cookie, cookie_post, login, me_status, refresh_cookie, set_cookies, sign_in, PASSWORD,
};
use crate::support::TestEnv;
use chrono::Duration;
use domain::clock::ManualClock;
use domain::user::sealed_fields;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use uuid::Uuid;

fn cookie_is_well_formed(cookie: &str) -> bool {
    let re_parts = ["Path=/", "Secure", "HttpOnly", "SameSite=Strict"];
    cookie.starts_with("__Host-dv_refresh=")
        && re_parts
            .iter()
            .all(|part| cookie.split("; ").any(|p| p == *part))
        && !cookie.to_ascii_lowercase().contains("domain=")
}

#[tokio::test]
async fn signing_in_gives_a_short_lived_token_and_a_host_only_cookie() {
    let env = TestEnv::new().await;
    let (user_id, _) = env.register("ann").await;
    let (running, url) = env.start_api().await;
    let client = Client::new();

    let response = login(&client, &url, "ANN@example.test", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let cookies = set_cookies(response.headers());
    assert_eq!(cookies.len(), 1);
    assert!(cookie_is_well_formed(&cookies[0]), "{}", cookies[0]);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_i64().unwrap() <= 600);
    assert!(body.get("refresh_token").is_none());
    let access = body["access_token"].as_str().unwrap();
    let header: Value =
        serde_json::from_slice(&base64_url(access.split('.').next().unwrap())).unwrap();
    assert_eq!(header["alg"], "EdDSA");

    let me: Value = client
        .get(format!("{url}/api/me"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        me,
        json!({"user_id": user_id, "handle": "ann", "email": "ann@example.test", "role": "user", "display_name": null, "second_factor": false})
    );

    // SECURITY 1: the stored hash is argon2id at or above the policy's parameters.
    let sealed: String = sqlx::query_scalar(
        "select payload -> 'UserRegistered' ->> 'password_hash' from events where aggregate_id = $1",
    )
    .bind(user_id.to_string())
    .fetch_one(&env.pool)
    .await
    .unwrap();
    let key = env.keys().find(user_id).await.unwrap().unwrap();
    let hash = key
        .open_text(
            user_id,
            sealed_fields::PASSWORD_HASH,
            &domain::Sealed::from_envelope(sealed),
        )
        .unwrap();
    let params = hash.strip_prefix("$argon2id$v=19$").unwrap();
    let numbers: Vec<u32> = params
        .split('$')
        .next()
        .unwrap()
        .split(',')
        .map(|kv| kv.split('=').nth(1).unwrap().parse().unwrap())
        .collect();
    assert!(
        numbers[0] >= 19456 && numbers[1] >= 2 && numbers[2] == 1,
        "{hash}"
    );

    // The session is an event, carrying no secret.
    let started: Value = sqlx::query_scalar(
        "select payload from events where aggregate_type = 'session' and event_type = 'SessionStarted'",
    )
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!(started["SessionStarted"]["user_id"], json!(user_id));
    assert_eq!(started["SessionStarted"]["method"], "password");
    running.stop().await;
}

fn base64_url(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}

#[tokio::test]
async fn an_unknown_account_and_a_wrong_password_look_the_same() {
    let env = TestEnv::new().await;
    env.register("ann").await;
    let (running, url) = env.start_api().await;
    let client = Client::new();
    let mut unknown_time = std::time::Duration::ZERO;
    let mut wrong_time = std::time::Duration::ZERO;
    let mut bodies = Vec::new();
    for round in 0..3 {
        let started = std::time::Instant::now();
        let unknown = login(
            &client,
            &url,
            &format!("nobody{round}@example.test"),
            PASSWORD,
        )
        .await;
        unknown_time += started.elapsed();
        let started = std::time::Instant::now();
        let wrong = login(
            &client,
            &url,
            "ann@example.test",
            "correct horse battery stapl",
        )
        .await;
        wrong_time += started.elapsed();
        assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        bodies.push(unknown.bytes().await.unwrap());
        bodies.push(wrong.bytes().await.unwrap());
    }
    assert!(bodies.windows(2).all(|pair| pair[0] == pair[1]));
    let body: Value = serde_json::from_slice(&bodies[0]).unwrap();
    assert_eq!(body["code"], "invalid_credentials");
    // The unknown account pays for a hash too (no fast path).
    assert!(
        unknown_time * 2 > wrong_time,
        "unknown {unknown_time:?} vs wrong {wrong_time:?}"
    );
    // Failures are recorded for the audit log, never with the password.
    let failed: Vec<Value> = sqlx::query_scalar(
        "select payload from events where event_type = 'SignInFailed' order by position",
    )
    .fetch_all(&env.pool)
    .await
    .unwrap();
    assert_eq!(failed.len(), 6);
    let all: String =
        sqlx::query_scalar("select string_agg(payload::text || metadata::text, '') from events")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert!(!all.contains("stapl"));
    running.stop().await;
}

#[tokio::test]
async fn guessing_one_account_from_many_addresses_is_throttled_then_forgiven() {
    let env = TestEnv::new().await;
    env.register("ann").await;
    let clock = Arc::new(ManualClock::at(domain::Clock::now(&eventlog::SystemClock)));
    let (running, url) = env
        .start_api_with(clock.clone(), |settings| {
            settings.trusted_proxies =
                docuvault::config::TrustedProxies(vec!["127.0.0.1/32".parse().unwrap()]);
        })
        .await;
    let client = Client::new();
    let attempt = |ip: String, password: &'static str| {
        let client = client.clone();
        let url = url.clone();
        async move {
            client
                .post(format!("{url}/api/auth/login"))
                .header("x-forwarded-for", ip)
                .json(&json!({"email": "ann@example.test", "password": password}))
                .send()
                .await
                .unwrap()
        }
    };
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for i in 0..20 {
        let response = attempt(format!("198.51.100.{i}"), "wrong password here").await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            retry_after = response.headers().get("retry-after").cloned();
        }
        statuses.push(response.status().as_u16());
    }
    assert_eq!(&statuses[..6], &[401; 6], "{statuses:?}");
    assert!(statuses[6..].iter().all(|s| *s == 429), "{statuses:?}");
    let seconds: i64 = retry_after.unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=31).contains(&seconds), "{seconds}");

    // The right password while held back: still 429, from yet another address.
    let right = attempt("203.0.113.5".into(), PASSWORD).await;
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: Value = right.json().await.unwrap();
    assert_eq!(body["code"], "too_many_attempts");

    clock.advance(Duration::seconds(seconds + 1));
    let later = attempt("203.0.113.5".into(), PASSWORD).await;
    assert_eq!(later.status(), StatusCode::OK);

    let lockouts: i64 =
        sqlx::query_scalar("select count(*) from events where event_type = 'SignInLockedOut'")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(lockouts, 1);
    running.stop().await;
}

#[tokio::test]
async fn an_untrusted_peer_cannot_spread_guesses_over_forged_addresses() {
    let env = TestEnv::new().await;
    env.register("ann").await;
    let (running, url) = env.start_api().await;
    let client = Client::new();
    // Each address bucket would allow 50; the peer is what counts without a trusted proxy.
    let mut last = StatusCode::OK;
    for i in 0..60 {
        last = client
            .post(format!("{url}/api/auth/login"))
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .json(&json!({"email": format!("nobody{i}@example.test"), "password": "wrong password here"}))
            .send()
            .await
            .unwrap()
            .status();
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    running.stop().await;
}

#[tokio::test]
async fn refresh_rotates_and_reuse_ends_the_whole_session() {
    let env = TestEnv::new().await;
    env.register("ann").await;
    let (running, url) = env.start_api().await;
    let client = Client::new();
    let first = sign_in(&client, &url, "ann").await;

    let rotated = cookie_post(&client, &url, "/api/auth/refresh", &first.refresh).await;
    assert_eq!(rotated.status(), StatusCode::OK);
    for cookie in set_cookies(rotated.headers()) {
        assert!(cookie_is_well_formed(&cookie), "{cookie}");
    }
    let second_refresh = refresh_cookie(rotated.headers()).unwrap();
    assert_ne!(second_refresh, first.refresh);
    let body: Value = rotated.json().await.unwrap();
    let second_access = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        me_status(&client, &url, &second_access).await,
        StatusCode::OK
    );

    // RT0 again: theft. 401, cookie cleared, and the live RT1 and AT1 die with it.
    let replay = cookie_post(&client, &url, "/api/auth/refresh", &first.refresh).await;
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    assert!(cleared_cookie(replay.headers()));
    let body: Value = replay.json().await.unwrap();
    assert_eq!(body["code"], "unauthorized");
    let after = cookie_post(&client, &url, "/api/auth/refresh", &second_refresh).await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        me_status(&client, &url, &second_access).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        me_status(&client, &url, &first.access).await,
        StatusCode::UNAUTHORIZED
    );

    // The person sees it the next time they sign in.
    let again = sign_in(&client, &url, "ann").await;
    let list: Value = client
        .get(format!("{url}/api/sessions"))
        .bearer_auth(&again.access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["reuse_detected"], true);
    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[0]["current"], true);
    assert_eq!(sessions[1]["end_reason"], "token_reuse");
    let reused: i64 =
        sqlx::query_scalar("select count(*) from events where event_type = 'RefreshTokenReused'")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(reused, 1);
    running.stop().await;
}

#[tokio::test]
async fn ten_parallel_refreshes_of_one_token_succeed_at_most_once() {
    let env = TestEnv::new().await;
    env.register("ann").await;
    let (running, url) = env.start_api().await;
    let client = Client::new();
    let session = sign_in(&client, &url, "ann").await;
    let attempts = (0..10).map(|_| {
        let (client, url, refresh) = (client.clone(), url.clone(), session.refresh.clone());
        tokio::spawn(async move {
            cookie_post(&client, &url, "/api/auth/refresh", &refresh)
                .await
                .status()
        })
    });
    let statuses: Vec<StatusCode> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert!(ok <= 1, "{statuses:?}");
    assert!(statuses
        .iter()
        .all(|s| *s == StatusCode::OK || *s == StatusCode::UNAUTHORIZED));
    running.stop().await;
}

#[tokio::test]
async fn signing_out_ends_one_session_and_everywhere_ends_all() {
    let env = TestEnv::new().await;
    env.register("ann").await;
    let (running, url) = env.start_api().await;
    let client = Client::new();
    let laptop = sign_in(&client, &url, "ann").await;
    let phone = sign_in(&client, &url, "ann").await;
    let tablet = sign_in(&client, &url, "ann").await;

    let out = cookie_post(&client, &url, "/api/auth/logout", &laptop.refresh).await;
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert!(cleared_cookie(out.headers()));
    assert!(out.headers()["clear-site-data"]
        .to_str()
        .unwrap()
        .contains("\"cookies\""));
    assert_eq!(
        me_status(&client, &url, &laptop.access).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        me_status(&client, &url, &phone.access).await,
        StatusCode::OK
    );

    let everywhere = cookie_post(&client, &url, "/api/auth/logout-all", &phone.refresh).await;
    assert_eq!(everywhere.status(), StatusCode::NO_CONTENT);
    for session in [&phone, &tablet] {
        assert_eq!(
            me_status(&client, &url, &session.access).await,
            StatusCode::UNAUTHORIZED
        );
        let refresh = cookie_post(&client, &url, "/api/auth/refresh", &session.refresh).await;
        assert_eq!(refresh.status(), StatusCode::UNAUTHORIZED);
    }
    let ended: Vec<String> = sqlx::query_scalar(
        "select payload -> 'SessionEnded' ->> 'reason' from events where event_type = 'SessionEnded' order by position",
    )
    .fetch_all(&env.pool)
    .await
    .unwrap();
    assert_eq!(
        ended,
        vec![
            "signed_out",
            "signed_out_everywhere",
            "signed_out_everywhere"
        ]
    );
    running.stop().await;
}

#[tokio::test]
async fn a_person_ends_one_of_their_sessions_but_not_someone_elses() {
    let env = TestEnv::new().await;
    env.register("ann").await;
    env.register("bob").await;
    let (running, url) = env.start_api().await;
    let client = Client::new();
    let ann_old = sign_in(&client, &url, "ann").await;
    let ann = sign_in(&client, &url, "ann").await;
    let bob = sign_in(&client, &url, "bob").await;
    let list: Value = client
        .get(format!("{url}/api/sessions"))
        .bearer_auth(&ann.access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let old_id = list["sessions"][1]["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bob_list: Value = client
        .get(format!("{url}/api/sessions"))
        .bearer_auth(&bob.access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bob_id = bob_list["sessions"][0]["session_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let foreign = client
        .delete(format!("{url}/api/sessions/{bob_id}"))
        .bearer_auth(&ann.access)
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
    let random = client
        .delete(format!("{url}/api/sessions/{}", Uuid::new_v4()))
        .bearer_auth(&ann.access)
        .send()
        .await
        .unwrap();
    assert_eq!(random.status(), StatusCode::NOT_FOUND);
    assert_eq!(me_status(&client, &url, &bob.access).await, StatusCode::OK);

    let own = client
        .delete(format!("{url}/api/sessions/{old_id}"))
        .bearer_auth(&ann.access)
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        me_status(&client, &url, &ann_old.access).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(me_status(&client, &url, &ann.access).await, StatusCode::OK);

    let bad = client
        .delete(format!("{url}/api/sessions/not-a-uuid"))
        .bearer_auth(&ann.access)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["code"], "malformed_request");
    running.stop().await;
}

#[tokio::test]
async fn cookie_routes_refuse_cross_site_requests() {
    let env = TestEnv::new().await;
    env.register("ann").await;
    let (running, url) = env.start_api().await;
    let client = Client::new();
    let session = sign_in(&client, &url, "ann").await;
    let cookie = format!("__Host-dv_refresh={}", session.refresh);
    for path in [
        "/api/auth/refresh",
        "/api/auth/logout",
        "/api/auth/logout-all",
    ] {
        let foreign = client
            .post(format!("{url}{path}"))
            .header("cookie", &cookie)
            .header("x-docuvault-csrf", "1")
            .header("origin", "https://evil.example")
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(foreign.status(), StatusCode::FORBIDDEN, "{path}");
        let body: Value = foreign.json().await.unwrap();
        assert_eq!(body["code"], "cross_site_request");
        let no_header = client
            .post(format!("{url}{path}"))
            .header("cookie", &cookie)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(no_header.status(), StatusCode::FORBIDDEN, "{path}");
        let text = client
            .post(format!("{url}{path}"))
            .header("cookie", &cookie)
            .header("x-docuvault-csrf", "1")
            .header("content-type", "text/plain")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(text.status(), StatusCode::FORBIDDEN, "{path}");
        let cross = client
            .post(format!("{url}{path}"))
            .header("cookie", &cookie)
            .header("x-docuvault-csrf", "1")
            .header("sec-fetch-site", "cross-site")
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(cross.status(), StatusCode::FORBIDDEN, "{path}");
        let get = client
            .get(format!("{url}{path}"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
        let body: Value = get.json().await.unwrap();
        assert_eq!(body["code"], "method_not_allowed");
    }
    // None of that touched the session.
    assert_eq!(
        me_status(&client, &url, &session.access).await,
        StatusCode::OK
    );
    let same_origin = client
        .post(format!("{url}/api/auth/refresh"))
        .header("cookie", &cookie)
        .header("x-docuvault-csrf", "1")
        .header("origin", &url)
        .header("sec-fetch-site", "same-origin")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(same_origin.status(), StatusCode::OK);
    running.stop().await;
}

#[tokio::test]
async fn forged_expired_and_url_borne_access_tokens_are_refused() {
    let env = TestEnv::new().await;
    env.register("ann").await;
    let clock = Arc::new(ManualClock::at(domain::Clock::now(&eventlog::SystemClock)));
    let (running, url) = env.start_api_with(clock.clone(), |_| {}).await;
    let client = Client::new();
    let session = sign_in(&client, &url, "ann").await;
    assert_eq!(
        me_status(&client, &url, &session.access).await,
        StatusCode::OK
    );

    let parts: Vec<&str> = session.access.split('.').collect();
    let none = format!("{}.{}.", b64(r#"{"alg":"none","typ":"JWT"}"#), parts[1]);
    let hs256 = {
        use hmac::Mac;
        let signing_input = format!("{}.{}", b64(r#"{"alg":"HS256","typ":"JWT"}"#), parts[1]);
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"public key bytes").unwrap();
        mac.update(signing_input.as_bytes());
        format!(
            "{signing_input}.{}",
            b64_bytes(&mac.finalize().into_bytes())
        )
    };
    let mut flipped = session.access.clone().into_bytes();
    let i = parts[0].len() + parts[1].len() + 4;
    flipped[i] = if flipped[i] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    for forged in [none, hs256, flipped, "garbage".to_owned(), String::new()] {
        let response = client
            .get(format!("{url}/api/me"))
            .bearer_auth(&forged)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{forged}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "unauthorized");
    }
    let in_url = client
        .get(format!("{url}/api/me?access_token={}", session.access))
        .send()
        .await
        .unwrap();
    assert_eq!(in_url.status(), StatusCode::UNAUTHORIZED);
    let in_url_too = client
        .get(format!("{url}/api/me?access_token={}", session.access))
        .bearer_auth(&session.access)
        .send()
        .await
        .unwrap();
    assert_eq!(in_url_too.status(), StatusCode::UNAUTHORIZED);
    let missing = client.get(format!("{url}/api/me")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);

    clock.advance(Duration::minutes(11));
    assert_eq!(
        me_status(&client, &url, &session.access).await,
        StatusCode::UNAUTHORIZED
    );
    // The session itself lives on: a refresh gives a fresh token.
    let refreshed = cookie_post(&client, &url, "/api/auth/refresh", &session.refresh).await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    running.stop().await;
}

fn b64(text: &str) -> String {
    b64_bytes(text.as_bytes())
}

fn b64_bytes(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[tokio::test]
async fn malformed_sign_ins_answer_4xx_with_json_and_append_nothing() {
    let env = TestEnv::new().await;
    env.register("ann").await;
    let (running, url) = env.start_api().await;
    let client = Client::new();
    let before = env.event_count().await;
    let cases: Vec<(reqwest::RequestBuilder, StatusCode)> = vec![
        (
            client
                .post(format!("{url}/api/auth/login"))
                .header("content-type", "application/json")
                .body("{nope"),
            StatusCode::BAD_REQUEST,
        ),
        (
            client.post(format!("{url}/api/auth/login")).json(
                &json!({"email": ["ann@example.test", "evil@example.test"], "password": PASSWORD}),
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            client
                .post(format!("{url}/api/auth/login"))
                .json(&json!({"email": "ann@example.test", "password": PASSWORD, "role": "admin"})),
            StatusCode::BAD_REQUEST,
        ),
        (
            client
                .post(format!("{url}/api/auth/login"))
                .json(&json!({"email": "ann@example.test"})),
            StatusCode::BAD_REQUEST,
        ),
        (
            client
                .post(format!("{url}/api/auth/login"))
                .body("email=ann"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            client
                .post(format!("{url}/api/auth/login"))
                .json(&json!({"email": "ann@example.test", "password": "x".repeat(100_000)})),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ];
    for (request, expected) in cases {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), expected);
        let body: Value = response.json().await.unwrap();
        assert!(body["code"].is_string() && body["message"].is_string());
    }
    assert_eq!(env.event_count().await, before);

    // A 10 KB password is a quick, ordinary refusal.
    let started = std::time::Instant::now();
    let huge = login(&client, &url, "ann@example.test", &"x".repeat(10_000)).await;
    assert_eq!(huge.status(), StatusCode::UNAUTHORIZED);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    running.stop().await;
}
