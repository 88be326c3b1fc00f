//! The master secret and the keys derived from it.

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretBox};
use sha2::Sha256;
use std::sync::Arc;
use thiserror::Error;
use zeroize::Zeroizing;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum MasterKeyError {
    #[error("the master key must be 64 hexadecimal characters (32 bytes)")]
    Malformed,
}

/// The 256-bit master secret. The bytes are zeroed on drop; the HKDF extract step (the
/// same for every derivation) is done once and shared by clones.
#[derive(Clone)]
pub struct MasterKey {
    secret: Arc<SecretBox<[u8; 32]>>,
    extracted: Arc<Hkdf<Sha256>>,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let extracted = Hkdf::<Sha256>::new(Some(b"docuvault/v1"), &bytes);
        Self {
            secret: Arc::new(SecretBox::new(Box::new(bytes))),
            extracted: Arc::new(extracted),
        }
    }

    pub fn from_hex(text: &str) -> Result<Self, MasterKeyError> {
        let decoded =
            Zeroizing::new(hex::decode(text.trim()).map_err(|_| MasterKeyError::Malformed)?);
        let bytes: [u8; 32] = decoded
            .as_slice()
            .try_into()
            .map_err(|_| MasterKeyError::Malformed)?;
        Ok(Self::from_bytes(bytes))
    }

    /// A fresh random key, for first start and tests.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
        Self::from_bytes(bytes)
    }

    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.secret.expose_secret()))
    }

    /// HKDF-SHA256 (RFC 5869) with `info` naming purpose and subject.
    pub(crate) fn derive(&self, info: &[u8]) -> Zeroizing<[u8; 32]> {
        let mut okm = Zeroizing::new([0u8; 32]);
        // 32 bytes is far below HKDF-SHA256's 8160-byte limit, so expand cannot fail.
        let _ = self.extracted.expand(info, okm.as_mut());
        okm
    }

    /// The seed of the Ed25519 key that signs access tokens: every API instance derives
    /// the same one, and rotating the master key rotates it.
    pub fn token_signing_seed(&self) -> Zeroizing<[u8; 32]> {
        self.derive(b"access-token-signing|ed25519|v1")
    }

    /// The key that signs the local store's upload links and the short-lived download
    /// links: every API instance derives the same one.
    pub fn link_signing_key(&self, purpose: &str) -> Zeroizing<[u8; 32]> {
        self.derive(format!("link-signing|{purpose}|v1").as_bytes())
    }

    /// A keyed hash of a normalised email: equal emails give equal lookups, and nobody
    /// without the master key can test a guess against the log.
    pub fn email_lookup(&self, normalised_email: &str) -> String {
        let key = self.derive(b"email-lookup");
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_ref())
            .unwrap_or_else(|_| unreachable_hmac_key());
        mac.update(normalised_email.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// A check value stored beside the data, so a process started with the wrong master key
    /// refuses to run instead of writing unreadable data.
    pub fn fingerprint(&self) -> String {
        hex::encode(&self.derive(b"fingerprint")[..16])
    }
}

#[allow(clippy::panic)]
pub(crate) fn unreachable_hmac_key() -> Hmac<Sha256> {
    // HMAC accepts keys of any length; this cannot happen.
    panic!("HMAC-SHA256 refused a 32-byte key")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc5869_case_1() {
        let ikm = [0x0b_u8; 22];
        let salt = hex::decode("000102030405060708090a0b0c").unwrap();
        let info = hex::decode("f0f1f2f3f4f5f6f7f8f9").unwrap();
        let mut okm = [0u8; 42];
        Hkdf::<Sha256>::new(Some(&salt), &ikm)
            .expand(&info, &mut okm)
            .unwrap();
        assert_eq!(
            hex::encode(okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        );
    }

    #[test]
    fn derivations_differ_by_purpose_and_by_master() {
        let a = MasterKey::from_bytes([1; 32]);
        let b = MasterKey::from_bytes([2; 32]);
        assert_ne!(*a.derive(b"one"), *a.derive(b"two"));
        assert_ne!(*a.derive(b"one"), *b.derive(b"one"));
        assert_eq!(
            a.email_lookup("x@example.org"),
            a.email_lookup("x@example.org")
        );
        assert_ne!(
            a.email_lookup("x@example.org"),
            b.email_lookup("x@example.org")
        );
        assert_ne!(a.fingerprint(), b.fingerprint());
    }

    #[test]
    fn hex_round_trip_and_refusals() {
        let key = MasterKey::generate();
        let again = MasterKey::from_hex(&key.to_hex()).unwrap();
        assert_eq!(key.fingerprint(), again.fingerprint());
        assert_eq!(
            MasterKey::from_hex("abcd").unwrap_err(),
            MasterKeyError::Malformed
        );
        assert_eq!(
            MasterKey::from_hex(&"zz".repeat(32)).unwrap_err(),
            MasterKeyError::Malformed
        );
    }
}
