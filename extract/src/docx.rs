//! DOCX: a zip archive of XML parts. Zip bombs and path tricks are refused from the central
//! directory before a byte is inflated; inflation is then capped at each entry's declared size
//! anyway (headers can lie); the XML is read with a pull parser that refuses any DTD.

use std::io::{self, BufRead, BufReader, Cursor, Read};

use quick_xml::events::Event;
use quick_xml::Reader;
use zip::{CompressionMethod, ZipArchive};

use crate::error::ExtractError;
use crate::limits::Limits;
use crate::sink::TextSink;
use crate::MIB;

/// The main story; footnotes, endnotes, headers and footers follow it when present.
const MAIN_PART: &str = "word/document.xml";
const EXTRA_PARTS: [&str; 2] = ["word/footnotes.xml", "word/endnotes.xml"];

type Archive<'a> = ZipArchive<Cursor<&'a [u8]>>;

pub(crate) fn extract(
    bytes: &[u8],
    limits: &Limits,
    sink: &mut TextSink,
) -> Result<(), ExtractError> {
    if bytes.is_empty() {
        return Err(ExtractError::Empty);
    }
    // The zip crate reads the whole central directory into memory when it opens an archive:
    // check the count the end record declares before letting it.
    if declared_entry_count(bytes).is_some_and(|count| count > limits.max_zip_entries) {
        return Err(ExtractError::TooManyEntries);
    }
    let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(|err| {
        tracing::debug!(%err, "not a zip archive");
        ExtractError::UnreadableDocx
    })?;
    if archive.len() as u64 > limits.max_zip_entries {
        return Err(ExtractError::TooManyEntries);
    }
    check_central_directory(&mut archive, limits)?;

    let main = archive
        .index_for_name(MAIN_PART)
        .ok_or(ExtractError::UnreadableDocx)?;
    let mut parts = vec![main];
    parts.extend(
        EXTRA_PARTS
            .iter()
            .filter_map(|name| archive.index_for_name(name)),
    );
    let mut headers: Vec<&str> = archive
        .file_names()
        .filter(|name| is_header_or_footer(name))
        .collect();
    headers.sort_unstable();
    let headers: Vec<usize> = headers
        .into_iter()
        .filter_map(|name| archive.index_for_name(name))
        .collect();
    parts.extend(headers);

    let mut budget = limits.max_inflated_bytes;
    for index in parts {
        if sink.is_full() {
            break;
        }
        read_part(&mut archive, index, limits, &mut budget, sink)?;
        sink.newline();
    }
    Ok(())
}

/// `word/header1.xml`, `word/footer2.xml`.
fn is_header_or_footer(name: &str) -> bool {
    let Some(stem) = name
        .strip_prefix("word/")
        .and_then(|rest| rest.strip_suffix(".xml"))
    else {
        return false;
    };
    ["header", "footer"].iter().any(|prefix| {
        stem.strip_prefix(prefix)
            .is_some_and(|number| number.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// The entry count from the end-of-central-directory record (or its zip64 twin), if it can be
/// found; the zip crate's own parsing stays the authority on everything else.
fn declared_entry_count(bytes: &[u8]) -> Option<u64> {
    const EOCD: &[u8] = b"PK\x05\x06";
    const ZIP64_LOCATOR: &[u8] = b"PK\x06\x07";
    const ZIP64_EOCD: &[u8] = b"PK\x06\x06";
    let le_u16 = |at: usize| -> Option<u64> {
        Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?).into())
    };
    let le_u64 = |at: usize| -> Option<u64> {
        Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
    };

    // The record is 22 bytes plus a comment of at most 64 KiB, at the very end.
    let start = bytes.len().saturating_sub(22 + usize::from(u16::MAX));
    let eocd = start + bytes.get(start..)?.windows(4).rposition(|w| w == EOCD)?;
    let total = le_u16(eocd + 10)?;
    if total != u64::from(u16::MAX) {
        return Some(total);
    }
    let locator = eocd.checked_sub(20)?;
    if bytes.get(locator..locator + 4)? != ZIP64_LOCATOR {
        return Some(total);
    }
    let record = usize::try_from(le_u64(locator + 8)?).ok()?;
    if bytes.get(record..record + 4)? != ZIP64_EOCD {
        return None;
    }
    le_u64(record + 32)
}

/// Names, total declared size and compression ratios, in that order of precedence, from the
/// central directory (and local headers) only: nothing is inflated here.
fn check_central_directory(archive: &mut Archive<'_>, limits: &Limits) -> Result<(), ExtractError> {
    let mut total: u64 = 0;
    let mut ratio_exceeded = false;
    for index in 0..archive.len() {
        let entry = archive.by_index_raw(index).map_err(|err| {
            tracing::debug!(%err, index, "unreadable zip entry header");
            ExtractError::UnreadableDocx
        })?;
        if is_unsafe_name(entry.name_raw()) || entry.enclosed_name().is_none() {
            return Err(ExtractError::UnsafeEntryName);
        }
        let size = entry.size();
        total = total.saturating_add(size);
        if size > limits.ratio_min_entry_bytes
            && size / limits.max_ratio.max(1) > entry.compressed_size()
        {
            ratio_exceeded = true;
        }
    }
    if total > limits.max_inflated_bytes {
        return Err(ExtractError::ArchiveTooLarge {
            limit_mb: limits.max_inflated_bytes / MIB,
        });
    }
    if ratio_exceeded {
        return Err(ExtractError::CompressionRatio {
            max_ratio: limits.max_ratio,
        });
    }
    Ok(())
}

/// Absolute (`/x`, `\x`, `C:x`), climbing (`..`) or NUL-holding names. We extract nothing to
/// disk, but such an archive was made to attack something, and we say so.
fn is_unsafe_name(name: &[u8]) -> bool {
    name.contains(&0)
        || name.starts_with(b"/")
        || name.starts_with(b"\\")
        || name.get(1) == Some(&b':')
        || name
            .split(|b| *b == b'/' || *b == b'\\')
            .any(|part| part == b"..")
}

fn read_part(
    archive: &mut Archive<'_>,
    index: usize,
    limits: &Limits,
    budget: &mut u64,
    sink: &mut TextSink,
) -> Result<(), ExtractError> {
    let declared = {
        let entry = archive
            .by_index_raw(index)
            .map_err(|_| ExtractError::UnreadableDocx)?;
        if entry.encrypted() {
            return Err(ExtractError::Encrypted);
        }
        if !matches!(
            entry.compression(),
            CompressionMethod::Stored | CompressionMethod::Deflated
        ) {
            return Err(ExtractError::UnsupportedCompression);
        }
        entry.size()
    };
    let entry = archive.by_index(index).map_err(|err| {
        tracing::debug!(%err, index, "cannot open zip entry");
        ExtractError::UnreadableDocx
    })?;
    let mut xml = Reader::from_reader(BufReader::new(Capped::new(entry, declared.min(*budget))));
    let parsed = parse_xml(&mut xml, limits.max_xml_depth, sink);
    let capped = xml.into_inner().into_inner();
    *budget = budget.saturating_sub(capped.consumed);
    if capped.exceeded {
        return Err(ExtractError::SizeMismatch);
    }
    parsed
}

/// WordprocessingML text: `w:t` runs (and DrawingML `a:t` in text boxes), a newline per
/// paragraph and `w:br`, a space per `w:tab`. Deleted text (`w:delText`) and field codes
/// (`w:instrText`) are left out.
fn parse_xml<R: BufRead>(
    xml: &mut Reader<R>,
    max_depth: usize,
    sink: &mut TextSink,
) -> Result<(), ExtractError> {
    let unreadable = |err: &dyn std::fmt::Display| {
        tracing::debug!(%err, "unreadable DOCX XML");
        ExtractError::UnreadableDocx
    };
    let mut buf = Vec::new();
    let mut depth = 0usize;
    let mut in_text = false;
    loop {
        if sink.is_full() {
            return Ok(());
        }
        buf.clear();
        match xml
            .read_event_into(&mut buf)
            .map_err(|err| unreadable(&err))?
        {
            // No DTD, so no entity can ever be declared, expanded or fetched (XXE, billion laughs).
            Event::DocType(_) => return Err(ExtractError::XmlDtd),
            Event::Start(element) => {
                depth += 1;
                if depth > max_depth {
                    return Err(ExtractError::XmlTooDeep);
                }
                match element.local_name().as_ref() {
                    "t" => in_text = true,
                    "tab" | "ptab" => sink.space(),
                    "br" | "cr" => sink.newline(),
                    _ => {}
                }
            }
            Event::Empty(element) => match element.local_name().as_ref() {
                "tab" | "ptab" => sink.space(),
                "br" | "cr" | "p" => sink.newline(),
                _ => {}
            },
            Event::End(element) => {
                depth = depth.saturating_sub(1);
                match element.local_name().as_ref() {
                    "t" => in_text = false,
                    "p" => sink.newline(),
                    "tc" => sink.space(),
                    _ => {}
                }
            }
            Event::Text(text) if in_text => {
                sink.push_str(&text.xml10_content());
            }
            Event::CData(text) if in_text => {
                sink.push_str(&text.xml10_content());
            }
            Event::GeneralRef(reference) if in_text => {
                if let Some(c) = resolve_reference(&reference) {
                    sink.push_char(c);
                }
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

/// The five predefined entities and character references; any other name stays unexpanded
/// (and is dropped), as no DTD can define it.
fn resolve_reference(reference: &quick_xml::events::BytesRef<'_>) -> Option<char> {
    if let Ok(Some(c)) = reference.resolve_char_ref() {
        return Some(c);
    }
    match &**reference {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => None,
    }
}

/// Reads at most `allowed` bytes and notices when there are more: a zip entry that inflates
/// past its declared size is refused, not silently cut.
struct Capped<R> {
    inner: R,
    remaining: u64,
    consumed: u64,
    exceeded: bool,
}

impl<R> Capped<R> {
    fn new(inner: R, allowed: u64) -> Self {
        Self {
            inner,
            remaining: allowed,
            consumed: 0,
            exceeded: false,
        }
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.remaining == 0 {
            // One probe byte tells an honest end (which also checks the CRC) from a lie.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => {
                    self.exceeded = true;
                    Err(io::Error::other(
                        "zip entry inflates past its declared size",
                    ))
                }
            };
        }
        let max = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let window = buf.get_mut(..max).unwrap_or_default();
        let read = self.inner.read(window)?;
        self.remaining = self.remaining.saturating_sub(read as u64);
        self.consumed = self.consumed.saturating_add(read as u64);
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_names() {
        for name in [
            "../evil",
            "word/../../evil",
            "/etc/passwd",
            "\\x",
            "C:evil",
            "a\0b",
            "a\\..\\b",
        ] {
            assert!(is_unsafe_name(name.as_bytes()), "{name}");
        }
        for name in ["word/document.xml", "[Content_Types].xml", "a..b/c"] {
            assert!(!is_unsafe_name(name.as_bytes()), "{name}");
        }
    }

    #[test]
    fn header_and_footer_names() {
        assert!(is_header_or_footer("word/header1.xml"));
        assert!(is_header_or_footer("word/footer.xml"));
        assert!(!is_header_or_footer("word/headerx.xml"));
        assert!(!is_header_or_footer("word/document.xml"));
    }

    #[test]
    fn capped_reader_notices_a_lie() {
        let mut capped = Capped::new(&b"abcdef"[..], 3);
        let mut out = Vec::new();
        assert!(capped.read_to_end(&mut out).is_err());
        assert!(capped.exceeded);
        assert_eq!(out, b"abc");

        let mut honest = Capped::new(&b"abc"[..], 3);
        let mut out = Vec::new();
        assert_eq!(honest.read_to_end(&mut out).ok(), Some(3));
        assert!(!honest.exceeded);
    }
}
