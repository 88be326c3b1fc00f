//! Secrets never leak (SECURITY 28, 29): a whole account flow run against the real binary
//! with canary values (password, wrong password, email, TOTP seed, recovery codes, access
//! and refresh tokens), then the process's logs at debug level, every event's payload and
//! metadata, and everything published on NATS (`>`) are searched for them.

use crate::support::auth::{cookie_post, refresh_cookie, set_cookies};
use crate::support::TestEnv;
use futures::StreamExt;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::time::Duration;

fn totp_now(secret: &str, offset_seconds: i64) -> String {
    let seed = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .unwrap();
    let now = domain::Clock::now(&eventlog::SystemClock).timestamp() + offset_seconds;
    totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, seed)
        .generate(u64::try_from(now).unwrap())
}

#[tokio::test]
async fn no_secret_reaches_logs_events_or_the_bus() {
    let env = TestEnv::new().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let sink = crate::support::smtp::SmtpSink::start().await;
    let logs = tempfile_path("canary-logs");
    let log_file = std::fs::File::create(&logs).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_docuvault"))
        .arg("all")
        .env("DATABASE_URL", &env.settings.database_url)
        .env("DATABASE_MIGRATE_URL", &env.settings.database_migrate_url)
        .env("DOCUVAULT_MASTER_KEY", env.master.to_hex().as_str())
        .env("NATS_URL", &env.settings.nats_url)
        .env("NATS_PREFIX", &env.settings.nats_prefix)
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("SPA_DIR", &env.settings.spa_dir)
        .env("RUST_LOG", "debug")
        .env("SMTP_URL", &sink.url)
        .env("PUBLIC_URL", "https://vault.example.test")
        .stdout(Stdio::from(log_file.try_clone().unwrap()))
        .stderr(Stdio::from(log_file))
        .spawn()
        .unwrap();

    let nats = async_nats::connect(&env.settings.nats_url).await.unwrap();
    let mut everything = nats.subscribe(">").await.unwrap();
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let bus = tokio::spawn(async move {
        let mut seen = Vec::new();
        loop {
            let message = tokio::select! {
                _ = &mut stopped => break,
                message = everything.next() => match message {
                    Some(message) => message,
                    None => break,
                },
            };
            seen.extend_from_slice(&message.payload);
            if let Some(headers) = &message.headers {
                for (name, values) in headers.iter() {
                    seen.extend_from_slice(name.to_string().as_bytes());
                    for value in values {
                        seen.extend_from_slice(value.as_str().as_bytes());
                    }
                }
            }
        }
        String::from_utf8_lossy(&seen).into_owned()
    });

    let client = Client::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while client.get(format!("{url}/health")).send().await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server never came up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let tag = &env.database[7..15];
    let email = format!("canary-mail-{tag}@example.test");
    let password = format!("Canary-pass-{tag} horse battery");
    let wrong = format!("Canary-wrong-{tag} horse battery");
    let name = format!("Canary Name {tag}");
    let mut secrets = vec![email.clone(), password.clone(), wrong.clone(), name.clone()];

    let registered = client
        .post(format!("{url}/api/auth/register"))
        .json(&json!({"email": email, "handle": format!("canary{tag}"), "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::ACCEPTED);
    let confirmation = sink.wait_for(&email, "Confirm your email", 1).await;
    let token = crate::support::smtp::link_token(
        &confirmation,
        "https://vault.example.test",
        "/verify-email",
    );
    secrets.push(token.clone());
    let verified = client
        .post(format!("{url}/api/auth/verify-email"))
        .json(&json!({"token": token}))
        .send()
        .await
        .unwrap();
    assert_eq!(verified.status(), StatusCode::OK);
    let login = |password: String| {
        let (client, url, email) = (client.clone(), url.clone(), email.clone());
        async move {
            client
                .post(format!("{url}/api/auth/login"))
                .json(&json!({"email": email, "password": password}))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        login(wrong.clone()).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let signed_in = login(password.clone()).await;
    let refresh = refresh_cookie(signed_in.headers()).unwrap();
    let body: Value = signed_in.json().await.unwrap();
    let access = body["access_token"].as_str().unwrap().to_owned();
    secrets.extend([refresh.clone(), access.clone()]);

    let post = |path: &'static str, body: Value| {
        let (client, url, access) = (client.clone(), url.clone(), access.clone());
        async move {
            client
                .post(format!("{url}{path}"))
                .bearer_auth(access)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let setup: Value = post(
        "/api/account/second-factor/setup",
        json!({"password": password}),
    )
    .await
    .json()
    .await
    .unwrap();
    let secret = setup["secret"].as_str().unwrap().to_owned();
    let confirmed = post(
        "/api/account/second-factor/confirm",
        json!({"code": totp_now(&secret, 0)}),
    )
    .await;
    // Every session ended; the reply is a fresh one (a new refresh cookie).
    let refresh = refresh_cookie(confirmed.headers()).unwrap();
    secrets.push(refresh.clone());
    let confirmed: Value = confirmed.json().await.unwrap();
    secrets.push(confirmed["access_token"].as_str().unwrap().to_owned());
    let codes: Vec<String> = confirmed["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|code| code.as_str().unwrap().to_owned())
        .collect();
    secrets.push(secret.clone());
    secrets.extend(codes.iter().cloned());

    // Sign in again with a code, then with a recovery code; rotate and reuse a refresh token.
    let mut latest = String::new();
    for proof in [
        json!({"code": totp_now(&secret, 30)}),
        json!({"recovery_code": codes[0]}),
    ] {
        let first: Value = login(password.clone()).await.json().await.unwrap();
        let mut body = proof;
        body["second_step_token"] = first["second_step_token"].clone();
        let second = client
            .post(format!("{url}/api/auth/login/second-factor"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(second.status(), StatusCode::OK);
        secrets.extend(refresh_cookie(second.headers()));
        let body: Value = second.json().await.unwrap();
        latest = body["access_token"].as_str().unwrap().to_owned();
        secrets.push(latest.clone());
    }
    // A password reset, with its link.
    let asked = client
        .post(format!("{url}/api/auth/password-reset"))
        .json(&json!({"email": email}))
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status(), StatusCode::ACCEPTED);
    let reset_mail = sink
        .wait_for(&email, "Reset your DocuVault password", 1)
        .await;
    secrets.push(crate::support::smtp::link_token(
        &reset_mail,
        "https://vault.example.test",
        "/reset-password",
    ));
    let rotated = cookie_post(&client, &url, "/api/auth/refresh", &refresh).await;
    assert_eq!(rotated.status(), StatusCode::OK);
    secrets.extend(refresh_cookie(rotated.headers()));
    assert!(!set_cookies(rotated.headers()).is_empty());
    let reused = cookie_post(&client, &url, "/api/auth/refresh", &refresh).await;
    assert_eq!(reused.status(), StatusCode::UNAUTHORIZED);

    // A display name, then leaving.
    let named = client
        .put(format!("{url}/api/account/profile"))
        .bearer_auth(&latest)
        .json(&json!({"display_name": name}))
        .send()
        .await
        .unwrap();
    assert_eq!(named.status(), StatusCode::NO_CONTENT);
    // The first session ended with the token reuse: go on in the latest one. Both codes
    // of this moment were used, so switch two-step sign-in off by password first.
    let as_latest = |path: &'static str, body: Value| {
        let (client, url, access) = (client.clone(), url.clone(), latest.clone());
        async move {
            client
                .post(format!("{url}{path}"))
                .bearer_auth(access)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let off = as_latest(
        "/api/account/second-factor/disable",
        json!({"password": password}),
    )
    .await;
    assert_eq!(off.status(), StatusCode::OK);
    // Switching off ended every session too: go on in the one it started.
    secrets.extend(refresh_cookie(off.headers()));
    let off: Value = off.json().await.unwrap();
    let renewed = off["access_token"].as_str().unwrap().to_owned();
    secrets.push(renewed.clone());
    let left = client
        .post(format!("{url}/api/account/delete"))
        .bearer_auth(&renewed)
        .json(&json!({"password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(left.status(), StatusCode::NO_CONTENT);

    // Everything reaches the stream before looking.
    let count: i64 = sqlx::query_scalar("select count(*) from events")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    env.eventually("every event is published", || async {
        env.stream_len().await == u64::try_from(count).unwrap()
    })
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    nats.flush().await.unwrap();
    let _ = stop.send(());
    let published = bus.await.unwrap();
    let log_text = std::fs::read_to_string(&logs).unwrap();
    let _ = std::fs::remove_file(&logs);
    let stored: String =
        sqlx::query_scalar("select string_agg(payload::text || metadata::text, '') from events")
            .fetch_one(&env.pool)
            .await
            .unwrap();

    // The places searched are not empty: the search can fail.
    assert!(
        log_text.contains("/api/auth/login"),
        "the logs hold requests"
    );
    assert!(published.contains("SessionStarted") && published.contains("SecondFactorEnabled"));
    assert!(stored.contains("RefreshTokenReused") && stored.contains("UserDeleted"));
    for canary in &secrets {
        assert!(
            !log_text.contains(canary.as_str()),
            "a secret is in the logs: {canary}"
        );
        assert!(
            !stored.contains(canary.as_str()),
            "a secret is in the events: {canary}"
        );
        assert!(
            !published.contains(canary.as_str()),
            "a secret is on NATS: {canary}"
        );
    }
}

fn tempfile_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("{name}-{}", uuid::Uuid::new_v4().simple()))
}
