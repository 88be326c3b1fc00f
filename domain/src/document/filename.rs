//! A document's human name (personal data: sealed in events) and the safe forms it takes
//! on the way out (SECURITY 20).

use thiserror::Error;

const MAX_FILENAME_CHARS: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FileNameError {
    #[error("Give the file a name.")]
    Empty,
    #[error("Use at most 255 characters.")]
    TooLong,
}

/// A filename as the person gave it, trimmed, with control and bidi-override characters
/// removed. Never used in a storage key or a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName(String);

/// Control and bidi-override characters: never kept in a name.
pub(crate) fn unsafe_char(c: char) -> bool {
    c.is_control()
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
        || c == '\u{200e}'
        || c == '\u{200f}'
        || c == '\u{061c}'
}

impl FileName {
    pub fn parse(raw: &str) -> Result<Self, FileNameError> {
        let cleaned: String = raw.chars().filter(|c| !unsafe_char(*c)).collect();
        let name = cleaned.trim();
        if name.is_empty() {
            return Err(FileNameError::Empty);
        }
        if name.chars().count() > MAX_FILENAME_CHARS {
            return Err(FileNameError::TooLong);
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An RFC 6266 `Content-Disposition` value: an ASCII fallback in `filename` (quotes,
    /// backslashes and anything outside printable ASCII replaced) and the full name
    /// percent-encoded in `filename*` (RFC 8187).
    pub fn content_disposition(&self, inline: bool) -> String {
        let disposition = if inline { "inline" } else { "attachment" };
        let fallback: String = self
            .0
            .chars()
            .map(|c| match c {
                ' '..='~' if c != '"' && c != '\\' => c,
                _ => '_',
            })
            .collect();
        let encoded: String = self
            .0
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => (b as char).to_string(),
                b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|'
                | b'~' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        format!("{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_become_harmless_headers() {
        for hostile in [
            "../../x.pdf",
            "a.pdf%00.html",
            "\u{202e}fdp.exe",
            "x\"\r\nSet-Cookie:a=b",
            &"n".repeat(255),
        ] {
            let name = FileName::parse(hostile).unwrap();
            let header = name.content_disposition(false);
            assert!(header.is_ascii(), "{header}");
            assert!(!header.contains('\r') && !header.contains('\n'), "{header}");
            assert!(!header.contains('\u{202e}'));
            // Exactly the two quotes around the fallback.
            assert_eq!(header.matches('"').count(), 2, "{header}");
        }
    }

    #[test]
    fn control_and_bidi_characters_are_dropped_from_the_name_itself() {
        assert_eq!(
            FileName::parse("\u{202e}fdp.exe").unwrap().as_str(),
            "fdp.exe"
        );
        assert_eq!(FileName::parse("a\r\nb.txt").unwrap().as_str(), "ab.txt");
        assert_eq!(FileName::parse("  \u{0} "), Err(FileNameError::Empty));
        assert_eq!(
            FileName::parse(&"n".repeat(256)),
            Err(FileNameError::TooLong)
        );
    }

    #[test]
    fn unicode_names_survive_in_the_encoded_form() {
        let header = FileName::parse("Zoë report.pdf")
            .unwrap()
            .content_disposition(true);
        assert_eq!(
            header,
            "inline; filename=\"Zo_ report.pdf\"; filename*=UTF-8''Zo%C3%AB%20report.pdf"
        );
    }
}
