//! Leaving (SECURITY 25, 29): deleting an account destroys its data key, so its email,
//! display name and every other sealed field are unreadable in events, projections,
//! rebuilds and on the stream; its sessions end; its address is free again. The export
//! gives a person their profile and history first.

use crate::support::auth::{login, me_status, set_cookies, PASSWORD};
use crate::support::smtp::{link_token, SmtpSink};
use crate::support::{register_as, TestEnv};
use domain::user::Role;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const PUBLIC: &str = "https://vault.example.test";

#[tokio::test]
async fn a_deleted_account_leaves_no_readable_personal_data_anywhere() {
    let env = TestEnv::new().await;
    let sink = SmtpSink::start().await;
    let smtp = sink.url.clone();
    let mut settings = env.settings.clone();
    settings.smtp_url = Some(smtp);
    settings.public_url = PUBLIC.into();
    let running = docuvault::system::start(
        &settings,
        docuvault::system::Components::ALL,
        std::sync::Arc::new(eventlog::SystemClock),
    )
    .await
    .unwrap();
    let url = format!("http://{}", running.addr.unwrap());
    let client = Client::new();
    let tag = &env.database[7..15];
    let email = format!("erase-me-{tag}@example.test");
    let name = format!("Canary Person {tag}");

    let registered = client
        .post(format!("{url}/api/auth/register"))
        .json(&json!({"email": email, "handle": format!("gone{tag}"), "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::ACCEPTED);
    let mail = sink.wait_for(&email, "Confirm your email", 1).await;
    let token = link_token(&mail, PUBLIC, "/verify-email");
    client
        .post(format!("{url}/api/auth/verify-email"))
        .json(&json!({"token": token}))
        .send()
        .await
        .unwrap();
    let signed_in: Value = login(&client, &url, &email, PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let access = signed_in["access_token"].as_str().unwrap().to_owned();
    let user_id: uuid::Uuid = signed_in["user_id"].as_str().unwrap().parse().unwrap();
    let profile = client
        .put(format!("{url}/api/account/profile"))
        .bearer_auth(&access)
        .json(&json!({"display_name": name}))
        .send()
        .await
        .unwrap();
    assert_eq!(profile.status(), StatusCode::NO_CONTENT);
    let bad = client
        .put(format!("{url}/api/account/profile"))
        .bearer_auth(&access)
        .json(&json!({"display_name": "\u{202e}gnp.exe"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    // Before leaving: the export has it all, and the projection shows the name.
    env.eventually("the users model shows the display name", || async {
        sqlx::query_scalar::<_, Option<String>>(
            "select display_name from rm_users.users where user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(&env.pool)
        .await
        .unwrap()
        .flatten()
        .as_deref()
            == Some(name.as_str())
    })
    .await;
    env.eventually("the audit model has the sign-in", || async {
        sqlx::query_scalar::<_, i64>(
            "select count(*) from rm_audit.entries where target_id = $1 and event_type = 'SessionStarted'",
        )
        .bind(user_id)
        .fetch_one(&env.pool)
        .await
        .unwrap()
            > 0
    })
    .await;
    let exported = client
        .get(format!("{url}/api/account/export"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(exported.status(), StatusCode::OK);
    assert!(exported.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let export: Value = exported.json().await.unwrap();
    assert_eq!(export["profile"]["email"], email.as_str());
    assert_eq!(export["profile"]["display_name"], name.as_str());
    let events: Vec<&str> = export["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["event"].as_str().unwrap())
        .collect();
    assert!(
        events.contains(&"SessionStarted") && events.contains(&"UserRegistered"),
        "{events:?}"
    );
    assert!(!export["sessions"].as_array().unwrap().is_empty());

    // Leaving needs the password.
    let wrong = client
        .post(format!("{url}/api/account/delete"))
        .bearer_auth(&access)
        .json(&json!({"password": "not the password at all"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    let gone = client
        .post(format!("{url}/api/account/delete"))
        .bearer_auth(&access)
        .json(&json!({"password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    assert!(set_cookies(gone.headers())
        .iter()
        .any(|cookie| cookie.contains("Max-Age=0")));
    assert_eq!(
        me_status(&client, &url, &access).await,
        StatusCode::UNAUTHORIZED
    );
    let after = login(&client, &url, &email, PASSWORD).await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);

    // Everything personal is unreadable everywhere.
    assert!(
        env.keys().find(user_id).await.unwrap().is_none(),
        "the data key is gone"
    );
    let count: i64 = sqlx::query_scalar("select count(*) from events")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    env.eventually("the stream has every event", || async {
        env.stream_len().await == u64::try_from(count).unwrap()
    })
    .await;
    env.eventually("the users row is gone", || async {
        sqlx::query_scalar::<_, i64>("select count(*) from rm_users.users where user_id = $1")
            .bind(user_id)
            .fetch_one(&env.pool)
            .await
            .unwrap()
            == 0
    })
    .await;
    let everywhere = |label: &'static str| {
        let (pool, email, name) = (env.pool.clone(), email.clone(), name.clone());
        async move {
            let text: String = sqlx::query_scalar(
                "select coalesce((select string_agg(payload::text || metadata::text, ' ') from events), '')
                     || coalesce((select string_agg(u::text, ' ') from rm_users.users u), '')
                     || coalesce((select string_agg(a::text, ' ') from rm_audit.entries a), '')",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            for canary in [&email, &name] {
                assert!(
                    !text.contains(canary.as_str()),
                    "{canary} readable in the database ({label})"
                );
            }
        }
    };
    everywhere("live").await;
    let stream: String = env
        .stream_events()
        .await
        .iter()
        .map(|(_, message)| String::from_utf8_lossy(&message.payload).into_owned())
        .collect();
    assert!(stream.contains("UserDeleted"));
    for canary in [&email, &name] {
        assert!(!stream.contains(canary.as_str()), "{canary} on the stream");
    }
    running.stop().await;
    for model in ["users", "audit"] {
        let model = docuvault::system::read_model(env.keys(), model).unwrap();
        projections::replay::replay(&env.ddl, model.as_ref(), 50)
            .await
            .unwrap();
    }
    everywhere("after a rebuild").await;
    let rows: i64 = sqlx::query_scalar("select count(*) from rm_users.users where user_id = $1")
        .bind(user_id)
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert_eq!(rows, 0);
}

#[tokio::test]
async fn an_admin_deletes_an_account_and_its_address_can_register_again() {
    let env = TestEnv::new().await;
    let sink = SmtpSink::start().await;
    let smtp = sink.url.clone();
    let (root_id, _) = register_as(&env.registrations(), "root", Role::Admin).await;
    let (bob_id, _) = env.register("bob").await;
    let (running, url) = env
        .start_api_with(std::sync::Arc::new(eventlog::SystemClock), |settings| {
            settings.smtp_url = Some(smtp);
            settings.public_url = PUBLIC.into();
        })
        .await;
    let client = Client::new();
    let root = crate::support::auth::sign_in(&client, &url, "root").await;
    let bob = crate::support::auth::sign_in(&client, &url, "bob").await;
    let own = client
        .post(format!("{url}/api/admin/users/{root_id}/delete"))
        .bearer_auth(&root.access)
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::CONFLICT);
    let refused = client
        .post(format!("{url}/api/admin/users/{root_id}/delete"))
        .bearer_auth(&bob.access)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let deleted = client
        .post(format!("{url}/api/admin/users/{bob_id}/delete"))
        .bearer_auth(&root.access)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        me_status(&client, &url, &bob.access).await,
        StatusCode::UNAUTHORIZED
    );
    let twice = client
        .post(format!("{url}/api/admin/users/{bob_id}/delete"))
        .bearer_auth(&root.access)
        .send()
        .await
        .unwrap();
    assert_eq!(twice.status(), StatusCode::NOT_FOUND);

    // The address is free: registering it again is a new account (a confirmation link,
    // not an "already registered" notice). The handle stays taken.
    let again = client
        .post(format!("{url}/api/auth/register"))
        .json(&json!({"email": "bob@example.test", "handle": "bob2", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    sink.wait_for("bob@example.test", "Confirm your email", 1)
        .await;
    let handle = client
        .post(format!("{url}/api/auth/register"))
        .json(&json!({"email": "bob3@example.test", "handle": "bob", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(handle.status(), StatusCode::CONFLICT);
    let by: Value = sqlx::query_scalar(
        "select payload -> 'UserDeleted' -> 'by' from events where event_type = 'UserDeleted'",
    )
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!(by, json!(root_id));
    running.stop().await;
}
