//! One document, from the initiated upload to its deletion (DOC-1, DOC-3, DOC-5, DOC-7).
//! The name is sealed under the owner's key; the bytes live in storage under a key the
//! server chose.

use super::classification::{
    first_request, Classification, ClassificationStage, ExtractedText, FailedStep, Failure, Verdict,
};
use super::DocumentKind;
use crate::{Aggregate, DomainEvent, Sealed};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use thiserror::Error;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentStatus {
    Pending,
    Confirmed,
    Expired,
    /// The bytes were not what the declared type says (SECURITY 21).
    Rejected,
    Deleted,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InitiateUpload {
    pub document_id: Uuid,
    pub owner: Uuid,
    pub filename: Sealed,
    pub declared_kind: DocumentKind,
    pub declared_size: u64,
    /// `{owner}/{document_id}/{uuid}{ext}` (DOC-2).
    pub storage_key: String,
    pub expires_at: DateTime<Utc>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DocumentCommand {
    Initiate(InitiateUpload),
    /// `size` from storage, `kind` from the content; the bytes were admitted by the
    /// owner's storage first.
    Confirm {
        by: Uuid,
        size: u64,
        kind: DocumentKind,
        at: DateTime<Utc>,
    },
    Expire {
        at: DateTime<Utc>,
    },
    /// The uploaded bytes failed the content checks; the document goes away.
    Reject {
        by: Uuid,
        reason: String,
        at: DateTime<Utc>,
    },
    Rename {
        by: Uuid,
        filename: Sealed,
        at: DateTime<Utc>,
    },
    Delete {
        by: Uuid,
        at: DateTime<Utc>,
    },
    RecordHash {
        sha256: String,
        at: DateTime<Utc>,
    },
    /// Puts the document in one of the owner's folders (`None`: at the top). Whether the
    /// folder exists is checked against the owner's folder tree first.
    File {
        by: Uuid,
        folder_id: Option<Uuid>,
        at: DateTime<Utc>,
    },
    /// Gives the document exactly these topics (ORG-2). Whether they exist and are the
    /// owner's or the system's is checked against those namespaces first.
    SetTopics {
        by: Uuid,
        topics: BTreeSet<Uuid>,
        at: DateTime<Utc>,
    },
    /// The owner asks for the document to be classified again (a new run, `request`).
    RequestClassification {
        by: Uuid,
        request: Uuid,
        at: DateTime<Utc>,
    },
    /// A worker extracted the text for run `request`.
    RecordText {
        request: Uuid,
        text: ExtractedText,
        at: DateTime<Utc>,
    },
    /// A worker classified the document for run `request`: its suggested topics join the
    /// document's (whether they exist was checked first).
    Classify {
        request: Uuid,
        verdict: Verdict,
        at: DateTime<Utc>,
    },
    /// Run `request` failed for good.
    FailClassification {
        request: Uuid,
        failure: Failure,
        at: DateTime<Utc>,
    },
}

/// How many topics one document may have.
pub const MAX_DOCUMENT_TOPICS: usize = 32;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadInitiated {
    pub document_id: Uuid,
    pub owner: Uuid,
    pub filename: Sealed,
    pub declared_kind: DocumentKind,
    pub declared_size: u64,
    pub storage_key: String,
    pub expires_at: DateTime<Utc>,
    pub initiated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadConfirmed {
    pub document_id: Uuid,
    pub owner: Uuid,
    pub size: u64,
    pub kind: DocumentKind,
    pub confirmed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadExpired {
    pub document_id: Uuid,
    pub owner: Uuid,
    pub expired_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadRejected {
    pub document_id: Uuid,
    pub owner: Uuid,
    /// Why, in words about the format (never the content).
    pub reason: String,
    pub rejected_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentRenamed {
    pub document_id: Uuid,
    pub owner: Uuid,
    pub filename: Sealed,
    pub renamed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentDeleted {
    pub document_id: Uuid,
    pub owner: Uuid,
    /// Whether its bytes were counted (a confirmed document) and must be released.
    pub was_confirmed: bool,
    pub deleted_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContentHashed {
    pub document_id: Uuid,
    pub owner: Uuid,
    pub sha256: String,
    pub hashed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentFiled {
    pub document_id: Uuid,
    pub owner: Uuid,
    /// `None`: at the top, in no folder.
    pub folder_id: Option<Uuid>,
    pub filed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentTopicsSet {
    pub document_id: Uuid,
    pub owner: Uuid,
    /// All of its topics now (system topics and the owner's).
    pub topics: BTreeSet<Uuid>,
    pub set_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationRequested {
    pub document_id: Uuid,
    pub owner: Uuid,
    pub request: Uuid,
    pub requested_by: Uuid,
    pub requested_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextExtracted {
    pub document_id: Uuid,
    pub owner: Uuid,
    pub request: Uuid,
    pub text: ExtractedText,
    pub extracted_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentClassified {
    pub document_id: Uuid,
    pub owner: Uuid,
    pub request: Uuid,
    /// What the classifier chose.
    pub suggested: BTreeSet<Uuid>,
    /// All of the document's topics now: those it had and the suggested ones.
    pub topics: BTreeSet<Uuid>,
    pub provider: String,
    pub model: String,
    pub classified_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationFailed {
    pub document_id: Uuid,
    pub owner: Uuid,
    pub request: Uuid,
    pub step: FailedStep,
    pub code: String,
    pub reason: String,
    pub failed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DocumentEvent {
    UploadInitiated(UploadInitiated),
    UploadConfirmed(UploadConfirmed),
    UploadExpired(UploadExpired),
    UploadRejected(UploadRejected),
    DocumentRenamed(DocumentRenamed),
    DocumentDeleted(DocumentDeleted),
    ContentHashed(ContentHashed),
    DocumentFiled(DocumentFiled),
    DocumentTopicsSet(DocumentTopicsSet),
    ClassificationRequested(ClassificationRequested),
    TextExtracted(TextExtracted),
    DocumentClassified(DocumentClassified),
    ClassificationFailed(ClassificationFailed),
}

impl DomainEvent for DocumentEvent {
    fn event_type(&self) -> &'static str {
        match self {
            DocumentEvent::UploadInitiated(_) => "UploadInitiated",
            DocumentEvent::UploadConfirmed(_) => "UploadConfirmed",
            DocumentEvent::UploadExpired(_) => "UploadExpired",
            DocumentEvent::UploadRejected(_) => "UploadRejected",
            DocumentEvent::DocumentRenamed(_) => "DocumentRenamed",
            DocumentEvent::DocumentDeleted(_) => "DocumentDeleted",
            DocumentEvent::ContentHashed(_) => "ContentHashed",
            DocumentEvent::DocumentFiled(_) => "DocumentFiled",
            DocumentEvent::DocumentTopicsSet(_) => "DocumentTopicsSet",
            DocumentEvent::ClassificationRequested(_) => "ClassificationRequested",
            DocumentEvent::TextExtracted(_) => "TextExtracted",
            DocumentEvent::DocumentClassified(_) => "DocumentClassified",
            DocumentEvent::ClassificationFailed(_) => "ClassificationFailed",
        }
    }

    fn event_version(&self) -> &'static str {
        "1.0"
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DocumentError {
    #[error("the document exists already")]
    AlreadyExists,
    /// No such document, or not the caller's: the same answer (DOC-7).
    #[error("no such document")]
    NotFound,
    #[error("the upload is not waiting for confirmation")]
    NotPending,
    #[error("the upload has not expired yet")]
    NotExpiredYet,
    #[error("A document has at most {max} topics.")]
    TooManyTopics { max: usize },
    #[error("only a confirmed document can be classified")]
    NotConfirmed,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    document_id: Option<Uuid>,
    owner: Option<Uuid>,
    status: Option<DocumentStatus>,
    size: Option<u64>,
    expires_at: Option<DateTime<Utc>>,
    storage_key: Option<String>,
    declared_kind: Option<DocumentKind>,
    declared_size: Option<u64>,
    sha256: Option<String>,
    filename: Option<Sealed>,
    kind: Option<DocumentKind>,
    #[serde(default)]
    folder_id: Option<Uuid>,
    #[serde(default)]
    topics: BTreeSet<Uuid>,
    #[serde(default)]
    classification: Option<Classification>,
    #[serde(default)]
    text: Option<ExtractedText>,
}

impl Document {
    pub fn owner(&self) -> Option<Uuid> {
        self.owner
    }

    pub fn status(&self) -> Option<DocumentStatus> {
        self.status
    }

    pub fn storage_key(&self) -> Option<&str> {
        self.storage_key.as_deref()
    }

    pub fn size(&self) -> Option<u64> {
        self.size
    }

    /// The kind its bytes were found to be, once confirmed.
    pub fn kind(&self) -> Option<DocumentKind> {
        self.kind
    }

    /// What the uploader announced: checked against the bytes at confirm.
    pub fn declared_kind(&self) -> Option<DocumentKind> {
        self.declared_kind
    }

    pub fn declared_size(&self) -> Option<u64> {
        self.declared_size
    }

    /// The current name, sealed under the owner's data key.
    pub fn filename(&self) -> Option<&Sealed> {
        self.filename.as_ref()
    }

    pub fn sha256(&self) -> Option<&str> {
        self.sha256.as_deref()
    }

    /// The folder it is filed in (`None`: at the top).
    pub fn folder_id(&self) -> Option<Uuid> {
        self.folder_id
    }

    /// Its topics, as last set (a topic deleted since may still be among them).
    pub fn topics(&self) -> &BTreeSet<Uuid> {
        &self.topics
    }

    /// The current classification run, once confirmed.
    pub fn classification(&self) -> Option<Classification> {
        self.classification
    }

    /// The text extracted by the latest run that got that far.
    pub fn text(&self) -> Option<&ExtractedText> {
        self.text.as_ref()
    }

    /// Whether `request` is the current run and at `stage`.
    fn run_at(&self, request: Uuid, stage: ClassificationStage) -> bool {
        self.status == Some(DocumentStatus::Confirmed)
            && self.classification == Some(Classification { request, stage })
    }

    /// Whether `by` may see and change it: its owner, while it is not gone.
    fn visible_to(&self, by: Uuid) -> bool {
        self.owner == Some(by)
            && matches!(
                self.status,
                Some(DocumentStatus::Pending | DocumentStatus::Confirmed)
            )
    }
}

impl Aggregate for Document {
    const TYPE: &'static str = "document";
    type Command = DocumentCommand;
    type Event = DocumentEvent;
    type Error = DocumentError;
    type Services = ();

    fn handle(
        &self,
        command: DocumentCommand,
        _: &(),
    ) -> Result<Vec<DocumentEvent>, DocumentError> {
        let (Some(document_id), Some(owner)) = (self.document_id, self.owner) else {
            return match command {
                DocumentCommand::Initiate(i) => {
                    Ok(vec![DocumentEvent::UploadInitiated(UploadInitiated {
                        document_id: i.document_id,
                        owner: i.owner,
                        filename: i.filename,
                        declared_kind: i.declared_kind,
                        declared_size: i.declared_size,
                        storage_key: i.storage_key,
                        expires_at: i.expires_at,
                        initiated_at: i.at,
                    })])
                }
                _ => Err(DocumentError::NotFound),
            };
        };
        match command {
            DocumentCommand::Initiate(_) => Err(DocumentError::AlreadyExists),
            DocumentCommand::Confirm { by, size, kind, at } => {
                if !self.visible_to(by) {
                    return Err(DocumentError::NotFound);
                }
                match self.status {
                    Some(DocumentStatus::Confirmed) if self.size == Some(size) => Ok(Vec::new()),
                    Some(DocumentStatus::Pending) => {
                        Ok(vec![DocumentEvent::UploadConfirmed(UploadConfirmed {
                            document_id,
                            owner,
                            size,
                            kind,
                            confirmed_at: at,
                        })])
                    }
                    _ => Err(DocumentError::NotPending),
                }
            }
            DocumentCommand::Expire { at } => {
                if self.status != Some(DocumentStatus::Pending) {
                    return Err(DocumentError::NotPending);
                }
                if self.expires_at.is_some_and(|expires| at < expires) {
                    return Err(DocumentError::NotExpiredYet);
                }
                Ok(vec![DocumentEvent::UploadExpired(UploadExpired {
                    document_id,
                    owner,
                    expired_at: at,
                })])
            }
            DocumentCommand::Reject { by, reason, at } => {
                if !self.visible_to(by) {
                    return Err(DocumentError::NotFound);
                }
                if self.status != Some(DocumentStatus::Pending) {
                    return Err(DocumentError::NotPending);
                }
                Ok(vec![DocumentEvent::UploadRejected(UploadRejected {
                    document_id,
                    owner,
                    reason,
                    rejected_at: at,
                })])
            }
            DocumentCommand::Rename { by, filename, at } => {
                if !self.visible_to(by) {
                    return Err(DocumentError::NotFound);
                }
                Ok(vec![DocumentEvent::DocumentRenamed(DocumentRenamed {
                    document_id,
                    owner,
                    filename,
                    renamed_at: at,
                })])
            }
            DocumentCommand::Delete { by, at } => {
                if !self.visible_to(by) {
                    return Err(DocumentError::NotFound);
                }
                Ok(vec![DocumentEvent::DocumentDeleted(DocumentDeleted {
                    document_id,
                    owner,
                    was_confirmed: self.status == Some(DocumentStatus::Confirmed),
                    deleted_at: at,
                })])
            }
            DocumentCommand::RecordHash { sha256, at } => {
                if self.status != Some(DocumentStatus::Confirmed) {
                    return Ok(Vec::new());
                }
                Ok(vec![DocumentEvent::ContentHashed(ContentHashed {
                    document_id,
                    owner,
                    sha256,
                    hashed_at: at,
                })])
            }
            DocumentCommand::File { by, folder_id, at } => {
                if !self.visible_to(by) {
                    return Err(DocumentError::NotFound);
                }
                if self.folder_id == folder_id {
                    return Ok(Vec::new());
                }
                Ok(vec![DocumentEvent::DocumentFiled(DocumentFiled {
                    document_id,
                    owner,
                    folder_id,
                    filed_at: at,
                })])
            }
            DocumentCommand::SetTopics { by, topics, at } => {
                if !self.visible_to(by) {
                    return Err(DocumentError::NotFound);
                }
                if topics.len() > MAX_DOCUMENT_TOPICS {
                    return Err(DocumentError::TooManyTopics {
                        max: MAX_DOCUMENT_TOPICS,
                    });
                }
                if self.topics == topics {
                    return Ok(Vec::new());
                }
                Ok(vec![DocumentEvent::DocumentTopicsSet(DocumentTopicsSet {
                    document_id,
                    owner,
                    topics,
                    set_at: at,
                })])
            }
            DocumentCommand::RequestClassification { by, request, at } => {
                if !self.visible_to(by) {
                    return Err(DocumentError::NotFound);
                }
                if self.status != Some(DocumentStatus::Confirmed) {
                    return Err(DocumentError::NotConfirmed);
                }
                if self
                    .classification
                    .is_some_and(|run| run.request == request)
                {
                    return Ok(Vec::new());
                }
                // A newer request supersedes a running one: its results will be ignored.
                Ok(vec![DocumentEvent::ClassificationRequested(
                    ClassificationRequested {
                        document_id,
                        owner,
                        request,
                        requested_by: by,
                        requested_at: at,
                    },
                )])
            }
            // The worker's results: for the current run at the right step, else nothing
            // (a redelivery, a superseded run, a document deleted meanwhile).
            DocumentCommand::RecordText { request, text, at } => {
                if !self.run_at(request, ClassificationStage::Extracting) {
                    return Ok(Vec::new());
                }
                Ok(vec![DocumentEvent::TextExtracted(TextExtracted {
                    document_id,
                    owner,
                    request,
                    text,
                    extracted_at: at,
                })])
            }
            DocumentCommand::Classify {
                request,
                verdict,
                at,
            } => {
                if !self.run_at(request, ClassificationStage::Classifying) {
                    return Ok(Vec::new());
                }
                let mut topics = self.topics.clone();
                for topic in &verdict.suggested {
                    if topics.len() >= MAX_DOCUMENT_TOPICS {
                        break;
                    }
                    topics.insert(*topic);
                }
                Ok(vec![DocumentEvent::DocumentClassified(
                    DocumentClassified {
                        document_id,
                        owner,
                        request,
                        suggested: verdict.suggested,
                        topics,
                        provider: verdict.provider,
                        model: verdict.model,
                        classified_at: at,
                    },
                )])
            }
            DocumentCommand::FailClassification {
                request,
                failure,
                at,
            } => {
                let running = [
                    ClassificationStage::Extracting,
                    ClassificationStage::Classifying,
                ];
                if !running.iter().any(|stage| self.run_at(request, *stage)) {
                    return Ok(Vec::new());
                }
                Ok(vec![DocumentEvent::ClassificationFailed(
                    ClassificationFailed {
                        document_id,
                        owner,
                        request,
                        step: failure.step,
                        code: failure.code,
                        reason: failure.reason,
                        failed_at: at,
                    },
                )])
            }
        }
    }

    fn apply(&mut self, event: DocumentEvent) {
        match event {
            DocumentEvent::UploadInitiated(e) => {
                self.document_id = Some(e.document_id);
                self.owner = Some(e.owner);
                self.status = Some(DocumentStatus::Pending);
                self.expires_at = Some(e.expires_at);
                self.storage_key = Some(e.storage_key);
                self.declared_kind = Some(e.declared_kind);
                self.declared_size = Some(e.declared_size);
                self.filename = Some(e.filename);
            }
            DocumentEvent::UploadConfirmed(e) => {
                self.status = Some(DocumentStatus::Confirmed);
                self.size = Some(e.size);
                self.kind = Some(e.kind);
                self.classification = Some(Classification {
                    request: first_request(e.document_id),
                    stage: ClassificationStage::Extracting,
                });
            }
            DocumentEvent::UploadExpired(_) => self.status = Some(DocumentStatus::Expired),
            DocumentEvent::UploadRejected(_) => self.status = Some(DocumentStatus::Rejected),
            DocumentEvent::DocumentDeleted(_) => self.status = Some(DocumentStatus::Deleted),
            DocumentEvent::ContentHashed(e) => self.sha256 = Some(e.sha256),
            DocumentEvent::DocumentRenamed(e) => self.filename = Some(e.filename),
            DocumentEvent::DocumentFiled(e) => self.folder_id = e.folder_id,
            DocumentEvent::DocumentTopicsSet(e) => self.topics = e.topics,
            DocumentEvent::ClassificationRequested(e) => {
                self.classification = Some(Classification {
                    request: e.request,
                    stage: ClassificationStage::Extracting,
                });
            }
            DocumentEvent::TextExtracted(e) => {
                self.text = Some(e.text);
                self.classification = Some(Classification {
                    request: e.request,
                    stage: ClassificationStage::Classifying,
                });
            }
            DocumentEvent::DocumentClassified(e) => {
                self.topics = e.topics;
                self.classification = Some(Classification {
                    request: e.request,
                    stage: ClassificationStage::Classified,
                });
            }
            DocumentEvent::ClassificationFailed(e) => {
                self.classification = Some(Classification {
                    request: e.request,
                    stage: ClassificationStage::Failed,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::AggregateTest;
    use chrono::{Duration, TimeZone};

    const OWNER: Uuid = Uuid::from_u128(1);
    const STRANGER: Uuid = Uuid::from_u128(2);
    const DOC: Uuid = Uuid::from_u128(9);

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
    }

    fn name(text: &str) -> Sealed {
        Sealed::from_envelope(format!("v1.bm9uY2U.{text}"))
    }

    fn initiated() -> DocumentEvent {
        DocumentEvent::UploadInitiated(UploadInitiated {
            document_id: DOC,
            owner: OWNER,
            filename: name("YQ"),
            declared_kind: DocumentKind::Pdf,
            declared_size: 1000,
            storage_key: format!("{OWNER}/{DOC}/k.pdf"),
            expires_at: at() + Duration::hours(1),
            initiated_at: at(),
        })
    }

    fn confirmed(size: u64) -> DocumentEvent {
        DocumentEvent::UploadConfirmed(UploadConfirmed {
            document_id: DOC,
            owner: OWNER,
            size,
            kind: DocumentKind::Pdf,
            confirmed_at: at(),
        })
    }

    fn confirm(by: Uuid, size: u64) -> DocumentCommand {
        DocumentCommand::Confirm {
            by,
            size,
            kind: DocumentKind::Pdf,
            at: at(),
        }
    }

    #[test]
    fn an_upload_is_confirmed_once_and_a_repeat_changes_nothing() {
        AggregateTest::<Document>::with(())
            .given(vec![initiated()])
            .when(confirm(OWNER, 1234))
            .then_expect_events(vec![confirmed(1234)]);
        AggregateTest::<Document>::with(())
            .given(vec![initiated(), confirmed(1234)])
            .when(confirm(OWNER, 1234))
            .then_expect_events(vec![]);
    }

    #[test]
    fn someone_elses_document_does_not_exist_for_them() {
        for command in [
            confirm(STRANGER, 1),
            DocumentCommand::Rename {
                by: STRANGER,
                filename: name("Yg"),
                at: at(),
            },
            DocumentCommand::Delete {
                by: STRANGER,
                at: at(),
            },
            DocumentCommand::File {
                by: STRANGER,
                folder_id: None,
                at: at(),
            },
        ] {
            AggregateTest::<Document>::with(())
                .given(vec![initiated(), confirmed(5)])
                .when(command)
                .then_expect_error(DocumentError::NotFound);
        }
    }

    #[test]
    fn a_document_is_filed_once_per_change_of_folder() {
        const FOLDER: Uuid = Uuid::from_u128(7);
        let file = |folder_id| DocumentCommand::File {
            by: OWNER,
            folder_id,
            at: at(),
        };
        let filed = |folder_id| {
            DocumentEvent::DocumentFiled(DocumentFiled {
                document_id: DOC,
                owner: OWNER,
                folder_id,
                filed_at: at(),
            })
        };
        AggregateTest::<Document>::with(())
            .given(vec![initiated(), confirmed(5)])
            .when(file(Some(FOLDER)))
            .then_expect_events(vec![filed(Some(FOLDER))]);
        AggregateTest::<Document>::with(())
            .given(vec![initiated(), confirmed(5), filed(Some(FOLDER))])
            .when(file(Some(FOLDER)))
            .then_expect_events(vec![]);
        AggregateTest::<Document>::with(())
            .given(vec![initiated(), confirmed(5), filed(Some(FOLDER))])
            .when(file(None))
            .then_expect_events(vec![filed(None)]);
        AggregateTest::<Document>::with(())
            .given(vec![initiated(), confirmed(5)])
            .when(file(None))
            .then_expect_events(vec![]);
    }

    #[test]
    fn a_pending_upload_expires_only_after_its_time() {
        AggregateTest::<Document>::with(())
            .given(vec![initiated()])
            .when(DocumentCommand::Expire {
                at: at() + Duration::minutes(59),
            })
            .then_expect_error(DocumentError::NotExpiredYet);
        let later = at() + Duration::hours(1);
        AggregateTest::<Document>::with(())
            .given(vec![initiated()])
            .when(DocumentCommand::Expire { at: later })
            .then_expect_events(vec![DocumentEvent::UploadExpired(UploadExpired {
                document_id: DOC,
                owner: OWNER,
                expired_at: later,
            })]);
        AggregateTest::<Document>::with(())
            .given(vec![initiated(), confirmed(5)])
            .when(DocumentCommand::Expire { at: later })
            .then_expect_error(DocumentError::NotPending);
    }

    #[test]
    fn deleting_says_whether_bytes_were_counted_and_then_it_is_gone() {
        let deleted = |was_confirmed| {
            DocumentEvent::DocumentDeleted(DocumentDeleted {
                document_id: DOC,
                owner: OWNER,
                was_confirmed,
                deleted_at: at(),
            })
        };
        let delete = DocumentCommand::Delete {
            by: OWNER,
            at: at(),
        };
        AggregateTest::<Document>::with(())
            .given(vec![initiated(), confirmed(5)])
            .when(delete.clone())
            .then_expect_events(vec![deleted(true)]);
        AggregateTest::<Document>::with(())
            .given(vec![initiated()])
            .when(delete.clone())
            .then_expect_events(vec![deleted(false)]);
        AggregateTest::<Document>::with(())
            .given(vec![initiated(), confirmed(5), deleted(true)])
            .when(delete)
            .then_expect_error(DocumentError::NotFound);
    }

    #[test]
    fn an_expired_upload_cannot_be_confirmed() {
        AggregateTest::<Document>::with(())
            .given(vec![
                initiated(),
                DocumentEvent::UploadExpired(UploadExpired {
                    document_id: DOC,
                    owner: OWNER,
                    expired_at: at(),
                }),
            ])
            .when(confirm(OWNER, 5))
            .then_expect_error(DocumentError::NotFound);
    }

    #[test]
    fn rejected_bytes_end_a_pending_upload_only() {
        let reject = DocumentCommand::Reject {
            by: OWNER,
            reason: "not a PDF".into(),
            at: at(),
        };
        let rejected = DocumentEvent::UploadRejected(UploadRejected {
            document_id: DOC,
            owner: OWNER,
            reason: "not a PDF".into(),
            rejected_at: at(),
        });
        AggregateTest::<Document>::with(())
            .given(vec![initiated()])
            .when(reject.clone())
            .then_expect_events(vec![rejected.clone()]);
        AggregateTest::<Document>::with(())
            .given(vec![initiated(), confirmed(5)])
            .when(reject.clone())
            .then_expect_error(DocumentError::NotPending);
        AggregateTest::<Document>::with(())
            .given(vec![initiated(), rejected])
            .when(confirm(OWNER, 5))
            .then_expect_error(DocumentError::NotFound);
    }

    #[test]
    fn a_hash_is_recorded_for_confirmed_content_only() {
        let hash = DocumentCommand::RecordHash {
            sha256: "ab".repeat(32),
            at: at(),
        };
        AggregateTest::<Document>::with(())
            .given(vec![initiated()])
            .when(hash.clone())
            .then_expect_events(vec![]);
        AggregateTest::<Document>::with(())
            .given(vec![initiated(), confirmed(5)])
            .when(hash)
            .then_expect_events(vec![DocumentEvent::ContentHashed(ContentHashed {
                document_id: DOC,
                owner: OWNER,
                sha256: "ab".repeat(32),
                hashed_at: at(),
            })]);
    }

    #[test]
    fn topics_are_set_by_the_owner_as_a_whole_and_only_when_they_change() {
        let topics = |ids: &[u128]| ids.iter().map(|n| Uuid::from_u128(*n)).collect();
        let set = |by, ids: &[u128]| DocumentCommand::SetTopics {
            by,
            topics: topics(ids),
            at: at(),
        };
        let was_set = |ids: &[u128]| {
            DocumentEvent::DocumentTopicsSet(DocumentTopicsSet {
                document_id: DOC,
                owner: OWNER,
                topics: topics(ids),
                set_at: at(),
            })
        };
        AggregateTest::<Document>::with(())
            .given(vec![initiated(), confirmed(5)])
            .when(set(OWNER, &[3, 4]))
            .then_expect_events(vec![was_set(&[3, 4])]);
        AggregateTest::<Document>::with(())
            .given(vec![initiated(), confirmed(5), was_set(&[3, 4])])
            .when(set(OWNER, &[4, 3]))
            .then_expect_events(vec![]);
        AggregateTest::<Document>::with(())
            .given(vec![initiated(), confirmed(5), was_set(&[3, 4])])
            .when(set(OWNER, &[]))
            .then_expect_events(vec![was_set(&[])]);
        AggregateTest::<Document>::with(())
            .given(vec![initiated(), confirmed(5)])
            .when(set(STRANGER, &[3]))
            .then_expect_error(DocumentError::NotFound);
        let too_many: Vec<u128> = (0..=MAX_DOCUMENT_TOPICS as u128).collect();
        AggregateTest::<Document>::with(())
            .given(vec![initiated(), confirmed(5)])
            .when(set(OWNER, &too_many))
            .then_expect_error(DocumentError::TooManyTopics {
                max: MAX_DOCUMENT_TOPICS,
            });
    }

    mod classification {
        use super::*;
        use crate::document::classification::{ExtractedText, FailedStep, Failure, Verdict};

        const RERUN: Uuid = Uuid::from_u128(77);

        fn text() -> ExtractedText {
            ExtractedText {
                text_id: Uuid::from_u128(55),
                sha256: "cd".repeat(32),
                length: 42,
                language: Some("english".into()),
                truncated: false,
            }
        }

        fn record(request: Uuid) -> DocumentCommand {
            DocumentCommand::RecordText {
                request,
                text: text(),
                at: at(),
            }
        }

        fn extracted(request: Uuid) -> DocumentEvent {
            DocumentEvent::TextExtracted(TextExtracted {
                document_id: DOC,
                owner: OWNER,
                request,
                text: text(),
                extracted_at: at(),
            })
        }

        fn ids(ids: &[u128]) -> BTreeSet<Uuid> {
            ids.iter().map(|n| Uuid::from_u128(*n)).collect()
        }

        fn classify(request: Uuid, suggested: &[u128]) -> DocumentCommand {
            DocumentCommand::Classify {
                request,
                verdict: Verdict {
                    suggested: ids(suggested),
                    provider: "offline".into(),
                    model: "naive-bayes".into(),
                },
                at: at(),
            }
        }

        fn classified(request: Uuid, suggested: &[u128], topics: &[u128]) -> DocumentEvent {
            DocumentEvent::DocumentClassified(DocumentClassified {
                document_id: DOC,
                owner: OWNER,
                request,
                suggested: ids(suggested),
                topics: ids(topics),
                provider: "offline".into(),
                model: "naive-bayes".into(),
                classified_at: at(),
            })
        }

        fn rerun(by: Uuid) -> DocumentCommand {
            DocumentCommand::RequestClassification {
                by,
                request: RERUN,
                at: at(),
            }
        }

        fn requested() -> DocumentEvent {
            DocumentEvent::ClassificationRequested(ClassificationRequested {
                document_id: DOC,
                owner: OWNER,
                request: RERUN,
                requested_by: OWNER,
                requested_at: at(),
            })
        }

        fn failure() -> Failure {
            Failure {
                step: FailedStep::Extraction,
                code: "zip_bomb".into(),
                reason: "the archive would inflate to more than 200 MB".into(),
            }
        }

        fn failed(request: Uuid) -> DocumentEvent {
            DocumentEvent::ClassificationFailed(ClassificationFailed {
                document_id: DOC,
                owner: OWNER,
                request,
                step: FailedStep::Extraction,
                code: "zip_bomb".into(),
                reason: "the archive would inflate to more than 200 MB".into(),
                failed_at: at(),
            })
        }

        #[test]
        fn a_confirm_starts_a_run_whose_text_and_topics_are_recorded_once() {
            AggregateTest::<Document>::with(())
                .given(vec![initiated(), confirmed(5)])
                .when(record(DOC))
                .then_expect_events(vec![extracted(DOC)]);
            AggregateTest::<Document>::with(())
                .given(vec![initiated(), confirmed(5), extracted(DOC)])
                .when(record(DOC))
                .then_expect_events(vec![]);
            AggregateTest::<Document>::with(())
                .given(vec![initiated(), confirmed(5), extracted(DOC)])
                .when(classify(DOC, &[3]))
                .then_expect_events(vec![classified(DOC, &[3], &[3])]);
            AggregateTest::<Document>::with(())
                .given(vec![
                    initiated(),
                    confirmed(5),
                    extracted(DOC),
                    classified(DOC, &[3], &[3]),
                ])
                .when(classify(DOC, &[3]))
                .then_expect_events(vec![]);
        }

        #[test]
        fn topics_come_after_the_text_and_never_to_a_pending_or_deleted_document() {
            AggregateTest::<Document>::with(())
                .given(vec![initiated(), confirmed(5)])
                .when(classify(DOC, &[3]))
                .then_expect_events(vec![]);
            AggregateTest::<Document>::with(())
                .given(vec![initiated()])
                .when(record(DOC))
                .then_expect_events(vec![]);
            let deleted = DocumentEvent::DocumentDeleted(DocumentDeleted {
                document_id: DOC,
                owner: OWNER,
                was_confirmed: true,
                deleted_at: at(),
            });
            AggregateTest::<Document>::with(())
                .given(vec![initiated(), confirmed(5), extracted(DOC), deleted])
                .when(classify(DOC, &[3]))
                .then_expect_events(vec![]);
        }

        #[test]
        fn suggested_topics_join_those_set_by_hand_up_to_the_bound() {
            let by_hand = DocumentEvent::DocumentTopicsSet(DocumentTopicsSet {
                document_id: DOC,
                owner: OWNER,
                topics: ids(&[1, 2]),
                set_at: at(),
            });
            AggregateTest::<Document>::with(())
                .given(vec![initiated(), confirmed(5), by_hand, extracted(DOC)])
                .when(classify(DOC, &[2, 3]))
                .then_expect_events(vec![classified(DOC, &[2, 3], &[1, 2, 3])]);
            let full: Vec<u128> = (100..100 + MAX_DOCUMENT_TOPICS as u128).collect();
            let full_set = DocumentEvent::DocumentTopicsSet(DocumentTopicsSet {
                document_id: DOC,
                owner: OWNER,
                topics: ids(&full),
                set_at: at(),
            });
            AggregateTest::<Document>::with(())
                .given(vec![initiated(), confirmed(5), full_set, extracted(DOC)])
                .when(classify(DOC, &[3]))
                .then_expect_events(vec![classified(DOC, &[3], &full)]);
        }

        #[test]
        fn the_owner_reruns_a_confirmed_document_and_the_old_runs_results_are_ignored() {
            AggregateTest::<Document>::with(())
                .given(vec![initiated(), confirmed(5), failed(DOC)])
                .when(rerun(OWNER))
                .then_expect_events(vec![requested()]);
            AggregateTest::<Document>::with(())
                .given(vec![initiated(), confirmed(5), requested()])
                .when(rerun(OWNER))
                .then_expect_events(vec![]);
            // The first run is still going when the owner asks again: its text is late.
            AggregateTest::<Document>::with(())
                .given(vec![initiated(), confirmed(5), requested()])
                .when(record(DOC))
                .then_expect_events(vec![]);
            AggregateTest::<Document>::with(())
                .given(vec![initiated(), confirmed(5), requested()])
                .when(record(RERUN))
                .then_expect_events(vec![extracted(RERUN)]);
            AggregateTest::<Document>::with(())
                .given(vec![initiated(), confirmed(5)])
                .when(rerun(STRANGER))
                .then_expect_error(DocumentError::NotFound);
            AggregateTest::<Document>::with(())
                .given(vec![initiated()])
                .when(rerun(OWNER))
                .then_expect_error(DocumentError::NotConfirmed);
        }

        #[test]
        fn a_run_fails_once_while_it_runs() {
            let fail = |request| DocumentCommand::FailClassification {
                request,
                failure: failure(),
                at: at(),
            };
            AggregateTest::<Document>::with(())
                .given(vec![initiated(), confirmed(5)])
                .when(fail(DOC))
                .then_expect_events(vec![failed(DOC)]);
            AggregateTest::<Document>::with(())
                .given(vec![initiated(), confirmed(5), extracted(DOC)])
                .when(fail(DOC))
                .then_expect_events(vec![failed(DOC)]);
            AggregateTest::<Document>::with(())
                .given(vec![initiated(), confirmed(5), failed(DOC)])
                .when(fail(DOC))
                .then_expect_events(vec![]);
            AggregateTest::<Document>::with(())
                .given(vec![
                    initiated(),
                    confirmed(5),
                    extracted(DOC),
                    classified(DOC, &[3], &[3]),
                ])
                .when(fail(DOC))
                .then_expect_events(vec![]);
        }
    }
}
