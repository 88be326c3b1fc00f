//! The local-disk store's upload route (OPS-7): the browser PUTs a file's bytes here with
//! the link it was given, exactly as it would to an S3 presigned URL, and this route is as
//! strict: the signature over key, length, type and expiry, the expiry against the
//! server's clock, a single use, the signed `Content-Type`, and the length counted while
//! the body streams in (chunked bodies included). No Authorization header is needed.

use crate::{ApiError, AppState};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use storage::local::LocalError;
use storage::store::LocalUploadQuery;
use storage::{ObjectKey, ObjectStore};

pub async fn put(
    State(state): State<AppState>,
    axum::extract::Path(key): axum::extract::Path<String>,
    query: Result<Query<LocalUploadQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, ApiError> {
    let ObjectStore::Local(disk) = state.documents.objects() else {
        // With S3 the browser PUTs to the bucket; this route does not exist.
        return Err(ApiError::NotFound);
    };
    let refused = || ApiError::UploadRefused("This upload link is not valid.".into());
    let Ok(Query(query)) = query else {
        return Err(refused());
    };
    let key = ObjectKey::parse(&key).ok_or_else(refused)?;
    let grant = query.grant(key).ok_or_else(refused)?;
    disk.verify(&grant, &query.signature, state.clock.now())
        .map_err(upload_error)?;
    let sent_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if !sent_type.eq_ignore_ascii_case(&grant.content_type) {
        return Err(refused());
    }
    if let Some(length) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok())
    {
        if length != grant.length {
            return Err(upload_error(LocalError::WrongLength {
                allowed: grant.length,
                actual: length,
            }));
        }
    }
    disk.write(&grant, body.into_data_stream())
        .await
        .map_err(upload_error)?;
    Ok(StatusCode::OK)
}

fn upload_error(error: LocalError) -> ApiError {
    match error {
        LocalError::BadSignature => {
            ApiError::UploadRefused("This upload link is not valid.".into())
        }
        LocalError::Expired => {
            ApiError::UploadRefused("This upload link has expired: start the upload again.".into())
        }
        LocalError::AlreadyUsed => {
            ApiError::UploadRefused("This upload link was used already.".into())
        }
        wrong @ LocalError::WrongLength { .. } => ApiError::Malformed(wrong.to_string()),
        LocalError::Io(error) => ApiError::internal(error),
    }
}
