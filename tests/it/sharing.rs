//! Sharing by handle end to end (ORG-3, SECURITY 16, DOC-7): a document and a folder
//! shared read-only; what a grantee can and cannot do; one answer for every handle that
//! cannot receive; revocation counting from the very next request; and a rebuild of the
//! model equal to the live one.

use crate::support::documents::{Docs, TEXT};
use crate::support::{register_as, TestEnv};
use domain::user::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn share(docs: &Docs, body: Value) -> reqwest::Response {
    docs.send_json(Method::POST, "/api/shares", body).await
}

async fn shared_id(docs: &Docs, body: Value) -> String {
    let response = share(docs, body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["permission"], "read");
    body["id"].as_str().unwrap().to_owned()
}

/// What `docs` finds under "Shared with me": (name, shared by, via folder).
async fn shared_with(docs: &Docs) -> Vec<(String, String, Option<String>)> {
    let mut items: Vec<(String, String, Option<String>)> = docs.json("/api/shared").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (
                item["name"].as_str().unwrap().to_owned(),
                item["shared_by"].as_str().unwrap().to_owned(),
                item["via_folder"].as_str().map(str::to_owned),
            )
        })
        .collect();
    items.sort();
    items
}

fn item(name: &str, by: &str, via: Option<&str>) -> (String, String, Option<String>) {
    (name.to_owned(), by.to_owned(), via.map(str::to_owned))
}

async fn content(docs: &Docs, document: &str) -> (StatusCode, Vec<u8>) {
    let response = docs
        .get(&format!("/api/documents/{document}/content"))
        .await;
    let status = response.status();
    (status, response.bytes().await.unwrap().to_vec())
}

async fn body_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn a_grantee_reads_what_is_shared_and_nothing_more_until_it_is_revoked() {
    let env = TestEnv::new().await;
    register_as(&env.registrations(), "root", Role::Admin).await;
    env.register("ann").await;
    env.register("bob").await;
    env.register("cat").await;
    let (dan_id, token) = env.register("dan").await;
    let (running, url) = env.start_all().await;
    env.users_reach(token).await;
    let root = Docs::signed_in(&url, "root").await;
    let ann = Docs::signed_in(&url, "ann").await;
    let bob = Docs::signed_in(&url, "bob").await;
    let cat = Docs::signed_in(&url, "cat").await;
    let disabled = root
        .send(Method::POST, &format!("/api/admin/users/{dan_id}/disable"))
        .await;
    assert_eq!(disabled.status(), StatusCode::NO_CONTENT);

    let plan = ann.upload("plan.txt", b"the plan".to_vec(), TEXT).await;
    let plan = plan["id"].as_str().unwrap().to_owned();

    // A handle nobody holds, a disabled account and one's own handle: the same answer.
    let mut answers = Vec::new();
    for handle in ["nobody-here", "dan", "ann"] {
        let (status, body) =
            body_of(share(&ann, json!({"document_id": plan, "handle": handle})).await).await;
        answers.push((status, body));
    }
    assert_eq!(answers[0].0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answers[0].1["code"], "no_recipient");
    assert!(answers.iter().all(|answer| *answer == answers[0]));

    // Sharing the same document with the same person twice is one share.
    let to_bob = shared_id(&ann, json!({"document_id": plan, "handle": "bob"})).await;
    let again = shared_id(
        &ann,
        json!({"document_id": plan, "handle": "BOB", "permission": "read"}),
    )
    .await;
    assert_eq!(again, to_bob);
    let listed = ann.json("/api/shares").await;
    let listed = listed["items"].as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], to_bob.as_str());
    assert_eq!(listed[0]["handle"], "bob");
    assert_eq!(listed[0]["name"], "plan.txt");
    assert_eq!(listed[0]["document_id"], plan.as_str());

    // Bob sees it under "Shared with me", reads its details and its bytes.
    env.eventually("bob sees the shared document", || async {
        shared_with(&bob).await == vec![item("plan.txt", "ann", None)]
    })
    .await;
    let detail = bob.json(&format!("/api/documents/{plan}")).await;
    assert_eq!(detail["name"], "plan.txt");
    assert_eq!(
        content(&bob, &plan).await,
        (StatusCode::OK, b"the plan".to_vec())
    );
    let link = bob
        .send(
            Method::POST,
            &format!("/api/documents/{plan}/download-link"),
        )
        .await;
    assert_eq!(link.status(), StatusCode::OK);
    // But it is not his: not in his own list, and nothing he may change (SECURITY 16).
    assert_eq!(bob.json("/api/documents").await["total"], 0);
    let bobs_folder = bob
        .send_json(Method::POST, "/api/folders", json!({"name": "Mine"}))
        .await;
    let bobs_folder: Value = bobs_folder.json().await.unwrap();
    for response in [
        bob.send_json(
            Method::PATCH,
            &format!("/api/documents/{plan}"),
            json!({"name": "bob's now.txt"}),
        )
        .await,
        bob.send(Method::DELETE, &format!("/api/documents/{plan}"))
            .await,
        bob.send_json(
            Method::POST,
            &format!("/api/documents/{plan}/move"),
            json!({"folder_id": bobs_folder["id"]}),
        )
        .await,
        bob.send_json(
            Method::PUT,
            &format!("/api/documents/{plan}/topics"),
            json!({"topics": []}),
        )
        .await,
        // Passing it on.
        share(&bob, json!({"document_id": plan, "handle": "cat"})).await,
        // Revoking (or guessing) someone else's share.
        bob.send(Method::DELETE, &format!("/api/shares/{to_bob}"))
            .await,
    ] {
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
    // No permission to raise and no owner or document to swap by mass assignment.
    for body in [
        json!({"document_id": plan, "handle": "cat", "permission": "write"}),
        json!({"document_id": plan, "handle": "cat", "permission": "owner"}),
        json!({"document_id": plan, "handle": "cat", "owner": "bob"}),
        json!({"document_id": plan, "folder_id": plan, "handle": "cat"}),
        json!({"handle": "cat"}),
    ] {
        assert_eq!(
            share(&ann, body.clone()).await.status(),
            StatusCode::BAD_REQUEST,
            "{body}"
        );
    }
    assert_eq!(
        share(
            &bob,
            json!({"document_id": plan, "handle": "cat", "owner": "ann"})
        )
        .await
        .status(),
        StatusCode::BAD_REQUEST
    );
    assert!(bob.json("/api/shares").await["items"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(content(&bob, &plan).await.0, StatusCode::OK);
    assert_eq!(
        ann.json(&format!("/api/documents/{plan}")).await["name"],
        "plan.txt"
    );
    assert!(shared_with(&cat).await.is_empty());
    assert_eq!(content(&cat, &plan).await.0, StatusCode::NOT_FOUND);

    // A shared folder opens everything in and below it, and only while it is there.
    let projects = ann
        .send_json(Method::POST, "/api/folders", json!({"name": "Projects"}))
        .await;
    let projects: Value = projects.json().await.unwrap();
    let q1 = ann
        .send_json(
            Method::POST,
            "/api/folders",
            json!({"name": "Q1", "parent_id": projects["id"]}),
        )
        .await;
    let q1: Value = q1.json().await.unwrap();
    let report = ann.upload("report.txt", b"numbers".to_vec(), TEXT).await;
    let report = report["id"].as_str().unwrap().to_owned();
    let filed = ann
        .send_json(
            Method::POST,
            &format!("/api/documents/{report}/move"),
            json!({"folder_id": q1["id"]}),
        )
        .await;
    assert_eq!(filed.status(), StatusCode::OK);
    let to_cat = shared_id(&ann, json!({"folder_id": projects["id"], "handle": "cat"})).await;
    env.eventually("cat sees the folder's document", || async {
        shared_with(&cat).await == vec![item("report.txt", "ann", Some("Projects"))]
    })
    .await;
    assert_eq!(
        content(&cat, &report).await,
        (StatusCode::OK, b"numbers".to_vec())
    );
    assert_eq!(content(&cat, &plan).await.0, StatusCode::NOT_FOUND);
    // Moved out of the shared folder, it is closed at once.
    let out = ann
        .send_json(
            Method::POST,
            &format!("/api/documents/{report}/move"),
            json!({"folder_id": null}),
        )
        .await;
    assert_eq!(out.status(), StatusCode::OK);
    assert_eq!(content(&cat, &report).await.0, StatusCode::NOT_FOUND);
    let back = ann
        .send_json(
            Method::POST,
            &format!("/api/documents/{report}/move"),
            json!({"folder_id": q1["id"]}),
        )
        .await;
    assert_eq!(back.status(), StatusCode::OK);
    assert_eq!(content(&cat, &report).await.0, StatusCode::OK);

    // Each share is in the audit log, with ids and no names.
    env.eventually("the shares are audited", || async {
        let page = root.json("/api/admin/audit?type=ShareGranted").await;
        page["entries"].as_array().unwrap().len() == 2
    })
    .await;
    let page = root.json("/api/admin/audit?type=ShareGranted").await;
    assert!(page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|entry| entry["details"]["target"]["document_id"] == plan.as_str()));
    assert!(!page.to_string().contains("plan.txt") && !page.to_string().contains("Projects"));

    // The shares and what each grantee sees survive a rebuild of the model.
    let before = (
        ann.json("/api/shares").await,
        shared_with(&bob).await,
        shared_with(&cat).await,
    );
    let model = docuvault::system::read_model(env.keys(), "documents").unwrap();
    projections::replay::replay(&env.ddl, model.as_ref(), 2)
        .await
        .unwrap();
    let after = (
        ann.json("/api/shares").await,
        shared_with(&bob).await,
        shared_with(&cat).await,
    );
    assert_eq!(after, before);

    // Revoked: the very next request finds nothing, whatever the read model says. With
    // only the API running, the model never hears of the revocation and still lists the
    // share, yet the bytes, the details and a download link are refused.
    running.stop().await;
    let (running, url) = env.start_api().await;
    let ann = Docs::new(&url, &ann.access);
    let bob = Docs::new(&url, &bob.access);
    let cat = Docs::new(&url, &cat.access);
    let revoked = ann
        .send(Method::DELETE, &format!("/api/shares/{to_bob}"))
        .await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        shared_with(&bob).await,
        vec![item("plan.txt", "ann", None)],
        "the model has not seen the revocation"
    );
    assert_eq!(content(&bob, &plan).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        bob.get(&format!("/api/documents/{plan}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let link = bob
        .send(
            Method::POST,
            &format!("/api/documents/{plan}/download-link"),
        )
        .await;
    assert_eq!(link.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        ann.send(Method::DELETE, &format!("/api/shares/{to_bob}"))
            .await
            .status(),
        StatusCode::NOT_FOUND,
        "a share is revoked once"
    );
    let revoked = ann
        .send(Method::DELETE, &format!("/api/shares/{to_cat}"))
        .await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    assert_eq!(content(&cat, &report).await.0, StatusCode::NOT_FOUND);
    running.stop().await;

    // With the projections back, the lists agree.
    let (running, url) = env.start_all().await;
    let ann = Docs::new(&url, &ann.access);
    let bob = Docs::new(&url, &bob.access);
    let cat = Docs::new(&url, &cat.access);
    env.eventually("the revocations reach the model", || async {
        shared_with(&bob).await.is_empty() && shared_with(&cat).await.is_empty()
    })
    .await;
    assert!(ann.json("/api/shares").await["items"]
        .as_array()
        .unwrap()
        .is_empty());

    running.stop().await;
    drop(env);
}
