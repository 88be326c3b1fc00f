//! Live updates (EV-9): each API process holds one NATS subscription to the document and
//! share events and fans them out, in process, to the connected people they concern —
//! a document's owner, a share's grantee. What goes out is a small notice (ids, the
//! classification's stage, its topics or reason), never a sealed field, and never to
//! anyone else. `GET /api/events` serves a person's notices as Server-Sent Events.

use domain::document::DocumentEvent;
use domain::share::{ShareEvent, ShareTarget};
use eventlog::bus::{self, Bus};
use eventlog::StoredEvent;
use futures::StreamExt;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// One event, as the people it concerns see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// Who may see it.
    #[serde(skip)]
    pub audience: Vec<Uuid>,
    /// The event's type: `DocumentClassified`, `ShareGranted`, …
    #[serde(rename = "type")]
    pub event_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folder_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_id: Option<Uuid>,
    /// The document's classification after the event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classification: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topics: Option<Vec<Uuid>>,
    /// Why classification failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Send it as `X-Consistency-Token` to read what the event changed.
    pub token: String,
}

/// What a notice needs from an event, or `None` for events nobody is told of live.
pub fn notice_of(event: &StoredEvent) -> Option<Notice> {
    let notice = |audience: Vec<Uuid>| Notice {
        audience,
        event_type: event.event_type.clone(),
        document_id: None,
        folder_id: None,
        share_id: None,
        classification: None,
        topics: None,
        error: None,
        token: event.token().to_string(),
    };
    match event.aggregate_type.as_str() {
        "document" => {
            let (owner, document_id, classification, topics, error) =
                match event.decode::<DocumentEvent>().ok()? {
                    DocumentEvent::UploadConfirmed(e) => {
                        (e.owner, e.document_id, "extracting", None, None)
                    }
                    DocumentEvent::ClassificationRequested(e) => {
                        (e.owner, e.document_id, "extracting", None, None)
                    }
                    DocumentEvent::TextExtracted(e) => {
                        (e.owner, e.document_id, "classifying", None, None)
                    }
                    DocumentEvent::DocumentClassified(e) => (
                        e.owner,
                        e.document_id,
                        "classified",
                        Some(e.topics.into_iter().collect()),
                        None,
                    ),
                    DocumentEvent::ClassificationFailed(e) => {
                        (e.owner, e.document_id, "failed", None, Some(e.reason))
                    }
                    _ => return None,
                };
            Some(Notice {
                document_id: Some(document_id),
                classification: Some(classification),
                topics,
                error,
                ..notice(vec![owner])
            })
        }
        "shares" => {
            let (share_id, grantee, target) = match event.decode::<ShareEvent>().ok()? {
                ShareEvent::ShareGranted(e) => (e.share_id, e.grantee, e.target),
                ShareEvent::ShareRevoked(e) => (e.share_id, e.grantee, e.target),
            };
            let (document_id, folder_id) = match target {
                ShareTarget::Document(id) => (Some(id), None),
                ShareTarget::Folder(id) => (None, Some(id)),
            };
            Some(Notice {
                share_id: Some(share_id),
                document_id,
                folder_id,
                ..notice(vec![grantee])
            })
        }
        _ => None,
    }
}

/// The in-process fan-out of one API process.
#[derive(Clone)]
pub struct LiveEvents {
    sender: broadcast::Sender<Arc<Notice>>,
    /// A stream ends after this long (the access token's lifetime): the client reconnects
    /// with a fresh token, so a revoked session hears nothing for long.
    pub max_connection: Duration,
    /// Between comments that keep proxies from closing a quiet stream.
    pub keep_alive: Duration,
    /// Streams end when the process shuts down (else graceful shutdown would wait for
    /// them).
    pub shutdown: CancellationToken,
}

impl LiveEvents {
    /// Subscribes to the document and share events on `bus` and fans them out until
    /// `shutdown`.
    pub fn start(
        nats: async_nats::Client,
        bus: Bus,
        max_connection: Duration,
        keep_alive: Duration,
        shutdown: CancellationToken,
    ) -> Self {
        let (sender, _) = broadcast::channel(1024);
        let live = Self {
            sender: sender.clone(),
            max_connection,
            keep_alive,
            shutdown: shutdown.clone(),
        };
        tokio::spawn(async move {
            while !shutdown.is_cancelled() {
                if let Err(error) = relay(&nats, &bus, &sender, &shutdown).await {
                    tracing::warn!(%error, "live events subscription failed; resubscribing");
                    tokio::select! {
                        _ = shutdown.cancelled() => {}
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
        });
        live
    }

    /// Every notice from now on (the receiver filters by person).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Notice>> {
        self.sender.subscribe()
    }
}

async fn relay(
    nats: &async_nats::Client,
    bus: &Bus,
    sender: &broadcast::Sender<Arc<Notice>>,
    shutdown: &CancellationToken,
) -> Result<(), String> {
    let subscribe = |subject: String| async move {
        nats.subscribe(subject)
            .await
            .map_err(|error| error.to_string())
    };
    let documents = subscribe(bus.events_of("document")).await?;
    let shares = subscribe(bus.events_of("shares")).await?;
    let mut messages = futures::stream::select(documents, shares);
    loop {
        let message = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            message = messages.next() => message,
        };
        let Some(message) = message else {
            return Err("the subscription ended".into());
        };
        let Ok(event) = bus::decode(&message.payload) else {
            continue;
        };
        if let Some(notice) = notice_of(&event) {
            // No receivers is fine: nobody is connected.
            let _ = sender.send(Arc::new(notice));
        }
    }
}
