//! The kinds of document DocuVault keeps, decided by content at confirm (never by name or
//! by what the browser claimed alone).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Pdf,
    Docx,
    Text,
    Markdown,
}

impl DocumentKind {
    /// The kind a declared content type announces, if DocuVault accepts it.
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "application/pdf" => Some(Self::Pdf),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => {
                Some(Self::Docx)
            }
            "text/plain" => Some(Self::Text),
            "text/markdown" => Some(Self::Markdown),
            _ => None,
        }
    }

    /// The type served with the content.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Self::Text => "text/plain; charset=utf-8",
            Self::Markdown => "text/markdown; charset=utf-8",
        }
    }

    /// The extension of its object key (DOC-2: keys never carry the human name).
    pub fn extension(self) -> &'static str {
        match self {
            Self::Pdf => ".pdf",
            Self::Docx => ".docx",
            Self::Text => ".txt",
            Self::Markdown => ".md",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Docx => "docx",
            Self::Text => "text",
            Self::Markdown => "markdown",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_types_map_to_kinds_case_and_parameters_aside() {
        assert_eq!(
            DocumentKind::from_content_type("Application/PDF"),
            Some(DocumentKind::Pdf)
        );
        assert_eq!(
            DocumentKind::from_content_type("text/plain; charset=utf-8"),
            Some(DocumentKind::Text)
        );
        assert_eq!(DocumentKind::from_content_type("text/html"), None);
        assert_eq!(DocumentKind::from_content_type("image/svg+xml"), None);
    }
}
