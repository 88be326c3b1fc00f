//! Why a file was refused.

/// What is wrong with the file. Messages are short, name the file's fault and never quote its
/// content, so they can be shown to the uploader and logged; [`ExtractError::code`] is the
/// stable machine form (events, metrics, the child's JSON line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    /// Zero bytes where the format needs a header (PDF, DOCX).
    #[error("the file is empty")]
    Empty,
    /// Over [`crate::Limits::max_input_bytes`].
    #[error("the file is larger than {limit_mb} MB")]
    TooLarge { limit_mb: u64 },
    /// Declared as text or Markdown, but holds NUL bytes or mostly control characters.
    #[error("binary data declared as text")]
    Binary,
    /// Declared as text or Markdown, but not UTF-8.
    #[error("the text is not valid UTF-8")]
    InvalidUtf8,
    /// Not a zip archive, or one without a readable `word/document.xml`.
    #[error("not a readable DOCX file")]
    UnreadableDocx,
    /// More central-directory entries than [`crate::Limits::max_zip_entries`].
    #[error("the archive has too many entries")]
    TooManyEntries,
    /// An entry name that is absolute, climbs out with `..`, or holds a NUL.
    #[error("the archive contains an entry with an unsafe path")]
    UnsafeEntryName,
    /// The entries declare more than [`crate::Limits::max_inflated_bytes`] together.
    #[error("the archive would inflate to more than {limit_mb} MB")]
    ArchiveTooLarge { limit_mb: u64 },
    /// An entry compresses better than [`crate::Limits::max_ratio`]: the mark of a zip bomb.
    #[error("an archive entry is compressed suspiciously well (more than {max_ratio}:1)")]
    CompressionRatio { max_ratio: u64 },
    /// An entry inflates past the size its header declares: the archive lies about its sizes.
    #[error("an archive entry inflates to more than its declared size")]
    SizeMismatch,
    /// An entry uses a compression method other than stored or deflate.
    #[error("the archive uses an unsupported compression method")]
    UnsupportedCompression,
    /// The XML holds a document type declaration (the door to entity expansion and XXE).
    #[error("the document contains a DTD, which is not allowed")]
    XmlDtd,
    /// Elements nested deeper than [`crate::Limits::max_xml_depth`].
    #[error("the document's XML is nested too deeply")]
    XmlTooDeep,
    /// Encrypted PDF or zip entries: we cannot read them without the password.
    #[error("the document is encrypted")]
    Encrypted,
    /// Not a PDF, or one damaged past what the parser repairs (e.g. truncated).
    #[error("not a readable PDF")]
    UnreadablePdf,
    /// More objects than [`crate::Limits::max_pdf_objects`].
    #[error("the PDF has too many objects")]
    TooManyObjects,
    /// More pages than [`crate::Limits::max_pdf_pages`].
    #[error("the PDF has too many pages")]
    TooManyPages,
    /// A stream would decompress past [`crate::Limits::max_pdf_stream_bytes`].
    #[error("a PDF stream would inflate to more than {limit_mb} MB")]
    PdfStreamTooLarge { limit_mb: u64 },
    /// The pages exist but none of their text could be decoded.
    #[error("the PDF's text cannot be read")]
    UnreadablePdfText,
}

impl ExtractError {
    /// Every code [`ExtractError::code`] can return: the parent accepts no other from a child.
    pub const CODES: [&'static str; 19] = [
        "empty_file",
        "too_large",
        "binary",
        "invalid_utf8",
        "unreadable_docx",
        "too_many_entries",
        "unsafe_entry_name",
        "archive_too_large",
        "compression_ratio",
        "size_mismatch",
        "unsupported_compression",
        "xml_dtd",
        "xml_too_deep",
        "encrypted",
        "unreadable_pdf",
        "too_many_objects",
        "too_many_pages",
        "pdf_stream_too_large",
        "unreadable_pdf_text",
    ];

    /// The stable snake_case code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            ExtractError::Empty => "empty_file",
            ExtractError::TooLarge { .. } => "too_large",
            ExtractError::Binary => "binary",
            ExtractError::InvalidUtf8 => "invalid_utf8",
            ExtractError::UnreadableDocx => "unreadable_docx",
            ExtractError::TooManyEntries => "too_many_entries",
            ExtractError::UnsafeEntryName => "unsafe_entry_name",
            ExtractError::ArchiveTooLarge { .. } => "archive_too_large",
            ExtractError::CompressionRatio { .. } => "compression_ratio",
            ExtractError::SizeMismatch => "size_mismatch",
            ExtractError::UnsupportedCompression => "unsupported_compression",
            ExtractError::XmlDtd => "xml_dtd",
            ExtractError::XmlTooDeep => "xml_too_deep",
            ExtractError::Encrypted => "encrypted",
            ExtractError::UnreadablePdf => "unreadable_pdf",
            ExtractError::TooManyObjects => "too_many_objects",
            ExtractError::TooManyPages => "too_many_pages",
            ExtractError::PdfStreamTooLarge { .. } => "pdf_stream_too_large",
            ExtractError::UnreadablePdfText => "unreadable_pdf_text",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_listed_once_and_snake_case() {
        let all = [
            ExtractError::Empty,
            ExtractError::TooLarge { limit_mb: 1 },
            ExtractError::Binary,
            ExtractError::InvalidUtf8,
            ExtractError::UnreadableDocx,
            ExtractError::TooManyEntries,
            ExtractError::UnsafeEntryName,
            ExtractError::ArchiveTooLarge { limit_mb: 1 },
            ExtractError::CompressionRatio { max_ratio: 1 },
            ExtractError::SizeMismatch,
            ExtractError::UnsupportedCompression,
            ExtractError::XmlDtd,
            ExtractError::XmlTooDeep,
            ExtractError::Encrypted,
            ExtractError::UnreadablePdf,
            ExtractError::TooManyObjects,
            ExtractError::TooManyPages,
            ExtractError::PdfStreamTooLarge { limit_mb: 1 },
            ExtractError::UnreadablePdfText,
        ];
        let codes: Vec<&str> = all.iter().map(ExtractError::code).collect();
        assert_eq!(codes, ExtractError::CODES);
        let mut unique = codes.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), codes.len());
        for code in codes {
            assert!(code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
        }
    }
}
