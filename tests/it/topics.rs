//! Topics end to end (ORG-2, ADM-2, DOC-7): admins manage the system topics, people their
//! own; documents get topics by hand and are listed by topic; deleting a topic takes it
//! off every document; names are unique per namespace; and a rebuild of the model equals
//! the live one.

use crate::support::documents::{Docs, TEXT};
use crate::support::{register_as, TestEnv};
use domain::user::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn create(docs: &Docs, path: &str, name: &str) -> String {
    let response = docs
        .send_json(Method::POST, path, json!({ "name": name }))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED, "create {name}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["documents"], 0);
    body["id"].as_str().unwrap().to_owned()
}

/// Each topic a person sees: its name, whether it is a system topic, and how many of
/// their documents have it.
async fn topics(docs: &Docs) -> Vec<(String, bool, i64)> {
    docs.json("/api/topics").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (
                item["name"].as_str().unwrap().to_owned(),
                item["system"].as_bool().unwrap(),
                item["documents"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn expected(items: &[(&str, bool, i64)]) -> Vec<(String, bool, i64)> {
    items
        .iter()
        .map(|(name, system, n)| ((*name).to_owned(), *system, *n))
        .collect()
}

async fn set_topics(docs: &Docs, document: &str, topics: &[&str]) -> reqwest::Response {
    docs.send_json(
        Method::PUT,
        &format!("/api/documents/{document}/topics"),
        json!({ "topics": topics }),
    )
    .await
}

async fn topics_of(docs: &Docs, document: &str) -> Vec<String> {
    let view = docs.json(&format!("/api/documents/{document}")).await;
    let mut ids: Vec<String> = view["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn sorted(ids: &[&String]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|id| (*id).clone()).collect();
    ids.sort();
    ids
}

async fn names_with_topic(docs: &Docs, topic: &str) -> (Vec<String>, i64) {
    let page = docs
        .json(&format!("/api/documents?topic={topic}&sort=name&order=asc"))
        .await;
    let names = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["name"].as_str().unwrap().to_owned())
        .collect();
    (names, page["total"].as_i64().unwrap())
}

#[tokio::test]
async fn admins_keep_system_topics_people_their_own_and_documents_carry_both() {
    let env = TestEnv::new().await;
    register_as(&env.registrations(), "root", Role::Admin).await;
    env.register("ann").await;
    let (_, token) = env.register("bob").await;
    let (running, url) = env.start_all().await;
    env.users_reach(token).await;
    let root = Docs::signed_in(&url, "root").await;
    let ann = Docs::signed_in(&url, "ann").await;
    let bob = Docs::signed_in(&url, "bob").await;

    // System topics are the admins' to manage; everyone sees them.
    let finance = create(&root, "/api/admin/topics", "Finance").await;
    let health = create(&root, "/api/admin/topics", "Health").await;
    for response in [
        ann.send_json(Method::POST, "/api/admin/topics", json!({"name": "Mine"}))
            .await,
        ann.send_json(
            Method::PATCH,
            &format!("/api/admin/topics/{finance}"),
            json!({"name": "Money"}),
        )
        .await,
        ann.send(Method::DELETE, &format!("/api/admin/topics/{finance}"))
            .await,
        ann.send(Method::GET, "/api/admin/topics").await,
    ] {
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    let taken = root
        .send_json(
            Method::POST,
            "/api/admin/topics",
            json!({"name": " FINANCE "}),
        )
        .await;
    assert_eq!(taken.status(), StatusCode::CONFLICT);
    let body: Value = taken.json().await.unwrap();
    assert_eq!(body["code"], "topic_name_taken");

    // A person's own topics: unique among theirs, whatever the case or spacing.
    let taxes = create(&ann, "/api/topics", "Taxes").await;
    let travel = create(&ann, "/api/topics", "Travel\u{202e}  plans").await;
    let again = ann
        .send_json(Method::POST, "/api/topics", json!({"name": "  taxes"}))
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let empty = ann
        .send_json(Method::POST, "/api/topics", json!({"name": " \u{200f} "}))
        .await;
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    let smuggled = ann
        .send_json(
            Method::POST,
            "/api/topics",
            json!({"name": "x", "system": true}),
        )
        .await;
    assert_eq!(smuggled.status(), StatusCode::BAD_REQUEST);
    // Another person's namespace is their own: bob may have "Taxes" too.
    let bobs = create(&bob, "/api/topics", "Taxes").await;
    assert_eq!(
        topics(&ann).await,
        expected(&[
            ("Finance", true, 0),
            ("Health", true, 0),
            ("Taxes", false, 0),
            ("Travel plans", false, 0),
        ])
    );
    assert_eq!(
        topics(&bob).await,
        expected(&[
            ("Finance", true, 0),
            ("Health", true, 0),
            ("Taxes", false, 0)
        ])
    );

    // Documents get system topics and their owner's, and are listed by topic.
    let receipt = ann.upload("receipt.txt", b"paid".to_vec(), TEXT).await;
    let receipt = receipt["id"].as_str().unwrap().to_owned();
    let ticket = ann.upload("ticket.txt", b"train".to_vec(), TEXT).await;
    let ticket = ticket["id"].as_str().unwrap().to_owned();
    let set = set_topics(&ann, &receipt, &[&finance, &taxes]).await;
    assert_eq!(set.status(), StatusCode::OK);
    let view: Value = set.json().await.unwrap();
    assert_eq!(view["topics"].as_array().unwrap().len(), 2);
    assert_eq!(
        set_topics(&ann, &ticket, &[&travel, &finance])
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(topics_of(&ann, &receipt).await, sorted(&[&finance, &taxes]));
    assert_eq!(
        names_with_topic(&ann, &finance).await,
        (vec!["receipt.txt".to_owned(), "ticket.txt".to_owned()], 2)
    );
    assert_eq!(
        names_with_topic(&ann, &taxes).await,
        (vec!["receipt.txt".to_owned()], 1)
    );
    assert_eq!(
        topics(&ann).await,
        expected(&[
            ("Finance", true, 2),
            ("Health", true, 0),
            ("Taxes", false, 1),
            ("Travel plans", false, 1),
        ])
    );
    // Bob's documents are counted for bob only.
    assert_eq!(topics(&bob).await[0], ("Finance".to_owned(), true, 0));

    // Another person's topic is no topic; another person's document no document; nothing
    // rides along.
    assert_eq!(
        set_topics(&ann, &receipt, &[&bobs]).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        set_topics(&bob, &receipt, &[&finance]).await.status(),
        StatusCode::NOT_FOUND
    );
    for response in [
        bob.send_json(
            Method::PATCH,
            &format!("/api/topics/{taxes}"),
            json!({"name": "Bob's now"}),
        )
        .await,
        bob.send(Method::DELETE, &format!("/api/topics/{taxes}"))
            .await,
        // A system topic is not changed through a person's routes, not even an admin's.
        root.send(Method::DELETE, &format!("/api/topics/{finance}"))
            .await,
    ] {
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
    let smuggled = ann
        .send_json(
            Method::PUT,
            &format!("/api/documents/{receipt}/topics"),
            json!({"topics": [finance], "owner": "someone"}),
        )
        .await;
    assert_eq!(smuggled.status(), StatusCode::BAD_REQUEST);
    assert_eq!(names_with_topic(&bob, &finance).await, (vec![], 0));

    // Renaming keeps the documents; deleting takes the topic off every document.
    let renamed = ann
        .send_json(
            Method::PATCH,
            &format!("/api/topics/{taxes}"),
            json!({"name": "Tax returns"}),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::NO_CONTENT);
    let renamed = root
        .send_json(
            Method::PATCH,
            &format!("/api/admin/topics/{health}"),
            json!({"name": "Wellbeing"}),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::NO_CONTENT);
    let deleted = ann
        .send(Method::DELETE, &format!("/api/topics/{taxes}"))
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(topics_of(&ann, &receipt).await, sorted(&[&finance]));
    let deleted = root
        .send(Method::DELETE, &format!("/api/admin/topics/{finance}"))
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    env.eventually("the system topic is gone for ann", || async {
        topics(&ann).await == expected(&[("Wellbeing", true, 0), ("Travel plans", false, 1)])
    })
    .await;
    assert!(topics_of(&ann, &receipt).await.is_empty());
    assert_eq!(topics_of(&ann, &ticket).await, sorted(&[&travel]));
    assert_eq!(names_with_topic(&ann, &finance).await, (vec![], 0));
    // A deleted topic's name is free again, and setting a deleted topic is refused.
    create(&ann, "/api/topics", "taxes").await;
    assert_eq!(
        set_topics(&ann, &receipt, &[&taxes]).await.status(),
        StatusCode::NOT_FOUND
    );

    // Every admin change to a system topic is audited; a person's own topics are not
    // (their names are theirs).
    env.eventually("the system topic changes are audited", || async {
        let page = root.json("/api/admin/audit?limit=200").await;
        let mut types: Vec<String> = page["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|entry| entry["aggregate_type"] == "topics")
            .map(|entry| entry["event_type"].as_str().unwrap().to_owned())
            .collect();
        types.sort();
        types
            == [
                "TopicCreated",
                "TopicCreated",
                "TopicDeleted",
                "TopicRenamed",
            ]
    })
    .await;
    let page = root.json("/api/admin/audit?type=TopicRenamed").await;
    assert_eq!(page["entries"][0]["details"]["name"], "Wellbeing");
    assert!(!page.to_string().contains("Tax returns"));

    // The topics and which documents have them survive a rebuild of the model.
    let before = (
        topics(&ann).await,
        topics_of(&ann, &ticket).await,
        root.json("/api/admin/topics").await,
    );
    let model = docuvault::system::read_model(env.keys(), "documents").unwrap();
    projections::replay::replay(&env.ddl, model.as_ref(), 2)
        .await
        .unwrap();
    let after = (
        topics(&ann).await,
        topics_of(&ann, &ticket).await,
        root.json("/api/admin/topics").await,
    );
    assert_eq!(after, before);

    running.stop().await;
    drop(env);
}
