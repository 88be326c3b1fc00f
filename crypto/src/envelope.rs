//! Sealing and opening one value with a data key (AES-256-GCM, random 96-bit nonces).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use domain::Sealed;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use thiserror::Error;
use uuid::Uuid;
use zeroize::Zeroizing;

const ENVELOPE_VERSION: &str = "v1";
const NONCE_BYTES: usize = 12;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum EnvelopeError {
    #[error("the envelope is not in the v1 format")]
    Malformed,
    /// Wrong key, wrong owner or field, or a modified ciphertext: fail closed.
    #[error("the envelope does not open with this key")]
    Undecryptable,
}

/// A user's data key, unwrapped. Zeroed on drop.
#[derive(Clone)]
pub struct DataKey(pub(crate) Zeroizing<[u8; 32]>);

impl DataKey {
    pub(crate) fn random() -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, bytes.as_mut());
        Self(bytes)
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

fn associated_data(owner: Uuid, field: &str) -> Vec<u8> {
    format!("docuvault|{ENVELOPE_VERSION}|{owner}|{field}").into_bytes()
}

/// Encrypts `plaintext` for `owner`'s `field`.
pub fn seal(key: &DataKey, owner: Uuid, field: &str, plaintext: &[u8]) -> Sealed {
    Sealed::from_envelope(seal_raw(&key.0, &associated_data(owner, field), plaintext))
}

/// Decrypts an envelope sealed by [`seal`] for the same owner and field.
pub fn open(
    key: &DataKey,
    owner: Uuid,
    field: &str,
    sealed: &Sealed,
) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
    open_raw(&key.0, &associated_data(owner, field), sealed.as_str())
}

pub(crate) fn seal_raw(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> String {
    let mut nonce = [0u8; NONCE_BYTES];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut nonce);
    let cipher = Aes256Gcm::new(key.into());
    // Encryption only fails for inputs beyond GCM's 64 GiB limit, far above any field.
    let ciphertext = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .unwrap_or_default();
    format!(
        "{ENVELOPE_VERSION}.{}.{}",
        URL_SAFE_NO_PAD.encode(nonce),
        URL_SAFE_NO_PAD.encode(ciphertext)
    )
}

pub(crate) fn open_raw(
    key: &[u8; 32],
    aad: &[u8],
    envelope: &str,
) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
    let mut parts = envelope.split('.');
    let (Some(ENVELOPE_VERSION), Some(nonce), Some(ciphertext), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(EnvelopeError::Malformed);
    };
    let nonce = URL_SAFE_NO_PAD
        .decode(nonce)
        .map_err(|_| EnvelopeError::Malformed)?;
    let ciphertext = URL_SAFE_NO_PAD
        .decode(ciphertext)
        .map_err(|_| EnvelopeError::Malformed)?;
    if nonce.len() != NONCE_BYTES {
        return Err(EnvelopeError::Malformed);
    }
    Aes256Gcm::new(key.into())
        .decrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &ciphertext,
                aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| EnvelopeError::Undecryptable)
}

impl DataKey {
    /// Opens an envelope and reads it as UTF-8 text.
    pub fn open_text(
        &self,
        owner: Uuid,
        field: &str,
        sealed: &Sealed,
    ) -> Result<String, EnvelopeError> {
        let bytes = open(self, owner, field, sealed)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| EnvelopeError::Malformed)
    }

    /// A keyed hash of `text` for `owner`'s `field`: equal texts give equal lookups, so a
    /// sealed value can be compared (names unique in a namespace) without opening it, and
    /// nobody without this key can test a guess. Shredding the key makes them meaningless.
    pub fn lookup(&self, owner: Uuid, field: &str, text: &str) -> String {
        let mac_for = |key: &[u8]| {
            <Hmac<Sha256> as Mac>::new_from_slice(key)
                .unwrap_or_else(|_| crate::master::unreachable_hmac_key())
        };
        // A key of its own for lookups, never the encryption key itself.
        let mut derive = mac_for(self.0.as_ref());
        derive.update(b"docuvault|lookup-key|v1");
        let mut lookup_key = Zeroizing::new([0u8; 32]);
        lookup_key.copy_from_slice(&derive.finalize().into_bytes());
        let mut mac = mac_for(lookup_key.as_ref());
        mac.update(&associated_data(owner, field));
        mac.update(b"|");
        mac.update(text.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    #[cfg(test)]
    fn cipher_for_tests(&self) -> Aes256Gcm {
        Aes256Gcm::new(self.0.as_ref().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mcgrew_viega_test_case_16() {
        let key = DataKey(Zeroizing::new(
            hex::decode("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
                .unwrap()
                .try_into()
                .unwrap(),
        ));
        let iv = hex::decode("cafebabefacedbaddecaf888").unwrap();
        let aad = hex::decode("feedfacedeadbeeffeedfacedeadbeefabaddad2").unwrap();
        let plaintext = hex::decode("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39").unwrap();
        let out = key
            .cipher_for_tests()
            .encrypt(
                Nonce::from_slice(&iv),
                Payload {
                    msg: &plaintext,
                    aad: &aad,
                },
            )
            .unwrap();
        let (c, t) = out.split_at(plaintext.len());
        assert_eq!(hex::encode(c), "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662");
        assert_eq!(hex::encode(t), "76fc6ece0f4e1768cddf8853bb2d551b");
        for flip in [0, c.len(), out.len() - 1] {
            let mut tampered = out.clone();
            tampered[flip] ^= 1;
            assert!(key
                .cipher_for_tests()
                .decrypt(
                    Nonce::from_slice(&iv),
                    Payload {
                        msg: &tampered,
                        aad: &aad
                    }
                )
                .is_err());
        }
        let mut other_aad = aad.clone();
        other_aad[0] ^= 1;
        assert!(key
            .cipher_for_tests()
            .decrypt(
                Nonce::from_slice(&iv),
                Payload {
                    msg: &out,
                    aad: &other_aad
                }
            )
            .is_err());
    }

    #[test]
    fn seals_and_opens_for_the_same_owner_and_field_only() {
        let key = DataKey::random();
        let owner = Uuid::from_u128(1);
        let sealed = seal(&key, owner, "email", b"ann@example.org");
        assert!(!sealed.as_str().contains("ann"));
        assert_eq!(
            key.open_text(owner, "email", &sealed).unwrap(),
            "ann@example.org"
        );
        assert_eq!(
            key.open_text(Uuid::from_u128(2), "email", &sealed),
            Err(EnvelopeError::Undecryptable)
        );
        assert_eq!(
            key.open_text(owner, "password_hash", &sealed),
            Err(EnvelopeError::Undecryptable)
        );
        assert_eq!(
            DataKey::random().open_text(owner, "email", &sealed),
            Err(EnvelopeError::Undecryptable)
        );
    }

    #[test]
    fn lookups_are_equal_for_equal_texts_under_one_key_only() {
        let key = DataKey::random();
        let owner = Uuid::from_u128(1);
        let one = key.lookup(owner, "topic_name", "taxes");
        assert_eq!(one, key.lookup(owner, "topic_name", "taxes"));
        assert_eq!(one.len(), 64);
        assert_ne!(one, key.lookup(owner, "topic_name", "taxes "));
        assert_ne!(one, key.lookup(owner, "folder_name", "taxes"));
        assert_ne!(one, key.lookup(Uuid::from_u128(2), "topic_name", "taxes"));
        assert_ne!(one, DataKey::random().lookup(owner, "topic_name", "taxes"));
    }

    #[test]
    fn nonces_do_not_repeat() {
        let key = DataKey::random();
        let a = seal(&key, Uuid::nil(), "f", b"same");
        let b = seal(&key, Uuid::nil(), "f", b"same");
        assert_ne!(a, b);
    }

    #[test]
    fn malformed_envelopes_are_refused() {
        let key = DataKey::random();
        for bad in [
            "",
            "v2.AAAA.AAAA",
            "v1.AAAA",
            "v1.!!.AAAA",
            "v1.AAAA.AAAA.AAAA",
        ] {
            assert_eq!(
                key.open_text(Uuid::nil(), "f", &Sealed::from_envelope(bad.into())),
                Err(EnvelopeError::Malformed),
                "{bad:?}"
            );
        }
    }
}
