//! The S3 backend (OPS-7): objects in one bucket of any S3-compatible service, uploaded by
//! the browser through presigned PUT URLs (SECURITY 19).
//!
//! An upload URL binds everything the server can check for us: the key (path), the
//! exact `Content-Length`, the `Content-Type`, the start time and expiry, and
//! `If-None-Match: *`, so a URL creates its object once and can never replace it after
//! the content checks at confirm have read it. The service refuses a request that
//! differs in any of these (`storage/tests/s3.rs` proves it against a real server).
//!
//! The client speaks HTTPS through rustls with ring, the stack reqwest already brings,
//! rather than the SDK's default aws-lc build.

pub use crate::StoredObject;
use crate::{ByteRange, ByteStream, ObjectKey};
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region, RequestChecksumCalculation};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::get_object::GetObjectOutput;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use aws_sdk_s3::Client;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use chrono::{DateTime, Utc};
use std::fmt;
use std::time::{Duration, SystemTime};
use thiserror::Error;
use tokio_util::io::ReaderStream;

/// The headers an upload URL must sign; without them it would not bind the upload.
const SIGNED_FOR_UPLOAD: [&str; 4] = ["content-length", "content-type", "host", "if-none-match"];

/// Where the bucket is and how to reach it.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Config {
    /// A non-AWS endpoint (`http://127.0.0.1:9000`); `None` for AWS itself.
    pub endpoint: Option<String>,
    pub region: String,
    pub bucket: String,
    pub access_key: String,
    pub secret_key: String,
    /// `bucket` as the first path segment rather than a host name: local servers need it.
    pub path_style: bool,
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .field("path_style", &self.path_style)
            .finish()
    }
}

#[derive(Debug, Error)]
pub enum S3Error {
    /// The upload URL could not be made (a bad expiry, or the SDK failed): a server bug, 500.
    #[error("the upload link could not be made: {0}")]
    Presign(String),
    /// The SDK did not sign a header the upload URL relies on: a server bug, 500.
    #[error("the upload link would not bind the {0} header; refusing to hand it out")]
    Unsigned(&'static str),
    /// The service refused the request or could not be reached: 500 (503 for `/ready`).
    #[error("S3 {operation} failed{}: {message}", status_text(*.status))]
    Request {
        operation: &'static str,
        /// The HTTP status the service answered with, if it answered.
        status: Option<u16>,
        /// The SDK's error chain, which never carries the secret key.
        message: String,
    },
    /// The object is larger than the caller agreed to read: 413 or 422 by context.
    #[error("the object is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    /// The object's bytes broke off while being read: 500.
    #[error("reading the object from S3 failed: {0}")]
    Body(String),
}

fn status_text(status: Option<u16>) -> String {
    status
        .map(|code| format!(" (HTTP {code})"))
        .unwrap_or_default()
}

/// A presigned upload: the browser PUTs the bytes to `url` with exactly `headers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedUpload {
    pub url: String,
    /// The headers the browser must send, as signed. `Content-Length` is signed too but
    /// left out: browsers set it themselves from the body and refuse to let scripts do so.
    pub headers: Vec<(String, String)>,
}

/// Objects in one S3 bucket.
#[derive(Clone)]
pub struct S3Store {
    client: Client,
    bucket: String,
    region: String,
    page_size: Option<i32>,
}

impl fmt::Debug for S3Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Store")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl S3Store {
    pub fn new(config: S3Config) -> Self {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let credentials = Credentials::new(
            config.access_key,
            config.secret_key,
            None,
            None,
            "docuvault-config",
        );
        let mut builder = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(http)
            .region(Region::new(config.region.clone()))
            .credentials_provider(credentials)
            .force_path_style(config.path_style)
            // Otherwise the SDK adds a CRC32 of the (empty) body it sees at presign time to
            // every upload URL, and the real upload fails its checksum.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            // Bounded connects so `/ready` answers while the service is down; no overall
            // operation timeout, which would cut long downloads.
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .build(),
            );
        if let Some(endpoint) = config.endpoint {
            builder = builder.endpoint_url(endpoint);
        }
        Self {
            client: Client::from_conf(builder.build()),
            bucket: config.bucket,
            region: config.region,
            page_size: None,
        }
    }

    /// Lists in pages of at most `max_keys` objects (S3's own cap is 1000); tests use it
    /// to go through several pages.
    pub fn with_list_page_size(mut self, max_keys: i32) -> Self {
        self.page_size = Some(max_keys);
        self
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// A URL to PUT exactly `length` bytes of `content_type` to `key`, valid from
    /// `starts_at` for `expires_in` (at most 7 days), once.
    #[tracing::instrument(level = "debug", skip_all, fields(key = %key, length))]
    pub async fn presign_put(
        &self,
        key: &ObjectKey,
        length: u64,
        content_type: &str,
        starts_at: DateTime<Utc>,
        expires_in: Duration,
    ) -> Result<PresignedUpload, S3Error> {
        let presigning = PresigningConfig::builder()
            .start_time(SystemTime::from(starts_at))
            .expires_in(expires_in)
            .build()
            .map_err(|error| S3Error::Presign(DisplayErrorContext(&error).to_string()))?;
        let length = i64::try_from(length)
            .map_err(|_| S3Error::Presign(format!("a length of {length} bytes is out of range")))?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_length(length)
            .content_type(content_type)
            .if_none_match("*")
            .presigned(presigning)
            .await
            .map_err(|error| S3Error::Presign(DisplayErrorContext(&error).to_string()))?;
        let signed = signed_headers(request.uri());
        if let Some(missing) = SIGNED_FOR_UPLOAD
            .into_iter()
            .find(|name| !signed.iter().any(|signed| signed == name))
        {
            return Err(S3Error::Unsigned(missing));
        }
        let headers = request
            .headers()
            .filter(|(name, _)| {
                !name.eq_ignore_ascii_case("content-length") && !name.eq_ignore_ascii_case("host")
            })
            .map(|(name, value)| (header_case(name), value.to_owned()))
            .collect();
        Ok(PresignedUpload {
            url: request.uri().to_owned(),
            headers,
        })
    }

    /// The stored size of an object; `None` when it does not exist.
    #[tracing::instrument(level = "debug", skip_all, fields(key = %key))]
    pub async fn size(&self, key: &ObjectKey) -> Result<Option<u64>, S3Error> {
        let result = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await;
        match result {
            Ok(head) => Ok(Some(
                head.content_length()
                    .and_then(|length| u64::try_from(length).ok())
                    .unwrap_or(0),
            )),
            Err(error) if is_missing(&error) => Ok(None),
            Err(error) => Err(request_error("HeadObject", &error)),
        }
    }

    /// The whole object, refused with [`S3Error::TooLarge`] beyond `max_bytes` (checked
    /// on the announced length, then again as the bytes arrive).
    #[tracing::instrument(level = "debug", skip_all, fields(key = %key, max_bytes))]
    pub async fn read(&self, key: &ObjectKey, max_bytes: u64) -> Result<Option<Vec<u8>>, S3Error> {
        let Some(output) = self.get(key, None).await? else {
            return Ok(None);
        };
        let announced = output
            .content_length()
            .and_then(|length| u64::try_from(length).ok());
        if announced.is_some_and(|length| length > max_bytes) {
            return Err(S3Error::TooLarge { limit: max_bytes });
        }
        let capacity = announced.unwrap_or(0).min(max_bytes);
        let mut bytes = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
        let mut body = output.body;
        while let Some(chunk) = body
            .try_next()
            .await
            .map_err(|error| S3Error::Body(DisplayErrorContext(&error).to_string()))?
        {
            if (bytes.len() as u64).saturating_add(chunk.len() as u64) > max_bytes {
                return Err(S3Error::TooLarge { limit: max_bytes });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Some(bytes))
    }

    /// Streams an object, or the inclusive `range` of it; `None` when it does not exist.
    #[tracing::instrument(level = "debug", skip_all, fields(key = %key, ?range))]
    pub async fn stream(
        &self,
        key: &ObjectKey,
        range: Option<ByteRange>,
    ) -> Result<Option<ByteStream>, S3Error> {
        let Some(output) = self.get(key, range).await? else {
            return Ok(None);
        };
        let stream: ByteStream = Box::pin(ReaderStream::new(output.body.into_async_read()));
        Ok(Some(stream))
    }

    async fn get(
        &self,
        key: &ObjectKey,
        range: Option<ByteRange>,
    ) -> Result<Option<GetObjectOutput>, S3Error> {
        let result = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .set_range(range.map(|range| format!("bytes={}-{}", range.first, range.last)))
            .send()
            .await;
        match result {
            Ok(output) => Ok(Some(output)),
            Err(error) if is_missing(&error) => Ok(None),
            Err(error) => Err(request_error("GetObject", &error)),
        }
    }

    /// Deletes an object; deleting a missing one is not an error.
    #[tracing::instrument(level = "debug", skip_all, fields(key = %key))]
    pub async fn delete(&self, key: &ObjectKey) -> Result<(), S3Error> {
        let result = self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) if is_missing(&error) => Ok(()),
            Err(error) => Err(request_error("DeleteObject", &error)),
        }
    }

    /// Every object in the bucket shaped like an [`ObjectKey`], with its last change, for
    /// the sweeper; page after page through continuation tokens. Objects DocuVault did not
    /// name are left out, as the local store leaves out stray files, so the sweeper can
    /// never touch them.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list(&self) -> Result<Vec<StoredObject>, S3Error> {
        let mut found = Vec::new();
        let mut skipped = 0usize;
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .set_max_keys(self.page_size)
                .set_continuation_token(token.clone())
                .send()
                .await
                .map_err(|error| request_error("ListObjectsV2", &error))?;
            for object in page.contents() {
                let key = object.key().and_then(ObjectKey::parse);
                let last_modified = object
                    .last_modified()
                    .and_then(|time| DateTime::from_timestamp(time.secs(), time.subsec_nanos()));
                match (key, last_modified) {
                    (Some(key), Some(last_modified)) => found.push(StoredObject {
                        key: key.as_str().to_owned(),
                        last_modified,
                    }),
                    _ => skipped += 1,
                }
            }
            let next = page
                .next_continuation_token()
                .filter(|_| page.is_truncated() == Some(true));
            match next {
                // A service that hands back the token it was given would loop forever.
                Some(next) if token.as_deref() == Some(next) => {
                    return Err(S3Error::Request {
                        operation: "ListObjectsV2",
                        status: None,
                        message: "the continuation token did not advance".into(),
                    })
                }
                Some(next) => token = Some(next.to_owned()),
                None => break,
            }
        }
        if skipped > 0 {
            tracing::debug!(
                skipped,
                "objects not shaped like keys left out of the listing"
            );
        }
        Ok(found)
    }

    /// Whether the bucket answers (for `/ready`).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn check(&self) -> Result<(), S3Error> {
        self.client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map_err(|error| request_error("HeadBucket", &error))?;
        Ok(())
    }

    /// Creates the bucket if it does not exist (development and tests; production buckets
    /// are provisioned with their CORS and lifecycle rules).
    #[tracing::instrument(level = "debug", skip_all, fields(bucket = %self.bucket))]
    pub async fn ensure_bucket(&self) -> Result<(), S3Error> {
        match self.client.head_bucket().bucket(&self.bucket).send().await {
            Ok(_) => return Ok(()),
            Err(error) if is_missing(&error) => {}
            Err(error) => return Err(request_error("HeadBucket", &error)),
        }
        // us-east-1 is the one region that refuses to be named as a location constraint.
        let location = (self.region != "us-east-1").then(|| {
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(self.region.as_str()))
                .build()
        });
        let result = self
            .client
            .create_bucket()
            .bucket(&self.bucket)
            .set_create_bucket_configuration(location)
            .send()
            .await;
        match result {
            Ok(_) => {
                tracing::info!(bucket = %self.bucket, "created the bucket");
                Ok(())
            }
            Err(error) if error.code() == Some("BucketAlreadyOwnedByYou") => Ok(()),
            Err(error) => Err(request_error("CreateBucket", &error)),
        }
    }
}

/// A 404 that is not about the bucket: the object (or, for HEAD, the thing asked about)
/// does not exist.
fn is_missing<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> bool {
    let not_found = error
        .raw_response()
        .is_some_and(|response| response.status().as_u16() == 404);
    let code = match error {
        SdkError::ServiceError(service) => service.err().code(),
        _ => None,
    };
    (not_found && code != Some("NoSuchBucket")) || code == Some("NoSuchKey")
}

fn request_error<E>(operation: &'static str, error: &SdkError<E, HttpResponse>) -> S3Error
where
    E: std::error::Error + 'static,
{
    S3Error::Request {
        operation,
        status: error
            .raw_response()
            .map(|response| response.status().as_u16()),
        message: DisplayErrorContext(error).to_string(),
    }
}

/// The lower-case header names a presigned URL's `X-Amz-SignedHeaders` lists.
fn signed_headers(url: &str) -> Vec<String> {
    let query = url.split_once('?').map(|(_, query)| query).unwrap_or("");
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(name, _)| *name == "X-Amz-SignedHeaders")
        .flat_map(|(_, value)| {
            value
                .replace("%3B", ";")
                .replace("%3b", ";")
                .split(';')
                .map(str::to_ascii_lowercase)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `content-type` as browsers and the API's docs write it: `Content-Type`.
fn header_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_headers_are_read_from_the_query() {
        let url = "http://h/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256\
                   &X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost&X-Amz-Signature=ab";
        assert_eq!(
            signed_headers(url),
            vec!["content-length", "content-type", "host"]
        );
        assert!(signed_headers("http://h/b/k").is_empty());
    }

    #[test]
    fn header_names_are_written_as_browsers_write_them() {
        assert_eq!(header_case("content-type"), "Content-Type");
        assert_eq!(header_case("if-none-match"), "If-None-Match");
    }

    #[test]
    fn the_secret_key_never_shows_in_debug_output() {
        let config = S3Config {
            endpoint: None,
            region: "eu-west-1".into(),
            bucket: "b".into(),
            access_key: "AKIDEXAMPLE".into(),
            secret_key: "wJalrXUtnFEMI-secret".into(),
            path_style: false,
        };
        assert!(!format!("{config:?}").contains("wJalrXUtnFEMI"));
        assert!(!format!("{:?}", S3Store::new(config)).contains("wJalrXUtnFEMI"));
    }
}
