//! Folders end to end (ORG-1, DOC-5, DOC-7): nesting, moves that would make a cycle,
//! documents filed and listed by folder, deleting with a choice for what a folder holds,
//! isolation, and a rebuild of the model that holds the tree.

use crate::support::documents::{Docs, TEXT};
use crate::support::TestEnv;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn create(docs: &Docs, name: &str, parent: Option<&str>) -> String {
    let response = docs
        .send_json(
            Method::POST,
            "/api/folders",
            json!({"name": name, "parent_id": parent}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED, "create {name}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["name"], name);
    let listed = docs.json("/api/folders").await;
    let listed = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["id"] == body["id"])
        .cloned();
    // The same folder; its time as stored (microseconds) from the same event.
    let listed = listed.expect("the tree shows the new folder");
    for field in ["name", "parent_id"] {
        assert_eq!(listed[field], body[field], "{name}: {field}");
    }
    let at = |value: &Value| {
        chrono::DateTime::parse_from_rfc3339(value.as_str().unwrap())
            .unwrap()
            .timestamp_micros()
    };
    assert!((at(&listed["created_at"]) - at(&body["created_at"])).abs() <= 1);
    body["id"].as_str().unwrap().to_owned()
}

/// Each folder's name with its parent's name (`-` at the top), sorted.
async fn tree(docs: &Docs) -> Vec<(String, String)> {
    let list = docs.json("/api/folders").await;
    let items = list["items"].as_array().unwrap();
    let name_of = |id: &Value| {
        items
            .iter()
            .find(|item| item["id"] == *id)
            .map_or("-".to_owned(), |item| {
                item["name"].as_str().unwrap().to_owned()
            })
    };
    let mut pairs: Vec<(String, String)> = items
        .iter()
        .map(|item| {
            (
                item["name"].as_str().unwrap().to_owned(),
                name_of(&item["parent_id"]),
            )
        })
        .collect();
    pairs.sort();
    pairs
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    pairs.sort();
    pairs
}

async fn names_in(docs: &Docs, folder: &str) -> Vec<String> {
    let page = docs
        .json(&format!(
            "/api/documents?folder={folder}&sort=name&order=asc"
        ))
        .await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn move_folder(docs: &Docs, id: &str, to: Option<&str>) -> reqwest::Response {
    docs.send_json(
        Method::POST,
        &format!("/api/folders/{id}/move"),
        json!({ "folder_id": to }),
    )
    .await
}

async fn file(docs: &Docs, document: &str, to: Option<&str>) -> reqwest::Response {
    docs.send_json(
        Method::POST,
        &format!("/api/documents/{document}/move"),
        json!({ "folder_id": to }),
    )
    .await
}

async fn error_code(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn a_person_builds_a_tree_files_documents_and_deletes_with_a_choice() {
    let env = TestEnv::new().await;
    env.register("ann").await;
    let (_, token) = env.register("bob").await;
    let (running, url) = env.start_all().await;
    env.users_reach(token).await;
    let ann = Docs::signed_in(&url, "ann").await;
    let bob = Docs::signed_in(&url, "bob").await;

    let work = create(&ann, "Work", None).await;
    let taxes = create(&ann, "Taxes", Some(&work)).await;
    let y2026 = create(&ann, "2026", Some(&taxes)).await;
    let home = create(&ann, "Home", None).await;
    assert_eq!(
        tree(&ann).await,
        pairs(&[
            ("Work", "-"),
            ("Taxes", "Work"),
            ("2026", "Taxes"),
            ("Home", "-")
        ])
    );

    // A folder cannot go into itself or below itself; elsewhere it may.
    for target in [&work, &taxes, &y2026] {
        assert_eq!(
            error_code(move_folder(&ann, &work, Some(target)).await).await,
            (StatusCode::CONFLICT, "folder_into_itself".to_owned())
        );
    }
    let moved = move_folder(&ann, &taxes, Some(&home)).await;
    assert_eq!(moved.status(), StatusCode::NO_CONTENT);
    let renamed = ann
        .send_json(
            Method::PATCH,
            &format!("/api/folders/{home}"),
            json!({"name": " Household\u{202e} "}),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        tree(&ann).await,
        pairs(&[
            ("Work", "-"),
            ("Taxes", "Household"),
            ("2026", "Taxes"),
            ("Household", "-")
        ])
    );

    // Documents are filed and listed by folder.
    let receipt = ann.upload("receipt.txt", b"paid".to_vec(), TEXT).await;
    let receipt = receipt["id"].as_str().unwrap().to_owned();
    let letter = ann.upload("letter.txt", b"dear".to_vec(), TEXT).await;
    let letter = letter["id"].as_str().unwrap().to_owned();
    let filed = file(&ann, &receipt, Some(&y2026)).await;
    assert_eq!(filed.status(), StatusCode::OK);
    let view: Value = filed.json().await.unwrap();
    assert_eq!(view["folder_id"], y2026.as_str());
    assert_eq!(
        file(&ann, &letter, Some(&taxes)).await.status(),
        StatusCode::OK
    );
    assert_eq!(names_in(&ann, &y2026).await, ["receipt.txt"]);
    assert_eq!(names_in(&ann, &taxes).await, ["letter.txt"]);
    assert!(names_in(&ann, "top").await.is_empty());
    let in_folder = ann.json(&format!("/api/documents?folder={y2026}")).await;
    assert_eq!(in_folder["total"], 1);
    let bad = ann.get("/api/documents?folder=nowhere").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    // Another person's folders and documents do not exist for them, nor ann's for bob.
    let bobs = create(&bob, "Bob's", None).await;
    assert_eq!(
        file(&ann, &receipt, Some(&bobs)).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        move_folder(&ann, &work, Some(&bobs)).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        file(&bob, &receipt, Some(&bobs)).await.status(),
        StatusCode::NOT_FOUND
    );
    for response in [
        move_folder(&bob, &work, None).await,
        bob.send_json(
            Method::PATCH,
            &format!("/api/folders/{work}"),
            json!({"name": "mine"}),
        )
        .await,
        bob.send(
            Method::DELETE,
            &format!("/api/folders/{work}?contents=delete"),
        )
        .await,
        bob.send_json(
            Method::POST,
            "/api/folders",
            json!({"name": "x", "parent_id": work}),
        )
        .await,
    ] {
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(tree(&bob).await, pairs(&[("Bob's", "-")]));
    // Nothing else rides along with a move or a new folder (SECURITY 16).
    let smuggled = ann
        .send_json(
            Method::POST,
            &format!("/api/documents/{receipt}/move"),
            json!({"folder_id": null, "owner": "someone"}),
        )
        .await;
    assert_eq!(smuggled.status(), StatusCode::BAD_REQUEST);
    let smuggled = ann
        .send_json(
            Method::POST,
            "/api/folders",
            json!({"name": "x", "owner": "someone"}),
        )
        .await;
    assert_eq!(smuggled.status(), StatusCode::BAD_REQUEST);

    // Deleting: refused while not empty, unless the contents move up or go with it.
    assert_eq!(
        error_code(
            ann.send(Method::DELETE, &format!("/api/folders/{y2026}"))
                .await
        )
        .await,
        (StatusCode::CONFLICT, "folder_not_empty".to_owned())
    );
    assert_eq!(
        error_code(
            ann.send(
                Method::DELETE,
                &format!("/api/folders/{work}?contents=some")
            )
            .await
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    let emptied = ann
        .send(Method::DELETE, &format!("/api/folders/{work}"))
        .await;
    assert_eq!(
        emptied.status(),
        StatusCode::NO_CONTENT,
        "an empty folder goes"
    );
    let up = ann
        .send(
            Method::DELETE,
            &format!("/api/folders/{y2026}?contents=move_up"),
        )
        .await;
    assert_eq!(up.status(), StatusCode::NO_CONTENT);
    assert_eq!(names_in(&ann, &taxes).await, ["letter.txt", "receipt.txt"]);
    assert_eq!(
        tree(&ann).await,
        pairs(&[("Taxes", "Household"), ("Household", "-")])
    );
    let sub = create(&ann, "Old", Some(&taxes)).await;
    assert_eq!(
        file(&ann, &letter, Some(&sub)).await.status(),
        StatusCode::OK
    );
    let used_before = ann.used_bytes().await;
    assert_eq!(used_before, 8);
    let gone = ann
        .send(
            Method::DELETE,
            &format!("/api/folders/{taxes}?contents=delete"),
        )
        .await;
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    assert_eq!(tree(&ann).await, pairs(&[("Household", "-")]));
    assert_eq!(ann.json("/api/documents").await["total"], 0);
    assert_eq!(ann.used_bytes().await, 0);
    assert!(
        env.stored_keys().await.is_empty(),
        "their bytes are gone too"
    );

    // The tree and the filing survive a rebuild of the model.
    let kept = ann.upload("kept.txt", b"kept".to_vec(), TEXT).await;
    let kept = kept["id"].as_str().unwrap().to_owned();
    let inner = create(&ann, "Inner", Some(&home)).await;
    assert_eq!(
        file(&ann, &kept, Some(&inner)).await.status(),
        StatusCode::OK
    );
    let before = (tree(&ann).await, ann.json("/api/folders").await);
    let model = docuvault::system::read_model(env.keys(), "documents").unwrap();
    projections::replay::replay(&env.ddl, model.as_ref(), 2)
        .await
        .unwrap();
    assert_eq!((tree(&ann).await, ann.json("/api/folders").await), before);
    assert_eq!(names_in(&ann, &inner).await, ["kept.txt"]);

    running.stop().await;
    drop(env);
}
