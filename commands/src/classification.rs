//! Classification runs on the write side (AI-1, AI-3): the owner asks for one again, a
//! worker reads a run's state and the bytes, keeps the extracted text in the side store
//! and records the text, the topics or the failure. Every result names its run, so a
//! redelivered or superseded result changes nothing (see `domain::document::classification`).

use crate::documents::{object_key, Documents, DocumentsError};
use crate::CommandMeta;
use domain::document::classification::{ClassificationStage, ExtractedText, Failure, Verdict};
use domain::document::{Document, DocumentCommand, DocumentKind, DocumentStatus};
use domain::topic::{Namespace, TopicSet};
use eventlog::Token;
use storage::ObjectKey;
use uuid::Uuid;
use zeroize::Zeroizing;

/// What a worker needs to know about a document's current run.
#[derive(Debug, Clone)]
pub struct Run {
    pub document_id: Uuid,
    pub owner: Uuid,
    pub request: Uuid,
    pub stage: ClassificationStage,
    pub kind: DocumentKind,
    pub size: u64,
    pub key: ObjectKey,
    /// The text of this run, once recorded.
    pub text: Option<ExtractedText>,
}

impl Run {
    /// Whether this is run `request`, still waiting for work.
    pub fn is_running(&self, request: Uuid) -> bool {
        self.request == request && self.stage.is_running()
    }
}

#[derive(Clone)]
pub struct Classifications {
    documents: Documents,
}

impl Classifications {
    pub fn new(documents: Documents) -> Self {
        Self { documents }
    }

    /// The owner asks for `document_id` to be classified again: a new run, whose id is
    /// derived from the command's, so a repeated request is one run.
    pub async fn request(
        &self,
        owner: Uuid,
        document_id: Uuid,
        meta: &CommandMeta,
    ) -> Result<(Uuid, Token), DocumentsError> {
        let request = Uuid::new_v5(&document_id, meta.command_id.as_bytes());
        let at = self.documents.now();
        let token = self
            .documents
            .retrying::<Document>(
                &document_id.to_string(),
                || DocumentCommand::RequestClassification {
                    by: owner,
                    request,
                    at,
                },
                meta,
            )
            .await?;
        Ok((request, token))
    }

    /// The document's current run; `None` when it is not a confirmed document.
    pub async fn run_of(&self, document_id: Uuid) -> Result<Option<Run>, DocumentsError> {
        let document: Document = self.documents.load(document_id).await?;
        let (Some(DocumentStatus::Confirmed), Some(owner), Some(run), Some(kind), Some(size)) = (
            document.status(),
            document.owner(),
            document.classification(),
            document.kind(),
            document.size(),
        ) else {
            return Ok(None);
        };
        Ok(Some(Run {
            document_id,
            owner,
            request: run.request,
            stage: run.stage,
            kind,
            size,
            key: object_key(&document)?,
            text: document.text().cloned(),
        }))
    }

    /// The document's bytes, refused beyond `max_bytes`; `None` when they are gone.
    pub async fn bytes(
        &self,
        run: &Run,
        max_bytes: u64,
    ) -> Result<Option<Vec<u8>>, DocumentsError> {
        Ok(self.documents.objects().read(&run.key, max_bytes).await?)
    }

    /// Keeps `text` sealed in the side store and records it for the run. When the run
    /// ended meanwhile because the document was deleted, the text goes again.
    pub async fn record_text(
        &self,
        run: &Run,
        text: &str,
        language: Option<String>,
        truncated: bool,
        meta: &CommandMeta,
    ) -> Result<ExtractedText, DocumentsError> {
        let key = self.documents.data_key(run.owner).await?;
        let (text_id, sha256, length) = crypto::texts::put(
            self.documents.pool(),
            &key,
            run.owner,
            run.document_id,
            text,
        )
        .await
        .map_err(store_error)?;
        let extracted = ExtractedText {
            text_id,
            sha256,
            length,
            language,
            truncated,
        };
        let at = self.documents.now();
        self.documents
            .retrying::<Document>(
                &run.document_id.to_string(),
                || DocumentCommand::RecordText {
                    request: run.request,
                    text: extracted.clone(),
                    at,
                },
                meta,
            )
            .await?;
        let document: Document = self.documents.load(run.document_id).await?;
        if document.status() != Some(DocumentStatus::Confirmed) {
            crypto::texts::delete_document(self.documents.pool(), run.document_id)
                .await
                .map_err(store_error)?;
        }
        Ok(extracted)
    }

    /// The run's text from the side store; `None` when it is gone.
    pub async fn text(&self, run: &Run) -> Result<Option<Zeroizing<String>>, DocumentsError> {
        let Some(reference) = &run.text else {
            return Ok(None);
        };
        let key = self.documents.data_key(run.owner).await?;
        crypto::texts::get(
            self.documents.pool(),
            &key,
            run.owner,
            run.document_id,
            reference,
        )
        .await
        .map_err(store_error)
    }

    /// Records the classifier's verdict for the run, keeping only topics that exist in
    /// the system's namespace or the owner's.
    pub async fn classify(
        &self,
        run: &Run,
        mut verdict: Verdict,
        meta: &CommandMeta,
    ) -> Result<(), DocumentsError> {
        let system: TopicSet = self
            .documents
            .load(Namespace::System.aggregate_id())
            .await?;
        let own: TopicSet = self
            .documents
            .load(Namespace::Person(run.owner).aggregate_id())
            .await?;
        verdict
            .suggested
            .retain(|topic| system.contains(*topic) || own.contains(*topic));
        let at = self.documents.now();
        self.documents
            .retrying::<Document>(
                &run.document_id.to_string(),
                || DocumentCommand::Classify {
                    request: run.request,
                    verdict: verdict.clone(),
                    at,
                },
                meta,
            )
            .await?;
        Ok(())
    }

    /// Records that the run failed for good.
    pub async fn fail(
        &self,
        run: &Run,
        failure: Failure,
        meta: &CommandMeta,
    ) -> Result<(), DocumentsError> {
        let at = self.documents.now();
        self.documents
            .retrying::<Document>(
                &run.document_id.to_string(),
                || DocumentCommand::FailClassification {
                    request: run.request,
                    failure: failure.clone(),
                    at,
                },
                meta,
            )
            .await?;
        Ok(())
    }
}

fn store_error(error: crypto::texts::TextStoreError) -> DocumentsError {
    DocumentsError::Store(error.to_string())
}
