//! Read your writes (EV-6, ARCHITECTURE test 12): tokens compare as `(tx_id, position)`.

use crate::support::{events, TestEnv};
use eventlog::Token;
use projections::state::{wait_until_reached, WaitError};
use std::time::Duration;

async fn set_progress(env: &TestEnv, token: Token) {
    sqlx::query("update rm_users.projection_state set tx_id = $1, position = $2")
        .bind(token.tx_id)
        .bind(token.position)
        .execute(&env.ddl)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_token_from_an_out_of_order_commit_is_honoured_as_a_pair() {
    let env = TestEnv::new().await;
    // A takes its transaction id first but appends last; B appends in between.
    let mut a = env.pool.begin().await.unwrap();
    let a_xid: i64 = sqlx::query_scalar("select pg_current_xact_id()::text::bigint")
        .fetch_one(&mut *a)
        .await
        .unwrap();
    let (_, b) = env.register("beth").await;
    let a_position = events::insert(
        &mut a,
        "user",
        &uuid::Uuid::new_v4().to_string(),
        1,
        "UserNoted",
        "1.0",
        serde_json::json!({}),
    )
    .await;
    a.commit().await.unwrap();
    let a = Token::new(a_xid, a_position);
    assert!(
        a.position > b.position && a.tx_id < b.tx_id,
        "the commits are out of order: a={a} b={b}"
    );
    assert!(a < b, "relay order puts A first");

    // The model has applied A but not B: B's token is not reached, though its position is
    // lower than the model's.
    set_progress(&env, a).await;
    let wait = wait_until_reached(
        &env.pool,
        "rm_users",
        &["user"],
        b,
        Duration::from_millis(100),
        Duration::from_millis(10),
    )
    .await;
    assert!(matches!(wait, Err(WaitError::NotYet)), "{wait:?}");
    set_progress(&env, b).await;
    wait_until_reached(
        &env.pool,
        "rm_users",
        &["user"],
        b,
        Duration::from_millis(100),
        Duration::from_millis(10),
    )
    .await
    .unwrap();
    wait_until_reached(
        &env.pool,
        "rm_users",
        &["user"],
        a,
        Duration::from_millis(100),
        Duration::from_millis(10),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_token_of_another_aggregate_type_is_reached_once_nothing_of_the_models_type_lies_before_it(
) {
    let env = TestEnv::new().await;
    let (_, user) = env.register("cleo").await;
    let mut connection = env.pool.acquire().await.unwrap();
    let probe_position = events::probe(&mut connection, "p", 1).await;
    let probe: (i64, i64) =
        sqlx::query_as("select tx_id::text::bigint, position from events where position = $1")
            .bind(probe_position)
            .fetch_one(&env.pool)
            .await
            .unwrap();
    let probe = Token::new(probe.0, probe.1);
    // The user event lies before the probe and is not applied: not reached.
    let wait = wait_until_reached(
        &env.pool,
        "rm_users",
        &["user"],
        probe,
        Duration::from_millis(60),
        Duration::from_millis(10),
    )
    .await;
    assert!(matches!(wait, Err(WaitError::NotYet)));
    // Once the user event is applied, the probe's token counts as reached for users.
    set_progress(&env, user).await;
    wait_until_reached(
        &env.pool,
        "rm_users",
        &["user"],
        probe,
        Duration::from_millis(60),
        Duration::from_millis(10),
    )
    .await
    .unwrap();
}
