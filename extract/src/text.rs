//! Plain text and Markdown: UTF-8 checked, Markdown markup dropped where it is cheap to.
//!
//! The output feeds search and classification, so the Markdown pass keeps every word and drops
//! only what is syntax: heading and list markers, emphasis, code fences, link targets, HTML tags.
//! It is line based and never recurses or scans back, so no input makes it slower than linear.

use crate::error::ExtractError;
use crate::sink::TextSink;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
/// How much of the file the control-character ratio is measured on.
const BINARY_SAMPLE_BYTES: usize = 64 * 1024;
/// Longest link target or HTML tag skipped inline: past that, the brackets are kept as text, so
/// an unclosed `](` is never scanned to the end of a huge line again and again.
const MAX_INLINE_SKIP: usize = 2048;

/// Plain text. An empty file is an empty text, not an error: it is a valid (if useless) text
/// file, and the caller shows "no text" as it does for a scanned PDF.
pub(crate) fn plain(bytes: &[u8], sink: &mut TextSink) -> Result<(), ExtractError> {
    sink.push_str(decode(bytes)?);
    Ok(())
}

pub(crate) fn markdown(bytes: &[u8], sink: &mut TextSink) -> Result<(), ExtractError> {
    let text = decode(bytes)?;
    // The character and length of the open code fence, if any.
    let mut fence: Option<(char, usize)> = None;
    for line in text.lines() {
        if sink.is_full() {
            break;
        }
        let trimmed = line.trim();
        if let Some((marker, len, info)) = fence_marker(trimmed) {
            match fence {
                None => {
                    fence = Some((marker, len));
                    sink.newline();
                    continue;
                }
                Some((open, open_len)) if open == marker && len >= open_len && info.is_empty() => {
                    fence = None;
                    sink.newline();
                    continue;
                }
                Some(_) => {}
            }
        }
        if fence.is_some() {
            sink.push_str(line);
            sink.newline();
            continue;
        }
        if is_rule(trimmed) || is_link_definition(trimmed) {
            sink.newline();
            continue;
        }
        let (content, table) = strip_block_markers(trimmed);
        inline(content, table, sink);
        sink.newline();
    }
    Ok(())
}

/// UTF-8 text without its BOM, or why the bytes are not text.
fn decode(bytes: &[u8]) -> Result<&str, ExtractError> {
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    if looks_binary(bytes) {
        return Err(ExtractError::Binary);
    }
    std::str::from_utf8(bytes).map_err(|_| ExtractError::InvalidUtf8)
}

/// A NUL anywhere (no text encoding we accept has one; UTF-16 is refused here too), or more
/// than 10% control characters in the first 64 KiB.
fn looks_binary(bytes: &[u8]) -> bool {
    if bytes.contains(&0) {
        return true;
    }
    let sample = bytes.get(..BINARY_SAMPLE_BYTES).unwrap_or(bytes);
    let control = sample
        .iter()
        .filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c)) || b == 0x7f)
        .count();
    control * 10 > sample.len()
}

/// ```` ```rust ```` → ('`', 3, "rust").
fn fence_marker(line: &str) -> Option<(char, usize, &str)> {
    let marker = line.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = line.chars().take_while(|c| *c == marker).count();
    (len >= 3).then(|| (marker, len, line.get(len..).unwrap_or("").trim()))
}

/// Thematic breaks (`---`, `***`, `___`), setext underlines (`===`) and table separator rows
/// (`|---|:--:|`): lines of syntax only.
fn is_rule(line: &str) -> bool {
    let mut marks = 0;
    for c in line.chars() {
        match c {
            '-' | '=' | '*' | '_' => marks += 1,
            ' ' | '\t' | '|' | ':' => {}
            _ => return false,
        }
    }
    marks >= 3
}

/// `[id]: https://example.org "title"`: a link target only.
fn is_link_definition(line: &str) -> bool {
    line.starts_with('[')
        && line
            .find("]:")
            .is_some_and(|end| !line.get(1..end).unwrap_or("").contains(']'))
}

/// Drops blockquote, heading and list markers; says whether the line is a table row.
fn strip_block_markers(mut line: &str) -> (&str, bool) {
    loop {
        let before = line;
        if let Some(rest) = line.strip_prefix('>') {
            line = rest.trim_start();
        }
        let hashes = line.chars().take_while(|c| *c == '#').count();
        if (1..=6).contains(&hashes) {
            let rest = line.get(hashes..).unwrap_or("");
            if rest.is_empty() || rest.starts_with([' ', '\t']) {
                line = rest.trim().trim_end_matches('#').trim_end();
            }
        }
        if let Some(rest) = line
            .strip_prefix(['-', '*', '+'])
            .filter(|rest| rest.starts_with([' ', '\t']))
        {
            line = rest.trim_start();
        }
        let digits = line.chars().take_while(char::is_ascii_digit).count();
        if (1..=9).contains(&digits) {
            if let Some(rest) = line
                .get(digits..)
                .and_then(|rest| rest.strip_prefix(['.', ')']))
                .filter(|rest| rest.starts_with([' ', '\t']))
            {
                line = rest.trim_start();
            }
        }
        for task in ["[ ] ", "[x] ", "[X] "] {
            if let Some(rest) = line.strip_prefix(task) {
                line = rest.trim_start();
            }
        }
        if line == before {
            return (line, line.starts_with('|'));
        }
    }
}

/// Inline markup: emphasis and code-span markers dropped, link and image text kept without its
/// target, HTML tags and autolinks dropped, backslash escapes resolved.
fn inline(line: &str, table: bool, sink: &mut TextSink) {
    let mut rest = line;
    let mut prev: Option<char> = None;
    while let Some(c) = rest.chars().next() {
        if sink.is_full() {
            return;
        }
        let after = rest.get(c.len_utf8()..).unwrap_or("");
        rest = after;
        match c {
            '\\' => {
                if let Some(escaped) = after.chars().next().filter(char::is_ascii_punctuation) {
                    sink.push_char(escaped);
                    prev = Some(escaped);
                    rest = after.get(1..).unwrap_or("");
                    continue;
                }
            }
            '*' | '`' | '[' => continue,
            '~' if after.starts_with('~') => {
                rest = after.get(1..).unwrap_or("");
                continue;
            }
            '!' if after.starts_with('[') => continue,
            '_' => {
                let next = after.chars().next();
                if !(prev.is_some_and(char::is_alphanumeric)
                    && next.is_some_and(char::is_alphanumeric))
                {
                    continue;
                }
            }
            ']' => {
                rest = skip_link_target(after);
                continue;
            }
            '<' => {
                if let Some(skipped) = skip_tag(after) {
                    rest = skipped;
                    sink.space();
                    continue;
                }
            }
            '|' if table => {
                sink.space();
                continue;
            }
            _ => {}
        }
        sink.push_char(c);
        prev = Some(c);
    }
}

/// After a `]`: skips `(target "title")` or `[ref]` when it is there and short.
fn skip_link_target(after: &str) -> &str {
    let window = |s: &'_ str| -> usize {
        let mut end = s.len().min(MAX_INLINE_SKIP);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        end
    };
    if let Some(target) = after.strip_prefix('(') {
        let mut depth = 0usize;
        for (i, c) in target.get(..window(target)).unwrap_or("").char_indices() {
            match c {
                '(' => depth += 1,
                ')' if depth == 0 => return target.get(i + 1..).unwrap_or(""),
                ')' => depth -= 1,
                _ => {}
            }
        }
    } else if let Some(reference) = after.strip_prefix('[') {
        if let Some(end) = reference.get(..window(reference)).and_then(|s| s.find(']')) {
            return reference.get(end + 1..).unwrap_or("");
        }
    }
    after
}

/// After a `<`: skips an HTML tag, comment or autolink up to its `>`.
fn skip_tag(after: &str) -> Option<&str> {
    let first = after.chars().next()?;
    if !(first.is_ascii_alphabetic() || first == '/' || first == '!') {
        return None;
    }
    let end = after
        .char_indices()
        .take_while(|(i, _)| *i < MAX_INLINE_SKIP)
        .find(|(_, c)| *c == '>')?
        .0;
    after.get(end + 1..)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(input: &str) -> String {
        let mut sink = TextSink::new(1 << 20);
        match markdown(input.as_bytes(), &mut sink) {
            Ok(()) => sink.finish().0,
            Err(err) => format!("error: {err}"),
        }
    }

    #[test]
    fn markdown_keeps_words_and_drops_markup() {
        let input = "# Title #\n\nSome *emphasis*, __strong__ and `code` in snake_case_name.\n\
                     > quoted [link text](https://example.org/x_(y) \"t\") and ![alt](img.png)\n\
                     - item one\n1. item two\n- [x] done\n\n---\n\
                     ```rust\nlet x = 1;\n```\n\
                     | a | b |\n|---|:-:|\n| c | d |\n\
                     Setext\n======\n<b>bold</b> <https://example.org> \\*star\\* ~~gone~~\n\
                     [ref]: https://example.org/ref\nSee [ref text][ref].";
        assert_eq!(
            md(input),
            "Title\nSome emphasis, strong and code in snake_case_name.\n\
             quoted link text and alt\nitem one\nitem two\ndone\nlet x = 1;\n\
             a b\nc d\nSetext\nbold *star* gone\nSee ref text."
        );
    }

    #[test]
    fn unclosed_markup_is_kept_as_text() {
        assert_eq!(md("a ](b c"), "a (b c");
        assert_eq!(md("1 < 2 > 0"), "1 < 2 > 0");
    }

    #[test]
    fn binary_and_invalid_utf8_are_refused() {
        let mut sink = TextSink::new(100);
        assert_eq!(plain(b"ab\0cd", &mut sink), Err(ExtractError::Binary));
        assert_eq!(
            plain(&[1, 2, 3, 4, b'a'], &mut sink),
            Err(ExtractError::Binary)
        );
        assert_eq!(
            plain(b"Gr\xfc\xdfe", &mut sink),
            Err(ExtractError::InvalidUtf8)
        );
    }
}
