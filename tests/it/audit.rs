//! The audit log (AUTH-8, ADM-3): every security-relevant event, for admins, filtered and
//! paged, with no secret in it; rebuilt by replay to the same entries.

use crate::support::auth::{cookie_post, login, sign_in, PASSWORD};
use crate::support::{register_as, TestEnv};
use domain::user::Role;
use projections::audit::{queries, AuditFilter};
use reqwest::{Client, StatusCode};
use serde_json::Value;

async fn audit(client: &Client, url: &str, access: &str, query: &str) -> Value {
    let response = client
        .get(format!("{url}/api/admin/audit{query}"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    response.json().await.unwrap()
}

fn types(page: &Value) -> Vec<String> {
    page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["event_type"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn admins_read_every_security_event_filtered_and_paged_and_a_rebuild_matches() {
    let env = TestEnv::new().await;
    register_as(&env.registrations(), "root", Role::Admin).await;
    let (ann_id, _) = env.register("ann").await;
    let (running, url) = env.start_all().await;
    let client = Client::new();

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
    let root = sign_in(&client, &url, "root").await;
    for action in ["disable", "enable"] {
        let response = client
            .post(format!("{url}/api/admin/users/{ann_id}/{action}"))
            .bearer_auth(&root.access)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }
    let (bob_id, bob_registered) = register_as(&env.registrations(), "bob", Role::User).await;
    let bob = sign_in(&client, &url, "bob").await;
    cookie_post(&client, &url, "/api/auth/refresh", &bob.refresh).await;
    cookie_post(&client, &url, "/api/auth/refresh", &bob.refresh).await;

    // 7 failures, a lockout, 3 registrations, 2 admin actions, 2 sign-ins, a reuse and the
    // session it ended.
    let expected = 7 + 1 + 3 + 2 + 2 + 1 + 1;
    let total = || async {
        let all = audit(&client, &url, &root.access, "?limit=200").await;
        all["entries"].as_array().unwrap().len()
    };
    env.eventually("the audit log has every entry", || async {
        total().await >= expected
    })
    .await;
    // Filters by handle read the users model, which follows the log on its own.
    env.users_reach(bob_registered).await;

    let everything = audit(&client, &url, &root.access, "?limit=200").await;
    let all_types = types(&everything);
    for wanted in [
        "UserRegistered",
        "SignInFailed",
        "SignInLockedOut",
        "SessionStarted",
        "UserDisabled",
        "UserEnabled",
        "RefreshTokenReused",
        "SessionEnded",
    ] {
        assert!(
            all_types.iter().any(|t| t == wanted),
            "no {wanted} in {all_types:?}"
        );
    }
    // Newest first.
    let positions: Vec<i64> = everything["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["position"].as_i64().unwrap())
        .collect();
    assert!(positions.windows(2).all(|pair| pair[0] > pair[1]));
    // No secret, no personal data, no ciphertext.
    let text = everything.to_string();
    for forbidden in [
        PASSWORD,
        "not the password",
        "@example.test",
        "v1.",
        "password_hash",
    ] {
        assert!(!text.contains(forbidden), "{forbidden} in the audit log");
    }

    let failures = audit(&client, &url, &root.access, "?type=SignInFailed&target=ann").await;
    assert_eq!(types(&failures), vec!["SignInFailed"; 6]);
    assert_eq!(failures["entries"][0]["target_handle"], "ann");
    assert_eq!(failures["entries"][0]["details"]["factor"], "password");
    let by_root = audit(
        &client,
        &url,
        &root.access,
        "?actor=ROOT&type=UserDisabled,UserEnabled",
    )
    .await;
    assert_eq!(types(&by_root), vec!["UserEnabled", "UserDisabled"]);
    assert_eq!(by_root["entries"][0]["actor_handle"], "root");
    assert_eq!(by_root["entries"][0]["target_id"], ann_id.to_string());
    let reuse = audit(&client, &url, &root.access, "?type=RefreshTokenReused").await;
    assert_eq!(reuse["entries"][0]["target_id"], bob_id.to_string());
    let nobody = audit(&client, &url, &root.access, "?actor=nobody").await;
    assert_eq!(types(&nobody), Vec::<String>::new());
    let future = audit(&client, &url, &root.access, "?from=2999-01-01T00:00:00Z").await;
    assert_eq!(types(&future), Vec::<String>::new());

    // Pages follow each other without overlap or gap.
    let first = audit(&client, &url, &root.access, "?limit=3").await;
    let before = first["next_before"].as_i64().unwrap();
    let second = audit(
        &client,
        &url,
        &root.access,
        &format!("?limit=3&before={before}"),
    )
    .await;
    assert_eq!(
        second["entries"][0]["position"].as_i64().unwrap(),
        positions[3]
    );

    // Not for ordinary people; bad input is a 400 with a body.
    let refused = client
        .get(format!("{url}/api/admin/audit"))
        .bearer_auth(&bob_access(&client, &url).await)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    for bad in ["?limit=0", "?from=yesterday", "?before=x", "?colour=red"] {
        let response = client
            .get(format!("{url}/api/admin/audit{bad}"))
            .bearer_auth(&root.access)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }

    // A rebuild from the events table gives the same entries (once the live model has
    // every event: each of these aggregates' events is one entry).
    env.eventually("the audit model has every event", || async {
        let (events, entries): (i64, i64) = sqlx::query_as(
            "select (select count(*) from events where aggregate_type in ('user', 'session', 'sign_in')),
                    (select count(*) from rm_audit.entries)",
        )
        .fetch_one(&env.pool)
        .await
        .unwrap();
        events == entries
    })
    .await;
    let live = queries::page_in(&env.pool, "rm_audit", &AuditFilter::default(), 1000)
        .await
        .unwrap();
    running.stop().await;
    let model = docuvault::system::read_model(env.keys(), "audit").unwrap();
    projections::replay::replay(&env.ddl, model.as_ref(), 5)
        .await
        .unwrap();
    let rebuilt = queries::page_in(&env.pool, "rm_audit", &AuditFilter::default(), 1000)
        .await
        .unwrap();
    assert_eq!(rebuilt, live);
}

/// A fresh session of bob (his earlier one ended with the token reuse).
async fn bob_access(client: &Client, url: &str) -> String {
    sign_in(client, url, "bob").await.access
}
