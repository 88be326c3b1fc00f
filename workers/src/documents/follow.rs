//! Follows document events: hashes confirmed bytes, and settles documents that are gone
//! (frees their bytes, removes their objects). Both are idempotent, so a redelivery, or
//! the API having settled a deletion already, changes nothing.

use super::caused_by;
use crate::jobs::{Delivery, Job, Retry};
use commands::documents::Documents;
use domain::document::DocumentEvent;
use eventlog::StoredEvent;
use futures::future::BoxFuture;

pub struct FollowDocuments {
    documents: Documents,
}

impl FollowDocuments {
    pub fn new(documents: Documents) -> Self {
        Self { documents }
    }
}

impl Job for FollowDocuments {
    fn name(&self) -> &'static str {
        "documents"
    }

    fn aggregate_type(&self) -> &'static str {
        "document"
    }

    fn handle<'a>(
        &'a self,
        event: &'a StoredEvent,
        _: Delivery,
    ) -> BoxFuture<'a, Result<(), Retry>> {
        Box::pin(async move {
            let decoded: DocumentEvent = match event.decode() {
                Ok(decoded) => decoded,
                Err(error) => {
                    tracing::error!(event_id = %event.event_id, %error, "a document event this build cannot read");
                    return Ok(());
                }
            };
            match decoded {
                DocumentEvent::UploadConfirmed(confirmed) => {
                    let meta = caused_by(event, "hasher");
                    self.documents
                        .record_hash(confirmed.document_id, &meta)
                        .await
                        .map_err(|error| error.to_string())?;
                }
                DocumentEvent::DocumentDeleted(e) => self.settle(event, e.document_id).await?,
                DocumentEvent::UploadExpired(e) => self.settle(event, e.document_id).await?,
                DocumentEvent::UploadRejected(e) => self.settle(event, e.document_id).await?,
                DocumentEvent::UploadInitiated(_)
                | DocumentEvent::DocumentRenamed(_)
                | DocumentEvent::ContentHashed(_)
                | DocumentEvent::DocumentFiled(_)
                | DocumentEvent::DocumentTopicsSet(_)
                | DocumentEvent::ClassificationRequested(_)
                | DocumentEvent::TextExtracted(_)
                | DocumentEvent::DocumentClassified(_)
                | DocumentEvent::ClassificationFailed(_) => {}
            }
            Ok(())
        })
    }
}

impl FollowDocuments {
    async fn settle(&self, event: &StoredEvent, document_id: uuid::Uuid) -> Result<(), String> {
        let meta = caused_by(event, "settle");
        self.documents
            .settle(document_id, &meta)
            .await
            .map(|_| ())
            .map_err(|error| error.to_string())
    }
}
