//! The side store of extracted texts (AI-1): a document's text is content, and can be
//! large, so events carry only a reference, its SHA-256 and its length, and the text lives
//! here sealed under the owner's data key — shredding the key erases it with everything
//! else of theirs. The envelope is bound to the document, so a row moved to another
//! document does not open.

use crate::envelope::{open, seal, DataKey, EnvelopeError};
use domain::document::classification::ExtractedText;
use domain::Sealed;
use sha2::{Digest, Sha256};
use thiserror::Error;
use uuid::Uuid;
use zeroize::Zeroizing;

#[derive(Debug, Error)]
pub enum TextStoreError {
    #[error("the stored text does not open with its owner's key")]
    Undecryptable(#[from] EnvelopeError),
    #[error("the stored text is not the one the event names (SHA-256 differs)")]
    Altered,
    #[error("the stored text is not UTF-8")]
    NotText,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The field the text is sealed under: bound to its document.
fn field(document_id: Uuid) -> String {
    format!("extracted_text:{document_id}")
}

/// A text's key in the store: the same text of the same document is stored once,
/// however often it is extracted.
pub fn text_id(document_id: Uuid, sha256: &str) -> Uuid {
    Uuid::new_v5(&document_id, sha256.as_bytes())
}

/// Seals and stores `text` of `owner`'s `document_id`; returns the reference an event
/// carries (without language and truncation, which the caller knows).
pub async fn put<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    key: &DataKey,
    owner: Uuid,
    document_id: Uuid,
    text: &str,
) -> Result<(Uuid, String, u64), TextStoreError> {
    let sha256 = hex::encode(Sha256::digest(text.as_bytes()));
    let id = text_id(document_id, &sha256);
    let sealed = seal(key, owner, &field(document_id), text.as_bytes());
    sqlx::query(
        "insert into document_texts (text_id, document_id, owner, sealed) values ($1, $2, $3, $4)
         on conflict (text_id) do nothing",
    )
    .bind(id)
    .bind(document_id)
    .bind(owner)
    .bind(sealed.as_str())
    .execute(executor)
    .await?;
    Ok((id, sha256, text.len() as u64))
}

/// The text an event names, checked against its SHA-256; `None` when it is gone (the
/// document was deleted and its texts with it).
pub async fn get<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    key: &DataKey,
    owner: Uuid,
    document_id: Uuid,
    reference: &ExtractedText,
) -> Result<Option<Zeroizing<String>>, TextStoreError> {
    let row: Option<(String,)> =
        sqlx::query_as("select sealed from document_texts where text_id = $1 and document_id = $2")
            .bind(reference.text_id)
            .bind(document_id)
            .fetch_optional(executor)
            .await?;
    let Some((sealed,)) = row else {
        return Ok(None);
    };
    let bytes = open(
        key,
        owner,
        &field(document_id),
        &Sealed::from_envelope(sealed),
    )?;
    if hex::encode(Sha256::digest(bytes.as_slice())) != reference.sha256 {
        return Err(TextStoreError::Altered);
    }
    let text = std::str::from_utf8(bytes.as_slice()).map_err(|_| TextStoreError::NotText)?;
    Ok(Some(Zeroizing::new(text.to_owned())))
}

/// Removes every text of a document that is gone.
pub async fn delete_document<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    document_id: Uuid,
) -> Result<u64, TextStoreError> {
    let deleted = sqlx::query("delete from document_texts where document_id = $1")
        .bind(document_id)
        .execute(executor)
        .await?;
    Ok(deleted.rows_affected())
}
