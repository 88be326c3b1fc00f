//! Emailed links over HTTP, read from a real SMTP conversation (AUTH-1, AUTH-5;
//! SECURITY 4, 8, 10, 30).

use crate::support::auth::{login, me_status, set_cookies, sign_in, PASSWORD};
use crate::support::smtp::{link_token, SmtpSink};
use crate::support::TestEnv;
use chrono::Duration;
use docuvault::system::Running;
use domain::clock::ManualClock;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

/// The public address links must use, whatever Host a request names.
const PUBLIC: &str = "https://vault.example.test";

struct World {
    env: TestEnv,
    running: Running,
    url: String,
    sink: SmtpSink,
    clock: Arc<ManualClock>,
    client: Client,
}

impl World {
    async fn new() -> Self {
        let env = TestEnv::new().await;
        let sink = SmtpSink::start().await;
        let clock = Arc::new(ManualClock::at(domain::Clock::now(&eventlog::SystemClock)));
        let smtp = sink.url.clone();
        let (running, url) = env
            .start_api_with(clock.clone(), |settings| {
                settings.smtp_url = Some(smtp);
                settings.public_url = PUBLIC.into();
            })
            .await;
        Self {
            env,
            running,
            url,
            sink,
            clock,
            client: Client::new(),
        }
    }

    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.url))
            .json(&body)
            .send()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_new_account_confirms_its_address_before_signing_in_and_a_taken_address_gets_a_notice() {
    let w = World::new().await;
    let registered = w
        .post(
            "/api/auth/register",
            json!({"email": "cleo@example.test", "handle": "cleo", "password": PASSWORD}),
        )
        .await;
    assert_eq!(registered.status(), StatusCode::ACCEPTED);
    let first_reply = registered.bytes().await.unwrap();

    let early = login(&w.client, &w.url, "cleo@example.test", PASSWORD).await;
    assert_eq!(early.status(), StatusCode::FORBIDDEN);
    let body: Value = early.json().await.unwrap();
    assert_eq!(body["code"], "email_unverified");
    // A wrong password says nothing about verification.
    let wrong = login(
        &w.client,
        &w.url,
        "cleo@example.test",
        "not the password at all",
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    let mail = w
        .sink
        .wait_for("cleo@example.test", "Confirm your email", 1)
        .await;
    let token = link_token(&mail, PUBLIC, "/verify-email");
    assert_eq!(token.len(), 43, "256 bits, base64url");
    let confirmed = w
        .post("/api/auth/verify-email", json!({"token": token}))
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let again = w
        .post("/api/auth/verify-email", json!({"token": token}))
        .await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["code"], "invalid_link");
    sign_in_as(&w, "cleo@example.test", PASSWORD).await;

    // The same address again: the same reply, and its owner gets a notice instead.
    let repeat = w
        .post(
            "/api/auth/register",
            json!({"email": "CLEO@example.test", "handle": "cleo2", "password": PASSWORD}),
        )
        .await;
    assert_eq!(repeat.status(), StatusCode::ACCEPTED);
    assert_eq!(repeat.bytes().await.unwrap(), first_reply);
    let notice = w
        .sink
        .wait_for("cleo@example.test", "already have a DocuVault account", 1)
        .await;
    assert!(crate::support::smtp::unquote(&notice).contains(&format!("{PUBLIC}/forgot-password")));

    let verified: i64 =
        sqlx::query_scalar("select count(*) from events where event_type = 'EmailVerified'")
            .fetch_one(&w.env.pool)
            .await
            .unwrap();
    assert_eq!(verified, 1);
    w.running.stop().await;
}

async fn sign_in_as(w: &World, email: &str, password: &str) -> Value {
    let response = login(&w.client, &w.url, email, password).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_confirmation_link_can_be_sent_again_spaced_out_and_the_old_one_dies() {
    let w = World::new().await;
    w.post(
        "/api/auth/register",
        json!({"email": "dan@example.test", "handle": "dan", "password": PASSWORD}),
    )
    .await;
    let first = w
        .sink
        .wait_for("dan@example.test", "Confirm your email", 1)
        .await;
    let old = link_token(&first, PUBLIC, "/verify-email");
    // Right away: the same reply, no second message.
    let soon = w
        .post(
            "/api/auth/verify-email/resend",
            json!({"email": "dan@example.test"}),
        )
        .await;
    assert_eq!(soon.status(), StatusCode::ACCEPTED);
    let unknown = w
        .post(
            "/api/auth/verify-email/resend",
            json!({"email": "nobody@example.test"}),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::ACCEPTED);
    assert_eq!(soon.bytes().await.unwrap(), unknown.bytes().await.unwrap());
    w.clock.advance(Duration::seconds(61));
    w.post(
        "/api/auth/verify-email/resend",
        json!({"email": "dan@example.test"}),
    )
    .await;
    let second = w
        .sink
        .wait_for("dan@example.test", "Confirm your email", 2)
        .await;
    let new = link_token(&second, PUBLIC, "/verify-email");
    assert_eq!(
        w.sink
            .messages()
            .iter()
            .filter(|m| m.contains("To: dan@example.test"))
            .count(),
        2
    );
    let stale = w
        .post("/api/auth/verify-email", json!({"token": old}))
        .await;
    assert_eq!(stale.status(), StatusCode::BAD_REQUEST);
    let fresh = w
        .post("/api/auth/verify-email", json!({"token": new}))
        .await;
    assert_eq!(fresh.status(), StatusCode::OK);
    w.running.stop().await;
}

#[tokio::test]
async fn a_password_reset_follows_every_rule() {
    let w = World::new().await;
    let (ann_id, _) = w.env.register("ann").await;
    let session = sign_in(&w.client, &w.url, "ann").await;

    // Generic replies, whatever the address; the link comes from PUBLIC_URL, not Host.
    let asked = w
        .client
        .post(format!("{}/api/auth/password-reset", w.url))
        .header("host", "evil.example")
        .json(&json!({"email": "ann@example.test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status(), StatusCode::ACCEPTED);
    let unknown = w
        .post(
            "/api/auth/password-reset",
            json!({"email": "nobody@example.test"}),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::ACCEPTED);
    assert_eq!(asked.bytes().await.unwrap(), unknown.bytes().await.unwrap());
    let several = w
        .post(
            "/api/auth/password-reset",
            json!({"email": ["ann@example.test", "evil@example.test"]}),
        )
        .await;
    assert_eq!(several.status(), StatusCode::BAD_REQUEST);

    let mail = w
        .sink
        .wait_for("ann@example.test", "Reset your DocuVault password", 1)
        .await;
    assert!(!mail.contains("evil.example"));
    let first = link_token(&mail, PUBLIC, "/reset-password");
    assert_eq!(first.len(), 43);
    let stored: Vec<String> =
        sqlx::query_scalar("select encode(token_hash, 'escape') from email_tokens")
            .fetch_all(&w.env.pool)
            .await
            .unwrap();
    assert!(
        stored.iter().all(|hash| !hash.contains(&first)),
        "only hashes are kept"
    );

    // A new request voids the older link.
    w.clock.advance(Duration::seconds(61));
    w.post(
        "/api/auth/password-reset",
        json!({"email": "ann@example.test"}),
    )
    .await;
    let mail = w
        .sink
        .wait_for("ann@example.test", "Reset your DocuVault password", 2)
        .await;
    let second = link_token(&mail, PUBLIC, "/reset-password");
    let voided = w
        .post(
            "/api/auth/password-reset/confirm",
            json!({"token": first, "new_password": "a completely new passphrase"}),
        )
        .await;
    assert_eq!(voided.status(), StatusCode::BAD_REQUEST);

    // A refused password does not spend the link.
    let weak = w
        .post(
            "/api/auth/password-reset/confirm",
            json!({"token": second, "new_password": "password"}),
        )
        .await;
    assert_eq!(weak.status(), StatusCode::BAD_REQUEST);
    let body: Value = weak.json().await.unwrap();
    assert!(body["fields"]["new_password"].is_string());
    let done = w
        .post(
            "/api/auth/password-reset/confirm",
            json!({"token": second, "new_password": "a completely new passphrase"}),
        )
        .await;
    assert_eq!(done.status(), StatusCode::OK);
    // No automatic sign-in, every session ended, the link spent.
    assert!(set_cookies(done.headers()).is_empty());
    let body: Value = done.json().await.unwrap();
    assert!(body.get("access_token").is_none());
    assert_eq!(
        me_status(&w.client, &w.url, &session.access).await,
        StatusCode::UNAUTHORIZED
    );
    let reused = w
        .post(
            "/api/auth/password-reset/confirm",
            json!({"token": second, "new_password": "yet another new passphrase"}),
        )
        .await;
    assert_eq!(reused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        login(&w.client, &w.url, "ann@example.test", PASSWORD)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    sign_in_as(&w, "ann@example.test", "a completely new passphrase").await;
    w.sink
        .wait_for("ann@example.test", "password was changed", 1)
        .await;

    // Links expire after 60 minutes.
    w.clock.advance(Duration::seconds(61));
    w.post(
        "/api/auth/password-reset",
        json!({"email": "ann@example.test"}),
    )
    .await;
    let mail = w
        .sink
        .wait_for("ann@example.test", "Reset your DocuVault password", 3)
        .await;
    let late = link_token(&mail, PUBLIC, "/reset-password");
    w.clock.advance(Duration::minutes(61));
    let expired = w
        .post(
            "/api/auth/password-reset/confirm",
            json!({"token": late, "new_password": "one more new passphrase"}),
        )
        .await;
    assert_eq!(expired.status(), StatusCode::BAD_REQUEST);

    let log: String = sqlx::query_scalar(
        "select string_agg(event_type || payload::text || metadata::text, ' ') from events where aggregate_id = $1",
    )
    .bind(ann_id.to_string())
    .fetch_one(&w.env.pool)
    .await
    .unwrap();
    assert!(log.contains("PasswordResetRequested") && log.contains("\"reason\": \"reset\""));
    for token in [&first, &second, &late] {
        assert!(!log.contains(token.as_str()));
    }
    w.running.stop().await;
}

#[tokio::test]
async fn a_reset_never_skips_two_step_sign_in_and_guessing_links_is_throttled() {
    let w = World::new().await;
    w.env.register("bob").await;
    let session = sign_in(&w.client, &w.url, "bob").await;
    let setup: Value = w
        .client
        .post(format!("{}/api/account/second-factor/setup", w.url))
        .bearer_auth(&session.access)
        .json(&json!({"password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let seed = totp_rs::Secret::Encoded(setup["secret"].as_str().unwrap().to_owned())
        .to_bytes()
        .unwrap();
    let now = domain::Clock::now(w.clock.as_ref()).timestamp();
    let code = totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, seed)
        .generate(u64::try_from(now).unwrap());
    let on = w
        .client
        .post(format!("{}/api/account/second-factor/confirm", w.url))
        .bearer_auth(&session.access)
        .json(&json!({"code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(on.status(), StatusCode::OK);

    w.post(
        "/api/auth/password-reset",
        json!({"email": "bob@example.test"}),
    )
    .await;
    let mail = w
        .sink
        .wait_for("bob@example.test", "Reset your DocuVault password", 1)
        .await;
    let token = link_token(&mail, PUBLIC, "/reset-password");
    let done = w
        .post(
            "/api/auth/password-reset/confirm",
            json!({"token": token, "new_password": "a completely new passphrase"}),
        )
        .await;
    assert_eq!(done.status(), StatusCode::OK);
    let next = sign_in_as(&w, "bob@example.test", "a completely new passphrase").await;
    assert_eq!(next["second_factor_required"], true);
    assert!(next.get("access_token").is_none());

    let mut last = StatusCode::OK;
    for i in 0..60 {
        last = w
            .post(
                "/api/auth/password-reset/confirm",
                json!({"token": format!("guess{i:040}"), "new_password": "whatever passphrase here"}),
            )
            .await
            .status();
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    w.running.stop().await;
}

#[tokio::test]
async fn an_email_change_is_confirmed_from_the_new_address_and_the_old_one_is_told() {
    let w = World::new().await;
    w.env.register("ann").await;
    w.env.register("bob").await;
    let ann = sign_in(&w.client, &w.url, "ann").await;
    let change = |email: &str, password: &str| {
        let (client, url, access) = (w.client.clone(), w.url.clone(), ann.access.clone());
        let body = json!({"new_email": email, "password": password});
        async move {
            client
                .post(format!("{url}/api/account/email"))
                .bearer_auth(access)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        change("ann.new@example.test", "not the password at all")
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        change("nonsense", PASSWORD).await.status(),
        StatusCode::BAD_REQUEST
    );
    let asked = change("Ann.New@example.test", PASSWORD).await;
    assert_eq!(asked.status(), StatusCode::ACCEPTED);
    let asked_body = asked.bytes().await.unwrap();
    w.sink
        .wait_for("ann@example.test", "about to change", 1)
        .await;
    let mail = w
        .sink
        .wait_for("ann.new@example.test", "Confirm your new email", 1)
        .await;
    let token = link_token(&mail, PUBLIC, "/confirm-email");
    // Nothing changes before the confirmation.
    sign_in_as(&w, "ann@example.test", PASSWORD).await;

    // Another account's address: the same reply, and only a note to its owner.
    w.clock.advance(Duration::seconds(61));
    let taken = change("bob@example.test", PASSWORD).await;
    assert_eq!(taken.status(), StatusCode::ACCEPTED);
    assert_eq!(taken.bytes().await.unwrap(), asked_body);
    w.sink
        .wait_for("bob@example.test", "already have a DocuVault account", 1)
        .await;

    let confirmed = w
        .post("/api/auth/email-change/confirm", json!({"token": token}))
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    w.sink
        .wait_for("ann@example.test", "email was changed", 1)
        .await;
    let again = w
        .post("/api/auth/email-change/confirm", json!({"token": token}))
        .await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    let me: Value = sign_in_as(&w, "ann.new@example.test", PASSWORD).await;
    assert!(me["access_token"].is_string());
    assert_eq!(
        login(&w.client, &w.url, "ann@example.test", PASSWORD)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let profile: Value = w
        .client
        .get(format!("{}/api/me", w.url))
        .bearer_auth(me["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(profile["email"], "ann.new@example.test");
    // The old address is free for a new account.
    let fresh = w
        .post(
            "/api/auth/register",
            json!({"email": "ann@example.test", "handle": "ann2", "password": PASSWORD}),
        )
        .await;
    assert_eq!(fresh.status(), StatusCode::ACCEPTED);
    w.sink
        .wait_for("ann@example.test", "Confirm your email for DocuVault", 1)
        .await;
    let log: String = sqlx::query_scalar("select string_agg(payload::text, ' ') from events")
        .fetch_one(&w.env.pool)
        .await
        .unwrap();
    assert!(log.contains("EmailChanged") && !log.contains("ann.new@example.test"));
    w.running.stop().await;
}
