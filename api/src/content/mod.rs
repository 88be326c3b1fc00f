//! Serving document bytes (DOC-6): ranges and short-lived download links.

pub mod download_link;
pub mod range;
