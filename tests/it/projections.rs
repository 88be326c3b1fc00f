//! Projection builders (EV-4): redelivery, duplicates, gaps, crashes, poison, standbys.

use crate::support::probe::{applied, ProbeModel};
use crate::support::{events, register_with, TestEnv};
use async_nats::jetstream::message::PublishMessage;
use docuvault::system::Components;
use eventlog::bus;
use projections::runner::{Runner, RunnerConfig};
use projections::users::queries;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

async fn probe_runner(
    env: &TestEnv,
    config: RunnerConfig,
) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    projections::replay::install(&env.ddl, &ProbeModel, 1000)
        .await
        .unwrap();
    let runner = Runner::new(
        env.pool.clone(),
        env.js.clone(),
        env.bus.clone(),
        Arc::new(ProbeModel),
        config,
    );
    let shutdown = CancellationToken::new();
    let handle = tokio::spawn(runner.run(shutdown.clone()));
    (shutdown, handle)
}

fn fast() -> RunnerConfig {
    RunnerConfig {
        standby_poll: Duration::from_millis(50),
        retry_backoff: Duration::from_millis(5),
        max_attempts: 3,
        ..RunnerConfig::default()
    }
}

/// Publishes `event` as a faulty relay would: with a fresh message id, so the stream
/// keeps every copy.
async fn publish_copy(env: &TestEnv, event: &eventlog::StoredEvent) {
    let (headers, body) = bus::encode(event).unwrap();
    let message = PublishMessage::build()
        .payload(body)
        .headers(headers)
        .message_id(uuid::Uuid::new_v4().to_string());
    env.js
        .send_publish(env.bus.subject_of(event), message)
        .await
        .unwrap()
        .await
        .unwrap();
}

async fn probe_progress(env: &TestEnv) -> eventlog::Token {
    projections::state::read(&env.pool, "rm_probe")
        .await
        .unwrap()
        .token
}

#[tokio::test]
async fn every_message_delivered_two_or_three_times_is_applied_once_in_order() {
    let env = TestEnv::new().await;
    let mut connection = env.pool.acquire().await.unwrap();
    for n in 1..=12 {
        events::probe(&mut connection, &format!("agg{}", n % 3), n / 3 + 1).await;
    }
    env.bus
        .ensure_stream(&env.js, 1 << 20, Duration::from_secs(120))
        .await
        .unwrap();
    let log = env.relayable_log(12).await;
    // Copies interleaved: e1 e1 e2 e1 e3 e2 e4 e3 e3 …
    for (i, event) in log.iter().enumerate() {
        publish_copy(&env, event).await;
        if i > 0 {
            publish_copy(&env, &log[i - 1]).await;
        }
        if i % 2 == 0 {
            publish_copy(&env, event).await;
        }
    }
    let (shutdown, handle) = probe_runner(&env, fast()).await;
    let last = log.last().unwrap().token();
    env.eventually("the model reaches the last event", || async {
        probe_progress(&env).await >= last
    })
    .await;
    let live = applied(&env.pool, "rm_probe").await;
    let expected: Vec<(String, i64)> = log
        .iter()
        .map(|e| (e.aggregate_id.clone(), e.sequence))
        .collect();
    assert_eq!(live, expected, "each event once, in relay order");
    shutdown.cancel();
    handle.await.unwrap();
    // And a clean replay from the events table builds exactly the same.
    projections::replay::replay(&env.ddl, &ProbeModel, 5)
        .await
        .unwrap();
    assert_eq!(applied(&env.pool, "rm_probe").await, expected);
}

#[tokio::test]
async fn a_sequence_gap_is_filled_from_the_events_table() {
    let env = TestEnv::new().await;
    let mut connection = env.pool.acquire().await.unwrap();
    for n in 1..=3 {
        events::probe(&mut connection, "g", n).await;
    }
    env.bus
        .ensure_stream(&env.js, 1 << 20, Duration::from_secs(120))
        .await
        .unwrap();
    let log = env.relayable_log(3).await;
    // Only the third reaches the stream.
    publish_copy(&env, &log[2]).await;
    let (shutdown, handle) = probe_runner(&env, fast()).await;
    env.eventually("the model reaches the third event", || async {
        probe_progress(&env).await >= log[2].token()
    })
    .await;
    assert_eq!(
        applied(&env.pool, "rm_probe").await,
        vec![("g".into(), 1), ("g".into(), 2), ("g".into(), 3)]
    );
    // When the first two arrive late, they are no-ops.
    publish_copy(&env, &log[0]).await;
    publish_copy(&env, &log[1]).await;
    events::probe(&mut connection, "g", 4).await;
    let log = env.relayable_log(4).await;
    publish_copy(&env, &log[3]).await;
    env.eventually("the fourth is applied", || async {
        probe_progress(&env).await >= log[3].token()
    })
    .await;
    assert_eq!(applied(&env.pool, "rm_probe").await.len(), 4);
    shutdown.cancel();
    handle.await.unwrap();
}

#[tokio::test]
async fn a_poison_or_unknown_event_is_parked_after_its_tries_and_the_rest_flow() {
    let mut env = TestEnv::new().await;
    env.settings.projection_max_attempts = 2;
    let mut connection = env.pool.acquire().await.unwrap();
    // An event type this build does not know, and a registration whose shape is wrong.
    events::insert(
        &mut connection,
        "user",
        "u-unknown",
        1,
        "UserTeleported",
        "1.0",
        serde_json::json!({"to": "mars"}),
    )
    .await;
    let broken = uuid::Uuid::new_v4();
    events::insert(
        &mut connection,
        "user",
        "u-broken",
        1,
        "UserRegistered",
        "2.0",
        serde_json::json!({"user_id": broken, "handle": "broken", "email_lookup": "x"}),
    )
    .await;
    drop(connection);
    let (running, url) = env.start_all().await;
    let (_, token) = env.register("olga").await;
    env.users_reach(token).await;
    let parked: Vec<(String, String)> = sqlx::query_as("select aggregate_id, event_type from projection_dead_letters where projection = 'users' order by position")
        .fetch_all(&env.pool)
        .await
        .unwrap();
    assert_eq!(
        parked,
        vec![
            ("u-unknown".into(), "UserTeleported".into()),
            ("u-broken".into(), "UserRegistered".into())
        ]
    );
    assert!(queries::handle_exists(&env.pool, "olga").await.unwrap());
    let metrics = reqwest::get(format!("{url}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("docuvault_projection_dead_letters{projection=\"users\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("docuvault_projection_lag_events{projection=\"users\"} 0"),
        "{metrics}"
    );
    running.stop().await;
}

#[tokio::test]
async fn builders_killed_mid_batch_leave_a_model_equal_to_a_clean_replay() {
    let mut env = TestEnv::new().await;
    env.settings.projection_batch = 3;
    let relay = env
        .start(Components {
            relay: true,
            ..Components::default()
        })
        .await;
    let writer = {
        let registrations = env.registrations();
        tokio::spawn(async move {
            for n in 0..24 {
                register_with(&registrations, &format!("kill{n}")).await;
            }
        })
    };
    for pause in [15u64, 40, 5, 25, 60] {
        let builder = env
            .start(Components {
                projections: true,
                ..Components::default()
            })
            .await;
        tokio::time::sleep(Duration::from_millis(pause)).await;
        builder.kill();
    }
    writer.await.unwrap();
    let builder = env
        .start(Components {
            projections: true,
            ..Components::default()
        })
        .await;
    env.eventually("the model has all 24", || async {
        queries::all_in(&env.pool, "rm_users").await.unwrap().len() == 24
    })
    .await;
    builder.stop().await;
    relay.stop().await;
    let live = queries::all_in(&env.pool, "rm_users").await.unwrap();
    let model = docuvault::system::read_model(env.keys(), "users").unwrap();
    projections::replay::replay(&env.ddl, model.as_ref(), 7)
        .await
        .unwrap();
    assert_eq!(queries::all_in(&env.pool, "rm_users").await.unwrap(), live);
}

#[tokio::test]
async fn two_project_processes_at_once_build_what_a_clean_replay_builds() {
    let env = TestEnv::new().await;
    let relay = env
        .start(Components {
            relay: true,
            ..Components::default()
        })
        .await;
    let first = env
        .start(Components {
            projections: true,
            ..Components::default()
        })
        .await;
    let second = env
        .start(Components {
            projections: true,
            ..Components::default()
        })
        .await;
    let registrations = env.registrations();
    let registrations = futures::future::join_all((0..16).map(|n| {
        let registrations = registrations.clone();
        async move { register_with(&registrations, &format!("twin{n}")).await }
    }))
    .await;
    assert_eq!(registrations.len(), 16);
    env.eventually("all 16 are applied", || async {
        queries::all_in(&env.pool, "rm_users").await.unwrap().len() == 16
    })
    .await;
    let holders: i64 = sqlx::query_scalar("select count(*) from pg_locks where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database()) and ((classid::bigint << 32) | objid::bigint) = hashtext('docuvault:projection:users')::bigint")
        .fetch_one(&env.ddl)
        .await
        .unwrap();
    // Advisory locks are per database; other tests' builders hold the same key in theirs.
    assert_eq!(holders, 1, "exactly one active builder");
    let live = queries::all_in(&env.pool, "rm_users").await.unwrap();
    first.stop().await;
    second.stop().await;
    relay.stop().await;
    let model = docuvault::system::read_model(env.keys(), "users").unwrap();
    projections::replay::replay(&env.ddl, model.as_ref(), 5)
        .await
        .unwrap();
    assert_eq!(queries::all_in(&env.pool, "rm_users").await.unwrap(), live);
}
