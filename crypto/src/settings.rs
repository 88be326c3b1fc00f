//! Secrets of the installation that admins store (an LLM provider's API key): sealed
//! under a key derived from the master secret, with the setting's name as associated
//! data, so the event log and the settings aggregate only ever hold ciphertext and an
//! envelope cannot be moved to another setting.

use crate::envelope::{open_raw, seal_raw, EnvelopeError};
use crate::MasterKey;
use domain::Sealed;
use zeroize::Zeroizing;

fn associated_data(setting: &str) -> Vec<u8> {
    format!("docuvault|v1|instance-setting|{setting}").into_bytes()
}

/// Encrypts the value of `setting`.
pub fn seal_setting(master: &MasterKey, setting: &str, value: &str) -> Sealed {
    let key = master.derive(b"instance-settings|aes-256-gcm|v1");
    Sealed::from_envelope(seal_raw(&key, &associated_data(setting), value.as_bytes()))
}

/// Decrypts what [`seal_setting`] sealed for the same setting and master key.
pub fn open_setting(
    master: &MasterKey,
    setting: &str,
    sealed: &Sealed,
) -> Result<Zeroizing<String>, EnvelopeError> {
    let key = master.derive(b"instance-settings|aes-256-gcm|v1");
    let bytes = open_raw(&key, &associated_data(setting), sealed.as_str())?;
    String::from_utf8(bytes.to_vec())
        .map(Zeroizing::new)
        .map_err(|_| EnvelopeError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setting_opens_only_as_itself_and_under_its_master_key() {
        let master = MasterKey::from_bytes([7; 32]);
        let sealed = seal_setting(&master, "llm-api-key|ollama", "sk-secret");
        assert!(!sealed.as_str().contains("sk-secret"));
        assert_eq!(
            open_setting(&master, "llm-api-key|ollama", &sealed)
                .unwrap()
                .as_str(),
            "sk-secret"
        );
        assert_eq!(
            open_setting(&master, "llm-api-key|openai_compatible", &sealed),
            Err(EnvelopeError::Undecryptable)
        );
        assert_eq!(
            open_setting(
                &MasterKey::from_bytes([8; 32]),
                "llm-api-key|ollama",
                &sealed
            ),
            Err(EnvelopeError::Undecryptable)
        );
    }
}
