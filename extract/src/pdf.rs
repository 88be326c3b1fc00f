//! PDF through `lopdf`, which already bounds stream decompression, object nesting and page-tree
//! walks; on top we cap the object and page counts and refuse encrypted files.

use lopdf::{DecompressError, Document, LoadOptions};

use crate::error::ExtractError;
use crate::limits::Limits;
use crate::sink::TextSink;
use crate::MIB;

/// Pages per text-extraction call. lopdf walks the whole page tree on every call, so one call
/// per page is quadratic in the page count; each text object ends in a line break, which is
/// what separates pages inside a batch.
const PAGE_BATCH: u32 = 32;

pub(crate) fn extract(
    bytes: &[u8],
    limits: &Limits,
    sink: &mut TextSink,
) -> Result<(), ExtractError> {
    if bytes.is_empty() {
        return Err(ExtractError::Empty);
    }
    // Every object outside an object stream ends in `endobj`: refuse a file made of millions of
    // tiny objects before the parser allocates them all.
    if count_object_ends(bytes) > limits.max_pdf_objects {
        return Err(ExtractError::TooManyObjects);
    }
    let options = LoadOptions::with_max_decompressed_size(limits.max_pdf_stream_bytes);
    let document =
        Document::load_mem_with_options(bytes, options).map_err(|err| map_error(&err, limits))?;
    // lopdf decrypts with the empty user password when it can (owner-password-only files);
    // what is still encrypted needs a password we do not have.
    if document.trailer.has(b"Encrypt") {
        return Err(ExtractError::Encrypted);
    }
    if document.objects.len() > limits.max_pdf_objects {
        return Err(ExtractError::TooManyObjects);
    }
    let mut pages: u32 = 0;
    for _ in document.page_iter() {
        pages += 1;
        if pages as usize > limits.max_pdf_pages {
            return Err(ExtractError::TooManyPages);
        }
    }
    if pages == 0 {
        // A truncated or damaged file whose page tree did not survive.
        return Err(ExtractError::UnreadablePdf);
    }

    let mut failures = 0usize;
    let mut first = 1;
    while first <= pages && !sink.is_full() {
        let last = first.saturating_add(PAGE_BATCH - 1).min(pages);
        let numbers: Vec<u32> = (first..=last).collect();
        for chunk in document.extract_text_chunks_with_limit(&numbers, limits.max_pdf_stream_bytes)
        {
            match chunk {
                Ok(text) => sink.push_str(&text),
                Err(lopdf::Error::Decompress(DecompressError::MemoryLimitExceeded { .. })) => {
                    return Err(stream_too_large(limits));
                }
                Err(err) => {
                    failures += 1;
                    tracing::debug!(%err, "PDF text chunk not readable");
                }
            }
        }
        sink.newline();
        first = last + 1;
    }
    if failures > 0 && sink.is_empty() {
        return Err(ExtractError::UnreadablePdfText);
    }
    Ok(())
}

fn count_object_ends(bytes: &[u8]) -> usize {
    bytes
        .windows(6)
        .filter(|window| *window == b"endobj")
        .count()
}

fn stream_too_large(limits: &Limits) -> ExtractError {
    ExtractError::PdfStreamTooLarge {
        limit_mb: limits.max_pdf_stream_bytes as u64 / MIB,
    }
}

fn map_error(err: &lopdf::Error, limits: &Limits) -> ExtractError {
    tracing::debug!(%err, "PDF not loadable");
    match err {
        lopdf::Error::Decompress(DecompressError::MemoryLimitExceeded { .. }) => {
            stream_too_large(limits)
        }
        lopdf::Error::Decryption(_)
        | lopdf::Error::InvalidPassword
        | lopdf::Error::AlreadyEncrypted => ExtractError::Encrypted,
        _ => ExtractError::UnreadablePdf,
    }
}
