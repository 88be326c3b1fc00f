//! The S3 backend against a real S3-compatible server (`s3s-fs`, started per test with
//! its own bucket), and SECURITY 19 proved where it matters: the *server* refuses every
//! presigned upload that differs from what was signed, and nothing is stored after a
//! refusal. Each refusal test fails if the server accepts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use chrono::{DateTime, Utc};
use domain::document::DocumentKind;
use futures_core::Stream;
use storage::s3::{PresignedUpload, S3Error, S3Store};
use storage::s3_server::S3Server;
use storage::{ByteRange, ByteStream, ObjectKey};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

const TEN_MINUTES: std::time::Duration = std::time::Duration::from_secs(600);

/// The server checks expiry against its wall clock, so the tests sign against it too.
fn now() -> DateTime<Utc> {
    DateTime::<Utc>::from(std::time::SystemTime::now())
}

fn new_key(kind: DocumentKind) -> ObjectKey {
    ObjectKey::new(Uuid::new_v4(), Uuid::new_v4(), kind)
}

/// A fresh server and a store on a bucket of its own.
async fn setup() -> (S3Server, S3Store) {
    let server = S3Server::start().unwrap();
    let bucket = format!("dv-{}", Uuid::new_v4().simple());
    let store = S3Store::new(server.config(&bucket));
    store.ensure_bucket().await.unwrap();
    (server, store)
}

async fn presign(store: &S3Store, key: &ObjectKey, body: &[u8]) -> PresignedUpload {
    store
        .presign_put(
            key,
            body.len() as u64,
            DocumentKind::Text.content_type(),
            now(),
            TEN_MINUTES,
        )
        .await
        .unwrap()
}

/// PUTs `body` as a browser would: the given headers, `Content-Length` from the body.
async fn put(url: &str, headers: &[(String, String)], body: &[u8]) -> (u16, String) {
    let mut request = reqwest::Client::new().put(url).body(body.to_vec());
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

/// Asserts the server refused the PUT with a 4xx, and returns the status.
fn refused(outcome: (u16, String), what: &str) -> u16 {
    let (status, body) = outcome;
    assert!(
        (400..500).contains(&status),
        "the server must refuse {what}, it answered {status}: {body}"
    );
    // The evidence, with `--nocapture`: status, S3 error code and message.
    let field = |tag: &str| {
        body.split_once(&format!("<{tag}>"))
            .and_then(|(_, rest)| rest.split_once(&format!("</{tag}>")))
            .map(|(value, _)| value.to_owned())
            .unwrap_or_default()
    };
    println!(
        "refused {what}: {status} {} ({})",
        field("Code"),
        field("Message")
    );
    status
}

/// Asserts the server refused the PUT with 403 and keeps nothing under `key`.
async fn forbidden_and_nothing_kept(
    store: &S3Store,
    key: &ObjectKey,
    outcome: (u16, String),
    what: &str,
) {
    assert_eq!(refused(outcome, what), 403, "{what}");
    assert_eq!(store.size(key).await.unwrap(), None, "{what}");
}

async fn collect(mut stream: ByteStream) -> Vec<u8> {
    let mut bytes = Vec::new();
    while let Some(chunk) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut stream).poll_next(cx)).await
    {
        bytes.extend_from_slice(&chunk.unwrap());
    }
    bytes
}

/// The value of one query parameter of a URL.
fn query_param<'a>(url: &'a str, name: &str) -> &'a str {
    url.split_once('?')
        .unwrap()
        .1
        .split('&')
        .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
        .unwrap()
}

const BODY: &[u8] = b"Dear vault, keep this safe.\n";

#[tokio::test]
async fn an_upload_round_trips_through_every_operation() {
    let (_server, store) = setup().await;
    store.check().await.unwrap();
    let key = new_key(DocumentKind::Text);
    let upload = presign(&store, &key, BODY).await;

    assert_eq!(
        upload.headers,
        vec![
            (
                "Content-Type".to_owned(),
                DocumentKind::Text.content_type().to_owned()
            ),
            ("If-None-Match".to_owned(), "*".to_owned()),
        ]
    );
    assert_eq!(
        query_param(&upload.url, "X-Amz-SignedHeaders"),
        "content-length%3Bcontent-type%3Bhost%3Bif-none-match"
    );
    assert!(upload.url.contains(key.as_str()));
    assert!(!upload.url.contains("x-amz-checksum"), "{}", upload.url);

    assert_eq!(store.size(&key).await.unwrap(), None);
    let (status, body) = put(&upload.url, &upload.headers, BODY).await;
    assert_eq!(status, 200, "{body}");

    let length = BODY.len() as u64;
    assert_eq!(store.size(&key).await.unwrap(), Some(length));
    assert_eq!(store.read(&key, length).await.unwrap(), Some(BODY.to_vec()));
    assert!(matches!(
        store.read(&key, length - 1).await,
        Err(S3Error::TooLarge { limit }) if limit == length - 1
    ));
    let whole = store.stream(&key, None).await.unwrap().unwrap();
    assert_eq!(collect(whole).await, BODY);
    let range = ByteRange { first: 5, last: 9 };
    let part = store.stream(&key, Some(range)).await.unwrap().unwrap();
    assert_eq!(collect(part).await, &BODY[5..=9]);

    let listed = store.list().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].key, key.as_str());
    let age = now() - listed[0].last_modified;
    assert!(age < chrono::Duration::minutes(1), "{age}");

    store.delete(&key).await.unwrap();
    assert_eq!(store.size(&key).await.unwrap(), None);
    assert_eq!(store.read(&key, length).await.unwrap(), None);
    assert!(store.stream(&key, None).await.unwrap().is_none());
    store.delete(&key).await.unwrap();
    assert!(store.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_listing_goes_through_every_page_and_skips_foreign_objects() {
    let (server, store) = setup().await;
    let store = store.with_list_page_size(2);
    let mut keys = Vec::new();
    for _ in 0..5 {
        let key = new_key(DocumentKind::Markdown);
        let upload = presign(&store, &key, BODY).await;
        assert_eq!(put(&upload.url, &upload.headers, BODY).await.0, 200);
        keys.push(key.as_str().to_owned());
    }
    // An object DocuVault did not name, written behind the server's back.
    std::fs::write(
        server.data_dir().join(store.bucket()).join("stray.txt"),
        b"x",
    )
    .unwrap();

    let mut listed: Vec<String> = store
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.key)
        .collect();
    listed.sort();
    keys.sort();
    assert_eq!(listed, keys);
}

#[tokio::test]
async fn check_fails_for_a_missing_bucket_and_ensure_bucket_is_idempotent() {
    let server = S3Server::start().unwrap();
    let store = S3Store::new(server.config("dv-missing-bucket"));
    let error = store.check().await.unwrap_err();
    assert!(
        matches!(
            error,
            S3Error::Request {
                status: Some(404),
                ..
            }
        ),
        "{error}"
    );
    store.ensure_bucket().await.unwrap();
    store.ensure_bucket().await.unwrap();
    store.check().await.unwrap();
}

#[tokio::test]
async fn wrong_credentials_are_an_error_that_does_not_show_the_secret() {
    let server = S3Server::start().unwrap();
    let mut config = server.config("dv-creds");
    S3Store::new(config.clone()).ensure_bucket().await.unwrap();
    config.secret_key = "not-the-secret-0123456789".into();
    let error = S3Store::new(config).check().await.unwrap_err();
    assert!(
        matches!(
            error,
            S3Error::Request {
                status: Some(403),
                ..
            }
        ),
        "{error}"
    );
    assert!(!error.to_string().contains("not-the-secret"), "{error}");
}

// SECURITY 19: what the server itself refuses.

#[tokio::test]
async fn a_url_is_good_for_one_upload_only() {
    let (_server, store) = setup().await;
    let key = new_key(DocumentKind::Text);
    let upload = presign(&store, &key, BODY).await;
    assert_eq!(put(&upload.url, &upload.headers, BODY).await.0, 200);

    let other: Vec<u8> = BODY.iter().map(|byte| byte.to_ascii_uppercase()).collect();
    let status = refused(put(&upload.url, &upload.headers, &other).await, "a replay");
    assert_eq!(status, 412);
    assert_eq!(store.read(&key, 1024).await.unwrap(), Some(BODY.to_vec()));
}

#[tokio::test]
async fn an_expired_url_is_refused() {
    let (_server, store) = setup().await;
    let key = new_key(DocumentKind::Text);
    let upload = store
        .presign_put(
            &key,
            BODY.len() as u64,
            DocumentKind::Text.content_type(),
            now() - chrono::Duration::hours(1),
            TEN_MINUTES,
        )
        .await
        .unwrap();
    forbidden_and_nothing_kept(
        &store,
        &key,
        put(&upload.url, &upload.headers, BODY).await,
        "an expired URL",
    )
    .await;
}

#[tokio::test]
async fn a_longer_body_is_refused() {
    let (_server, store) = setup().await;
    let key = new_key(DocumentKind::Text);
    let upload = presign(&store, &key, BODY).await;
    let longer = [BODY, b"and a payload on top".as_slice()].concat();
    forbidden_and_nothing_kept(
        &store,
        &key,
        put(&upload.url, &upload.headers, &longer).await,
        "a longer body",
    )
    .await;
}

#[tokio::test]
async fn a_shorter_body_is_refused() {
    let (_server, store) = setup().await;
    let key = new_key(DocumentKind::Text);
    let upload = presign(&store, &key, BODY).await;
    let shorter = &BODY[..BODY.len() - 1];
    forbidden_and_nothing_kept(
        &store,
        &key,
        put(&upload.url, &upload.headers, shorter).await,
        "a shorter body",
    )
    .await;
}

/// A body with no `Content-Length` at all (chunked), which a script could try to send
/// so no length is there to compare.
#[tokio::test]
async fn a_chunked_body_is_refused() {
    let (server, store) = setup().await;
    let key = new_key(DocumentKind::Text);
    let upload = presign(&store, &key, BODY).await;
    let address = server.endpoint().trim_start_matches("http://").to_owned();
    let path_and_query = &upload.url[server.endpoint().len()..];

    let mut request = format!(
        "PUT {path_and_query} HTTP/1.1\r\nHost: {address}\r\nTransfer-Encoding: chunked\r\n\
         Connection: close\r\n"
    );
    for (name, value) in &upload.headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("\r\n{:x}\r\n", BODY.len()));
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(BODY);
    bytes.extend_from_slice(b"\r\n0\r\n\r\n");

    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    stream.write_all(&bytes).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status: u16 = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    refused((status, response), "a chunked body");
    assert_eq!(store.size(&key).await.unwrap(), None);
}

#[tokio::test]
async fn a_tampered_signature_is_refused() {
    let (_server, store) = setup().await;
    let key = new_key(DocumentKind::Text);
    let upload = presign(&store, &key, BODY).await;
    let signature = query_param(&upload.url, "X-Amz-Signature");
    let last = signature.chars().last().unwrap();
    let flipped = format!(
        "{}{}",
        &signature[..signature.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    let url = upload.url.replace(signature, &flipped);
    forbidden_and_nothing_kept(
        &store,
        &key,
        put(&url, &upload.headers, BODY).await,
        "a tampered signature",
    )
    .await;
}

#[tokio::test]
async fn a_tampered_query_is_refused() {
    let (_server, store) = setup().await;
    let key = new_key(DocumentKind::Text);
    let upload = presign(&store, &key, BODY).await;
    assert_eq!(query_param(&upload.url, "X-Amz-Expires"), "600");
    let url = upload
        .url
        .replace("X-Amz-Expires=600", "X-Amz-Expires=604800");
    forbidden_and_nothing_kept(
        &store,
        &key,
        put(&url, &upload.headers, BODY).await,
        "a longer expiry",
    )
    .await;
}

#[tokio::test]
async fn the_url_does_not_work_for_another_key() {
    let (_server, store) = setup().await;
    let key = new_key(DocumentKind::Text);
    let other = new_key(DocumentKind::Text);
    let upload = presign(&store, &key, BODY).await;
    let url = upload.url.replace(key.as_str(), other.as_str());
    assert_ne!(url, upload.url);
    let outcome = put(&url, &upload.headers, BODY).await;
    forbidden_and_nothing_kept(&store, &other, outcome, "another key").await;
    assert_eq!(store.size(&key).await.unwrap(), None);
}

#[tokio::test]
async fn another_content_type_is_refused() {
    let (_server, store) = setup().await;
    let key = new_key(DocumentKind::Text);
    let upload = presign(&store, &key, BODY).await;
    let headers: Vec<(String, String)> = upload
        .headers
        .iter()
        .map(|(name, value)| match name.as_str() {
            "Content-Type" => (name.clone(), "text/html".to_owned()),
            _ => (name.clone(), value.clone()),
        })
        .collect();
    forbidden_and_nothing_kept(
        &store,
        &key,
        put(&upload.url, &headers, BODY).await,
        "another content type",
    )
    .await;
}

/// Dropping `If-None-Match` would make the URL able to replace a confirmed object.
#[tokio::test]
async fn leaving_out_the_once_only_header_is_refused() {
    let (_server, store) = setup().await;
    let key = new_key(DocumentKind::Text);
    let upload = presign(&store, &key, BODY).await;
    let headers: Vec<(String, String)> = upload
        .headers
        .iter()
        .filter(|(name, _)| name != "If-None-Match")
        .cloned()
        .collect();
    assert_eq!(headers.len(), 1);
    forbidden_and_nothing_kept(
        &store,
        &key,
        put(&upload.url, &headers, BODY).await,
        "no If-None-Match",
    )
    .await;
}

#[tokio::test]
async fn an_expiry_beyond_seven_days_is_not_signed() {
    let (_server, store) = setup().await;
    let key = new_key(DocumentKind::Text);
    let result = store
        .presign_put(
            &key,
            1,
            "text/plain",
            now(),
            std::time::Duration::from_secs(8 * 24 * 3600),
        )
        .await;
    assert!(matches!(result, Err(S3Error::Presign(_))));
}
