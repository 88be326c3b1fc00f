//! Documents (DOC-1..7): their kinds, names, and the per-user storage that counts their
//! bytes against a quota.

mod aggregate;
mod filename;
mod kind;
pub mod storage;

pub use aggregate::{
    ContentHashed, Document, DocumentCommand, DocumentDeleted, DocumentError, DocumentEvent,
    DocumentRenamed, DocumentStatus, InitiateUpload, UploadConfirmed, UploadExpired,
    UploadInitiated,
};
pub use filename::{FileName, FileNameError};
pub use kind::DocumentKind;
