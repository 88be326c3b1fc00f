//! Closed registration and invitations by email (ADM-1).

use crate::support::auth::{login, sign_in, PASSWORD};
use crate::support::smtp::{unquote, SmtpSink};
use crate::support::{register_as, TestEnv};
use domain::user::Role;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const PUBLIC: &str = "https://vault.example.test";

#[tokio::test]
async fn with_registration_closed_only_an_invited_address_registers_once() {
    let env = TestEnv::new().await;
    let sink = SmtpSink::start().await;
    let smtp = sink.url.clone();
    register_as(&env.registrations(), "root", Role::Admin).await;
    env.register("ann").await;
    let (running, url) = env
        .start_api_with(std::sync::Arc::new(eventlog::SystemClock), |settings| {
            settings.smtp_url = Some(smtp);
            settings.public_url = PUBLIC.into();
        })
        .await;
    let client = Client::new();
    let status = || async {
        let body: Value = client
            .get(format!("{url}/api/auth/registration"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["open"].as_bool().unwrap()
    };
    assert!(status().await);
    let root = sign_in(&client, &url, "root").await;
    let ann = sign_in(&client, &url, "ann").await;
    let put_settings = |access: String, open: bool| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            client
                .put(format!("{url}/api/admin/settings"))
                .bearer_auth(access)
                .json(&json!({"self_registration": open}))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        put_settings(ann.access.clone(), false).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        put_settings(root.access.clone(), false).await,
        StatusCode::NO_CONTENT
    );
    assert!(!status().await);

    let register = |email: &str, handle: &str, invite: Option<&str>| {
        let mut body = json!({"email": email, "handle": handle, "password": PASSWORD});
        if let Some(invite) = invite {
            body["invite"] = json!(invite);
        }
        let (client, url) = (client.clone(), url.clone());
        async move {
            client
                .post(format!("{url}/api/auth/register"))
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let closed = register("cleo@example.test", "cleo", None).await;
    assert_eq!(closed.status(), StatusCode::FORBIDDEN);
    let body: Value = closed.json().await.unwrap();
    assert_eq!(body["code"], "registration_closed");

    let invite = |email: &str, role: &str| {
        let (client, url, access) = (client.clone(), url.clone(), root.access.clone());
        let body = json!({"email": email, "role": role});
        async move {
            client
                .post(format!("{url}/api/admin/invites"))
                .bearer_auth(access)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        invite("cleo@example.test", "user").await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        invite("ann@example.test", "user").await.status(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        invite("not an address", "user").await.status(),
        StatusCode::BAD_REQUEST
    );
    let mail = sink
        .wait_for("cleo@example.test", "You are invited", 1)
        .await;
    let token = invite_token(&mail);
    assert_eq!(token.len(), 43);

    let elsewhere = register("mallory@example.test", "mallory", Some(&token)).await;
    assert_eq!(elsewhere.status(), StatusCode::BAD_REQUEST);
    let body: Value = elsewhere.json().await.unwrap();
    assert_eq!(body["code"], "invalid_invitation");
    let joined = register("Cleo@Example.test", "cleo", Some(&token)).await;
    assert_eq!(joined.status(), StatusCode::ACCEPTED);
    let body: Value = joined.json().await.unwrap();
    assert_eq!(body["message"], "Your account is ready. Sign in.");
    // The invitation proved the address: no confirmation step.
    assert_eq!(
        login(&client, &url, "cleo@example.test", PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
    let twice = register("cleo@example.test", "cleo2", Some(&token)).await;
    assert_eq!(twice.status(), StatusCode::BAD_REQUEST);

    // An invitation can make an admin.
    invite("dana@example.test", "admin").await;
    let mail = sink
        .wait_for("dana@example.test", "You are invited", 1)
        .await;
    let token = invite_token(&mail);
    register("dana@example.test", "dana", Some(&token)).await;
    let dana: Value = login(&client, &url, "dana@example.test", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dana["role"], "admin");

    assert_eq!(
        put_settings(root.access.clone(), true).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        register("eve@example.test", "eve", None).await.status(),
        StatusCode::ACCEPTED
    );
    let kinds: Vec<String> = sqlx::query_scalar(
        "select event_type from events where aggregate_type in ('instance', 'invite') order by position",
    )
    .fetch_all(&env.pool)
    .await
    .unwrap();
    assert_eq!(
        kinds,
        vec![
            "SelfRegistrationChanged",
            "InviteSent",
            "InviteAccepted",
            "InviteSent",
            "InviteAccepted",
            "SelfRegistrationChanged"
        ]
    );
    let log: String = sqlx::query_scalar("select string_agg(payload::text, ' ') from events")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert!(!log.contains("cleo@example.test") && !log.contains("dana@example.test"));
    running.stop().await;
}

/// The token of the invitation link (`{PUBLIC}/register?invite=…`) in a message.
fn invite_token(message: &str) -> String {
    let text = unquote(message);
    let prefix = format!("{PUBLIC}/register?invite=");
    let start = text.find(&prefix).expect("an invitation link") + prefix.len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}
