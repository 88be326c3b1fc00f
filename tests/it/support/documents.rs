//! Uploading and reading documents over HTTP, as the SPA does.

use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};

pub const PDF: &str = "application/pdf";
pub const TEXT: &str = "text/plain";

/// A small but well-formed-looking PDF of `size` bytes (the header is what is checked).
pub fn pdf_bytes(size: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.resize(size.max(9), b'a');
    bytes
}

/// A person talking to the API with an access token. Like the SPA, it sends the latest
/// write's consistency token with every read.
#[derive(Clone)]
pub struct Docs {
    pub client: Client,
    pub url: String,
    pub access: String,
    latest: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

/// A started upload: the answer to initiate.
pub struct Started {
    pub id: String,
    pub upload_url: String,
    pub content_type: String,
    /// Every header the link was signed with (S3 adds `If-None-Match: *`).
    pub headers: Vec<(String, String)>,
}

impl Docs {
    pub fn new(url: &str, access: &str) -> Self {
        Self {
            client: Client::new(),
            url: url.to_owned(),
            access: access.to_owned(),
            latest: Default::default(),
        }
    }

    /// Signs `<handle>@example.test` in with the test password.
    pub async fn signed_in(url: &str, handle: &str) -> Self {
        let session = crate::support::auth::sign_in(&Client::new(), url, handle).await;
        Self::new(url, &session.access)
    }

    /// Keeps a write's consistency token for the reads after it.
    pub fn remember(&self, response: &Response) {
        if let Some(token) = response.headers().get("x-consistency-token") {
            *self.latest.lock().unwrap() = Some(token.to_str().unwrap().to_owned());
        }
    }

    fn read(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self.latest.lock().unwrap().clone() {
            Some(token) => request.header("x-consistency-token", token),
            None => request,
        }
    }

    pub async fn send(&self, method: reqwest::Method, path: &str) -> Response {
        let response = self
            .client
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.access)
            .send()
            .await
            .unwrap();
        self.remember(&response);
        response
    }

    /// Sends `body` as JSON and keeps the reply's consistency token.
    pub async fn send_json(&self, method: reqwest::Method, path: &str, body: Value) -> Response {
        let response = self
            .client
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.access)
            .json(&body)
            .send()
            .await
            .unwrap();
        self.remember(&response);
        response
    }

    /// The absolute form of an upload link (local links are paths on the API).
    pub fn absolute(&self, link: &str) -> String {
        if link.starts_with('/') {
            format!("{}{link}", self.url)
        } else {
            link.to_owned()
        }
    }

    pub async fn initiate(&self, name: &str, size: usize, content_type: &str) -> Response {
        let response = self
            .client
            .post(format!("{}/api/documents", self.url))
            .bearer_auth(&self.access)
            .json(&json!({"name": name, "size": size, "content_type": content_type}))
            .send()
            .await
            .unwrap();
        self.remember(&response);
        response
    }

    pub async fn start(&self, name: &str, size: usize, content_type: &str) -> Started {
        let response = self.initiate(name, size, content_type).await;
        assert_eq!(response.status(), StatusCode::CREATED, "initiate {name}");
        let body: Value = response.json().await.unwrap();
        Started {
            id: body["document"]["id"].as_str().unwrap().to_owned(),
            upload_url: self.absolute(body["upload"]["url"].as_str().unwrap()),
            content_type: body["upload"]["headers"]["Content-Type"]
                .as_str()
                .unwrap()
                .to_owned(),
            headers: body["upload"]["headers"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(name, value)| (name.clone(), value.as_str().unwrap().to_owned()))
                .collect(),
        }
    }

    /// PUTs `bytes` to an upload link with the signed headers, and no Authorization.
    pub async fn put(&self, started: &Started, bytes: Vec<u8>) -> Response {
        let mut request = self.client.put(&started.upload_url).body(bytes);
        for (name, value) in &started.headers {
            request = request.header(name, value);
        }
        request.send().await.unwrap()
    }

    pub async fn confirm(&self, id: &str) -> Response {
        self.send(
            reqwest::Method::POST,
            &format!("/api/documents/{id}/confirm"),
        )
        .await
    }

    /// Initiate, PUT, confirm; returns the confirmed document.
    pub async fn upload(&self, name: &str, bytes: Vec<u8>, content_type: &str) -> Value {
        let started = self.start(name, bytes.len(), content_type).await;
        let put = self.put(&started, bytes).await;
        assert_eq!(put.status(), StatusCode::OK, "PUT {name}");
        let confirmed = self.confirm(&started.id).await;
        assert_eq!(confirmed.status(), StatusCode::OK, "confirm {name}");
        confirmed.json().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> Response {
        self.read(self.client.get(format!("{}{path}", self.url)))
            .bearer_auth(&self.access)
            .send()
            .await
            .unwrap()
    }

    pub async fn json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.unwrap()
    }

    pub async fn used_bytes(&self) -> i64 {
        self.json("/api/documents/usage").await["used_bytes"]
            .as_i64()
            .unwrap()
    }
}
