//! One face for whichever backend holds the bytes (OPS-7): the API, the workers and the
//! sweeper talk to an [`ObjectStore`] and never ask which one it is.

use crate::local::{LocalDisk, LocalError, UploadGrant};
use crate::s3::{S3Error, S3Store};
use crate::{ByteRange, ByteStream, ObjectKey, StoredObject};
use chrono::{DateTime, Utc};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error(transparent)]
    Local(#[from] LocalError),
    #[error(transparent)]
    S3(#[from] S3Error),
    #[error("reading the object failed: {0}")]
    Io(std::io::Error),
    #[error("the object is larger than {0} bytes")]
    TooLarge(u64),
}

/// Where the browser sends a file's bytes, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadLink {
    pub url: String,
    /// The headers the PUT must carry, exactly.
    pub headers: Vec<(String, String)>,
    pub expires_at: DateTime<Utc>,
}

/// What an upload link may carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRequest<'a> {
    pub key: &'a ObjectKey,
    pub length: u64,
    pub content_type: &'a str,
    pub now: DateTime<Utc>,
    pub ttl: std::time::Duration,
}

#[derive(Clone)]
pub enum ObjectStore {
    /// Files under a directory, written through the API's own signed upload route.
    Local(LocalDisk),
    /// A bucket; the browser PUTs to presigned URLs.
    S3(S3Store),
}

/// The API route that receives local uploads: `{LOCAL_UPLOAD_PATH}/{key}?…`.
pub const LOCAL_UPLOAD_PATH: &str = "/api/uploads";

impl ObjectStore {
    /// The backend's name, for logs and `/ready`.
    pub fn backend(&self) -> &'static str {
        match self {
            ObjectStore::Local(_) => "local",
            ObjectStore::S3(_) => "s3",
        }
    }

    /// A link the browser PUTs the bytes to, signed over key, length, type and expiry.
    pub async fn upload_link(&self, request: UploadRequest<'_>) -> Result<UploadLink, StoreError> {
        let ttl = chrono::Duration::from_std(request.ttl).unwrap_or(chrono::Duration::minutes(10));
        let expires_at = request.now + ttl;
        match self {
            ObjectStore::Local(disk) => {
                let grant = UploadGrant {
                    key: request.key.clone(),
                    length: request.length,
                    content_type: request.content_type.to_owned(),
                    expires_at,
                };
                let query = LocalUploadQuery::of(&grant, disk.sign(&grant)).to_query();
                Ok(UploadLink {
                    url: format!("{LOCAL_UPLOAD_PATH}/{}?{query}", grant.key),
                    headers: vec![("Content-Type".into(), grant.content_type)],
                    expires_at,
                })
            }
            ObjectStore::S3(s3) => {
                let presigned = s3
                    .presign_put(
                        request.key,
                        request.length,
                        request.content_type,
                        request.now,
                        request.ttl,
                    )
                    .await?;
                Ok(UploadLink {
                    url: presigned.url,
                    headers: presigned.headers,
                    expires_at,
                })
            }
        }
    }

    pub async fn size(&self, key: &ObjectKey) -> Result<Option<u64>, StoreError> {
        match self {
            ObjectStore::Local(disk) => Ok(disk.size(key).await?),
            ObjectStore::S3(s3) => Ok(s3.size(key).await?),
        }
    }

    /// The whole object, refused beyond `max_bytes`.
    pub async fn read(
        &self,
        key: &ObjectKey,
        max_bytes: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            ObjectStore::Local(disk) => {
                if disk.size(key).await?.is_some_and(|size| size > max_bytes) {
                    return Err(StoreError::TooLarge(max_bytes));
                }
                Ok(disk.read(key).await?)
            }
            ObjectStore::S3(s3) => match s3.read(key, max_bytes).await {
                Err(S3Error::TooLarge { limit }) => Err(StoreError::TooLarge(limit)),
                other => Ok(other?),
            },
        }
    }

    pub async fn stream(
        &self,
        key: &ObjectKey,
        range: Option<ByteRange>,
    ) -> Result<Option<ByteStream>, StoreError> {
        match self {
            ObjectStore::Local(disk) => Ok(disk.stream(key, range).await?),
            ObjectStore::S3(s3) => Ok(s3.stream(key, range).await?),
        }
    }

    /// Deletes an object; a missing one is not an error.
    pub async fn delete(&self, key: &ObjectKey) -> Result<(), StoreError> {
        match self {
            ObjectStore::Local(disk) => Ok(disk.delete(key).await?),
            ObjectStore::S3(s3) => Ok(s3.delete(key).await?),
        }
    }

    pub async fn list(&self) -> Result<Vec<StoredObject>, StoreError> {
        match self {
            ObjectStore::Local(disk) => Ok(disk.list().await?),
            ObjectStore::S3(s3) => Ok(s3.list().await?),
        }
    }

    /// Removes what interrupted uploads left, older than `before` (the local store's
    /// `.part` files; S3 keeps no partial objects). Returns how many.
    pub async fn remove_unfinished(&self, before: DateTime<Utc>) -> Result<usize, StoreError> {
        match self {
            ObjectStore::Local(disk) => Ok(disk.remove_unfinished(before).await?),
            ObjectStore::S3(_) => Ok(0),
        }
    }

    /// Whether the backend answers (for `/ready`).
    pub async fn check(&self) -> Result<(), StoreError> {
        match self {
            ObjectStore::Local(disk) => Ok(disk.check().await?),
            ObjectStore::S3(s3) => Ok(s3.check().await?),
        }
    }
}

/// The query of a local upload link: written when the link is made, read back (before
/// verification) when it is used.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LocalUploadQuery {
    pub length: u64,
    #[serde(rename = "type")]
    pub content_type: String,
    pub expires: i64,
    pub signature: String,
}

impl LocalUploadQuery {
    fn of(grant: &UploadGrant, signature: String) -> Self {
        Self {
            length: grant.length,
            content_type: grant.content_type.clone(),
            expires: grant.expires_at.timestamp(),
            signature,
        }
    }

    fn to_query(&self) -> String {
        // Four plain fields always encode.
        serde_urlencoded::to_string(self).unwrap_or_default()
    }

    /// The grant the link claims, for `key`; `None` when the expiry is out of range.
    pub fn grant(&self, key: ObjectKey) -> Option<UploadGrant> {
        Some(UploadGrant {
            key,
            length: self.length,
            content_type: self.content_type.clone(),
            expires_at: DateTime::from_timestamp(self.expires, 0)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use domain::document::DocumentKind;
    use uuid::Uuid;
    use zeroize::Zeroizing;

    #[tokio::test]
    async fn a_local_link_carries_what_its_signature_covers() {
        let disk = LocalDisk::new("/nonexistent", Zeroizing::new([1u8; 32]));
        let store = ObjectStore::Local(disk.clone());
        let key = ObjectKey::new(Uuid::new_v4(), Uuid::new_v4(), DocumentKind::Docx);
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap();
        let content_type = DocumentKind::Docx.content_type();
        let link = store
            .upload_link(UploadRequest {
                key: &key,
                length: 42,
                content_type,
                now,
                ttl: std::time::Duration::from_secs(600),
            })
            .await
            .unwrap();
        let (path, query) = link.url.split_once('?').unwrap();
        assert_eq!(path, format!("{LOCAL_UPLOAD_PATH}/{key}"));
        let query: LocalUploadQuery = serde_urlencoded::from_str(query).unwrap();
        let grant = query.grant(key).unwrap();
        assert_eq!(grant.content_type, content_type);
        assert_eq!(grant.expires_at, now + chrono::Duration::minutes(10));
        assert!(disk.verify(&grant, &query.signature, now).is_ok());
        assert_eq!(
            link.headers,
            vec![("Content-Type".to_owned(), content_type.to_owned())]
        );
    }
}
