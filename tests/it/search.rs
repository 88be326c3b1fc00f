//! Full-text search end to end (ORG-4): isolation (your documents and those shared with
//! you, nothing else), ranking, web-search syntax, stemming by language, escaped snippets,
//! filters and paging, and a rebuild of the index equal to the live one.

use crate::support::documents::{Docs, TEXT};
use crate::support::TestEnv;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The names found for `query` (a query string without the `?`), best first.
async fn found(docs: &Docs, query: &str) -> Vec<String> {
    let results = results(docs, query).await;
    names(&results)
}

async fn results(docs: &Docs, query: &str) -> Value {
    let response = docs.get(&format!("/api/search?{query}")).await;
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    response.json().await.unwrap()
}

fn names(results: &Value) -> Vec<String> {
    results["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn upload(docs: &Docs, name: &str) -> String {
    let body = docs.upload(name, b"bytes".to_vec(), TEXT).await;
    body["id"].as_str().unwrap().to_owned()
}

/// Uploads a text document and waits until the worker extracted and classified it, so
/// its text is in the index.
async fn extracted(env: &TestEnv, docs: &Docs, name: &str, text: &str) -> String {
    let body = docs.upload(name, text.as_bytes().to_vec(), TEXT).await;
    let id = body["id"].as_str().unwrap().to_owned();
    let path = format!("/api/documents/{id}");
    env.eventually(&format!("{name} classified"), || async {
        docs.json(&path).await["classification"] == "classified"
    })
    .await;
    id
}

#[tokio::test]
async fn search_finds_your_documents_and_shared_ones_and_nothing_else() {
    let env = TestEnv::new().await;
    env.register("ann").await;
    let (_, token) = env.register("bob").await;
    let (running, url) = env.start_all().await;
    env.users_reach(token).await;
    let ann = Docs::signed_in(&url, "ann").await;
    let bob = Docs::signed_in(&url, "bob").await;

    let zebra = upload(&ann, "zebra-budget.txt").await;
    upload(&bob, "giraffe plans.txt").await;
    assert_eq!(found(&ann, "q=zebra").await, ["zebra-budget.txt"]);
    assert!(found(&bob, "q=zebra").await.is_empty());
    assert!(found(&ann, "q=giraffe").await.is_empty());

    // Shared, bob finds it (and sees who shared it); revoked, he does not.
    let shared = ann
        .send_json(
            Method::POST,
            "/api/shares",
            json!({"document_id": zebra, "handle": "bob"}),
        )
        .await;
    assert_eq!(shared.status(), StatusCode::CREATED);
    let share: Value = shared.json().await.unwrap();
    env.eventually("bob finds the shared document", || async {
        found(&bob, "q=zebra").await == ["zebra-budget.txt"]
    })
    .await;
    let hit = &results(&bob, "q=zebra").await["items"][0];
    assert_eq!(hit["shared_by"], "ann");
    assert_eq!(
        results(&ann, "q=zebra").await["items"][0]["shared_by"],
        Value::Null
    );

    // A rebuild of the index answers the same.
    let before = (
        results(&ann, "q=zebra or giraffe").await,
        results(&bob, "q=zebra or giraffe").await,
    );
    let model = docuvault::system::read_model(env.keys(), "documents").unwrap();
    projections::replay::replay(&env.ddl, model.as_ref(), 2)
        .await
        .unwrap();
    let after = (
        results(&ann, "q=zebra or giraffe").await,
        results(&bob, "q=zebra or giraffe").await,
    );
    assert_eq!(after, before);
    let mut bobs = names(&after.1);
    bobs.sort();
    assert_eq!(bobs, ["giraffe plans.txt", "zebra-budget.txt"]);

    let revoked = ann
        .send(
            Method::DELETE,
            &format!("/api/shares/{}", share["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    env.eventually("bob no longer finds it", || async {
        found(&bob, "q=zebra").await.is_empty()
    })
    .await;

    // Bad requests are refused with a reason.
    for query in [
        "q=",
        "q=%20%20",
        "q=x&lang=klingon",
        "q=x&limit=0",
        "q=x&offset=5000",
        "q=x&kind=exe",
        "q=x&topic=nope",
    ] {
        let response = ann.get(&format!("/api/search?{query}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        let body: Value = response.json().await.unwrap();
        assert!(body["code"].is_string());
    }

    running.stop().await;
    drop(env);
}

#[tokio::test]
async fn search_ranks_names_first_reads_web_syntax_stems_and_escapes_snippets() {
    let env = TestEnv::new().await;
    let (_, token) = env.register("ann").await;
    let (running, url) = env.start_all().await;
    env.users_reach(token).await;
    let ann = Docs::signed_in(&url, "ann").await;

    // A name match ranks above a match in the text.
    extracted(
        &env,
        &ann,
        "notes.txt",
        "minutes of the meeting where the report was discussed at length",
    )
    .await;
    upload(&ann, "quarterly-report.txt").await;
    assert_eq!(
        found(&ann, "q=report").await,
        ["quarterly-report.txt", "notes.txt"]
    );

    // Phrases, minus and or.
    extracted(&env, &ann, "annual.txt", "the annual tax return is filed").await;
    extracted(&env, &ann, "trip.txt", "tax paid for the return trip").await;
    let mut both = found(&ann, "q=tax%20return").await;
    both.sort();
    assert_eq!(both, ["annual.txt", "trip.txt"]);
    assert_eq!(found(&ann, "q=%22tax%20return%22").await, ["annual.txt"]);
    assert_eq!(found(&ann, "q=tax%20-trip").await, ["annual.txt"]);
    let mut either = found(&ann, "q=annual%20or%20trip").await;
    either.sort();
    assert_eq!(either, ["annual.txt", "trip.txt"]);

    // Words are also matched by their stems in the document's language, which extraction
    // recognised.
    extracted(
        &env,
        &ann,
        "training.txt",
        "She was running every morning before work, and in the evenings she was reading \
         about the history of the old town and the gardens along the river.",
    )
    .await;
    assert_eq!(found(&ann, "q=runs&lang=english").await, ["training.txt"]);
    assert!(found(&ann, "q=runs&lang=simple").await.is_empty());

    // Snippets show the matches marked and everything else escaped.
    extracted(
        &env,
        &ann,
        "<script>alert(1)</script> plans.txt",
        "see <script>alert(2)</script> <img src=x onerror=alert(3)> plans for spring",
    )
    .await;
    let hit = &results(&ann, "q=plans").await["items"][0];
    let snippet = hit["snippet_html"].as_str().unwrap();
    // Postgres drops well-formed tags from headlines; whatever markup is left is escaped.
    assert!(snippet.contains("<mark>plans</mark>"), "{snippet}");
    assert!(snippet.contains("&gt;"), "{snippet}");
    let unmarked = snippet.replace("<mark>", "").replace("</mark>", "");
    assert!(!unmarked.contains(['<', '>']), "{snippet}");
    let plain = &results(&ann, "q=plans&snippets=false").await["items"][0];
    assert_eq!(plain["snippet_html"], Value::Null);

    running.stop().await;
    drop(env);
}

#[tokio::test]
async fn search_filters_by_kind_topic_folder_and_date_and_pages() {
    let env = TestEnv::new().await;
    let (_, token) = env.register("ann").await;
    let (running, url) = env.start_all().await;
    env.users_reach(token).await;
    let ann = Docs::signed_in(&url, "ann").await;

    let mut ids = Vec::new();
    for n in 0..25 {
        ids.push(upload(&ann, &format!("ledger {n:02}.txt")).await);
    }
    // Paging: 25 matches, 10 at a time.
    let first = results(&ann, "q=ledger&limit=10").await;
    assert_eq!(names(&first).len(), 10);
    assert_eq!(first["next_offset"], 10);
    let second = results(&ann, "q=ledger&limit=10&offset=10").await;
    let third = results(&ann, "q=ledger&limit=10&offset=20").await;
    assert_eq!(names(&third).len(), 5);
    assert_eq!(third["next_offset"], Value::Null);
    let mut all: Vec<String> = [names(&first), names(&second), names(&third)].concat();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 25, "pages neither repeat nor skip");

    // How common the words are, which picks the way to the newest matches, comes from
    // the column's statistics: a word in every document, and one in none.
    let schema = projections::model::live_schema("documents");
    // (as the tables' owner, as autovacuum does)
    sqlx::query(&format!("analyze {schema}.documents"))
        .execute(&env.ddl)
        .await
        .unwrap();
    let shares =
        projections::documents::queries::WordShares::new(std::time::Duration::from_secs(60));
    let everywhere = shares.matching(&env.pool, &schema, "Ledger").await.unwrap();
    assert!((everywhere - 1.0).abs() < 0.01, "{everywhere}");
    let nowhere = shares
        .matching(&env.pool, &schema, "ledger unheard")
        .await
        .unwrap();
    assert_eq!(nowhere, 0.0);

    // By topic.
    let topic = ann
        .send_json(Method::POST, "/api/topics", json!({"name": "Audit"}))
        .await;
    let topic: Value = topic.json().await.unwrap();
    let topic = topic["id"].as_str().unwrap();
    let set = ann
        .send_json(
            Method::PUT,
            &format!("/api/documents/{}/topics", ids[3]),
            json!({ "topics": [topic] }),
        )
        .await;
    assert_eq!(set.status(), StatusCode::OK);
    assert_eq!(
        found(&ann, &format!("q=ledger&topic={topic}")).await,
        ["ledger 03.txt"]
    );
    // Topic names are searched too.
    assert_eq!(found(&ann, "q=audit").await, ["ledger 03.txt"]);

    // By folder, with the folders below it.
    let outer = ann
        .send_json(Method::POST, "/api/folders", json!({"name": "Outer"}))
        .await;
    let outer: Value = outer.json().await.unwrap();
    let inner = ann
        .send_json(
            Method::POST,
            "/api/folders",
            json!({"name": "Inner", "parent_id": outer["id"]}),
        )
        .await;
    let inner: Value = inner.json().await.unwrap();
    for (id, folder) in [(&ids[5], &outer["id"]), (&ids[6], &inner["id"])] {
        let moved = ann
            .send_json(
                Method::POST,
                &format!("/api/documents/{id}/move"),
                json!({ "folder_id": folder }),
            )
            .await;
        assert_eq!(moved.status(), StatusCode::OK);
    }
    let mut in_outer = found(
        &ann,
        &format!("q=ledger&folder={}", outer["id"].as_str().unwrap()),
    )
    .await;
    in_outer.sort();
    assert_eq!(in_outer, ["ledger 05.txt", "ledger 06.txt"]);
    assert_eq!(
        found(
            &ann,
            &format!("q=ledger&folder={}", inner["id"].as_str().unwrap())
        )
        .await,
        ["ledger 06.txt"]
    );

    // By kind and by date.
    assert!(found(&ann, "q=ledger&kind=pdf").await.is_empty());
    assert_eq!(found(&ann, "q=ledger&kind=text&limit=50").await.len(), 25);
    assert!(found(&ann, "q=ledger&from=2999-01-01T00:00:00Z")
        .await
        .is_empty());
    assert!(found(&ann, "q=ledger&to=2000-01-01T00:00:00Z")
        .await
        .is_empty());
    assert_eq!(
        found(&ann, "q=ledger&from=2000-01-01T00:00:00Z&limit=50")
            .await
            .len(),
        25
    );

    running.stop().await;
    drop(env);
}
