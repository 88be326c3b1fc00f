//! Full-text search end to end (ORG-4): isolation (your documents and those shared with
//! you, nothing else), ranking, web-search syntax, stemming by language, escaped snippets,
//! filters and paging, and a rebuild of the index equal to the live one.

use crate::support::documents::{Docs, TEXT};
use crate::support::TestEnv;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

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
        projections::documents::word_shares::WordShares::new(std::time::Duration::from_secs(60));
    let everywhere = shares
        .matching(&env.pool, &schema, "Ledger", "english")
        .await
        .unwrap();
    assert!((everywhere - 1.0).abs() < 0.01, "{everywhere}");
    let nowhere = shares
        .matching(&env.pool, &schema, "ledger unheard", "english")
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

/// `count` confirmed documents of `owner` straight into the read model, one a second from
/// the oldest (n = 0) to the newest, named `doc-n.txt`, with the text `body(n)` (SQL over
/// `n`), given their vectors, then analysed.
async fn seed(env: &TestEnv, owner: Uuid, count: i64, body: &str) {
    let schema = projections::model::live_schema("documents");
    sqlx::query(&format!(
        "with documents as (
           insert into {schema}.documents
             (document_id, owner, name, kind, status, size, storage_key, created_at,
              confirmed_at, expires_at)
           select gen_random_uuid(), $1, 'doc-' || n || '.txt', 'text', 'confirmed', 10,
                  $1::text || '/' || n, at, at, at
             from generate_series(0, $2 - 1) n,
                  lateral (select timestamptz '2026-01-01' + n * interval '1 second' as at) t
           returning document_id, name
         )
         insert into {schema}.document_bodies (document_id, body)
         select document_id, {body}
           from documents, lateral (select substring(name from 5 for length(name) - 8)::int as n) n"
    ))
    .bind(owner)
    .bind(count)
    .execute(&env.ddl)
    .await
    .unwrap();
    sqlx::query(&format!(
        "update {schema}.documents d set search = {vector} where d.owner = $1",
        vector = projections::documents::search_vector(&schema)
    ))
    .bind(owner)
    .execute(&env.ddl)
    .await
    .unwrap();
    sqlx::query(&format!("analyze {schema}.documents"))
        .execute(&env.ddl)
        .await
        .unwrap();
}

#[tokio::test]
async fn every_way_to_the_newest_matches_finds_the_same_page() {
    use projections::documents::search::{search, SearchQuery, Way, SEARCH_CANDIDATES};
    use projections::documents::word_shares::WordShares;

    let env = TestEnv::new().await;
    let (running, _) = env.start_all().await;
    let owner = Uuid::now_v7();
    // 15,000 documents: "alpha" in every 5th, "beta" in every 4th, so both in every 20th,
    // spread over time as chance has it; "gamma" and "delta" only in the oldest fifth
    // and quarter, so both only in the oldest 3,000. Each pair is estimated at 5 %.
    seed(
        &env,
        owner,
        15_000,
        "concat_ws(' ', case when n % 5 = 0 then 'alpha' end, case when n % 4 = 0 then 'beta' end,
                        case when n < 3000 then 'gamma' end, case when n < 3750 then 'delta' end,
                        'filler')",
    )
    .await;
    let schema = projections::model::live_schema("documents");
    let shares = WordShares::new(std::time::Duration::from_secs(60));
    let query = |text: &str| SearchQuery {
        reader: owner,
        text: text.to_owned(),
        language: "english".into(),
        kind: None,
        topic: None,
        folder: None,
        created_from: None,
        created_before: None,
        snippets: false,
        limit: 20,
        offset: 0,
    };
    for text in ["alpha beta", "gamma delta"] {
        let share = shares
            .matching(&env.pool, &schema, text, "english")
            .await
            .unwrap();
        assert!(
            matches!(
                Way::for_share(share, SEARCH_CANDIDATES, false),
                Way::Window { documents } if documents < 15_000
            ),
            "{text}: estimated at {share}, not in the window's band"
        );
    }

    // Independent words: the window of the 12,000 newest documents holds the newest
    // matches; the page is theirs (equal ranks, newest first).
    let (hits, more) = search(&env.pool, &shares, &query("alpha beta"))
        .await
        .unwrap();
    let names: Vec<String> = hits.into_iter().map(|hit| hit.document.name).collect();
    let newest: Vec<String> = (0..20)
        .map(|k| format!("doc-{}.txt", 14_980 - 20 * k))
        .collect();
    assert_eq!(names, newest);
    assert!(more);

    // Words that go together only in old documents: none in the window, so every match.
    let (hits, more) = search(&env.pool, &shares, &query("gamma delta"))
        .await
        .unwrap();
    let names: Vec<String> = hits.into_iter().map(|hit| hit.document.name).collect();
    let newest: Vec<String> = (0..20).map(|k| format!("doc-{}.txt", 2_999 - k)).collect();
    assert_eq!(names, newest);
    assert!(more);

    running.stop().await;
    drop(env);
}
