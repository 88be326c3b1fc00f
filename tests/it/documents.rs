//! Documents end to end on the local-disk default (DOC-1..7, OPS-7; SECURITY 15, 18–21):
//! the two-step upload, quotas under concurrency, content with ranges and safe headers,
//! isolation, expiry, deletion and the orphan sweeper.

use crate::support::auth::sign_in;
use crate::support::documents::{pdf_bytes, Docs, PDF, TEXT};
use crate::support::{register_as, Backend, TestEnv};
use docuvault::system::{self, Components};
use domain::clock::ManualClock;
use domain::user::Role;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::sync::Arc;

const MIB: usize = 1024 * 1024;

fn now() -> chrono::DateTime<chrono::Utc> {
    domain::Clock::now(&eventlog::SystemClock)
}

/// Runs a case against the local-disk default and against a real S3 server.
macro_rules! on_both_backends {
    ($case:ident) => {
        mod $case {
            #[tokio::test]
            async fn local() {
                super::$case(crate::support::Backend::Local).await
            }

            #[tokio::test]
            async fn s3() {
                super::$case(crate::support::Backend::S3).await
            }
        }
    };
}

on_both_backends!(a_person_uploads_lists_reads_renames_and_deletes_a_document);
on_both_backends!(another_persons_document_does_not_exist_for_them);
on_both_backends!(concurrent_confirms_never_overrun_the_quota);
on_both_backends!(hostile_names_and_disguised_content_are_handled);
on_both_backends!(pending_uploads_expire_and_orphans_are_swept);

/// Every file under the local store's directory, unfinished uploads included.
fn stored_files(env: &TestEnv) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut directories = vec![env.settings.storage_dir.clone()];
    while let Some(directory) = directories.pop() {
        let Ok(entries) = std::fs::read_dir(&directory) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.file_type().unwrap().is_dir() {
                directories.push(entry.path());
            } else {
                found.push(entry.path());
            }
        }
    }
    found
}

async fn a_person_uploads_lists_reads_renames_and_deletes_a_document(backend: Backend) {
    let mut env = TestEnv::new().await;
    let _s3 = env.use_backend(backend);
    let (_, token) = env.register("ann").await;
    let (running, url) = env.start_all().await;
    env.users_reach(token).await;
    let ann = Docs::signed_in(&url, "ann").await;

    let bytes = pdf_bytes(1000);
    let confirmed = ann.upload("Tax return 2025.pdf", bytes.clone(), PDF).await;
    assert_eq!(confirmed["status"], "confirmed");
    assert_eq!(confirmed["name"], "Tax return 2025.pdf");
    assert_eq!(confirmed["kind"], "pdf");
    assert_eq!(confirmed["size"], 1000);
    let id = confirmed["id"].as_str().unwrap().to_owned();

    // The object key is the server's: no trace of the name on disk.
    let keys = env.stored_keys().await;
    assert_eq!(keys.len(), 1);
    assert!(keys[0].starts_with(&format!("{}/{id}/", confirmed_owner(&env).await)));
    assert!(!keys[0].contains("Tax"));

    // Confirming again changes nothing.
    let again = ann.confirm(&id).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(ann.used_bytes().await, 1000);

    let page = ann.json("/api/documents").await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["id"], id.as_str());

    // The bytes, inline, with headers that keep a browser from running them.
    let content = ann.get(&format!("/api/documents/{id}/content")).await;
    assert_eq!(content.status(), StatusCode::OK);
    let headers = content.headers().clone();
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["content-security-policy"], "sandbox");
    assert_eq!(headers["cross-origin-resource-policy"], "same-origin");
    assert_eq!(headers["accept-ranges"], "bytes");
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("inline; filename=\"Tax return 2025.pdf\""));
    assert_eq!(content.bytes().await.unwrap().to_vec(), bytes);

    // Ranges: the first byte, the last 100, and past the end.
    let range = |spec: &'static str| {
        let ann = ann.clone();
        let id = id.clone();
        async move {
            ann.client
                .get(format!("{}/api/documents/{id}/content", ann.url))
                .bearer_auth(&ann.access)
                .header("range", spec)
                .send()
                .await
                .unwrap()
        }
    };
    let first = range("bytes=0-0").await;
    assert_eq!(first.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(first.headers()["content-range"], "bytes 0-0/1000");
    assert_eq!(first.bytes().await.unwrap().to_vec(), b"%".to_vec());
    let last = range("bytes=-100").await;
    assert_eq!(last.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(last.headers()["content-range"], "bytes 900-999/1000");
    assert_eq!(last.bytes().await.unwrap().to_vec(), bytes[900..].to_vec());
    let past = range("bytes=1000-").await;
    assert_eq!(past.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(past.headers()["content-range"], "bytes */1000");

    // Rename.
    let renamed = ann
        .client
        .patch(format!("{url}/api/documents/{id}"))
        .bearer_auth(&ann.access)
        .json(&serde_json::json!({"name": "Taxes.pdf"}))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), StatusCode::OK);
    ann.remember(&renamed);
    let renamed: Value = renamed.json().await.unwrap();
    assert_eq!(renamed["name"], "Taxes.pdf");

    // A download link works without a header, as an attachment, for a minute.
    let link = ann
        .send(Method::POST, &format!("/api/documents/{id}/download-link"))
        .await;
    assert_eq!(link.status(), StatusCode::OK);
    let link: Value = link.json().await.unwrap();
    let download = reqwest::get(format!("{url}{}", link["url"].as_str().unwrap()))
        .await
        .unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert!(download.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"Taxes.pdf\""));
    assert_eq!(download.bytes().await.unwrap().to_vec(), bytes);
    let forged = link["url"].as_str().unwrap().replace("token=", "token=x");
    let refused = reqwest::get(format!("{url}{forged}")).await.unwrap();
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);

    // Delete: the bytes are freed and the object is gone.
    let deleted = ann
        .send(Method::DELETE, &format!("/api/documents/{id}"))
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert!(env.stored_keys().await.is_empty());
    assert_eq!(ann.used_bytes().await, 0);
    assert_eq!(ann.json("/api/documents").await["total"], 0);
    let gone = ann.get(&format!("/api/documents/{id}/content")).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    let stale = reqwest::get(format!("{url}{}", link["url"].as_str().unwrap()))
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::NOT_FOUND);

    running.stop().await;
    drop(env);
}

async fn confirmed_owner(env: &TestEnv) -> String {
    let owner: uuid::Uuid = sqlx::query_scalar("select owner from rm_documents.documents limit 1")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    owner.to_string()
}

/// SECURITY 15 and DOC-7: every verb on A's document, as B or as an admin, answers the
/// 404 a random id gets, byte for byte.
async fn another_persons_document_does_not_exist_for_them(backend: Backend) {
    let mut env = TestEnv::new().await;
    let _s3 = env.use_backend(backend);
    let (_, _) = env.register("ann").await;
    let (_, _) = env.register("bob").await;
    let (_, token) = register_as(&env.registrations(), "root", Role::Admin).await;
    let (running, url) = env.start_all().await;
    env.users_reach(token).await;
    let client = reqwest::Client::new();
    let ann = Docs::new(&url, &sign_in(&client, &url, "ann").await.access);
    let bob = sign_in(&client, &url, "bob").await.access;
    let root = sign_in(&client, &url, "root").await.access;
    let confirmed = ann.upload("mine.pdf", pdf_bytes(300), PDF).await;
    let id = confirmed["id"].as_str().unwrap().to_owned();
    let pending = ann.start("pending.txt", 5, TEXT).await;

    let random = uuid::Uuid::new_v4().to_string();
    let answer = |access: String, method: Method, path: String| {
        let client = client.clone();
        let url = url.clone();
        async move {
            let mut request = client
                .request(method.clone(), format!("{url}{path}"))
                .bearer_auth(access);
            if method == Method::PATCH {
                request = request.json(&serde_json::json!({"name": "theirs.pdf"}));
            }
            let response = request.send().await.unwrap();
            (response.status(), response.bytes().await.unwrap())
        }
    };
    for target in [&id, &pending.id] {
        for (method, suffix) in [
            (Method::GET, ""),
            (Method::PATCH, ""),
            (Method::DELETE, ""),
            (Method::POST, "/confirm"),
            (Method::GET, "/content"),
            (Method::POST, "/download-link"),
        ] {
            let expected = answer(
                bob.clone(),
                method.clone(),
                format!("/api/documents/{random}{suffix}"),
            )
            .await;
            assert_eq!(expected.0, StatusCode::NOT_FOUND);
            for who in [&bob, &root] {
                let got = answer(
                    who.clone(),
                    method.clone(),
                    format!("/api/documents/{target}{suffix}"),
                )
                .await;
                assert_eq!(got, expected, "{method} {suffix}");
            }
        }
    }
    // Their lists and usage show none of it, and ann's document is untouched.
    let bob_docs = Docs::new(&url, &bob);
    assert_eq!(bob_docs.json("/api/documents").await["total"], 0);
    assert_eq!(bob_docs.used_bytes().await, 0);
    let mine = ann.json(&format!("/api/documents/{id}")).await;
    assert_eq!(mine["name"], "mine.pdf");
    // Nor can B's upload link be bent to A's key.
    let bob_started = bob_docs.start("b.txt", 5, TEXT).await;
    let (_, bob_query) = bob_started.upload_url.split_once('?').unwrap();
    let (ann_path, _) = pending.upload_url.split_once('?').unwrap();
    let bent = format!("{ann_path}?{bob_query}");
    let mut put = client.put(bent).body("hello");
    for (name, value) in &bob_started.headers {
        put = put.header(name, value);
    }
    let put = put.send().await.unwrap();
    assert_eq!(put.status(), StatusCode::FORBIDDEN);

    running.stop().await;
    drop(env);
}

/// SECURITY 18: at 90 MiB of 100, ten 5 MiB uploads confirmed at once: exactly two win,
/// usage ends at the quota, and a repeated confirm changes nothing.
async fn concurrent_confirms_never_overrun_the_quota(backend: Backend) {
    let mut env = TestEnv::new().await;
    let _s3 = env.use_backend(backend);
    let (_, token) = env.register("ann").await;
    let (running, url) = env.start_all().await;
    env.users_reach(token).await;
    let ann = Docs::signed_in(&url, "ann").await;
    ann.upload("big-1.txt", vec![b'a'; 45 * MIB], TEXT).await;
    ann.upload("big-2.txt", vec![b'b'; 45 * MIB], TEXT).await;
    assert_eq!(ann.used_bytes().await, (90 * MIB) as i64);

    let mut started = Vec::new();
    for n in 0..10 {
        let upload = ann.start(&format!("five-{n}.txt"), 5 * MIB, TEXT).await;
        let put = ann.put(&upload, vec![b'c'; 5 * MIB]).await;
        assert_eq!(put.status(), StatusCode::OK);
        started.push(upload.id);
    }
    let confirms = started.iter().map(|id| {
        let ann = ann.clone();
        let id = id.clone();
        tokio::spawn(async move {
            let response = ann.confirm(&id).await;
            let status = response.status();
            let body: Value = response.json().await.unwrap();
            (id, status, body)
        })
    });
    let results: Vec<(String, StatusCode, Value)> = futures::future::join_all(confirms)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let winners: Vec<&String> = results
        .iter()
        .filter(|(_, status, _)| *status == StatusCode::OK)
        .map(|(id, _, _)| id)
        .collect();
    assert_eq!(winners.len(), 2, "{results:?}");
    for (_, status, body) in &results {
        if *status != StatusCode::OK {
            assert_eq!(*status, StatusCode::CONFLICT);
            assert_eq!(body["code"], "quota_exceeded", "{body}");
            assert!(body["message"].as_str().unwrap().contains("free"));
        }
    }
    assert_eq!(ann.used_bytes().await, (100 * MIB) as i64);
    // (The workers hash and classify the documents meanwhile: count what people did.)
    let counted = || async {
        sqlx::query_scalar::<_, i64>(
            "select count(*) from events where metadata ->> 'actor' not like 'system:%'",
        )
        .fetch_one(&env.pool)
        .await
        .unwrap()
    };
    let events = counted().await;
    assert!(events > 12, "{events} events of ann's");
    let again = ann.confirm(winners[0]).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(counted().await, events);
    assert_eq!(ann.used_bytes().await, (100 * MIB) as i64);
    // A file that cannot fit is refused before any byte is sent.
    let refused = ann.initiate("one-more.txt", 1, TEXT).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);

    running.stop().await;
    drop(env);
}

/// SECURITY 19 on the local store: the upload route refuses what S3 refuses.
#[tokio::test]
async fn local_upload_links_are_as_strict_as_presigned_urls() {
    let env = TestEnv::new().await;
    let (_, token) = env.register("ann").await;
    let clock = Arc::new(ManualClock::at(now()));
    let (running, url) = env.start_with(Components::ALL, clock.clone(), |_| {}).await;
    env.users_reach(token).await;
    let ann = Docs::signed_in(&url, "ann").await;
    let put = |link: String, content_type: String, body: Vec<u8>| {
        let client = ann.client.clone();
        async move {
            client
                .put(link)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };

    let upload = ann.start("a.txt", 5, TEXT).await;
    let signed = upload.content_type.clone();
    assert_eq!(signed, "text/plain; charset=utf-8");
    // A tampered signature, length or type.
    let tampered = upload.upload_url.replace("signature=", "signature=A");
    assert_eq!(
        put(tampered, signed.clone(), b"hello".to_vec())
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let longer = upload.upload_url.replace("length=5", "length=6");
    assert_eq!(
        put(longer, signed.clone(), b"hello!".to_vec())
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        put(
            upload.upload_url.clone(),
            "text/html".into(),
            b"hello".to_vec()
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
    // A bigger or smaller body than signed, streamed in chunks so no length is declared.
    let chunked = |bytes: &'static [u8]| {
        let stream = futures::stream::iter(
            bytes
                .chunks(2)
                .map(|chunk| Ok::<_, std::io::Error>(chunk.to_vec())),
        );
        reqwest::Body::wrap_stream(stream)
    };
    let bigger = ann
        .client
        .put(&upload.upload_url)
        .header("content-type", &signed)
        .body(chunked(b"hello world"))
        .send()
        .await
        .unwrap();
    let status = bigger.status();
    let body: Value = bigger.json().await.unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "malformed_request");
    let smaller = ann
        .client
        .put(&upload.upload_url)
        .header("content-type", &signed)
        .body(chunked(b"hey"))
        .send()
        .await
        .unwrap();
    assert_eq!(smaller.status(), StatusCode::BAD_REQUEST);
    assert!(stored_files(&env).is_empty(), "nothing left behind");
    // The real thing works once.
    assert_eq!(
        put(upload.upload_url.clone(), signed.clone(), b"hello".to_vec())
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        put(upload.upload_url.clone(), signed.clone(), b"HELLO".to_vec())
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(ann.confirm(&upload.id).await.status(), StatusCode::OK);
    let content = ann
        .get(&format!("/api/documents/{}/content", upload.id))
        .await;
    assert_eq!(content.bytes().await.unwrap().to_vec(), b"hello".to_vec());

    // An expired link: ten minutes later.
    let late = ann.start("b.txt", 5, TEXT).await;
    clock.advance(chrono::Duration::minutes(10));
    let refused = put(late.upload_url.clone(), signed.clone(), b"hello".to_vec()).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let body: Value = refused.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("expired"));
    // Confirm before any byte arrived.
    let missing = ann.confirm(&late.id).await;
    assert_eq!(missing.status(), StatusCode::CONFLICT);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["code"], "upload_missing");

    running.stop().await;
    drop(env);
}

/// SECURITY 20 and 21: hostile names are made harmless; bytes that are not what their
/// type says are refused, and nothing of them is kept.
async fn hostile_names_and_disguised_content_are_handled(backend: Backend) {
    let mut env = TestEnv::new().await;
    let _s3 = env.use_backend(backend);
    let (_, token) = env.register("ann").await;
    let (running, url) = env.start_all().await;
    env.users_reach(token).await;
    let ann = Docs::signed_in(&url, "ann").await;

    for (name, shown) in [
        ("../../etc/passwd.pdf", "../../etc/passwd.pdf"),
        ("a\r\nSet-Cookie: x=1.pdf", "aSet-Cookie: x=1.pdf"),
        ("say \"hi\".pdf", "say \"hi\".pdf"),
        ("invoice\u{202e}fdp.exe", "invoicefdp.exe"),
    ] {
        let confirmed = ann.upload(name, pdf_bytes(100), PDF).await;
        assert_eq!(confirmed["name"], shown, "{name:?}");
        let id = confirmed["id"].as_str().unwrap();
        let content = ann.get(&format!("/api/documents/{id}/content")).await;
        assert_eq!(content.status(), StatusCode::OK);
        assert!(content.headers().get("set-cookie").is_none());
        let disposition = content.headers()["content-disposition"].to_str().unwrap();
        let (fallback, encoded) = disposition.split_once("; filename*=UTF-8''").unwrap();
        let fallback = fallback.strip_prefix("inline; filename=\"").unwrap();
        let fallback = fallback.strip_suffix('"').unwrap();
        assert!(!fallback.contains(['"', '\\', '\r', '\n']), "{disposition}");
        assert!(
            encoded.chars().all(|c| c.is_ascii_graphic()),
            "{disposition}"
        );
    }
    assert!(env
        .stored_keys()
        .await
        .iter()
        .all(|key| !key.contains("passwd")));
    let empty = ann.initiate("   ", 5, PDF).await;
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    let body: Value = empty.json().await.unwrap();
    assert!(body["fields"]["name"].is_string());
    let unsupported = ann.initiate("page.html", 5, "text/html").await;
    assert_eq!(unsupported.status(), StatusCode::BAD_REQUEST);
    let body: Value = unsupported.json().await.unwrap();
    assert!(body["fields"]["content_type"].is_string());

    let before = env.stored_keys().await.len();
    for (name, bytes, content_type) in [
        (
            "fake.pdf",
            b"<html><script>alert(1)</script></html>".to_vec(),
            PDF,
        ),
        ("binary.txt", vec![0u8, 159, 146, 150, 0, 1], TEXT),
    ] {
        let started = ann.start(name, bytes.len(), content_type).await;
        assert_eq!(ann.put(&started, bytes).await.status(), StatusCode::OK);
        let refused = ann.confirm(&started.id).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["code"], "content_rejected");
        let gone = ann.get(&format!("/api/documents/{}", started.id)).await;
        assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(
        env.stored_keys().await.len(),
        before,
        "refused bytes are removed"
    );
    let too_big = ann.initiate("huge.pdf", 50 * 1024 * 1024 + 1, PDF).await;
    assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = too_big.json().await.unwrap();
    assert_eq!(body["code"], "file_too_large");

    running.stop().await;
    drop(env);
}

/// DOC-3 and the sweeper: an upload left pending past its hour expires and its object
/// goes; an object that no document owns is swept, and owned ones stay.
async fn pending_uploads_expire_and_orphans_are_swept(backend: Backend) {
    let mut env = TestEnv::new().await;
    let _s3 = env.use_backend(backend);
    let (_, token) = env.register("ann").await;
    let clock = Arc::new(ManualClock::at(now()));
    let (running, url) = env
        .start_with(Components::ALL, clock.clone(), |settings| {
            settings.expiry_scan_seconds = 3600;
        })
        .await;
    env.users_reach(token).await;
    let ann = Docs::signed_in(&url, "ann").await;
    let kept = ann.upload("kept.txt", b"kept".to_vec(), TEXT).await;
    let left = ann.start("left.txt", 4, TEXT).await;
    assert_eq!(
        ann.put(&left, b"left".to_vec()).await.status(),
        StatusCode::OK
    );
    assert_eq!(env.stored_keys().await.len(), 2);
    let page = ann.json("/api/documents?status=pending").await;
    assert_eq!(page["total"], 1);

    let keys = env.keys();
    let store = system::object_store(&env.settings, &keys).await.unwrap();
    let documents = commands::documents::Documents::new(
        commands::EventStore::new(env.pool.clone()),
        keys,
        store.clone(),
        clock.clone(),
        env.settings.document_policy(),
    );
    // An orphan: bytes under a key no document has (a crash between event and delete).
    let owner = confirmed_owner(&env).await;
    let orphan_key = storage::ObjectKey::parse(&format!(
        "{owner}/{}/{}.pdf",
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4()
    ))
    .unwrap();
    let link = store
        .upload_link(storage::UploadRequest {
            key: &orphan_key,
            length: 11,
            content_type: PDF,
            now: now(),
            ttl: std::time::Duration::from_secs(600),
        })
        .await
        .unwrap();
    let mut orphan_put = ann
        .client
        .put(ann.absolute(&link.url))
        .body(b"%PDF-orphan".to_vec());
    for (name, value) in &link.headers {
        orphan_put = orphan_put.header(name, value);
    }
    assert_eq!(orphan_put.send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(env.stored_keys().await.len(), 3);

    // Not yet.
    clock.advance(chrono::Duration::minutes(59));
    let expired = workers::documents::expiry::expire_due(&env.pool, &documents, clock.as_ref())
        .await
        .unwrap();
    assert_eq!(expired, 0);
    clock.advance(chrono::Duration::minutes(2));
    let expired = workers::documents::expiry::expire_due(&env.pool, &documents, clock.as_ref())
        .await
        .unwrap();
    assert_eq!(expired, 1);
    assert_eq!(env.stored_keys().await.len(), 2);
    // Access tokens live ten minutes: sign in again on the moved clock.
    let ann = Docs::signed_in(&url, "ann").await;
    let reads = ann.clone();
    let left_id = left.id.clone();
    env.eventually("the expired upload leaves the list", || {
        let reads = reads.clone();
        let path = format!("/api/documents/{left_id}");
        async move { reads.get(&path).await.status() == StatusCode::NOT_FOUND }
    })
    .await;
    let late = ann.confirm(&left.id).await;
    assert_eq!(late.status(), StatusCode::NOT_FOUND);
    let types: Vec<String> = sqlx::query_scalar(
        "select event_type from events where aggregate_id = $1 order by sequence",
    )
    .bind(&left.id)
    .fetch_all(&env.pool)
    .await
    .unwrap();
    assert_eq!(types, ["UploadInitiated", "UploadExpired"]);

    let grace = chrono::Duration::minutes(120);
    let young = workers::documents::sweeper::sweep(&env.pool, &store, now(), grace)
        .await
        .unwrap();
    assert_eq!(young, 0, "young objects are left alone");
    let swept = workers::documents::sweeper::sweep(
        &env.pool,
        &store,
        now() + chrono::Duration::hours(3),
        grace,
    )
    .await
    .unwrap();
    assert_eq!(swept, 1);
    assert!(!env.stored_keys().await.contains(&orphan_key.to_string()));
    assert_eq!(env.stored_keys().await.len(), 1);
    let content = ann
        .get(&format!(
            "/api/documents/{}/content",
            kept["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(content.bytes().await.unwrap().to_vec(), b"kept".to_vec());

    running.stop().await;
    drop(env);
}

/// After a confirm the worker records the content's SHA-256, and a second copy of the
/// same content is flagged in the list.
#[tokio::test]
async fn the_worker_hashes_content_and_the_list_flags_duplicates() {
    let env = TestEnv::new().await;
    let (_, token) = env.register("ann").await;
    let (running, url) = env.start_all().await;
    env.users_reach(token).await;
    let ann = Docs::signed_in(&url, "ann").await;
    let first = ann.upload("one.txt", b"same words".to_vec(), TEXT).await;
    let second = ann.upload("two.txt", b"same words".to_vec(), TEXT).await;
    let other = ann.upload("three.txt", b"other words".to_vec(), TEXT).await;
    let expected = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(b"same words"))
    };
    let ann_reads = ann.clone();
    env.eventually("all three are hashed", || {
        let ann = ann_reads.clone();
        async move {
            let page = ann.json("/api/documents?sort=name&order=asc").await;
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|item| item["sha256"].is_string())
        }
    })
    .await;
    let page = ann.json("/api/documents?sort=date&order=asc").await;
    let items = page["items"].as_array().unwrap();
    let by_id = |doc: &Value| {
        items
            .iter()
            .find(|item| item["id"] == doc["id"])
            .unwrap()
            .clone()
    };
    assert_eq!(by_id(&first)["sha256"], expected.as_str());
    assert_eq!(by_id(&first)["duplicate"], false);
    assert_eq!(by_id(&second)["duplicate"], true);
    assert_eq!(by_id(&other)["duplicate"], false);

    running.stop().await;
    drop(env);
}

/// DOC-5: sorting by name, date and size both ways, filters, and keyset paging that
/// visits every document once.
#[tokio::test]
async fn the_list_sorts_filters_and_pages() {
    let env = TestEnv::new().await;
    let (_, token) = env.register("ann").await;
    let (running, url) = env.start_all().await;
    env.users_reach(token).await;
    let ann = Docs::signed_in(&url, "ann").await;
    for (name, size) in [("b.txt", 30), ("A.txt", 10), ("c.txt", 20), ("d.txt", 20)] {
        ann.upload(name, vec![b'x'; size], TEXT).await;
    }
    ann.upload("e.pdf", pdf_bytes(50), PDF).await;
    ann.start("f.txt", 7, TEXT).await;

    let names = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let by_name = ann.json("/api/documents?sort=name&order=asc").await;
    assert_eq!(
        names(&by_name),
        ["A.txt", "b.txt", "c.txt", "d.txt", "e.pdf", "f.txt"]
    );
    let by_size = ann.json("/api/documents?sort=size&order=desc").await;
    assert_eq!(names(&by_size)[0], "e.pdf");
    let by_date = ann.json("/api/documents").await;
    assert_eq!(names(&by_date)[0], "f.txt");
    let pdfs = ann.json("/api/documents?kind=pdf").await;
    assert_eq!(names(&pdfs), ["e.pdf"]);
    let pending = ann.json("/api/documents?status=pending").await;
    assert_eq!(names(&pending), ["f.txt"]);
    assert_eq!(pending["total"], 1);

    // Two at a time by size, ascending: every document once, in order.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/api/documents?sort=size&order=asc&limit=2&cursor={cursor}"),
            None => "/api/documents?sort=size&order=asc&limit=2".to_owned(),
        };
        let page = ann.json(&path).await;
        assert_eq!(page["total"], 6);
        seen.extend(names(&page));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ["f.txt", "A.txt", "c.txt", "d.txt", "b.txt", "e.pdf"]);

    // Totals follow confirms, deletions and a rebuild of the model (whose schema is
    // renamed when it goes live), with and without filters.
    let totals = |ann: &Docs| {
        let ann = ann.clone();
        async move {
            let mut totals = Vec::new();
            for filter in [
                "",
                "kind=text",
                "kind=pdf",
                "status=confirmed",
                "kind=text&status=pending",
            ] {
                totals.push(
                    ann.json(&format!("/api/documents?{filter}")).await["total"]
                        .as_i64()
                        .unwrap(),
                );
            }
            totals
        }
    };
    assert_eq!(totals(&ann).await, [6, 5, 1, 5, 1]);
    let b_txt = by_name["items"][1]["id"].as_str().unwrap().to_owned();
    let deleted = ann
        .send(Method::DELETE, &format!("/api/documents/{b_txt}"))
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(totals(&ann).await, [5, 4, 1, 4, 1]);
    let model = docuvault::system::read_model(env.keys(), "documents").unwrap();
    projections::replay::replay(&env.ddl, model.as_ref(), 3)
        .await
        .unwrap();
    assert_eq!(totals(&ann).await, [5, 4, 1, 4, 1]);
    let e_pdf = by_size["items"][0]["id"].as_str().unwrap().to_owned();
    let deleted = ann
        .send(Method::DELETE, &format!("/api/documents/{e_pdf}"))
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(totals(&ann).await, [4, 4, 0, 3, 1]);

    for bad in [
        "sort=owner",
        "order=up",
        "limit=0",
        "limit=500",
        "kind=exe",
        "cursor=abc",
    ] {
        let response = ann.get(&format!("/api/documents?{bad}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "invalid_input", "{bad}");
    }

    running.stop().await;
    drop(env);
}
