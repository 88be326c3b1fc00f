//! The event contract (EV-7): the AsyncAPI document matches what the relay publishes, and
//! old event versions are upcast everywhere (ARCHITECTURE test 14).

use crate::support::{events, TestEnv};
use commands::{CommandError, CommandMeta, EventStore};
use crypto::seal;
use domain::user::{sealed_fields, Handle, RegisterUser, Role, User, UserCommand, UserError};
use domain::Sealed;
use projections::users::queries;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

fn asyncapi() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/asyncapi.yaml"))
        .unwrap();
    serde_yaml::from_str(&text).unwrap()
}

/// A validator for the schema at `pointer` inside the AsyncAPI document (so its `$ref`s
/// resolve against the document).
fn validator(document: &Value, pointer: &str) -> jsonschema::Validator {
    let mut root = document.clone();
    root["$ref"] = Value::String(format!("#{pointer}"));
    jsonschema::options()
        .should_validate_formats(true)
        .build(&root)
        .unwrap()
}

fn assert_valid(validator: &jsonschema::Validator, instance: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match the AsyncAPI document: {errors:?}\n{instance:#}"
    );
}

#[test]
fn every_known_event_is_described_at_its_current_version() {
    let document = asyncapi();
    for (aggregate_type, event_type, version) in domain::upcast::known_events() {
        let channel = format!("{{prefix}}.evt.{aggregate_type}.{event_type}");
        assert!(
            document["channels"].get(&channel).is_some(),
            "no channel {channel}"
        );
        let parts =
            &document["components"]["messages"][event_type]["payload"]["allOf"][1]["properties"];
        assert_eq!(parts["event_version"]["const"], *version, "{event_type}");
        assert_eq!(
            parts["aggregate_type"]["const"], *aggregate_type,
            "{event_type}"
        );
    }
}

/// Inserts the 1.0 fixture as an old row would be, with real sealed fields.
async fn insert_v1_fixture(env: &TestEnv) -> Uuid {
    let mut fixture: Value = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/events/user_registered_1.0.json"
    )))
    .unwrap();
    let object = fixture.as_object_mut().unwrap();
    object.remove("_comment");
    let user_id: Uuid = object["user_id"].as_str().unwrap().parse().unwrap();
    let key = env.keys().create(user_id).await.unwrap();
    object.insert(
        "email".into(),
        json!(seal(&key, user_id, sealed_fields::EMAIL, b"old@example.test").as_str()),
    );
    object.insert(
        "password_hash".into(),
        json!(seal(
            &key,
            user_id,
            sealed_fields::PASSWORD_HASH,
            b"$argon2id$v=19$m=19456,t=2,p=1$x$y"
        )
        .as_str()),
    );
    object.insert(
        "email_lookup".into(),
        json!(env.master.email_lookup("old@example.test")),
    );
    let mut connection = env.pool.acquire().await.unwrap();
    events::insert(
        &mut connection,
        "user",
        &user_id.to_string(),
        1,
        "UserRegistered",
        "1.0",
        fixture,
    )
    .await;
    user_id
}

#[tokio::test]
async fn published_events_match_the_asyncapi_document_and_old_versions_are_upcast() {
    let env = TestEnv::new().await;
    let old = insert_v1_fixture(&env).await;
    let (running, _) = env.start_all().await;
    env.register("pia").await;
    let (_, token) = env.register("quinn").await;
    env.users_reach(token).await;

    let document = asyncapi();
    let payload = validator(&document, "/components/messages/UserRegistered/payload");
    let headers = validator(&document, "/components/schemas/EventHeaders");
    let messages = env.stream_events().await;
    assert_eq!(messages.len(), 3);
    for (_, message) in &messages {
        let body: Value = serde_json::from_slice(&message.payload).unwrap();
        assert_valid(&payload, &body, "the message body");
        let header_map: serde_json::Map<String, Value> = message
            .headers
            .iter()
            .map(|(name, values)| {
                (
                    name.to_string(),
                    json!(values.first().map(|v| v.as_str()).unwrap_or_default()),
                )
            })
            .collect();
        assert_valid(&headers, &Value::Object(header_map), "the message headers");
        assert_eq!(
            message.subject.as_str(),
            format!("{}.evt.user.UserRegistered", env.bus.prefix())
        );
    }
    // The 1.0 row went out as 3.0 with the role and verification it implied.
    let first: Value = serde_json::from_slice(&messages[0].1.payload).unwrap();
    assert_eq!(first["aggregate_id"], old.to_string());
    assert_eq!(first["event_version"], "3.0");
    assert_eq!(first["payload"]["email_verified"], true);
    assert_eq!(first["payload"]["role"], "user");

    // The projection applied it, and a rebuild from the events table reads it the same.
    let row = queries::find_by_handle(&env.pool, "oldtimer")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (row.role.as_str(), row.email.as_deref()),
        ("user", Some("old@example.test"))
    );
    let live = queries::all_in(&env.pool, "rm_users").await.unwrap();
    running.stop().await;
    let model = docuvault::system::read_model(env.keys(), "users").unwrap();
    projections::replay::replay(&env.ddl, model.as_ref(), 2)
        .await
        .unwrap();
    assert_eq!(queries::all_in(&env.pool, "rm_users").await.unwrap(), live);

    // The aggregate loader upcasts too: the old account is known as registered.
    let again = RegisterUser {
        user_id: old,
        handle: Handle::parse("oldtimer2").unwrap(),
        email: Sealed::from_envelope("v1.AAAAAAAAAAAAAAAA.AAAA".into()),
        email_lookup: "other".into(),
        password_hash: Sealed::from_envelope("v1.AAAAAAAAAAAAAAAA.AAAA".into()),
        role: Role::User,
        email_verified: true,
        at: chrono::DateTime::UNIX_EPOCH,
    };
    let result = EventStore::new(env.pool.clone())
        .execute::<User>(
            &old.to_string(),
            UserCommand::Register(again),
            (),
            &CommandMeta::new("test", "upcast"),
        )
        .await;
    assert!(
        matches!(
            result,
            Err(CommandError::Rejected(UserError::AlreadyRegistered))
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn session_sign_in_and_second_factor_events_match_the_asyncapi_document() {
    use crate::support::auth::{cookie_post, login, sign_in};
    let env = TestEnv::new().await;
    let (running, url) = env.start_all().await;
    env.register("ann").await;
    let client = reqwest::Client::new();
    for _ in 0..6 {
        login(&client, &url, "ann@example.test", "not the password at all").await;
    }
    login(
        &client,
        &url,
        "nobody@example.test",
        "not the password at all",
    )
    .await;
    // The lockout is per account: sign in as someone else after it.
    env.register("bob").await;
    let session = sign_in(&client, &url, "bob").await;
    // Each call answers with the session to go on in: changing the second factor ends
    // every session and starts a fresh one.
    let call = |path: &'static str, access: String, body: Value| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let response = client
                .post(format!("{url}{path}"))
                .bearer_auth(access)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert!(
                response.status().is_success(),
                "{path}: {}",
                response.status()
            );
            let refresh = crate::support::auth::refresh_cookie(response.headers());
            let body: Value = response.json().await.unwrap();
            (body, refresh)
        }
    };
    let password = crate::support::auth::PASSWORD;
    let (setup, _) = call(
        "/api/account/second-factor/setup",
        session.access.clone(),
        json!({"password": password}),
    )
    .await;
    let seed = totp_rs::Secret::Encoded(setup["secret"].as_str().unwrap().to_owned())
        .to_bytes()
        .unwrap();
    let code = totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, seed)
        .generate(u64::try_from(domain::Clock::now(&eventlog::SystemClock).timestamp()).unwrap());
    let (on, _) = call(
        "/api/account/second-factor/confirm",
        session.access.clone(),
        json!({"code": code}),
    )
    .await;
    let access = on["access_token"].as_str().unwrap().to_owned();
    call(
        "/api/account/second-factor/recovery-codes",
        access.clone(),
        json!({"password": password}),
    )
    .await;
    let (_, refresh) = call(
        "/api/account/second-factor/disable",
        access,
        json!({"password": password}),
    )
    .await;
    let refresh = refresh.unwrap();
    cookie_post(&client, &url, "/api/auth/refresh", &refresh).await;
    cookie_post(&client, &url, "/api/auth/refresh", &refresh).await;

    let expected = [
        "SessionStarted",
        "SessionEnded",
        "RefreshTokenReused",
        "SignInFailed",
        "SignInLockedOut",
        "SecondFactorEnabled",
        "RecoveryCodesRegenerated",
        "SecondFactorDisabled",
    ];
    let seen = validate_the_stream(&env).await;
    for event_type in expected {
        assert!(seen.contains(event_type), "no {event_type} in {seen:?}");
    }
    running.stop().await;
}

#[tokio::test]
async fn account_administration_events_match_the_asyncapi_document() {
    use crate::support::auth::{sign_in, PASSWORD};
    let env = TestEnv::new().await;
    crate::support::register_as(&env.registrations(), "root", Role::Admin).await;
    let (ann_id, _) = env.register("ann").await;
    let (running, url) = env.start_all().await;
    let client = reqwest::Client::new();
    let ann = sign_in(&client, &url, "ann").await;
    let changed = client
        .post(format!("{url}/api/account/password"))
        .bearer_auth(&ann.access)
        .json(&json!({"current_password": PASSWORD, "new_password": "another long passphrase"}))
        .send()
        .await
        .unwrap();
    assert!(changed.status().is_success());
    // A confirmation through the outbox (no SMTP server configured) and a reset request.
    let registered = client
        .post(format!("{url}/api/auth/register"))
        .json(&json!({"email": "zed@example.test", "handle": "zed", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::ACCEPTED);
    let outbox = env.settings.mail_outbox_dir.clone();
    let mut token = None;
    env.eventually("the confirmation reaches the outbox", || {
        let found = std::fs::read_dir(&outbox)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| std::fs::read_to_string(entry.path()).ok())
            .find(|text| text.contains("zed@example.test"));
        let done = found.is_some();
        if let Some(text) = found {
            token = Some(crate::support::smtp::link_token(
                &text.replace("\r\n", "\n"),
                &env.settings.public_url,
                "/verify-email",
            ));
        }
        async move { done }
    })
    .await;
    let verified = client
        .post(format!("{url}/api/auth/verify-email"))
        .json(&json!({"token": token.unwrap()}))
        .send()
        .await
        .unwrap();
    assert_eq!(verified.status(), StatusCode::OK);
    let reset = client
        .post(format!("{url}/api/auth/password-reset"))
        .json(&json!({"email": "zed@example.test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), StatusCode::ACCEPTED);
    env.eventually("the reset request is recorded", || async {
        sqlx::query_scalar::<_, i64>(
            "select count(*) from events where event_type = 'PasswordResetRequested'",
        )
        .fetch_one(&env.pool)
        .await
        .unwrap()
            == 1
    })
    .await;
    let zed = sign_in(&client, &url, "zed").await;
    let named = client
        .put(format!("{url}/api/account/profile"))
        .bearer_auth(&zed.access)
        .json(&json!({"display_name": "Zed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(named.status(), StatusCode::NO_CONTENT);
    let left = client
        .post(format!("{url}/api/account/delete"))
        .bearer_auth(&zed.access)
        .json(&json!({"password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(left.status(), StatusCode::NO_CONTENT);
    let root = sign_in(&client, &url, "root").await;
    for (method, path, body) in [
        (
            "PUT",
            "/api/admin/settings",
            json!({"self_registration": false}),
        ),
        (
            "POST",
            "/api/admin/invites",
            json!({"email": "yan@example.test"}),
        ),
        (
            "PUT",
            "/api/admin/settings",
            json!({"self_registration": true}),
        ),
        (
            "PUT",
            "/api/admin/ai/outbound",
            json!({"allow": ["127.0.0.1"], "allow_http": true}),
        ),
        (
            "PUT",
            "/api/admin/ai/providers/ollama",
            json!({"endpoint": "http://127.0.0.1:11434", "api_key": "a-key"}),
        ),
        ("DELETE", "/api/admin/ai/providers/ollama", json!({})),
    ] {
        let target = format!("{url}{path}");
        let request = match method {
            "PUT" => client.put(target),
            "DELETE" => client.delete(target),
            _ => client.post(target),
        };
        let response = request
            .bearer_auth(&root.access)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
    }
    for (method, path, body) in [
        ("POST", "disable", json!({})),
        ("POST", "enable", json!({})),
        ("PUT", "role", json!({"role": "admin"})),
        ("PUT", "quota", json!({"bytes": null})),
        ("PUT", "ai", json!({"provider": "offline", "model": null})),
    ] {
        let target = format!("{url}/api/admin/users/{ann_id}/{path}");
        let request = if method == "PUT" {
            client.put(target)
        } else {
            client.post(target)
        };
        let response = request
            .bearer_auth(&root.access)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
    }
    let seen = validate_the_stream(&env).await;
    for event_type in [
        "EmailVerified",
        "PasswordResetRequested",
        "ProfileUpdated",
        "UserDeleted",
        "SelfRegistrationChanged",
        "LlmEndpointSet",
        "LlmEndpointRemoved",
        "OutboundPolicyChanged",
        "InviteSent",
        "PasswordChanged",
        "UserDisabled",
        "UserEnabled",
        "RoleChanged",
        "QuotaSet",
        "AiModelAssigned",
    ] {
        assert!(seen.contains(event_type), "no {event_type} in {seen:?}");
    }
    running.stop().await;
}

/// Waits until every event is on the stream, validates each message against its message
/// in the AsyncAPI document, and returns the event types seen.
async fn validate_the_stream(env: &TestEnv) -> std::collections::BTreeSet<String> {
    let count: i64 = sqlx::query_scalar("select count(*) from events")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    env.eventually("every event is on the stream", || async {
        env.stream_len().await == u64::try_from(count).unwrap()
    })
    .await;
    let document = asyncapi();
    let mut seen = std::collections::BTreeSet::new();
    for (_, message) in env.stream_events().await {
        let body: Value = serde_json::from_slice(&message.payload).unwrap();
        let event_type = body["event_type"].as_str().unwrap().to_owned();
        let validator = validator(
            &document,
            &format!("/components/messages/{event_type}/payload"),
        );
        assert_valid(&validator, &body, &event_type);
        seen.insert(event_type);
    }
    seen
}

#[tokio::test]
async fn document_storage_folder_topic_and_share_events_match_the_asyncapi_document() {
    use crate::support::documents::{pdf_bytes, Docs, PDF, TEXT};
    let env = TestEnv::new().await;
    crate::support::register_as(&env.registrations(), "root", domain::user::Role::Admin).await;
    env.register("bob").await;
    let (_, token) = env.register("ann").await;
    let (running, url) = env.start_all().await;
    env.users_reach(token).await;
    let ann = Docs::signed_in(&url, "ann").await;
    let root = Docs::signed_in(&url, "root").await;
    let kept = ann.upload("kept.pdf", pdf_bytes(200), PDF).await;
    let gone = ann.upload("gone.txt", b"soon gone".to_vec(), TEXT).await;
    let renamed = ann
        .client
        .patch(format!(
            "{url}/api/documents/{}",
            kept["id"].as_str().unwrap()
        ))
        .bearer_auth(&ann.access)
        .json(&json!({"name": "renamed.pdf"}))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), StatusCode::OK);
    // A folder made, renamed, moved under another, given a document, deleted with its
    // contents moved up.
    let mut folders = Vec::new();
    for name in ["outer", "inner"] {
        let created = ann
            .send_json(
                reqwest::Method::POST,
                "/api/folders",
                json!({ "name": name }),
            )
            .await;
        assert_eq!(created.status(), StatusCode::CREATED);
        let body: Value = created.json().await.unwrap();
        folders.push(body["id"].as_str().unwrap().to_owned());
    }
    let (outer, inner) = (&folders[0], &folders[1]);
    for (method, path, body) in [
        (
            reqwest::Method::PATCH,
            format!("/api/folders/{inner}"),
            json!({"name": "in"}),
        ),
        (
            reqwest::Method::POST,
            format!("/api/folders/{inner}/move"),
            json!({"folder_id": outer}),
        ),
        (
            reqwest::Method::POST,
            format!("/api/documents/{}/move", kept["id"].as_str().unwrap()),
            json!({"folder_id": inner}),
        ),
    ] {
        let response = ann.send_json(method, &path, body).await;
        assert!(response.status().is_success(), "{path}");
    }
    // Topics, system and own, set on a document, renamed and deleted; a document and a
    // folder shared and a share revoked.
    let kept_id = kept["id"].as_str().unwrap();
    let mut topics = Vec::new();
    for (who, path) in [(&root, "/api/admin/topics"), (&ann, "/api/topics")] {
        let created = who
            .send_json(reqwest::Method::POST, path, json!({"name": "Finance"}))
            .await;
        assert_eq!(created.status(), StatusCode::CREATED);
        let body: Value = created.json().await.unwrap();
        topics.push((who, path, body["id"].as_str().unwrap().to_owned()));
    }
    let set = ann
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/documents/{kept_id}/topics"),
            json!({"topics": [topics[0].2, topics[1].2]}),
        )
        .await;
    assert_eq!(set.status(), StatusCode::OK);
    for (who, path, id) in &topics {
        let renamed = who
            .send_json(
                reqwest::Method::PATCH,
                &format!("{path}/{id}"),
                json!({"name": "Money"}),
            )
            .await;
        assert_eq!(renamed.status(), StatusCode::NO_CONTENT);
        let deleted = who
            .send(reqwest::Method::DELETE, &format!("{path}/{id}"))
            .await;
        assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    }
    let mut shares = Vec::new();
    for target in [json!({"document_id": kept_id}), json!({"folder_id": inner})] {
        let mut body = target.clone();
        body["handle"] = json!("bob");
        let shared = ann
            .send_json(reqwest::Method::POST, "/api/shares", body)
            .await;
        assert_eq!(shared.status(), StatusCode::CREATED);
        let shared: Value = shared.json().await.unwrap();
        shares.push(shared["id"].as_str().unwrap().to_owned());
    }
    let revoked = ann
        .send(
            reqwest::Method::DELETE,
            &format!("/api/shares/{}", shares[0]),
        )
        .await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let up = ann
        .send(
            reqwest::Method::DELETE,
            &format!("/api/folders/{outer}?contents=move_up"),
        )
        .await;
    assert_eq!(up.status(), StatusCode::NO_CONTENT);
    let deleted = ann
        .send(
            reqwest::Method::DELETE,
            &format!("/api/documents/{}", gone["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let fake = ann.start("fake.pdf", 6, PDF).await;
    assert_eq!(
        ann.put(&fake, b"<html>".to_vec()).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        ann.confirm(&fake.id).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // An upload left pending, expired by the worker's pass an hour and a bit later.
    let left = ann.start("left.txt", 4, TEXT).await;
    let clock = std::sync::Arc::new(domain::clock::ManualClock::at(domain::Clock::now(
        &eventlog::SystemClock,
    )));
    clock.advance(chrono::Duration::minutes(61));
    let keys = env.keys();
    let documents = commands::documents::Documents::new(
        EventStore::new(env.pool.clone()),
        keys.clone(),
        docuvault::system::object_store(&env.settings, &keys)
            .await
            .unwrap(),
        clock.clone(),
        env.settings.document_policy(),
    );
    let meta = CommandMeta::new("test", "contract");
    let expired = documents
        .expire(left.id.parse().unwrap(), &meta)
        .await
        .unwrap();
    assert!(expired.is_some());
    env.eventually("the worker hashes both confirmed uploads", || async {
        sqlx::query_scalar::<_, i64>(
            "select count(*) from events where event_type = 'ContentHashed'",
        )
        .fetch_one(&env.pool)
        .await
        .unwrap()
            == 2
    })
    .await;
    // Classification: a text is extracted and classified; kept.pdf is no real PDF, so its
    // run fails, and its owner runs it again (and it fails again).
    ann.upload("notes.txt", b"notes about the garden".to_vec(), TEXT)
        .await;
    let count_of = |event_type: &'static str| {
        let pool = env.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>("select count(*) from events where event_type = $1")
                .bind(event_type)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    env.eventually("kept.pdf's first run failed", || async {
        count_of("ClassificationFailed").await >= 1
    })
    .await;
    let rerun = ann
        .send(
            reqwest::Method::POST,
            &format!("/api/documents/{kept_id}/classify"),
        )
        .await;
    assert_eq!(rerun.status(), StatusCode::ACCEPTED);
    env.eventually("the rerun failed and notes.txt was classified", || async {
        count_of("ClassificationFailed").await >= 2 && count_of("DocumentClassified").await >= 1
    })
    .await;
    let seen = validate_the_stream(&env).await;
    for event_type in [
        "ClassificationRequested",
        "TextExtracted",
        "DocumentClassified",
        "ClassificationFailed",
        "UploadInitiated",
        "UploadConfirmed",
        "UploadExpired",
        "UploadRejected",
        "DocumentRenamed",
        "DocumentDeleted",
        "ContentHashed",
        "StorageAdmitted",
        "StorageReleased",
        "DocumentFiled",
        "FolderCreated",
        "FolderRenamed",
        "FolderMoved",
        "FolderDeleted",
        "DocumentTopicsSet",
        "TopicCreated",
        "TopicRenamed",
        "TopicDeleted",
        "ShareGranted",
        "ShareRevoked",
    ] {
        assert!(seen.contains(event_type), "no {event_type} in {seen:?}");
    }
    running.stop().await;
}
