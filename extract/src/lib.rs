//! Text extraction from uploaded documents (SPEC AI-4, SECURITY item 26).
//!
//! Uploaded files are hostile input, so extraction comes in two layers:
//!
//! 1. [`extract`] parses PDF, DOCX, plain text and Markdown in-process, with every limit we can
//!    check up front (zip central directory, PDF object and page counts, XML depth, output size).
//! 2. [`Sandbox`] runs layer 1 in a child process ([`child_main`]) that first caps its own
//!    address space, CPU time, open files and file writes: a parser that loops or allocates
//!    without end kills only the child, and the parent's wall clock kills what the CPU cap
//!    misses (a child blocked on nothing).
//!
//! Errors describe what is wrong with the *file*, never its content: their messages may be shown
//! to the uploader and logged.

mod child;
mod docx;
mod error;
mod kind;
mod language;
mod limits;
mod pdf;
mod sandbox;
mod sink;
mod text;

pub use child::{child_args, child_main, parse_child_args};
pub use error::ExtractError;
pub use kind::{Kind, UnknownKind};
pub use language::pg_text_search_config;
pub use limits::Limits;
pub use sandbox::{Refusal, Sandbox, SandboxError};

/// The text of a document, ready for full-text indexing and classification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// Words of the document; runs of whitespace collapsed to one space, or to one newline where
    /// the run held a line or paragraph break. Empty when the file has no text (a scanned PDF).
    pub text: String,
    /// The PostgreSQL text-search configuration matching the detected language (`"german"`),
    /// or `None` when the language is unknown, unreliable or has no stock configuration: the
    /// caller then uses `simple`.
    pub language: Option<&'static str>,
    /// The text hit [`Limits::max_text_bytes`] and was cut at a character boundary.
    pub truncated: bool,
}

/// Extracts the text of a document of the given kind, in this process.
///
/// Bounded in memory by the checks in [`Limits`], but not in time: a parser stuck on a crafted
/// file cannot be interrupted. Production runs this behind [`Sandbox`].
#[tracing::instrument(skip_all, fields(kind = kind.as_str(), bytes = bytes.len()))]
pub fn extract(kind: Kind, bytes: &[u8], limits: &Limits) -> Result<Extracted, ExtractError> {
    if bytes.len() as u64 > limits.max_input_bytes {
        return Err(ExtractError::TooLarge {
            limit_mb: limits.max_input_bytes / MIB,
        });
    }
    let mut sink = sink::TextSink::new(limits.max_text_bytes);
    match kind {
        Kind::Text => text::plain(bytes, &mut sink)?,
        Kind::Markdown => text::markdown(bytes, &mut sink)?,
        Kind::Docx => docx::extract(bytes, limits, &mut sink)?,
        Kind::Pdf => pdf::extract(bytes, limits, &mut sink)?,
    }
    let (text, truncated) = sink.finish();
    let language = language::detect(&text);
    Ok(Extracted {
        text,
        language,
        truncated,
    })
}

pub(crate) const MIB: u64 = 1024 * 1024;
