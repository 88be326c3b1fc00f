//! Short-lived download links (DOC-6): minted for one person and one document by an
//! authenticated request, so a plain navigation can download without a token in the URL
//! of the app. The link is an HMAC over person, document and expiry; it is checked again
//! against the write side when used, so a deleted document or a changed owner ends it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;
use zeroize::Zeroizing;

/// What a valid link allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub user_id: Uuid,
    pub document_id: Uuid,
    pub expires_at: DateTime<Utc>,
}

#[derive(Clone)]
pub struct DownloadLinks {
    key: Zeroizing<[u8; 32]>,
}

impl DownloadLinks {
    pub fn new(key: Zeroizing<[u8; 32]>) -> Self {
        Self { key }
    }

    fn mac(&self, user_id: Uuid, document_id: Uuid, expires: i64) -> Option<Hmac<Sha256>> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.key.as_ref()).ok()?;
        mac.update(format!("docuvault-download\n{user_id}\n{document_id}\n{expires}").as_bytes());
        Some(mac)
    }

    /// The token of a link (`{user}.{expiry}.{signature}`; the document is in the path).
    pub fn mint(&self, grant: Grant) -> String {
        let expires = grant.expires_at.timestamp();
        let signature = self
            .mac(grant.user_id, grant.document_id, expires)
            .map(|mac| URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
            .unwrap_or_default();
        format!("{}.{expires}.{signature}", grant.user_id)
    }

    /// The grant of `token` for `document_id`, if it is genuine and not expired at `now`.
    pub fn verify(&self, document_id: Uuid, token: &str, now: DateTime<Utc>) -> Option<Grant> {
        let mut parts = token.split('.');
        let (Some(user), Some(expires), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let user_id: Uuid = user.parse().ok()?;
        let expires: i64 = expires.parse().ok()?;
        let raw = URL_SAFE_NO_PAD.decode(signature).ok()?;
        self.mac(user_id, document_id, expires)?
            .verify_slice(&raw)
            .ok()?;
        let expires_at = DateTime::from_timestamp(expires, 0)?;
        (now < expires_at).then_some(Grant {
            user_id,
            document_id,
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn a_link_opens_its_document_for_its_person_until_it_expires() {
        let links = DownloadLinks::new(Zeroizing::new([3u8; 32]));
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap();
        let grant = Grant {
            user_id: Uuid::from_u128(1),
            document_id: Uuid::from_u128(2),
            expires_at: now + Duration::seconds(60),
        };
        let token = links.mint(grant);
        assert_eq!(links.verify(grant.document_id, &token, now), Some(grant));
        assert_eq!(links.verify(Uuid::from_u128(3), &token, now), None);
        assert_eq!(
            links.verify(grant.document_id, &token, grant.expires_at),
            None
        );
        let other_person = token.replacen(
            &Uuid::from_u128(1).to_string(),
            &Uuid::from_u128(4).to_string(),
            1,
        );
        assert_eq!(links.verify(grant.document_id, &other_person, now), None);
        let later = token.replacen(&grant.expires_at.timestamp().to_string(), "9999999999", 1);
        assert_eq!(links.verify(grant.document_id, &later, now), None);
        let other_key = DownloadLinks::new(Zeroizing::new([4u8; 32]));
        assert_eq!(other_key.verify(grant.document_id, &token, now), None);
    }
}
