//! Loading the master secret, and refusing to run with one the database does not know.

use crate::config::Settings;
use anyhow::{bail, Context};
use crypto::MasterKey;
use sqlx::PgPool;
use std::io::Write;

const FINGERPRINT_SETTING: &str = "master_key_fingerprint";

/// The master key from `DOCUVAULT_MASTER_KEY` or the key file. With `create_if_missing`
/// (migrate, all), a missing file is created with a fresh key, readable by its owner only.
pub fn load(settings: &Settings, create_if_missing: bool) -> anyhow::Result<MasterKey> {
    if let Some(hex) = &settings.master_key {
        return MasterKey::from_hex(hex).context("DOCUVAULT_MASTER_KEY");
    }
    let path = &settings.master_key_file;
    match std::fs::read_to_string(path) {
        Ok(text) => MasterKey::from_hex(&text)
            .with_context(|| format!("master key file {}", path.display())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound && create_if_missing => {
            let key = MasterKey::generate();
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            let mut file =
                open_private(path).with_context(|| format!("creating {}", path.display()))?;
            file.write_all(key.to_hex().as_bytes())?;
            tracing::warn!(path = %path.display(), "generated a new master key: back it up, without it personal data cannot be read");
            Ok(key)
        }
        Err(error) => Err(error).with_context(|| {
            format!(
                "no master key: set DOCUVAULT_MASTER_KEY or run `docuvault migrate` to create {}",
                path.display()
            )
        }),
    }
}

#[cfg(unix)]
fn open_private(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn open_private(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

/// Records the key's fingerprint on first use; afterwards refuses a different key.
pub async fn verify(pool: &PgPool, key: &MasterKey) -> anyhow::Result<()> {
    sqlx::query(
        "insert into instance_settings (name, value) values ($1, $2) on conflict (name) do nothing",
    )
    .bind(FINGERPRINT_SETTING)
    .bind(key.fingerprint())
    .execute(pool)
    .await?;
    let known: String = sqlx::query_scalar("select value from instance_settings where name = $1")
        .bind(FINGERPRINT_SETTING)
        .fetch_one(pool)
        .await?;
    if known != key.fingerprint() {
        bail!("the master key is not the one this database was set up with; refusing to start");
    }
    Ok(())
}
