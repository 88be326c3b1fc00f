//! Document bytes: where they live and what they must look like.
//!
//! - [`content`]: the checks a confirmed upload passes (SECURITY 21, 26): its kind is
//!   decided by its bytes, never by its name or declared type alone.
//! - [`key`]: object keys, chosen by the server and checked when they come back.
//! - [`local`]: the embedded local-disk store with its signed upload links.
//! - [`store`]: the one face of every backend.
//! - [`s3`]: the S3 backend with its presigned upload URLs.
//! - [`s3_server`]: a real S3-compatible server (`s3s-fs`) for tests.

pub mod content;
pub mod key;
pub mod local;
pub mod s3;
pub mod s3_server;
pub mod store;

pub use key::ObjectKey;
pub use store::{ObjectStore, StoreError, UploadLink, UploadRequest};

/// An object as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub key: String,
    pub last_modified: chrono::DateTime<chrono::Utc>,
}

/// An object's bytes as they stream out of a store.
pub type ByteStream = std::pin::Pin<
    Box<dyn futures_core::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send>,
>;

/// An inclusive byte range of an object, already checked against its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub first: u64,
    pub last: u64,
}

impl ByteRange {
    pub fn len(&self) -> u64 {
        self.last - self.first + 1
    }

    pub fn is_empty(&self) -> bool {
        false
    }
}
