//! Deciding what an uploaded object is, from its bytes (DOC-1; SECURITY 21, 26).
//!
//! - PDF: starts with `%PDF-`.
//! - DOCX: a zip whose central directory is sane (entry count, declared sizes and ratio
//!   within limits, no absolute or `..` names) and that holds `word/document.xml`;
//!   checked from the directory alone, nothing is inflated.
//! - Text and Markdown: valid UTF-8 without NUL.
//!
//! The declared type must agree with the bytes: HTML declared as PDF is refused.

use domain::document::DocumentKind;
use std::io::Cursor;
use thiserror::Error;

/// Limits for DOCX archives, checked before anything is inflated.
pub const MAX_ZIP_ENTRIES: usize = 2_000;
pub const MAX_ZIP_INFLATED_BYTES: u64 = 200 * 1024 * 1024;
pub const MAX_ZIP_RATIO: u64 = 100;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ContentError {
    #[error("the file is not a {0}")]
    NotWhatWasDeclared(&'static str),
    #[error("the archive is not acceptable: {0}")]
    UnsafeArchive(&'static str),
}

/// The kind of `bytes`, which must match `declared`.
pub fn check(bytes: &[u8], declared: DocumentKind) -> Result<DocumentKind, ContentError> {
    match declared {
        DocumentKind::Pdf => {
            if bytes.starts_with(b"%PDF-") {
                Ok(DocumentKind::Pdf)
            } else {
                Err(ContentError::NotWhatWasDeclared("PDF"))
            }
        }
        DocumentKind::Docx => check_docx(bytes).map(|()| DocumentKind::Docx),
        DocumentKind::Text | DocumentKind::Markdown => {
            if !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok() {
                Ok(declared)
            } else {
                Err(ContentError::NotWhatWasDeclared("text file"))
            }
        }
    }
}

fn check_docx(bytes: &[u8]) -> Result<(), ContentError> {
    if !bytes.starts_with(b"PK\x03\x04") {
        return Err(ContentError::NotWhatWasDeclared("Word document"));
    }
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|_| ContentError::NotWhatWasDeclared("Word document"))?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(ContentError::UnsafeArchive("too many entries"));
    }
    let mut inflated: u64 = 0;
    let mut has_document = false;
    for index in 0..archive.len() {
        let Some(entry) = archive.name_for_index(index) else {
            return Err(ContentError::UnsafeArchive("an entry has no name"));
        };
        if entry.starts_with('/')
            || entry.starts_with('\\')
            || entry.split(['/', '\\']).any(|part| part == "..")
        {
            return Err(ContentError::UnsafeArchive("an entry escapes the archive"));
        }
        has_document |= entry == "word/document.xml";
    }
    for index in 0..archive.len() {
        let entry = archive
            .by_index_raw(index)
            .map_err(|_| ContentError::NotWhatWasDeclared("Word document"))?;
        let size = entry.size();
        let compressed = entry.compressed_size().max(1);
        inflated = inflated.saturating_add(size);
        if size / compressed > MAX_ZIP_RATIO {
            return Err(ContentError::UnsafeArchive("an entry inflates too much"));
        }
    }
    if inflated > MAX_ZIP_INFLATED_BYTES {
        return Err(ContentError::UnsafeArchive("it inflates too much"));
    }
    if !has_document {
        return Err(ContentError::NotWhatWasDeclared("Word document"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    fn zip_with(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut buffer = Cursor::new(Vec::new());
        let mut writer = zip::ZipWriter::new(&mut buffer);
        let options =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, body) in entries {
            writer.start_file(*name, options).unwrap();
            writer.write_all(body).unwrap();
        }
        writer.finish().unwrap();
        buffer.into_inner()
    }

    #[test]
    fn pdfs_are_recognised_and_html_posing_as_pdf_is_refused() {
        assert_eq!(
            check(b"%PDF-1.7\n...", DocumentKind::Pdf),
            Ok(DocumentKind::Pdf)
        );
        assert!(check(
            b"<!DOCTYPE html><script>alert(1)</script>",
            DocumentKind::Pdf
        )
        .is_err());
        assert!(check(b"", DocumentKind::Pdf).is_err());
    }

    #[test]
    fn text_must_be_utf8_without_nul() {
        assert_eq!(
            check("Grüße\n# Title".as_bytes(), DocumentKind::Markdown),
            Ok(DocumentKind::Markdown)
        );
        assert!(check(b"abc\0def", DocumentKind::Text).is_err());
        assert!(check(&[0xff, 0xfe, 0x41], DocumentKind::Text).is_err());
    }

    #[test]
    fn a_docx_needs_its_document_part() {
        let good = zip_with(&[
            ("[Content_Types].xml", b"<Types/>".to_vec()),
            ("word/document.xml", b"<w:document/>".to_vec()),
        ]);
        assert_eq!(check(&good, DocumentKind::Docx), Ok(DocumentKind::Docx));
        let other = zip_with(&[("hello.txt", b"hi".to_vec())]);
        assert!(check(&other, DocumentKind::Docx).is_err());
        assert!(check(b"%PDF-1.4", DocumentKind::Docx).is_err());
    }

    #[test]
    fn a_zip_bomb_is_refused_from_its_directory() {
        // 20 MB of zeros compresses to about 20 KB: a ratio far above the limit.
        let bomb = zip_with(&[("word/document.xml", vec![0u8; 20 * 1024 * 1024])]);
        assert!(bomb.len() < 100 * 1024, "{}", bomb.len());
        assert_eq!(
            check(&bomb, DocumentKind::Docx),
            Err(ContentError::UnsafeArchive("an entry inflates too much"))
        );
    }

    #[test]
    fn entries_that_escape_are_refused() {
        let escaping = zip_with(&[
            ("word/document.xml", b"<w:document/>".to_vec()),
            ("../../etc/passwd", b"x".to_vec()),
        ]);
        assert_eq!(
            check(&escaping, DocumentKind::Docx),
            Err(ContentError::UnsafeArchive("an entry escapes the archive"))
        );
    }
}
