//! The document kinds we extract text from.

use std::fmt;
use std::str::FromStr;

/// What the uploader (or sniffing) says the bytes are. Extraction never guesses: a PDF sent as
/// `Text` is refused as binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Pdf,
    Docx,
    Text,
    Markdown,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Pdf, Kind::Docx, Kind::Text, Kind::Markdown];

    /// The stable name used on the child's command line and in events.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Pdf => "pdf",
            Kind::Docx => "docx",
            Kind::Text => "text",
            Kind::Markdown => "markdown",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of [`Kind::as_str`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown document kind (expected pdf, docx, text or markdown)")]
pub struct UnknownKind;

impl FromStr for Kind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or(UnknownKind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in Kind::ALL {
            assert_eq!(kind.as_str().parse::<Kind>(), Ok(kind));
        }
        assert_eq!("PDF".parse::<Kind>(), Err(UnknownKind));
        assert_eq!("".parse::<Kind>(), Err(UnknownKind));
    }
}
