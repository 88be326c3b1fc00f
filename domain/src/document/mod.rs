//! Documents (DOC-1..7): their kinds, names, and the per-user storage that counts their
//! bytes against a quota.

mod aggregate;
pub mod classification;
mod filename;
mod kind;
pub mod storage;

pub use aggregate::{
    ClassificationFailed, ClassificationRequested, ContentHashed, Document, DocumentClassified,
    DocumentCommand, DocumentDeleted, DocumentError, DocumentEvent, DocumentFiled, DocumentRenamed,
    DocumentStatus, DocumentTopicsSet, InitiateUpload, TextExtracted, UploadConfirmed,
    UploadExpired, UploadInitiated, UploadRejected, MAX_DOCUMENT_TOPICS,
};
pub(crate) use filename::unsafe_char;
pub use filename::{FileName, FileNameError};
pub use kind::DocumentKind;

/// The field name a document's filename is sealed under (with the owner's data key).
pub const FILENAME_FIELD: &str = "filename";
