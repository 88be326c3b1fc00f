//! Documents (DOC-1..7): their kinds, names, and the per-user storage that counts their
//! bytes against a quota.

mod filename;
mod kind;
pub mod storage;

pub use filename::{FileName, FileNameError};
pub use kind::DocumentKind;
