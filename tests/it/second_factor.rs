//! Two-step sign-in over HTTP (AUTH-4; SECURITY 5-8, 10).

use crate::support::auth::{login, me_status, set_cookies, sign_in, Session, PASSWORD};
use crate::support::TestEnv;
use chrono::{DateTime, Duration, TimeZone, Utc};
use docuvault::system::Running;
use domain::clock::ManualClock;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

/// A moment 10 s into a 30 s step, so ±30 s stays within the neighbouring steps.
fn start() -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_010, 0).unwrap()
}

fn code_at(secret: &str, at: DateTime<Utc>) -> String {
    let seed = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .unwrap();
    totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, seed)
        .generate(u64::try_from(at.timestamp()).unwrap())
}

struct World {
    env: TestEnv,
    running: Running,
    url: String,
    clock: Arc<ManualClock>,
    client: Client,
}

impl World {
    async fn new() -> Self {
        let env = TestEnv::new().await;
        env.register("ann").await;
        let clock = Arc::new(ManualClock::at(start()));
        let (running, url) = env.start_api_with(clock.clone(), |_| {}).await;
        Self {
            env,
            running,
            url,
            clock,
            client: Client::new(),
        }
    }

    async fn post(&self, path: &str, access: &str, body: Value) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.url))
            .bearer_auth(access)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Signs in and switches two-step sign-in on; returns the session, seed and codes.
    async fn enrol(&self) -> (Session, String, Vec<String>) {
        let session = sign_in(&self.client, &self.url, "ann").await;
        let setup: Value = self
            .post(
                "/api/account/second-factor/setup",
                &session.access,
                json!({"password": PASSWORD}),
            )
            .await
            .json()
            .await
            .unwrap();
        let secret = setup["secret"].as_str().unwrap().to_owned();
        let confirmed = self
            .post(
                "/api/account/second-factor/confirm",
                &session.access,
                json!({"code": code_at(&secret, self.clock_now())}),
            )
            .await;
        assert_eq!(confirmed.status(), StatusCode::OK);
        // Every session ended; the reply is a fresh one for this client.
        let refresh = crate::support::auth::refresh_cookie(confirmed.headers()).unwrap();
        let body: Value = confirmed.json().await.unwrap();
        let codes = body["recovery_codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|code| code.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            me_status(&self.client, &self.url, &session.access).await,
            StatusCode::UNAUTHORIZED
        );
        let renewed = Session {
            access: body["access_token"].as_str().unwrap().to_owned(),
            refresh,
        };
        (renewed, secret, codes)
    }

    fn clock_now(&self) -> DateTime<Utc> {
        domain::Clock::now(self.clock.as_ref())
    }

    /// The password step; returns the second-step token.
    async fn first_step(&self) -> String {
        let response = login(&self.client, &self.url, "ann@example.test", PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            set_cookies(response.headers()).is_empty(),
            "no session before the second step"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["second_factor_required"], true);
        assert!(body.get("access_token").is_none());
        body["second_step_token"].as_str().unwrap().to_owned()
    }

    async fn second_step(&self, token: &str, proof: Value) -> reqwest::Response {
        let mut body = proof;
        body["second_step_token"] = json!(token);
        self.client
            .post(format!("{}/api/auth/login/second-factor", self.url))
            .json(&body)
            .send()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn enrolment_needs_the_password_and_a_first_code_and_shows_the_seed_only_then() {
    let world = World::new().await;
    let session = sign_in(&world.client, &world.url, "ann").await;
    let other = sign_in(&world.client, &world.url, "ann").await;

    let wrong = world
        .post(
            "/api/account/second-factor/setup",
            &session.access,
            json!({"password": "not my password"}),
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    let setup = world
        .post(
            "/api/account/second-factor/setup",
            &session.access,
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(setup.status(), StatusCode::OK);
    assert_eq!(setup.headers()["cache-control"], "no-store");
    let setup: Value = setup.json().await.unwrap();
    let secret = setup["secret"].as_str().unwrap().to_owned();
    // 160 bits of seed: 32 base32 characters.
    assert_eq!(secret.len(), 32);
    assert!(setup["otpauth_uri"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/DocuVault:ann?secret="));
    let size = setup["qr"]["size"].as_u64().unwrap() as usize;
    assert!(size >= 21);
    assert_eq!(setup["qr"]["rows"].as_array().unwrap().len(), size);

    let bad = world
        .post(
            "/api/account/second-factor/confirm",
            &session.access,
            json!({"code": "000000"}),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(!me_second_factor(&world, &session.access).await);
    let good = world
        .post(
            "/api/account/second-factor/confirm",
            &session.access,
            json!({"code": code_at(&secret, start())}),
        )
        .await;
    assert_eq!(good.status(), StatusCode::OK);
    assert!(set_cookies(good.headers())
        .iter()
        .any(|cookie| cookie.starts_with("__Host-dv_refresh=") && !cookie.contains("Max-Age=0")));
    let body: Value = good.json().await.unwrap();
    let codes = body["recovery_codes"].as_array().unwrap();
    assert!(codes.len() >= 10);
    let fresh = body["access_token"].as_str().unwrap().to_owned();
    assert!(me_second_factor(&world, &fresh).await);

    // Every earlier session ended with the change (SECURITY 10), this client's too: it
    // goes on in the fresh one. The seed is never shown again.
    for old in [&session.access, &other.access] {
        assert_eq!(
            me_status(&world.client, &world.url, old).await,
            StatusCode::UNAUTHORIZED
        );
    }
    let again = world
        .post(
            "/api/account/second-factor/setup",
            &fresh,
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);

    // Sealed at rest; no secret in any event.
    let sealed: String = sqlx::query_scalar("select sealed_seed from totp_secrets")
        .fetch_one(&world.env.pool)
        .await
        .unwrap();
    assert!(sealed.starts_with("v1.") && !sealed.contains(&secret));
    let log: String =
        sqlx::query_scalar("select string_agg(payload::text || metadata::text, '') from events")
            .fetch_one(&world.env.pool)
            .await
            .unwrap();
    assert!(!log.contains(&secret));
    for code in codes {
        assert!(!log.contains(code.as_str().unwrap()));
    }
    assert!(log.contains("SecondFactorEnabled"));
    world.running.stop().await;
}

async fn me_second_factor(world: &World, access: &str) -> bool {
    let me: Value = world
        .client
        .get(format!("{}/api/me", world.url))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    me["second_factor"].as_bool().unwrap()
}

#[tokio::test]
async fn codes_one_step_either_side_work_once_and_the_second_step_token_opens_nothing_else() {
    let world = World::new().await;
    let (_, secret, _) = world.enrol().await;
    // The enrolment used the current step: move on so fresh codes exist.
    world.clock.advance(Duration::seconds(90));
    let now = world.clock_now();

    let token = world.first_step().await;
    for path in ["/api/me", "/api/sessions"] {
        let response = world
            .client
            .get(format!("{}{path}", world.url))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    let setup = world
        .post(
            "/api/account/second-factor/setup",
            &token,
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(setup.status(), StatusCode::UNAUTHORIZED);

    for offset in [-60, 60] {
        let far = world
            .second_step(
                &token,
                json!({"code": code_at(&secret, now + Duration::seconds(offset))}),
            )
            .await;
        assert_eq!(far.status(), StatusCode::UNAUTHORIZED, "t{offset:+}");
    }
    let mut accepted = Vec::new();
    for offset in [-30, 0, 30] {
        let code = code_at(&secret, now + Duration::seconds(offset));
        let response = world.second_step(&token, json!({"code": code})).await;
        assert_eq!(response.status(), StatusCode::OK, "t{offset:+}");
        let body: Value = response.json().await.unwrap();
        assert!(body["access_token"].is_string());
        accepted.push(code);
    }
    // An accepted code never works again.
    let reused = world
        .second_step(&token, json!({"code": accepted[2]}))
        .await;
    assert_eq!(reused.status(), StatusCode::UNAUTHORIZED);
    let method: Vec<String> = sqlx::query_scalar(
        "select payload -> 'SessionStarted' ->> 'method' from events where event_type = 'SessionStarted' order by position desc limit 1",
    )
    .fetch_all(&world.env.pool)
    .await
    .unwrap();
    assert_eq!(method, vec!["password_and_totp"]);
    world.running.stop().await;
}

#[tokio::test]
async fn one_fresh_code_sent_ten_times_at_once_signs_in_once() {
    let world = World::new().await;
    let (_, secret, _) = world.enrol().await;
    world.clock.advance(Duration::seconds(60));
    let token = world.first_step().await;
    let code = code_at(&secret, world.clock_now());
    let attempts = (0..10).map(|_| {
        let (client, url, token, code) = (
            world.client.clone(),
            world.url.clone(),
            token.clone(),
            code.clone(),
        );
        tokio::spawn(async move {
            client
                .post(format!("{url}/api/auth/login/second-factor"))
                .json(&json!({"second_step_token": token, "code": code}))
                .send()
                .await
                .unwrap()
                .status()
        })
    });
    let statuses: Vec<StatusCode> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    world.running.stop().await;
}

#[tokio::test]
async fn recovery_codes_work_once_regeneration_voids_the_old_set_and_guessing_is_throttled() {
    let world = World::new().await;
    let (session, _, codes) = world.enrol().await;

    let token = world.first_step().await;
    let used = world
        .second_step(&token, json!({"recovery_code": codes[0]}))
        .await;
    assert_eq!(used.status(), StatusCode::OK);
    let again = world
        .second_step(&token, json!({"recovery_code": codes[0]}))
        .await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    // Typed loosely, a code still works.
    let loose = world
        .second_step(
            &token,
            json!({"recovery_code": codes[1].to_uppercase().replace('-', " ")}),
        )
        .await;
    assert_eq!(loose.status(), StatusCode::OK);

    let fresh: Value = world
        .post(
            "/api/account/second-factor/recovery-codes",
            &session.access,
            json!({"password": PASSWORD}),
        )
        .await
        .json()
        .await
        .unwrap();
    let fresh: Vec<String> = fresh["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|code| code.as_str().unwrap().to_owned())
        .collect();
    let old = world
        .second_step(&token, json!({"recovery_code": codes[2]}))
        .await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let new = world
        .second_step(&token, json!({"recovery_code": fresh[0]}))
        .await;
    assert_eq!(new.status(), StatusCode::OK);

    let mut statuses = Vec::new();
    for i in 0..8 {
        let guess = world
            .second_step(&token, json!({"recovery_code": format!("wrong-{i:05}")}))
            .await;
        statuses.push(guess.status().as_u16());
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    // Held back: even a right code waits.
    let held = world
        .second_step(&token, json!({"recovery_code": fresh[1]}))
        .await;
    assert_eq!(held.status(), StatusCode::TOO_MANY_REQUESTS);
    let both = world
        .second_step(&token, json!({"code": "123456", "recovery_code": fresh[1]}))
        .await;
    assert!(both.status() == StatusCode::BAD_REQUEST);
    world.running.stop().await;
}

#[tokio::test]
async fn switching_off_needs_a_code_or_the_password_and_ends_other_sessions() {
    let world = World::new().await;
    let (session, secret, _) = world.enrol().await;
    world.clock.advance(Duration::seconds(60));
    let token = world.first_step().await;
    let code = code_at(&secret, world.clock_now());
    let second: Value = world
        .second_step(&token, json!({"code": code}))
        .await
        .json()
        .await
        .unwrap();
    let second_access = second["access_token"].as_str().unwrap().to_owned();

    let nothing = world
        .post(
            "/api/account/second-factor/disable",
            &session.access,
            json!({}),
        )
        .await;
    assert_eq!(nothing.status(), StatusCode::BAD_REQUEST);
    let wrong = world
        .post(
            "/api/account/second-factor/disable",
            &session.access,
            json!({"code": "000000"}),
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    world.clock.advance(Duration::seconds(30));
    let off = world
        .post(
            "/api/account/second-factor/disable",
            &session.access,
            json!({"code": code_at(&secret, world.clock_now())}),
        )
        .await;
    assert_eq!(off.status(), StatusCode::OK);
    let body: Value = off.json().await.unwrap();
    for old in [&second_access, &session.access] {
        assert_eq!(
            me_status(&world.client, &world.url, old).await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        me_status(
            &world.client,
            &world.url,
            body["access_token"].as_str().unwrap()
        )
        .await,
        StatusCode::OK
    );

    // Password alone signs in again.
    let response = login(&world.client, &world.url, "ann@example.test", PASSWORD).await;
    let body: Value = response.json().await.unwrap();
    assert!(body["access_token"].is_string());
    let ended: i64 = sqlx::query_scalar(
        "select count(*) from events where payload -> 'SessionEnded' ->> 'reason' = 'second_factor_changed'",
    )
    .fetch_one(&world.env.pool)
    .await
    .unwrap();
    // Enrolling ended the first session; switching off the two after it.
    assert_eq!(ended, 3);
    world.running.stop().await;
}
