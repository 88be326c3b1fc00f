//! Object keys: `{user_id}/{document_id}/{uuid}{ext}` (DOC-2), chosen by the server and
//! checked wherever one arrives from outside, so no key can name a path of its own.

use domain::document::DocumentKind;
use std::fmt;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// A fresh key for a document's bytes.
    pub fn new(owner: Uuid, document_id: Uuid, kind: DocumentKind) -> Self {
        Self(format!(
            "{owner}/{document_id}/{}{}",
            Uuid::new_v4(),
            kind.extension()
        ))
    }

    /// A key from outside, if it has exactly the shape the server gives keys.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('/');
        let (Some(owner), Some(document), Some(object), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let (stem, extension) = object.split_once('.')?;
        let uuid = |part: &str| {
            part.len() == 36 && Uuid::parse_str(part).is_ok() && part == part.to_ascii_lowercase()
        };
        let known = [".pdf", ".docx", ".txt", ".md"].contains(&format!(".{extension}").as_str());
        (uuid(owner) && uuid(document) && uuid(stem) && known).then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The owner the key was made for.
    pub fn owner(&self) -> Option<Uuid> {
        self.0
            .split('/')
            .next()
            .and_then(|id| Uuid::parse_str(id).ok())
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_keys_parse_and_name_their_owner() {
        let owner = Uuid::new_v4();
        let key = ObjectKey::new(owner, Uuid::new_v4(), DocumentKind::Pdf);
        assert_eq!(ObjectKey::parse(key.as_str()), Some(key.clone()));
        assert_eq!(key.owner(), Some(owner));
        assert!(key.as_str().ends_with(".pdf"));
    }

    #[test]
    fn anything_else_is_refused() {
        let good = ObjectKey::new(Uuid::new_v4(), Uuid::new_v4(), DocumentKind::Text);
        for bad in [
            "../../etc/passwd".to_owned(),
            format!("{}/../x", good.as_str()),
            format!("/{}", good.as_str()),
            good.as_str().replace(".txt", ".html"),
            good.as_str().to_uppercase(),
            format!("{}/extra", good.as_str()),
            String::new(),
        ] {
            assert_eq!(ObjectKey::parse(&bad), None, "{bad}");
        }
    }
}
