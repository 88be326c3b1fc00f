//! SECURITY 22 from outside: the classic SSRF vectors are refused before any connection,
//! an allow-listed local server is reachable, redirects are vetted again, and the size
//! cap and deadline hold. Only loopback is ever contacted.
//! Helpers outside `#[test]` functions fail loudly too (clippy.toml only exempts the tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use outbound::{send, vet, IpNet, OutboundError, Policy, Refusal, Request};
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// A listener nobody should ever connect to, and whether someone did.
struct Trap {
    listener: std::net::TcpListener,
}

impl Trap {
    fn bind(addr: &str) -> Option<Self> {
        let listener = std::net::TcpListener::bind(addr).ok()?;
        listener.set_nonblocking(true).ok()?;
        Some(Self { listener })
    }

    fn port(&self) -> u16 {
        self.listener.local_addr().unwrap().port()
    }

    /// A connection completes in the kernel's backlog even if nobody accepts it, so
    /// `accept` sees any attempt that was made.
    fn was_contacted(&self) -> bool {
        match self.listener.accept() {
            Ok(_) => true,
            Err(error) if error.kind() == ErrorKind::WouldBlock => false,
            Err(error) => panic!("accept failed: {error}"),
        }
    }
}

/// Plain http allowed, nothing allow-listed: only the address rules can refuse.
fn http_policy() -> Policy {
    Policy {
        allow_http: true,
        connect_timeout: Duration::from_secs(2),
        timeout: Duration::from_secs(5),
        ..Policy::default()
    }
}

/// Plain http allowed and loopback allow-listed, as for a test server.
fn loopback_policy() -> Policy {
    Policy {
        allow: vec!["127.0.0.1/32".parse::<IpNet>().unwrap()],
        ..http_policy()
    }
}

#[tokio::test]
async fn ssrf_vectors_are_refused_without_a_connection() {
    let trap = Trap::bind("127.0.0.1:0").unwrap();
    let p = trap.port();
    let trap6 = Trap::bind("[::1]:0");
    let p6 = trap6.as_ref().map_or(p, Trap::port);
    let vectors = [
        format!("http://127.0.0.1:{p}/"),
        format!("http://127.1:{p}/"),
        format!("http://[::1]:{p6}/"),
        format!("http://169.254.169.254:{p}/latest/meta-data/"),
        format!("http://2130706433:{p}/"),
        format!("http://0x7f.1:{p}/"),
        format!("http://017700000001:{p}/"),
        format!("http://0x7f000001:{p}/"),
        format!("http://[::ffff:10.0.0.1]:{p}/"),
        format!("http://[::ffff:127.0.0.1]:{p}/"),
        format!("http://[::127.0.0.1]:{p}/"),
        format!("http://0.0.0.0:{p}/"),
        format!("http://[::]:{p}/"),
        format!("http://a@evil@127.0.0.1:{p}/"),
        format!("http://user:pass@example.com:{p}/"),
        format!("http://localhost:{p}/"),
        format!("http://10.0.0.1:{p}/"),
        format!("http://172.16.0.1:{p}/"),
        format!("http://192.168.0.1:{p}/"),
        format!("http://100.64.0.1:{p}/"),
        format!("http://[fd00::1]:{p}/"),
        format!("http://[fe80::1]:{p}/"),
        format!("http://224.0.0.1:{p}/"),
        format!("http://255.255.255.255:{p}/"),
        format!("http://192.0.2.1:{p}/"),
        "file:///etc/passwd".to_owned(),
        format!("gopher://127.0.0.1:{p}/_GET"),
        format!("ftp://127.0.0.1:{p}/"),
        format!("ws://127.0.0.1:{p}/"),
        "http://".to_owned(),
        "not a url".to_owned(),
        "/relative/path".to_owned(),
    ];
    for vector in &vectors {
        let started = Instant::now();
        let refused = vet(&http_policy(), vector).await;
        assert!(refused.is_err(), "{vector} passed vetting: {refused:?}");
        let sent = send(&http_policy(), Request::get(vector.clone())).await;
        assert!(
            matches!(sent, Err(OutboundError::Refused(_))),
            "{vector} was not refused: {sent:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{vector} took too long to refuse"
        );
    }
    assert!(!trap.was_contacted(), "something connected to 127.0.0.1");
    if let Some(trap6) = trap6 {
        assert!(!trap6.was_contacted(), "something connected to [::1]");
    }
    // The trap does see a connection when one is made.
    let _stream = std::net::TcpStream::connect(("127.0.0.1", p)).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    assert!(trap.was_contacted());
}

#[tokio::test]
async fn numeric_hosts_are_normalised_to_the_address_they_mean() {
    for vector in [
        "http://2130706433/",
        "http://0x7f.1/",
        "http://017700000001/",
        "http://127.1/",
    ] {
        assert_eq!(
            vet(&http_policy(), vector).await,
            Err(Refusal::Forbidden("127.0.0.1".parse().unwrap())),
            "{vector}"
        );
    }
    assert_eq!(
        vet(&http_policy(), "http://a@evil@127.0.0.1/").await,
        Err(Refusal::Userinfo)
    );
    assert_eq!(
        vet(&http_policy(), "file:///etc/passwd").await,
        Err(Refusal::Scheme("file".into()))
    );
}

#[tokio::test]
async fn https_is_required_by_default() {
    let policy = Policy {
        allow: loopback_policy().allow,
        ..Policy::default()
    };
    assert_eq!(
        vet(&policy, "http://127.0.0.1:8080/").await,
        Err(Refusal::Scheme("http".into()))
    );
    // https to an allow-listed address passes vetting (no connection is made by `vet`).
    let vetted = vet(&policy, "https://127.0.0.1:8443/v1?x=1#frag")
        .await
        .unwrap();
    assert_eq!(vetted.addr, "127.0.0.1:8443".parse::<SocketAddr>().unwrap());
    assert_eq!(vetted.url.as_str(), "https://127.0.0.1:8443/v1?x=1");
    // Default policy: public only, even over https.
    assert_eq!(
        vet(&Policy::default(), "https://127.0.0.1/").await,
        Err(Refusal::Forbidden("127.0.0.1".parse().unwrap()))
    );
}

#[tokio::test]
async fn an_allow_list_entry_lets_only_its_network_through() {
    let policy = Policy {
        allow: vec!["10.1.2.0/24".parse().unwrap()],
        ..http_policy()
    };
    assert!(vet(&policy, "http://10.1.2.3:11434/").await.is_ok());
    assert!(vet(&policy, "http://[::ffff:10.1.2.3]:11434/")
        .await
        .is_ok());
    assert_eq!(
        vet(&policy, "http://10.1.3.1/").await,
        Err(Refusal::Forbidden("10.1.3.1".parse().unwrap()))
    );
}

/// A 302, as most servers send.
fn found(location: &'static str) -> impl IntoResponse {
    (
        StatusCode::FOUND,
        [(axum::http::header::LOCATION, location)],
    )
}

/// A local server: its base URL. Routes answer the cases below.
async fn serve(other: Option<String>) -> String {
    let app = Router::new()
        .route("/hello", get(|| async { "hello" }))
        .route(
            "/echo",
            post(
                |headers: HeaderMap, Json(body): Json<serde_json::Value>| async move {
                    Json(serde_json::json!({
                        "body": body,
                        "authorization": headers.get("authorization").is_some(),
                    }))
                },
            ),
        )
        .route(
            "/whoami",
            get(|headers: HeaderMap| async move {
                Json(serde_json::json!({
                    "authorization": headers.get("authorization").is_some(),
                }))
            }),
        )
        .route(
            "/to-metadata",
            get(|| async { found("http://169.254.169.254/latest/meta-data/") }),
        )
        .route("/to-private", get(|| async { found("http://10.0.0.1/") }))
        .route(
            "/to-file",
            get(|| async { Redirect::to("file:///etc/passwd") }),
        )
        .route("/to-hello", get(|| async { Redirect::to("/hello") }))
        .route(
            "/to-other",
            get(|State(other): State<Option<String>>| async move {
                Redirect::to(&format!("{}/whoami", other.unwrap_or_default()))
            }),
        )
        .route("/post-307", post(|| async { Redirect::temporary("/echo") }))
        .route("/loop", get(|| async { Redirect::to("/loop") }))
        .route("/big", get(|| async { vec![b'x'; 64 * 1024] }))
        .route(
            "/big-chunked",
            get(|| async {
                let chunks =
                    (0..64).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; 1024])));
                Body::from_stream(futures::stream::iter(chunks))
            }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(10)).await;
                "late"
            }),
        )
        .route(
            "/teapot",
            get(|| async { (StatusCode::IM_A_TEAPOT, "short and stout").into_response() }),
        )
        .with_state(other);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn an_allow_listed_local_server_is_reachable() {
    let base = serve(None).await;
    let response = send(&loopback_policy(), Request::get(format!("{base}/hello")))
        .await
        .unwrap();
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(&response.body[..], b"hello");

    let response = send(
        &loopback_policy(),
        Request::post_json(format!("{base}/echo"), serde_json::json!({"a": 1})),
    )
    .await
    .unwrap();
    let echoed: serde_json::Value = response.json().unwrap();
    assert_eq!(echoed["body"], serde_json::json!({"a": 1}));

    // Other statuses are answers, not errors.
    let response = send(&loopback_policy(), Request::get(format!("{base}/teapot")))
        .await
        .unwrap();
    assert_eq!(response.status, StatusCode::IM_A_TEAPOT);
}

#[tokio::test]
async fn redirects_are_vetted_again() {
    let base = serve(None).await;
    for (path, refused) in [
        (
            "/to-metadata",
            Refusal::Forbidden("169.254.169.254".parse().unwrap()),
        ),
        (
            "/to-private",
            Refusal::Forbidden("10.0.0.1".parse().unwrap()),
        ),
        ("/to-file", Refusal::Scheme("file".into())),
    ] {
        let sent = send(&loopback_policy(), Request::get(format!("{base}{path}"))).await;
        match sent {
            Err(OutboundError::Refused(refusal)) => assert_eq!(refusal, refused, "{path}"),
            other => panic!("{path}: {other:?}"),
        }
    }
    // A redirect within the allowed server is followed.
    let response = send(&loopback_policy(), Request::get(format!("{base}/to-hello")))
        .await
        .unwrap();
    assert_eq!(&response.body[..], b"hello");
    // 307 repeats the POST with its body.
    let response = send(
        &loopback_policy(),
        Request::post_json(
            format!("{base}/post-307"),
            serde_json::json!({"kept": true}),
        ),
    )
    .await
    .unwrap();
    let echoed: serde_json::Value = response.json().unwrap();
    assert_eq!(echoed["body"], serde_json::json!({"kept": true}));
    // A loop ends at the limit.
    let sent = send(&loopback_policy(), Request::get(format!("{base}/loop"))).await;
    assert!(
        matches!(sent, Err(OutboundError::TooManyRedirects(3))),
        "{sent:?}"
    );
}

#[tokio::test]
async fn credentials_do_not_follow_a_redirect_to_another_origin() {
    let other = serve(None).await;
    let base = serve(Some(other.clone())).await;
    let with_key = |url: String| {
        let mut request = Request::get(url);
        let mut value = outbound::header::HeaderValue::from_static("Bearer canary-key");
        value.set_sensitive(true);
        request
            .headers
            .insert(outbound::header::AUTHORIZATION, value);
        request
    };
    let direct = send(&loopback_policy(), with_key(format!("{other}/whoami")))
        .await
        .unwrap();
    assert_eq!(
        direct.json::<serde_json::Value>().unwrap()["authorization"],
        true
    );
    let redirected = send(&loopback_policy(), with_key(format!("{base}/to-other")))
        .await
        .unwrap();
    assert_eq!(
        redirected.json::<serde_json::Value>().unwrap()["authorization"],
        false
    );
    // Debug output never shows the key.
    let shown = format!("{:?}", with_key(format!("{base}/x?token=secret")));
    assert!(
        !shown.contains("canary-key") && !shown.contains("secret"),
        "{shown}"
    );
}

#[tokio::test]
async fn the_size_cap_holds() {
    let base = serve(None).await;
    let policy = Policy {
        max_response_bytes: 16 * 1024,
        ..loopback_policy()
    };
    for path in ["/big", "/big-chunked"] {
        let sent = send(&policy, Request::get(format!("{base}{path}"))).await;
        assert!(
            matches!(sent, Err(OutboundError::TooLarge(16384))),
            "{path}: {sent:?}"
        );
    }
    let roomy = Policy {
        max_response_bytes: 64 * 1024,
        ..loopback_policy()
    };
    for path in ["/big", "/big-chunked"] {
        let response = send(&roomy, Request::get(format!("{base}{path}")))
            .await
            .unwrap();
        assert_eq!(response.body.len(), 64 * 1024, "{path}");
    }
}

#[tokio::test]
async fn the_deadline_holds() {
    let base = serve(None).await;
    let policy = Policy {
        timeout: Duration::from_millis(300),
        ..loopback_policy()
    };
    let started = Instant::now();
    let sent = send(&policy, Request::get(format!("{base}/slow"))).await;
    assert!(matches!(sent, Err(OutboundError::Timeout)), "{sent:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_closed_port_is_a_connection_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let sent = send(
        &loopback_policy(),
        Request::get(format!("http://127.0.0.1:{port}/")),
    )
    .await;
    assert!(matches!(sent, Err(OutboundError::Connect(_))), "{sent:?}");
}
