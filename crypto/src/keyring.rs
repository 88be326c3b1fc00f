//! Per-user data keys in Postgres (`user_keys`), wrapped by HKDF-derived keys.

use crate::envelope::{open_raw, seal_raw, DataKey};
use crate::MasterKey;
use sqlx::PgPool;
use std::collections::HashMap;
use thiserror::Error;
use uuid::Uuid;
use zeroize::Zeroizing;

#[derive(Debug, Error)]
pub enum KeyRingError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The row exists but does not unwrap: the master key is not the one it was made with.
    #[error("the data key of user {0} does not unwrap with this master key")]
    WrongMasterKey(Uuid),
}

/// Creates, finds and deletes users' data keys.
#[derive(Clone)]
pub struct KeyRing {
    pool: PgPool,
    master: MasterKey,
}

impl KeyRing {
    pub fn new(pool: PgPool, master: MasterKey) -> Self {
        Self { pool, master }
    }

    pub fn master(&self) -> &MasterKey {
        &self.master
    }

    fn wrapping_aad(user_id: Uuid) -> Vec<u8> {
        format!("docuvault|user-key|{user_id}").into_bytes()
    }

    fn kek(&self, user_id: Uuid) -> Zeroizing<[u8; 32]> {
        self.master.derive(format!("user-kek|{user_id}").as_bytes())
    }

    /// Creates the user's data key, or returns the one they already have.
    pub async fn create(&self, user_id: Uuid) -> Result<DataKey, KeyRingError> {
        let key = DataKey::random();
        let wrapped = seal_raw(&self.kek(user_id), &Self::wrapping_aad(user_id), &key.0[..]);
        let inserted = sqlx::query(
            "insert into user_keys (user_id, wrapped_key) values ($1, $2) on conflict (user_id) do nothing",
        )
        .bind(user_id)
        .bind(&wrapped)
        .execute(&self.pool)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(key);
        }
        self.find(user_id)
            .await?
            .ok_or(KeyRingError::WrongMasterKey(user_id))
    }

    /// The user's data key, or `None` once it has been shredded.
    pub async fn find(&self, user_id: Uuid) -> Result<Option<DataKey>, KeyRingError> {
        let mut keys = self.find_many(&[user_id]).await?;
        Ok(keys.remove(&user_id))
    }

    /// The data keys of several users at once (for batches and replays); shredded users
    /// are simply absent from the map.
    pub async fn find_many(
        &self,
        user_ids: &[Uuid],
    ) -> Result<HashMap<Uuid, DataKey>, KeyRingError> {
        self.find_many_on(&self.pool, user_ids).await
    }

    /// As [`KeyRing::find_many`], through `executor` (a builder's own transaction, which
    /// spares it a trip through the pool).
    pub async fn find_many_on<'e>(
        &self,
        executor: impl sqlx::PgExecutor<'e>,
        user_ids: &[Uuid],
    ) -> Result<HashMap<Uuid, DataKey>, KeyRingError> {
        let rows: Vec<(Uuid, String)> =
            sqlx::query_as("select user_id, wrapped_key from user_keys where user_id = any($1)")
                .bind(user_ids)
                .fetch_all(executor)
                .await?;
        let mut keys = HashMap::with_capacity(rows.len());
        for (user_id, wrapped) in rows {
            let bytes = open_raw(&self.kek(user_id), &Self::wrapping_aad(user_id), &wrapped)
                .map_err(|_| KeyRingError::WrongMasterKey(user_id))?;
            let array: [u8; 32] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| KeyRingError::WrongMasterKey(user_id))?;
            keys.insert(user_id, DataKey(Zeroizing::new(array)));
        }
        Ok(keys)
    }

    /// Deletes the user's data key: everything sealed under it becomes unreadable.
    pub async fn shred(&self, user_id: Uuid) -> Result<bool, KeyRingError> {
        let deleted = sqlx::query("delete from user_keys where user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected() == 1)
    }
}
