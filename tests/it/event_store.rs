//! The event store: grants, concurrency, metadata, encryption of personal fields.

use crate::support::TestEnv;
use commands::{CommandError, CommandMeta, EventStore};
use domain::user::{sealed_fields, Handle, RegisterUser, Role, User, UserCommand, UserError};
use domain::Sealed;
use uuid::Uuid;

#[tokio::test]
async fn the_runtime_role_can_append_and_read_but_never_update_or_delete_events() {
    let env = TestEnv::new().await;
    env.register("ivan").await;
    let update = sqlx::query("update events set sequence = 9")
        .execute(&env.pool)
        .await
        .unwrap_err();
    assert_eq!(
        update.as_database_error().unwrap().code().unwrap(),
        "42501",
        "UPDATE must be refused"
    );
    let delete = sqlx::query("delete from events")
        .execute(&env.pool)
        .await
        .unwrap_err();
    assert_eq!(
        delete.as_database_error().unwrap().code().unwrap(),
        "42501",
        "DELETE must be refused"
    );
    let truncate = sqlx::query("truncate events")
        .execute(&env.pool)
        .await
        .unwrap_err();
    assert_eq!(
        truncate.as_database_error().unwrap().code().unwrap(),
        "42501"
    );
    let reservations = sqlx::query("delete from handle_reservations")
        .execute(&env.pool)
        .await
        .unwrap_err();
    assert_eq!(
        reservations.as_database_error().unwrap().code().unwrap(),
        "42501"
    );
    assert_eq!(env.event_count().await, 1);
}

fn register_command(user_id: Uuid, handle: &str, lookup: &str) -> RegisterUser {
    RegisterUser {
        user_id,
        handle: Handle::parse(handle).unwrap(),
        email: Sealed::from_envelope("v1.AAAAAAAAAAAAAAAA.AAAA".into()),
        email_lookup: lookup.into(),
        password_hash: Sealed::from_envelope("v1.AAAAAAAAAAAAAAAA.AAAA".into()),
        role: Role::User,
        email_verified: true,
        at: chrono::DateTime::UNIX_EPOCH,
    }
}

#[tokio::test]
async fn concurrent_commands_on_one_aggregate_let_exactly_one_win() {
    let env = TestEnv::new().await;
    let store = EventStore::new(env.pool.clone());
    let user_id = Uuid::new_v4();
    let attempts = (0..8).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            let command = UserCommand::Register(register_command(
                user_id,
                &format!("racer{i}"),
                &format!("lookup{i}"),
            ));
            store
                .execute::<User>(
                    &user_id.to_string(),
                    command,
                    (),
                    &CommandMeta::new("test", "race"),
                )
                .await
        })
    });
    let results = futures::future::join_all(attempts).await;
    let wins = results.iter().filter(|r| matches!(r, Ok(Ok(_)))).count();
    assert_eq!(wins, 1);
    for result in results {
        match result.unwrap() {
            Ok(_)
            | Err(CommandError::Conflict)
            | Err(CommandError::Rejected(UserError::AlreadyRegistered)) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(env.event_count().await, 1, "nothing partial");
    let reservations: i64 = sqlx::query_scalar("select count(*) from handle_reservations")
        .fetch_one(&env.ddl)
        .await
        .unwrap();
    assert_eq!(reservations, 1, "losers leave no reservation behind");
}

#[tokio::test]
async fn events_carry_command_metadata_and_a_global_order() {
    let env = TestEnv::new().await;
    let store = EventStore::new(env.pool.clone());
    let user_id = Uuid::new_v4();
    let meta = CommandMeta {
        causation_id: Some("evt-1".into()),
        ..CommandMeta::new("user:someone", "req-42")
    };
    let token = store
        .execute::<User>(
            &user_id.to_string(),
            UserCommand::Register(register_command(user_id, "judy", "l")),
            (),
            &meta,
        )
        .await
        .unwrap();
    let (metadata, tx_id, position, event_id): (serde_json::Value, i64, i64, Uuid) =
        sqlx::query_as("select metadata, tx_id::text::bigint, position, event_id from events")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(metadata["command_id"], meta.command_id.to_string());
    assert_eq!(metadata["actor"], "user:someone");
    assert_eq!(metadata["correlation_id"], "req-42");
    assert_eq!(metadata["causation_id"], "evt-1");
    assert_eq!(
        (token.tx_id, token.position),
        (tx_id, position),
        "the command returns its event's token"
    );
    assert!(!event_id.is_nil());
}

#[tokio::test]
async fn personal_fields_are_sealed_under_the_users_key() {
    let env = TestEnv::new().await;
    let (user_id, _) = env.register("kate").await;
    let payload: String = sqlx::query_scalar("select payload::text from events")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert!(
        !payload.contains("kate@example.test"),
        "plaintext email in the event: {payload}"
    );
    assert!(
        !payload.contains("argon2"),
        "password hash in clear in the event"
    );
    let event: serde_json::Value = serde_json::from_str(&payload).unwrap();
    let sealed = Sealed::from_envelope(
        event["UserRegistered"]["email"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    let key = env.keys().find(user_id).await.unwrap().unwrap();
    assert_eq!(
        key.open_text(user_id, sealed_fields::EMAIL, &sealed)
            .unwrap(),
        "kate@example.test"
    );
    let hash = Sealed::from_envelope(
        event["UserRegistered"]["password_hash"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    assert!(key
        .open_text(user_id, sealed_fields::PASSWORD_HASH, &hash)
        .unwrap()
        .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    assert_eq!(
        event["UserRegistered"]["email_lookup"],
        env.master.email_lookup("kate@example.test")
    );
}

mod snapshots {
    use super::*;
    use domain::document::storage::{Storage, StorageCommand};

    fn admit(n: u128, size: u64) -> StorageCommand {
        StorageCommand::Admit {
            document_id: Uuid::from_u128(n),
            size,
            quota: u64::MAX,
            at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    /// Admits document `n` with size `n`, retrying lost races as the document commands do.
    async fn admit_until_done(store: &EventStore, owner: &str, n: u128) {
        loop {
            match store
                .execute::<Storage>(
                    owner,
                    admit(n, n as u64),
                    (),
                    &CommandMeta::new("test", "s"),
                )
                .await
            {
                Ok(_) => return,
                Err(CommandError::Conflict) => tokio::task::yield_now().await,
                Err(other) => panic!("admit {n}: {other:?}"),
            }
        }
    }

    async fn snapshot_of(env: &TestEnv, owner: &str) -> (i64, i32, serde_json::Value) {
        sqlx::query_as(
            "select last_sequence, shape, payload from snapshots
              where aggregate_type = 'storage' and aggregate_id = $1",
        )
        .bind(owner)
        .fetch_one(&env.ddl)
        .await
        .unwrap()
    }

    async fn used(store: &EventStore, owner: &str) -> u64 {
        store.load::<Storage>(owner).await.unwrap().used()
    }

    #[tokio::test]
    async fn a_storage_loads_from_its_latest_snapshot_and_the_events_after_it() {
        let env = TestEnv::new().await;
        let store = EventStore::new(env.pool.clone());
        let owner = Uuid::new_v4().to_string();
        for n in 1..=195 {
            admit_until_done(&store, &owner, n).await;
        }
        // Ten racing admits across the 200th event: the snapshot must hold exactly the
        // first 200 events' state, whichever commit reaches it.
        let racers = (196..=205).map(|n| {
            let (store, owner) = (store.clone(), owner.clone());
            tokio::spawn(async move { admit_until_done(&store, &owner, n).await })
        });
        for racer in futures::future::join_all(racers).await {
            racer.unwrap();
        }
        let first_200: i64 = sqlx::query_scalar(
            "select sum((payload -> 'StorageAdmitted' ->> 'size')::bigint)::bigint from events
              where aggregate_type = 'storage' and aggregate_id = $1 and sequence <= 200",
        )
        .bind(&owner)
        .fetch_one(&env.ddl)
        .await
        .unwrap();
        let (sequence, shape, payload) = snapshot_of(&env, &owner).await;
        assert_eq!((sequence, shape), (200, 1));
        assert_eq!(payload["used"], first_200, "each event folded once");
        assert_eq!(payload["sizes"].as_object().unwrap().len(), 200);
        let all: u64 = (1..=205).sum();
        assert_eq!(used(&store, &owner).await, all);

        // The load really starts there: a doctored snapshot shows through...
        sqlx::query("update snapshots set payload = jsonb_set(payload, '{used}', '7')")
            .execute(&env.ddl)
            .await
            .unwrap();
        let after_snapshot: u64 = (1..=205).sum::<u64>() - first_200 as u64;
        assert_eq!(used(&store, &owner).await, 7 + after_snapshot);
        // ...until its shape is not the aggregate's, or it does not deserialise.
        sqlx::query("update snapshots set shape = 99")
            .execute(&env.ddl)
            .await
            .unwrap();
        assert_eq!(used(&store, &owner).await, all);
        sqlx::query("update snapshots set shape = 1, payload = '{\"nonsense\": true}'")
            .execute(&env.ddl)
            .await
            .unwrap();
        assert_eq!(used(&store, &owner).await, all);

        // The next multiple replaces it, from the events, never from what it said.
        for n in 206..=300 {
            admit_until_done(&store, &owner, n).await;
        }
        let (sequence, _, payload) = snapshot_of(&env, &owner).await;
        assert_eq!(sequence, 300);
        assert_eq!(payload["used"], (1..=300).sum::<u64>());
        assert_eq!(used(&store, &owner).await, (1..=300).sum::<u64>());
    }

    #[tokio::test]
    async fn snapshots_are_a_cache_the_runtime_cannot_delete_and_need_not_have() {
        let env = TestEnv::new().await;
        let store = EventStore::new(env.pool.clone());
        let owner = Uuid::new_v4().to_string();
        for n in 1..=120 {
            admit_until_done(&store, &owner, n).await;
        }
        let refused = sqlx::query("delete from snapshots")
            .execute(&env.pool)
            .await
            .unwrap_err();
        assert_eq!(
            refused.as_database_error().unwrap().code().unwrap(),
            "42501"
        );
        sqlx::query("delete from snapshots")
            .execute(&env.ddl)
            .await
            .unwrap();
        assert_eq!(used(&store, &owner).await, (1..=120).sum::<u64>());
        let release = StorageCommand::Release {
            document_id: Uuid::from_u128(120),
            at: chrono::DateTime::UNIX_EPOCH,
        };
        store
            .execute::<Storage>(&owner, release, (), &CommandMeta::new("test", "s"))
            .await
            .unwrap();
        assert_eq!(used(&store, &owner).await, (1..=119).sum::<u64>());
    }
}
