//! Extraction and classification end to end (AI-1..AI-4, SECURITY 26): a confirmed
//! document's text is extracted by the real `docuvault extract` child and filed under
//! topics by the offline classifier; hostile files fail their own document and nothing
//! else; a redelivered confirm classifies once; the classifier learns from what each
//! person filed, and from nobody else.

#[path = "../../extract/tests/it/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;

use crate::support::documents::{Docs, TEXT};
use crate::support::TestEnv;
use docuvault::system::Components;
use domain::document::classification::first_request;
use fixtures::RawEntry;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use uuid::Uuid;
use workers::jobs::{Delivery, Job};

const PDF: &str = "application/pdf";
const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const MARKDOWN: &str = "text/markdown";

async fn create_topic(docs: &Docs, name: &str) -> String {
    let response = docs
        .send_json(Method::POST, "/api/topics", json!({ "name": name }))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED, "create {name}");
    let body: Value = response.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

/// Uploads a document and waits for its run to end; returns its view.
async fn classified(env: &TestEnv, docs: &Docs, name: &str, bytes: Vec<u8>, kind: &str) -> Value {
    let body = docs.upload(name, bytes, kind).await;
    let id = body["id"].as_str().unwrap().to_owned();
    settled(env, docs, &id).await
}

/// Waits until the document's run has ended (classified or failed); returns its view.
async fn settled(env: &TestEnv, docs: &Docs, id: &str) -> Value {
    let path = format!("/api/documents/{id}");
    env.eventually(&format!("{id} classified or failed"), || async {
        let status = docs.json(&path).await["classification"].clone();
        status == "classified" || status == "failed"
    })
    .await;
    docs.json(&path).await
}

fn topics_of(view: &Value) -> Vec<String> {
    view["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap().to_owned())
        .collect()
}

async fn found(docs: &Docs, query: &str) -> Vec<String> {
    docs.json(&format!("/api/search?q={query}")).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn events_of(env: &TestEnv, document: &str, event_type: &str) -> i64 {
    sqlx::query_scalar(
        "select count(*) from events
          where aggregate_type = 'document' and aggregate_id = $1 and event_type = $2",
    )
    .bind(document)
    .bind(event_type)
    .fetch_one(&env.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn documents_of_every_kind_get_their_text_and_topics_and_hostile_files_fail_alone() {
    let env = TestEnv::new().await;
    let (_, token) = env.register("ann").await;
    let (running, url) = env.start_all().await;
    env.users_reach(token).await;
    let ann = Docs::signed_in(&url, "ann").await;
    let garden = create_topic(&ann, "Garden").await;

    // A PDF, a Word document and a Markdown file: their words are found, and the one that
    // speaks of the garden is filed under it by name.
    let pdf = classified(
        &env,
        &ann,
        "shed.pdf",
        fixtures::pdf(&[fixtures::INVOICE]),
        PDF,
    )
    .await;
    assert_eq!(pdf["classification"], "classified", "{pdf}");
    assert_eq!(topics_of(&pdf), std::slice::from_ref(&garden));
    let docx = fixtures::docx(&fixtures::document_xml(
        "<w:p><w:r><w:t>Quarterly minutes of the allotment society</w:t></w:r></w:p>",
    ));
    let word = classified(&env, &ann, "minutes.docx", docx, DOCX).await;
    assert_eq!(word["classification"], "classified", "{word}");
    let markdown = b"# Packing list\n\n* *passport* and [tickets](https://example.test)\n";
    let list = classified(&env, &ann, "list.md", markdown.to_vec(), MARKDOWN).await;
    assert_eq!(list["classification"], "classified", "{list}");
    assert!(topics_of(&list).is_empty());
    assert_eq!(found(&ann, "shed").await, ["shed.pdf"]);
    assert_eq!(found(&ann, "allotment").await, ["minutes.docx"]);
    assert_eq!(found(&ann, "passport").await, ["list.md"]);
    assert!(
        found(&ann, "example").await.is_empty(),
        "link targets are not text"
    );

    // Hostile files fail their own document with a reason, and only it.
    let truncated = fixtures::pdf(&[fixtures::INVOICE]);
    let truncated = truncated[..truncated.len() / 2].to_vec();
    let cyclic = fixtures::raw_pdf(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>".to_vec(),
    ]);
    // Its headers promise 1,000 bytes (which passes the checks at upload); it inflates to
    // 4 MiB.
    let (zeros, crc) = fixtures::deflated_zeros(4);
    let lying_zip = fixtures::raw_zip(
        &[RawEntry {
            name: "word/document.xml".to_owned(),
            method: 8,
            crc,
            declared_size: 1000,
            data: zeros,
        }],
        false,
    );
    // Valid UTF-8 without a NUL (so it passes the checks at upload), but no text.
    let control: Vec<u8> = (1u8..32).cycle().take(4096).collect();
    for (name, bytes, kind, reason) in [
        ("truncated.pdf", truncated, PDF, "PDF"),
        ("cycle.pdf", cyclic, PDF, "PDF"),
        ("lying.docx", lying_zip, DOCX, ""),
        ("binary.txt", control, TEXT, "binary"),
    ] {
        let view = classified(&env, &ann, name, bytes, kind).await;
        assert_eq!(view["classification"], "failed", "{name}: {view}");
        let error = view["classification_error"].as_str().unwrap();
        assert!(error.contains(reason), "{name}: {error}");
    }
    // A zip bomb does not get as far: the upload's own checks refuse it.
    let started = ann
        .start("bomb.docx", fixtures::zip_bomb().len(), DOCX)
        .await;
    assert!(fixtures::zip_bomb().len() < 50_000);
    assert_eq!(
        ann.put(&started, fixtures::zip_bomb()).await.status(),
        StatusCode::OK
    );
    let refused = ann.confirm(&started.id).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let empty = ann.initiate("empty.txt", 0, TEXT).await;
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    // And the next document is classified as if nothing happened.
    let after = classified(
        &env,
        &ann,
        "after.txt",
        b"Plans for the garden: roses by the fence".to_vec(),
        TEXT,
    )
    .await;
    assert_eq!(after["classification"], "classified");
    assert_eq!(topics_of(&after), std::slice::from_ref(&garden));

    // The owner runs a failed document again; it fails again, for the same reason, and a
    // classified one is classified again without repeating its topics.
    let failed_id = {
        let list = ann.json("/api/documents?sort=name&order=asc").await;
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|item| item["name"] == "binary.txt")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let rerun = ann
        .send(
            Method::POST,
            &format!("/api/documents/{failed_id}/classify"),
        )
        .await;
    assert_eq!(rerun.status(), StatusCode::ACCEPTED);
    env.eventually("the rerun failed too", || async {
        events_of(&env, &failed_id, "ClassificationFailed").await == 2
    })
    .await;
    let pdf_id = pdf["id"].as_str().unwrap();
    let again = ann
        .send(Method::POST, &format!("/api/documents/{pdf_id}/classify"))
        .await;
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    env.eventually("the rerun classified", || async {
        events_of(&env, pdf_id, "DocumentClassified").await == 2
    })
    .await;
    assert_eq!(topics_of(&settled(&env, &ann, pdf_id).await), [garden]);
    // Nothing that is not a document of hers.
    let missing = ann
        .send(
            Method::POST,
            &format!("/api/documents/{}/classify", Uuid::new_v4()),
        )
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // The text lives sealed in the side store, never in the log.
    let logged: i64 =
        sqlx::query_scalar("select count(*) from events where payload::text like '%allotment%'")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(logged, 0);
    let stored: Vec<String> = sqlx::query_scalar("select sealed from document_texts")
        .fetch_all(&env.pool)
        .await
        .unwrap();
    assert!(stored.len() >= 4);
    assert!(stored.iter().all(|sealed| !sealed.contains("allotment")));

    // Rebuilt from the log and the side store, the model answers the same.
    let before = (found(&ann, "shed").await, found(&ann, "allotment").await);
    let model = docuvault::system::read_model(env.keys(), "documents").unwrap();
    projections::replay::replay(&env.ddl, model.as_ref(), 2)
        .await
        .unwrap();
    let after = (found(&ann, "shed").await, found(&ann, "allotment").await);
    assert_eq!(after, before);

    running.stop().await;
    drop(env);
}

#[tokio::test]
async fn a_confirm_delivered_three_times_is_classified_once() {
    let env = TestEnv::new().await;
    let (_, token) = env.register("ann").await;
    // No workers: the test is the worker, and the event comes three times.
    let (running, url) = env
        .start_with(
            Components {
                workers: false,
                ..Components::ALL
            },
            Arc::new(eventlog::SystemClock),
            |_| {},
        )
        .await;
    env.users_reach(token).await;
    let ann = Docs::signed_in(&url, "ann").await;
    create_topic(&ann, "Garden").await;
    let body = ann
        .upload("plan.txt", b"A plan for the garden".to_vec(), TEXT)
        .await;
    let id: Uuid = body["id"].as_str().unwrap().parse().unwrap();
    let confirmed = sqlx::query_scalar::<_, i64>(
        "select sequence from events
          where aggregate_id = $1 and event_type = 'UploadConfirmed'",
    )
    .bind(id.to_string())
    .fetch_one(&env.pool)
    .await
    .unwrap();
    let event = eventlog::log::read_aggregate_range(
        &env.pool,
        "document",
        &id.to_string(),
        confirmed,
        confirmed,
    )
    .await
    .unwrap()
    .remove(0);
    let job = classifier_job(&env).await;
    let first = Delivery {
        number: 1,
        last: false,
    };
    // Two workers at once (a redelivery while the first was still at it), then again.
    let (a, b) = tokio::join!(job.handle(&event, first), job.handle(&event, first));
    a.unwrap();
    b.unwrap();
    job.handle(&event, first).await.unwrap();
    let document = id.to_string();
    assert_eq!(events_of(&env, &document, "TextExtracted").await, 1);
    assert_eq!(events_of(&env, &document, "DocumentClassified").await, 1);
    assert_eq!(events_of(&env, &document, "ClassificationFailed").await, 0);
    // The commands it ran carry ids derived from the event, so the log says why.
    let causes: Vec<Option<String>> = sqlx::query_scalar(
        "select metadata->>'causation_id' from events
          where aggregate_id = $1 and event_type in ('TextExtracted', 'DocumentClassified')",
    )
    .bind(&document)
    .fetch_all(&env.pool)
    .await
    .unwrap();
    assert_eq!(
        causes,
        vec![Some(event.event_id.to_string()); 2],
        "run {}",
        first_request(id)
    );

    running.stop().await;
    drop(env);
}

/// How many of `owner`'s documents the classifier model has learned from.
async fn labelled(env: &TestEnv, owner: Uuid) -> i64 {
    let schema = projections::model::live_schema("classifier");
    sqlx::query_scalar::<_, i64>(&format!(
        "select documents from {schema}.people where owner = $1"
    ))
    .bind(owner)
    .fetch_optional(&env.pool)
    .await
    .unwrap()
    .unwrap_or(0)
}

/// The classification job as `docuvault work` builds it.
async fn classifier_job(env: &TestEnv) -> workers::classify::ClassifyDocuments {
    let documents = commands::documents::Documents::new(
        commands::EventStore::new(env.pool.clone()),
        env.keys(),
        env.objects().await,
        Arc::new(eventlog::SystemClock),
        env.settings.document_policy(),
    );
    workers::classify::ClassifyDocuments::new(
        commands::classification::Classifications::new(documents.clone()),
        commands::topics::Topics::new(
            commands::EventStore::new(env.pool.clone()),
            Arc::new(eventlog::SystemClock),
            documents,
        ),
        env.pool.clone(),
        env.settings.extraction_sandbox().unwrap(),
        Arc::new(env.settings.classifiers(
            env.pool.clone(),
            env.settings.llm_endpoints(
                env.pool.clone(),
                env.keys().master().clone(),
                Arc::new(eventlog::SystemClock),
            ),
            Arc::new(eventlog::SystemClock),
        )),
    )
}

const PETS: [&str; 4] = [
    "Vaccination record: the puppy received its rabies shot; next booster in spring. \
     Kennel cough drops twice daily, walk on the leash only.",
    "Invoice from the veterinarian: dental cleaning for the cat, worming tablets, \
     flea treatment and a bag of kibble.",
    "Adoption contract for a rescue dog: microchip number, neutering confirmed, \
     feeding guide and the shelter's phone number.",
    "Pet sitter notes: feed the cat at seven, the dog needs two walks, litter box on \
     Fridays, vet number on the fridge.",
];

const CARS: [&str; 4] = [
    "Workshop invoice: oil change, new brake pads on the front axle, tyre rotation; \
     mileage 84,200 km.",
    "Inspection report: the exhaust passes, headlights adjusted, rust on the rear \
     wheel arch to be watched at the next service.",
    "Registration renewal for the vehicle: licence plate, engine number, emissions \
     class and the road tax due.",
    "Garage quote: replace the timing belt and water pump, coolant flush, \
     battery test and wiper blades.",
];

#[tokio::test]
async fn the_offline_classifier_learns_from_what_each_person_filed_and_from_nobody_else() {
    let env = TestEnv::new().await;
    let (ann_id, ann_token) = env.register("ann").await;
    let (_, bob_token) = env.register("bob").await;
    let (running, url) = env.start_all().await;
    env.users_reach(ann_token).await;
    env.users_reach(bob_token).await;
    let ann = Docs::signed_in(&url, "ann").await;
    let bob = Docs::signed_in(&url, "bob").await;
    // Names the texts never use: only what ann filed can teach the classifier.
    let animals = create_topic(&ann, "Companions").await;
    let motoring = create_topic(&ann, "Motoring").await;
    for (texts, topic) in [(PETS, &animals), (CARS, &motoring)] {
        for (n, text) in texts.iter().enumerate() {
            let view = classified(
                &env,
                &ann,
                &format!("{topic}-{n}.txt"),
                text.as_bytes().to_vec(),
                TEXT,
            )
            .await;
            let id = view["id"].as_str().unwrap();
            let response = ann
                .send_json(
                    Method::PUT,
                    &format!("/api/documents/{id}/topics"),
                    json!({ "topics": [topic] }),
                )
                .await;
            assert_eq!(response.status(), StatusCode::OK);
        }
    }
    let new_pet = "Reminder from the veterinarian: the cat's booster vaccination and \
                   worming are due; bring the microchip card.";
    let new_car = "Service reminder: brake fluid and oil change due at 90,000 km, \
                   tyre pressure check included.";
    env.eventually("ann's model counts what she filed", || async {
        labelled(&env, ann_id).await == 8
    })
    .await;
    let pet = classified(&env, &ann, "pet.txt", new_pet.as_bytes().to_vec(), TEXT).await;
    assert_eq!(topics_of(&pet), std::slice::from_ref(&animals));
    let car = classified(&env, &ann, "car.txt", new_car.as_bytes().to_vec(), TEXT).await;
    assert_eq!(topics_of(&car), std::slice::from_ref(&motoring));

    // Bob has a topic of the same name and nothing filed: ann's model is not his.
    create_topic(&bob, "Companions").await;
    let his = classified(&env, &bob, "pet.txt", new_pet.as_bytes().to_vec(), TEXT).await;
    assert_eq!(his["classification"], "classified");
    assert!(topics_of(&his).is_empty(), "{his}");

    // Rebuilt from the log and the side store, the model classifies the same.
    let model = docuvault::system::read_model(env.keys(), "classifier").unwrap();
    projections::replay::replay(&env.ddl, model.as_ref(), 2)
        .await
        .unwrap();
    let again = classified(
        &env,
        &ann,
        "car again.txt",
        new_car.as_bytes().to_vec(),
        TEXT,
    )
    .await;
    assert_eq!(topics_of(&again), [motoring]);

    running.stop().await;
    drop(env);
}

/// Serves `app` on a free port of this machine; its base URL.
async fn serve_locally(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// A stand-in for an Ollama server on this machine: files a document that mentions the
/// garden under "Garden" and suggests a new topic, "Receipts"; answers 503 to a document
/// that says "flaky". Counts the requests it saw.
async fn fake_ollama() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use axum::routing::post;
    let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = seen.clone();
    let app = axum::Router::new().route(
        "/api/chat",
        post(move |axum::Json(body): axum::Json<Value>| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                assert_eq!(body["model"], "llama3.2");
                assert_eq!(body["stream"], false);
                assert!(body["format"].is_object(), "a JSON schema format");
                assert!(body.get("tools").is_none());
                let user = body["messages"][1]["content"].as_str().unwrap_or_default();
                if user.contains("flaky") {
                    return (
                        axum::http::StatusCode::SERVICE_UNAVAILABLE,
                        axum::Json(json!({"error": "overloaded"})),
                    );
                }
                let content = json!({"topics": ["garden"], "new_topics": ["Receipts"]});
                (
                    axum::http::StatusCode::OK,
                    axum::Json(json!({
                        "model": "llama3.2",
                        "message": {"role": "assistant", "content": content.to_string()},
                        "done": true
                    })),
                )
            }
        }),
    );
    (serve_locally(app).await, seen)
}

#[tokio::test]
async fn an_llm_classifier_files_documents_its_new_topics_go_to_the_owner_and_outages_fail_in_the_end(
) {
    let (ollama, seen) = fake_ollama().await;
    let env = TestEnv::new().await;
    let (_, token) = env.register("ann").await;
    let (running, url) = env
        .start_with(
            Components::ALL,
            Arc::new(eventlog::SystemClock),
            |settings| {
                settings.default_ai_provider = "ollama".into();
                settings.default_ai_model = Some("llama3.2".into());
                settings.ollama_url = Some(ollama);
                // The stand-in is on this machine: allowed by name, as a LAN server is.
                settings.outbound_allow = vec!["127.0.0.1/32".parse().unwrap()];
                settings.outbound_allow_http = true;
                settings.classify_max_attempts = 2;
            },
        )
        .await;
    env.users_reach(token).await;
    let ann = Docs::signed_in(&url, "ann").await;
    let garden = create_topic(&ann, "Garden").await;

    let view = classified(
        &env,
        &ann,
        "till receipt.txt",
        b"Garden centre: two rose bushes and a bag of compost".to_vec(),
        TEXT,
    )
    .await;
    assert_eq!(view["classification"], "classified", "{view}");
    let listed = ann.json("/api/topics").await;
    let receipts = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|topic| topic["name"] == "Receipts")
        .expect("the suggested topic is the owner's now");
    assert_eq!(receipts["system"], false);
    let mut expected = vec![garden, receipts["id"].as_str().unwrap().to_owned()];
    expected.sort();
    let mut topics = topics_of(&view);
    topics.sort();
    assert_eq!(topics, expected);
    let id = view["id"].as_str().unwrap();
    let payload: String = sqlx::query_scalar(
        "select payload::text from events
          where aggregate_id = $1 and event_type = 'DocumentClassified'",
    )
    .bind(id)
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert!(payload.contains(r#""provider": "ollama""#), "{payload}");

    // Run again: the same suggestion finds the topic it made, not a second one.
    let again = ann
        .send(Method::POST, &format!("/api/documents/{id}/classify"))
        .await;
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    env.eventually("the rerun classified", || async {
        events_of(&env, id, "DocumentClassified").await == 2
    })
    .await;
    let receipts_topics: i64 =
        sqlx::query_scalar("select count(*) from events where event_type = 'TopicCreated'")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(receipts_topics, 2, "Garden, and Receipts once");

    // An outage is retried, then recorded with its reason.
    let before = seen.load(std::sync::atomic::Ordering::SeqCst);
    let flaky = classified(&env, &ann, "flaky.txt", b"this one is flaky".to_vec(), TEXT).await;
    assert_eq!(flaky["classification"], "failed", "{flaky}");
    let reason = flaky["classification_error"].as_str().unwrap();
    assert!(reason.contains("unavailable"), "{reason}");
    assert_eq!(
        seen.load(std::sync::atomic::Ordering::SeqCst) - before,
        2,
        "two tries"
    );

    running.stop().await;
    drop(env);
}

/// What a stand-in OpenAI-compatible endpoint saw: each request's time, `Authorization`
/// header and user message.
#[derive(Default)]
struct Seen {
    requests: Vec<(std::time::Instant, Option<String>, String)>,
}

/// A stand-in for an OpenAI-compatible endpoint on this machine: files a document that
/// mentions the garden under "Garden"; answers the first request for a document that says
/// "limited" with 429 and `Retry-After: 2`; answers a document that says "garbled" with
/// prose instead of the schema.
async fn fake_openai() -> (String, Arc<std::sync::Mutex<Seen>>) {
    use axum::http::{HeaderMap, StatusCode as Status};
    use axum::response::IntoResponse;
    use axum::routing::post;
    let seen = Arc::new(std::sync::Mutex::new(Seen::default()));
    let log = seen.clone();
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        post(
            move |headers: HeaderMap, axum::Json(body): axum::Json<Value>| {
                let log = log.clone();
                async move {
                    assert_eq!(body["response_format"]["type"], "json_schema");
                    assert!(body.get("tools").is_none());
                    let user = body["messages"][1]["content"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                    let authorization = headers
                        .get("authorization")
                        .map(|value| value.to_str().unwrap().to_owned());
                    let earlier = {
                        let mut seen = log.lock().unwrap();
                        let earlier = seen
                            .requests
                            .iter()
                            .filter(|(_, _, text)| *text == user)
                            .count();
                        seen.requests.push((
                            std::time::Instant::now(),
                            authorization,
                            user.clone(),
                        ));
                        earlier
                    };
                    if user.contains("limited") && earlier == 0 {
                        return (
                            Status::TOO_MANY_REQUESTS,
                            [("retry-after", "2")],
                            axum::Json(json!({"error": {"message": "slow down"}})),
                        )
                            .into_response();
                    }
                    let content = if user.contains("garbled") {
                        "Sure! This document is about gardening.".to_owned()
                    } else {
                        json!({"topics": ["Garden"], "new_topics": []}).to_string()
                    };
                    axum::Json(json!({
                        "id": "chatcmpl-1",
                        "object": "chat.completion",
                        "model": "gpt-test",
                        "choices": [{
                            "index": 0,
                            "message": {"role": "assistant", "content": content},
                            "finish_reason": "stop"
                        }]
                    }))
                    .into_response()
                }
            },
        ),
    );
    (serve_locally(app).await, seen)
}

#[tokio::test]
async fn admins_store_an_llm_endpoint_vetted_with_its_key_sealed_and_never_shown() {
    const KEY: &str = "sk-test-0123456789-secret";
    let (endpoint, seen) = fake_openai().await;
    let env = TestEnv::new().await;
    crate::support::register_as(&env.registrations(), "root", domain::user::Role::Admin).await;
    let (_, token) = env.register("ann").await;
    let (running, url) = env
        .start_with(
            Components::ALL,
            Arc::new(eventlog::SystemClock),
            |settings| {
                // The server itself names no endpoint and allows no private network.
                settings.default_ai_provider = "openai_compatible".into();
                settings.default_ai_model = Some("gpt-test".into());
                settings.classify_max_attempts = 4;
            },
        )
        .await;
    env.users_reach(token).await;
    let root = Docs::signed_in(&url, "root").await;
    let ann = Docs::signed_in(&url, "ann").await;
    let garden = create_topic(&ann, "Garden").await;
    let set = |docs: &Docs, provider: &str, body: Value| {
        let path = format!("/api/admin/ai/providers/{provider}");
        let docs = docs.clone();
        async move { docs.send_json(Method::PUT, &path, body).await }
    };
    let field_error = |response: reqwest::Response, field: &'static str| async move {
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body: Value = response.json().await.unwrap();
        body["fields"][field]
            .as_str()
            .unwrap_or_else(|| panic!("no {field} in {body}"))
            .to_owned()
    };

    // Nothing configured: the run fails at once with the reason, not after retries.
    let first = classified(&env, &ann, "plan.txt", b"The garden plan".to_vec(), TEXT).await;
    assert_eq!(first["classification"], "failed");
    let reason = first["classification_error"].as_str().unwrap();
    assert!(reason.contains("not configured"), "{reason}");

    // Only admins; only LLM providers.
    let body = json!({"endpoint": endpoint, "api_key": KEY});
    assert_eq!(
        set(&ann, "openai_compatible", body.clone()).await.status(),
        StatusCode::FORBIDDEN
    );
    for provider in ["offline", "skynet"] {
        assert_eq!(
            set(&root, provider, body.clone()).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    // Vetted at save: plain http and a loopback address are refused until allowed.
    let refused = field_error(
        set(&root, "openai_compatible", body.clone()).await,
        "endpoint",
    )
    .await;
    assert!(refused.contains("scheme"), "{refused}");
    let refused = field_error(
        set(
            &root,
            "openai_compatible",
            json!({"endpoint": "https://127.0.0.1:1/v1"}),
        )
        .await,
        "endpoint",
    )
    .await;
    assert!(refused.contains("not a public address"), "{refused}");
    for bad in [
        "file:///etc/passwd",
        "http://user:pw@example.org",
        "gopher://x",
    ] {
        let response = set(&root, "openai_compatible", json!({"endpoint": bad})).await;
        field_error(response, "endpoint").await;
    }
    let both = json!({"endpoint": endpoint, "api_key": KEY, "remove_api_key": true});
    field_error(set(&root, "openai_compatible", both).await, "api_key").await;
    let outbound = |body: Value| {
        let root = root.clone();
        async move {
            root.send_json(Method::PUT, "/api/admin/ai/outbound", body)
                .await
        }
    };
    field_error(
        outbound(json!({"allow": ["the lan"], "allow_http": true})).await,
        "allow",
    )
    .await;
    assert_eq!(
        outbound(json!({"allow": ["127.0.0.1"], "allow_http": true}))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        set(&root, "openai_compatible", body.clone()).await.status(),
        StatusCode::NO_CONTENT
    );

    // The key never comes back: not in the settings, the audit log or the event log.
    let shown = root.get("/api/admin/ai").await.text().await.unwrap();
    assert!(!shown.contains(KEY), "{shown}");
    let shown: Value = serde_json::from_str(&shown).unwrap();
    let openai = shown["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|provider| provider["provider"] == "openai_compatible")
        .unwrap()
        .clone();
    assert_eq!(openai["endpoint"], endpoint.as_str());
    assert_eq!(openai["api_key_set"], true);
    assert_eq!(openai["source"], "admin");
    assert_eq!(shown["allow"], json!(["127.0.0.1/32"]));
    let logged: Vec<String> = sqlx::query_scalar(
        "select payload::text from events where aggregate_type = 'instance' order by position",
    )
    .fetch_all(&env.pool)
    .await
    .unwrap();
    assert!(logged.iter().all(|payload| !payload.contains(KEY)));
    assert!(
        logged
            .iter()
            .any(|payload| payload.contains(r#""api_key": "v1."#)),
        "sealed in the event: {logged:?}"
    );
    env.eventually("the audit log has the change", || async {
        root.get("/api/admin/audit")
            .await
            .text()
            .await
            .unwrap()
            .contains("LlmEndpointSet")
    })
    .await;
    let audit = root.get("/api/admin/audit").await.text().await.unwrap();
    let envelope = logged
        .iter()
        .find_map(|payload| {
            let payload: Value = serde_json::from_str(payload).ok()?;
            let sealed = payload.pointer("/LlmEndpointSet/api_key")?.as_str()?;
            Some(sealed.to_owned())
        })
        .expect("the sealed key");
    assert!(
        !audit.contains(KEY) && !audit.contains(&envelope),
        "{audit}"
    );
    assert!(audit.contains(r#""api_key_set":true"#), "{audit}");

    // Run again: the stored endpoint files it, with the key as a bearer token.
    let id = first["id"].as_str().unwrap();
    let again = ann
        .send(Method::POST, &format!("/api/documents/{id}/classify"))
        .await;
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    env.eventually("the rerun classified", || async {
        ann.json(&format!("/api/documents/{id}")).await["classification"] == "classified"
    })
    .await;
    assert_eq!(
        topics_of(&ann.json(&format!("/api/documents/{id}")).await),
        std::slice::from_ref(&garden)
    );
    let bearer = format!("Bearer {KEY}");
    assert_eq!(
        seen.lock().unwrap().requests.last().unwrap().1.as_deref(),
        Some(bearer.as_str())
    );

    // A 429's Retry-After is honoured: the second try comes no sooner than it said,
    // although the worker's own first pause is one second.
    let limited = classified(
        &env,
        &ann,
        "limited.txt",
        b"garden, rate limited".to_vec(),
        TEXT,
    )
    .await;
    assert_eq!(limited["classification"], "classified", "{limited}");
    let tries: Vec<std::time::Instant> = seen
        .lock()
        .unwrap()
        .requests
        .iter()
        .filter(|(_, _, text)| text.contains("rate limited"))
        .map(|(at, _, _)| *at)
        .collect();
    assert_eq!(tries.len(), 2);
    assert!(
        tries[1] - tries[0] >= std::time::Duration::from_millis(1900),
        "asked again after {:?}",
        tries[1] - tries[0]
    );

    // An answer outside the schema is asked again once, not four times.
    let garbled = classified(&env, &ann, "garbled.txt", b"garbled garden".to_vec(), TEXT).await;
    assert_eq!(garbled["classification"], "failed");
    assert!(garbled["classification_error"]
        .as_str()
        .unwrap()
        .contains("not usable"));
    let asked = seen
        .lock()
        .unwrap()
        .requests
        .iter()
        .filter(|(_, _, text)| text.contains("garbled garden"))
        .count();
    assert_eq!(asked, 2);

    // The key is removed, then the endpoint: the server's (none) applies again.
    let keyless = json!({"endpoint": endpoint, "remove_api_key": true});
    assert_eq!(
        set(&root, "openai_compatible", keyless).await.status(),
        StatusCode::NO_CONTENT
    );
    let shown = root.json("/api/admin/ai").await;
    assert_eq!(shown["providers"][1]["api_key_set"], false, "{shown}");
    let removed = root
        .send(Method::DELETE, "/api/admin/ai/providers/openai_compatible")
        .await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let shown = root.json("/api/admin/ai").await;
    assert_eq!(shown["providers"][1]["endpoint"], Value::Null, "{shown}");
    assert_eq!(shown["providers"][1]["source"], Value::Null, "{shown}");

    running.stop().await;
    drop(env);
}
