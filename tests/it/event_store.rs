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
