//! Live updates (EV-9): a person's event stream carries their documents' classification
//! and the shares given to them, and never anyone else's.

use crate::support::auth::sign_in;
use crate::support::documents::{Docs, TEXT};
use crate::support::TestEnv;
use futures::StreamExt;
use reqwest::{Client, StatusCode};
use serde_json::json;
use std::time::Duration;

/// An open `GET /api/events`, read as text.
struct Stream {
    body: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    seen: String,
}

impl Stream {
    async fn open(url: &str, access: &str) -> Self {
        let response = Client::new()
            .get(format!("{url}/api/events"))
            .bearer_auth(access)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"));
        let mut stream = Self {
            body: Box::pin(response.bytes_stream()),
            seen: String::new(),
        };
        stream.until("event: ready").await;
        stream
    }

    /// Reads until `needle` has arrived (or fails after 20 s); returns all read so far.
    async fn until(&mut self, needle: &str) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !self.seen.contains(needle) {
            let chunk = tokio::time::timeout_at(deadline, self.body.next())
                .await
                .unwrap_or_else(|_| panic!("no {needle:?} in {}", self.seen))
                .expect("the stream ended")
                .unwrap();
            self.seen.push_str(&String::from_utf8_lossy(&chunk));
        }
        self.seen.clone()
    }
}

#[tokio::test]
async fn a_persons_stream_carries_their_events_and_never_anyone_elses() {
    let env = TestEnv::new().await;
    env.register("ann").await;
    let (_, token) = env.register("bob").await;
    let (running, url) = env.start_all().await;
    env.users_reach(token).await;
    let anonymous = Client::new()
        .get(format!("{url}/api/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let ann_session = sign_in(&Client::new(), &url, "ann").await;
    let bob_session = sign_in(&Client::new(), &url, "bob").await;
    let mut ann_stream = Stream::open(&url, &ann_session.access).await;
    let mut bob_stream = Stream::open(&url, &bob_session.access).await;
    let ann = Docs::new(&url, &ann_session.access);
    let bob = Docs::new(&url, &bob_session.access);

    let bobs = bob
        .upload("bob's.txt", b"bob's private notes".to_vec(), TEXT)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let anns = ann
        .upload("ann's.txt", b"ann's private notes".to_vec(), TEXT)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Ann hears her document go through every stage.
    let heard = ann_stream.until("event: DocumentClassified").await;
    for stage in ["extracting", "classifying", "classified"] {
        assert!(
            heard.contains(&format!("\"classification\":\"{stage}\"")),
            "{heard}"
        );
    }
    assert!(heard.contains(&anns), "{heard}");
    // Bob's own, and then his share with ann, which she hears of.
    bob_stream.until("event: DocumentClassified").await;
    let shared = bob
        .send_json(
            reqwest::Method::POST,
            "/api/shares",
            json!({"document_id": bobs, "handle": "ann"}),
        )
        .await;
    assert_eq!(shared.status(), StatusCode::CREATED);
    let heard = ann_stream.until("event: ShareGranted").await;
    assert!(
        heard.contains(&bobs),
        "the share names the document: {heard}"
    );
    // Before the share, nothing of bob's reached ann; nothing of ann's ever reached bob.
    let before_share = heard.split("event: ShareGranted").next().unwrap();
    assert!(!before_share.contains(&bobs), "{before_share}");
    let bob_heard = bob_stream.until(&bobs).await;
    assert!(!bob_heard.contains(&anns), "{bob_heard}");
    assert!(
        !bob_heard.contains("ShareGranted"),
        "the sharer is not told: {bob_heard}"
    );
    // Nothing sealed or extracted travels: only ids, stages, topics and reasons.
    assert!(!heard.contains("private notes"));

    running.stop().await;
    drop(env);
}
