//! The embedded default store (OPS-7): objects as files under a directory, written
//! through upload URLs the API signs, so the browser still PUTs bytes in one step of its
//! own, checked as strictly as S3 checks its presigned URLs: an HMAC over key, length,
//! content type and expiry; expiry against the server's clock; a single use (an object
//! is written once); and a length cap enforced while the body streams in, chunked bodies
//! included.

use crate::{ByteRange, ByteStream, ObjectKey, StoredObject};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::{Path, PathBuf};
use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio_util::io::ReaderStream;
use zeroize::Zeroizing;

#[derive(Debug, Error)]
pub enum LocalError {
    /// The signature, key or parameters do not match (as S3: 403).
    #[error("the upload link is not valid")]
    BadSignature,
    #[error("the upload link has expired")]
    Expired,
    /// The object exists already: a link works once.
    #[error("this upload link was used already")]
    AlreadyUsed,
    #[error("the body is {actual} bytes, the link allows exactly {allowed}")]
    WrongLength { allowed: u64, actual: u64 },
    #[error("storage failure: {0}")]
    Io(#[from] std::io::Error),
}

/// What a signed upload link allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadGrant {
    pub key: ObjectKey,
    pub length: u64,
    pub content_type: String,
    pub expires_at: DateTime<Utc>,
}

impl UploadGrant {
    fn message(&self) -> String {
        format!(
            "docuvault-local-upload\n{}\n{}\n{}\n{}",
            self.key,
            self.length,
            self.content_type,
            self.expires_at.timestamp()
        )
    }
}

/// What a walk of the directory finds.
struct Walked {
    objects: Vec<StoredObject>,
    unfinished: Vec<(PathBuf, DateTime<Utc>)>,
}

#[derive(Clone)]
pub struct LocalDisk {
    root: PathBuf,
    signing_key: Zeroizing<[u8; 32]>,
}

impl LocalDisk {
    /// Objects under `root`; upload links signed with `signing_key` (derived from the
    /// master secret, so every API instance agrees).
    pub fn new(root: impl Into<PathBuf>, signing_key: Zeroizing<[u8; 32]>) -> Self {
        Self {
            root: root.into(),
            signing_key,
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn mac(&self, grant: &UploadGrant) -> Hmac<Sha256> {
        // HMAC takes keys of any length.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.signing_key.as_ref())
            .unwrap_or_else(|_| unreachable_key());
        mac.update(grant.message().as_bytes());
        mac
    }

    /// The signature of `grant`, for the upload link's query.
    pub fn sign(&self, grant: &UploadGrant) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(grant).finalize().into_bytes())
    }

    /// Checks a link's parameters against its signature and the clock.
    pub fn verify(
        &self,
        grant: &UploadGrant,
        signature: &str,
        now: DateTime<Utc>,
    ) -> Result<(), LocalError> {
        let Ok(raw) = URL_SAFE_NO_PAD.decode(signature) else {
            return Err(LocalError::BadSignature);
        };
        self.mac(grant)
            .verify_slice(&raw)
            .map_err(|_| LocalError::BadSignature)?;
        if now >= grant.expires_at {
            return Err(LocalError::Expired);
        }
        Ok(())
    }

    fn path_of(&self, key: &ObjectKey) -> PathBuf {
        // Keys are checked to be three UUID-shaped segments: no component can escape.
        self.root.join(key.as_str())
    }

    /// Writes the body of a verified upload: at most `grant.length` bytes are accepted
    /// as they arrive, exactly that many must arrive, and an object is written once. A
    /// refused body leaves nothing behind.
    pub async fn write<S, E>(&self, grant: &UploadGrant, mut body: S) -> Result<u64, LocalError>
    where
        S: futures_core::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let path = self.path_of(&grant.key);
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        let partial = path.with_extension("part");
        let mut file = match tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&partial)
            .await
        {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(LocalError::AlreadyUsed)
            }
            Err(error) => return Err(error.into()),
        };
        if tokio::fs::try_exists(&path).await? {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(LocalError::AlreadyUsed);
        }
        let result = async {
            let mut written: u64 = 0;
            while let Some(chunk) = next(&mut body).await {
                let chunk = chunk.map_err(|error| std::io::Error::other(error.to_string()))?;
                written += chunk.len() as u64;
                if written > grant.length {
                    return Err(LocalError::WrongLength {
                        allowed: grant.length,
                        actual: written,
                    });
                }
                file.write_all(&chunk).await?;
            }
            if written != grant.length {
                return Err(LocalError::WrongLength {
                    allowed: grant.length,
                    actual: written,
                });
            }
            file.sync_all().await?;
            Ok(written)
        }
        .await;
        match result {
            Ok(written) => {
                tokio::fs::rename(&partial, &path).await?;
                Ok(written)
            }
            Err(error) => {
                let _ = tokio::fs::remove_file(&partial).await;
                Err(error)
            }
        }
    }

    /// The stored size of an object, if it exists.
    pub async fn size(&self, key: &ObjectKey) -> Result<Option<u64>, LocalError> {
        match tokio::fs::metadata(self.path_of(key)).await {
            Ok(metadata) => Ok(Some(metadata.len())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// Reads an object whole (content checks read it at confirm).
    pub async fn read(&self, key: &ObjectKey) -> Result<Option<Vec<u8>>, LocalError> {
        match tokio::fs::read(self.path_of(key)).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// Streams an object, or the inclusive `range` of it, if it exists.
    pub async fn stream(
        &self,
        key: &ObjectKey,
        range: Option<ByteRange>,
    ) -> Result<Option<ByteStream>, LocalError> {
        let mut file = match tokio::fs::File::open(self.path_of(key)).await {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error.into()),
        };
        let stream: ByteStream = match range {
            Some(range) => {
                file.seek(std::io::SeekFrom::Start(range.first)).await?;
                Box::pin(ReaderStream::new(file.take(range.len())))
            }
            None => Box::pin(ReaderStream::new(file)),
        };
        Ok(Some(stream))
    }

    /// Every stored object with its last change, for the sweeper. Unfinished uploads
    /// (`.part` files) and anything not shaped like a key are left out.
    pub async fn list(&self) -> Result<Vec<StoredObject>, LocalError> {
        Ok(self.walk().await?.objects)
    }

    /// Removes unfinished uploads (`.part` files) last written before `before`: what an
    /// upload cut off by a crash leaves. Returns how many.
    pub async fn remove_unfinished(&self, before: DateTime<Utc>) -> Result<usize, LocalError> {
        let mut removed = 0;
        for (path, modified) in self.walk().await?.unfinished {
            if modified < before {
                match tokio::fs::remove_file(&path).await {
                    Ok(()) => removed += 1,
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                    Err(error) => return Err(error.into()),
                }
            }
        }
        Ok(removed)
    }

    async fn walk(&self) -> Result<Walked, LocalError> {
        let mut found = Vec::new();
        let mut unfinished = Vec::new();
        let mut directories = vec![self.root.clone()];
        while let Some(directory) = directories.pop() {
            let mut entries = match tokio::fs::read_dir(&directory).await {
                Ok(entries) => entries,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
                Err(error) => return Err(error.into()),
            };
            while let Some(entry) = entries.next_entry().await? {
                let metadata = entry.metadata().await?;
                if metadata.is_dir() {
                    directories.push(entry.path());
                    continue;
                }
                if entry
                    .path()
                    .extension()
                    .is_some_and(|extension| extension == "part")
                {
                    unfinished.push((entry.path(), metadata.modified()?.into()));
                    continue;
                }
                let Ok(relative) = entry.path().strip_prefix(&self.root).map(Path::to_path_buf)
                else {
                    continue;
                };
                let Some(key) = relative.to_str().and_then(ObjectKey::parse) else {
                    continue;
                };
                found.push(StoredObject {
                    key: key.as_str().to_owned(),
                    last_modified: metadata.modified()?.into(),
                });
            }
        }
        Ok(Walked {
            objects: found,
            unfinished,
        })
    }

    /// Whether the store's directory can be written (for `/ready`).
    pub async fn check(&self) -> Result<(), LocalError> {
        tokio::fs::create_dir_all(&self.root).await?;
        let probe = self.root.join(format!(".ready-{}", uuid::Uuid::new_v4()));
        tokio::fs::write(&probe, b"").await?;
        tokio::fs::remove_file(&probe).await?;
        Ok(())
    }

    /// Deletes an object; deleting a missing one is not an error.
    pub async fn delete(&self, key: &ObjectKey) -> Result<(), LocalError> {
        match tokio::fs::remove_file(self.path_of(key)).await {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(error.into()),
        }
    }
}

async fn next<S, T>(stream: &mut S) -> Option<T>
where
    S: futures_core::Stream<Item = T> + Unpin,
{
    std::future::poll_fn(|cx| std::pin::Pin::new(&mut *stream).poll_next(cx)).await
}

#[allow(clippy::panic)]
fn unreachable_key() -> Hmac<Sha256> {
    panic!("HMAC-SHA256 refused a 32-byte key")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use domain::document::DocumentKind;
    use uuid::Uuid;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
    }

    fn disk() -> (LocalDisk, PathBuf) {
        let root = std::env::temp_dir().join(format!("dv-local-{}", Uuid::new_v4()));
        (LocalDisk::new(&root, Zeroizing::new([5u8; 32])), root)
    }

    fn grant(length: u64) -> UploadGrant {
        UploadGrant {
            key: ObjectKey::new(Uuid::new_v4(), Uuid::new_v4(), DocumentKind::Text),
            length,
            content_type: "text/plain".into(),
            expires_at: now() + Duration::minutes(10),
        }
    }

    fn body(
        chunks: &[&[u8]],
    ) -> impl futures_core::Stream<Item = Result<bytes::Bytes, String>> + Unpin {
        let items: Vec<Result<bytes::Bytes, String>> = chunks
            .iter()
            .map(|chunk| Ok(bytes::Bytes::copy_from_slice(chunk)))
            .collect();
        Chunks(items.into_iter())
    }

    struct Chunks(std::vec::IntoIter<Result<bytes::Bytes, String>>);

    impl futures_core::Stream for Chunks {
        type Item = Result<bytes::Bytes, String>;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            std::task::Poll::Ready(self.0.next())
        }
    }

    async fn collect(mut stream: ByteStream) -> Vec<u8> {
        let mut bytes = Vec::new();
        while let Some(chunk) = next(&mut stream).await {
            bytes.extend_from_slice(&chunk.unwrap());
        }
        bytes
    }

    #[test]
    fn a_signature_covers_key_length_type_and_expiry() {
        let (disk, _) = disk();
        let good = grant(5);
        let signature = disk.sign(&good);
        assert!(disk.verify(&good, &signature, now()).is_ok());
        let tampered = [
            UploadGrant {
                length: 6,
                ..good.clone()
            },
            UploadGrant {
                content_type: "text/html".into(),
                ..good.clone()
            },
            UploadGrant {
                key: ObjectKey::new(Uuid::new_v4(), Uuid::new_v4(), DocumentKind::Text),
                ..good.clone()
            },
            UploadGrant {
                expires_at: good.expires_at + Duration::hours(1),
                ..good.clone()
            },
        ];
        for other in tampered {
            assert!(matches!(
                disk.verify(&other, &signature, now()),
                Err(LocalError::BadSignature)
            ));
        }
        assert!(matches!(
            disk.verify(&good, "not-base64!", now()),
            Err(LocalError::BadSignature)
        ));
        assert!(matches!(
            disk.verify(&good, &signature, good.expires_at),
            Err(LocalError::Expired)
        ));
    }

    #[tokio::test]
    async fn bodies_are_written_once_at_exactly_their_length() {
        let (disk, root) = disk();
        let exact = grant(5);
        assert_eq!(disk.write(&exact, body(&[b"he", b"llo"])).await.unwrap(), 5);
        assert_eq!(disk.size(&exact.key).await.unwrap(), Some(5));
        assert_eq!(
            disk.read(&exact.key).await.unwrap(),
            Some(b"hello".to_vec())
        );
        assert!(matches!(
            disk.write(&exact, body(&[b"hello"])).await,
            Err(LocalError::AlreadyUsed)
        ));

        let long = grant(3);
        assert!(matches!(
            disk.write(&long, body(&[b"ab", b"cd"])).await,
            Err(LocalError::WrongLength {
                allowed: 3,
                actual: 4
            })
        ));
        let short = grant(10);
        assert!(matches!(
            disk.write(&short, body(&[b"abc"])).await,
            Err(LocalError::WrongLength {
                allowed: 10,
                actual: 3
            })
        ));
        for refused in [&long, &short] {
            assert_eq!(disk.size(&refused.key).await.unwrap(), None);
        }

        let listed = disk.list().await.unwrap();
        assert_eq!(listed.len(), 1);
        // What a crash mid-upload leaves is not an object, and goes once it is old.
        let crashed = grant(4);
        let part = root.join(crashed.key.as_str()).with_extension("part");
        std::fs::create_dir_all(part.parent().unwrap()).unwrap();
        std::fs::write(&part, b"ha").unwrap();
        assert_eq!(disk.list().await.unwrap().len(), 1);
        let written: DateTime<Utc> = std::fs::metadata(&part).unwrap().modified().unwrap().into();
        assert_eq!(
            disk.remove_unfinished(written - Duration::hours(1))
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            disk.remove_unfinished(written + Duration::hours(1))
                .await
                .unwrap(),
            1
        );
        assert!(!part.exists());
        assert_eq!(listed[0].key, exact.key.as_str());
        let part = disk
            .stream(&exact.key, Some(ByteRange { first: 1, last: 3 }))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(collect(part).await, b"ell");
        let whole = disk.stream(&exact.key, None).await.unwrap().unwrap();
        assert_eq!(collect(whole).await, b"hello");

        disk.delete(&exact.key).await.unwrap();
        disk.delete(&exact.key).await.unwrap();
        assert!(disk.stream(&exact.key, None).await.unwrap().is_none());
        assert_eq!(disk.size(&exact.key).await.unwrap(), None);
        let _ = std::fs::remove_dir_all(root);
    }
}
