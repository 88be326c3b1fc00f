//! The relay (EV-3) and ARCHITECTURE tests 1, 2, 5, 6 and the size limit.

use crate::support::{events, TestEnv};
use docuvault::system::Components;
use eventlog::bus;
use std::time::Duration;
use workers::relay::{PublishError, Publisher};

fn relay_only() -> Components {
    Components {
        relay: true,
        ..Components::default()
    }
}

#[tokio::test]
async fn an_out_of_order_commit_is_held_back_not_skipped() {
    let env = TestEnv::new().await;
    let running = env.start(relay_only()).await;
    // A takes the lower position and stays open; B takes a higher one and commits first.
    let mut slow = env.pool.begin().await.unwrap();
    let low = events::probe(&mut slow, "a", 1).await;
    let mut fast = env.pool.begin().await.unwrap();
    let high = events::probe(&mut fast, "b", 1).await;
    fast.commit().await.unwrap();
    assert!(low < high);
    // The relay polls every 50 ms; give it several chances to (wrongly) publish B alone.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        env.stream_len().await,
        0,
        "B must wait while A, with a lower transaction id, is open"
    );
    slow.commit().await.unwrap();
    env.eventually("both are published", || async {
        env.stream_len().await == 2
    })
    .await;
    assert_eq!(env.stream_positions().await, vec![low, high]);
    running.stop().await;
}

#[tokio::test]
async fn a_rolled_back_transactions_gap_is_passed() {
    let env = TestEnv::new().await;
    let running = env.start(relay_only()).await;
    let mut doomed = env.pool.begin().await.unwrap();
    let gap = events::probe(&mut doomed, "a", 1).await;
    doomed.rollback().await.unwrap();
    let mut connection = env.pool.acquire().await.unwrap();
    let after = events::probe(&mut connection, "b", 1).await;
    assert!(after > gap);
    env.eventually("the later event is published", || async {
        env.stream_len().await == 1
    })
    .await;
    assert_eq!(env.stream_positions().await, vec![after]);
    running.stop().await;
}

#[tokio::test]
async fn a_stale_relay_is_refused_by_the_stream() {
    let env = TestEnv::new().await;
    env.bus
        .ensure_stream(&env.js, 1 << 20, Duration::from_secs(120))
        .await
        .unwrap();
    let mut connection = env.pool.acquire().await.unwrap();
    events::probe(&mut connection, "a", 1).await;
    events::probe(&mut connection, "a", 2).await;
    let log = env.relayable_log(2).await;
    let current = Publisher::new(
        env.js.clone(),
        env.bus.clone(),
        1 << 20,
        env.instance().await,
    );
    let stale = Publisher::new(
        env.js.clone(),
        env.bus.clone(),
        1 << 20,
        env.instance().await,
    );
    assert_eq!(current.publish(&log[0], 0).await.unwrap(), 1);
    // The stale relay still believes the stream is empty.
    match stale.publish(&log[1], 0).await {
        Err(PublishError::Stale { expected: 0 }) => {}
        other => panic!("a stale relay must be refused, got {other:?}"),
    }
    assert_eq!(env.stream_len().await, 1);
}

#[tokio::test]
async fn two_relays_at_once_publish_every_event_exactly_once() {
    let env = TestEnv::new().await;
    let first = env.start(relay_only()).await;
    let second = env.start(relay_only()).await;
    let mut connection = env.pool.acquire().await.unwrap();
    for n in 1..=40 {
        events::probe(&mut connection, &format!("p{}", n % 7), n).await;
    }
    env.eventually("all 40 are published", || async {
        env.stream_len().await >= 40
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(env.stream_positions().await, env.log_positions().await);
    let active = [&first, &second]
        .iter()
        .filter(|running| {
            running
                .relay_stats
                .as_ref()
                .unwrap()
                .active
                .load(std::sync::atomic::Ordering::Relaxed)
        })
        .count();
    assert_eq!(active, 1, "one relay is active, the other stands by");
    // The active one goes away: the standby takes over and carries on.
    first.stop().await;
    for n in 41..=50 {
        events::probe(&mut connection, "late", n).await;
    }
    env.eventually("the standby publishes the rest", || async {
        env.stream_len().await >= 50
    })
    .await;
    assert_eq!(env.stream_positions().await, env.log_positions().await);
    second.stop().await;
}

#[tokio::test]
async fn a_relay_killed_between_publish_and_checkpoint_loses_and_doubles_nothing() {
    let env = TestEnv::new().await;
    let mut connection = env.pool.acquire().await.unwrap();
    for n in 1..=10 {
        events::probe(&mut connection, "k", n).await;
    }
    // A relay published six events and died before writing its checkpoint.
    env.bus
        .ensure_stream(&env.js, 1 << 20, Duration::from_secs(120))
        .await
        .unwrap();
    let log = env.relayable_log(10).await;
    let publisher = Publisher::new(
        env.js.clone(),
        env.bus.clone(),
        1 << 20,
        env.instance().await,
    );
    for (i, event) in log.iter().take(6).enumerate() {
        publisher.publish(event, i as u64).await.unwrap();
    }
    let checkpoints: i64 = sqlx::query_scalar("select count(*) from relay_checkpoint")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert_eq!(checkpoints, 0);
    // Then crash a real relay mid-flight, several times.
    for _ in 0..3 {
        let running = env.start(relay_only()).await;
        tokio::time::sleep(Duration::from_millis(30)).await;
        running.kill();
        for n in 0..5 {
            events::probe(&mut connection, "more", 100 + env.event_count().await + n).await;
        }
    }
    let running = env.start(relay_only()).await;
    let total = env.event_count().await as u64;
    env.eventually("everything is published", || async {
        env.stream_len().await >= total
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        env.stream_positions().await,
        env.log_positions().await,
        "nothing lost, nothing doubled, in order"
    );
    running.stop().await;
}

#[tokio::test]
async fn an_event_too_large_for_the_stream_is_parked_loudly_and_the_rest_flow() {
    let mut env = TestEnv::new().await;
    env.settings.stream_max_message_bytes = 4096;
    let mut connection = env.pool.acquire().await.unwrap();
    let small = events::probe(&mut connection, "s", 1).await;
    let big = events::insert(
        &mut connection,
        "probe",
        "big",
        1,
        "Probed",
        "1.0",
        serde_json::json!({"blob": "x".repeat(8000)}),
    )
    .await;
    let after = events::probe(&mut connection, "s", 2).await;
    let running = env.start(relay_only()).await;
    env.eventually("the small ones are published", || async {
        env.stream_len().await == 2
    })
    .await;
    assert_eq!(env.stream_positions().await, vec![small, after]);
    let parked: Vec<(i64, String)> = sqlx::query_as("select position, reason from relay_parked")
        .fetch_all(&env.pool)
        .await
        .unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].0, big);
    assert!(parked[0].1.contains("exceeds"), "{}", parked[0].1);
    assert_eq!(
        running
            .relay_stats
            .as_ref()
            .unwrap()
            .parked
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    running.stop().await;
    // A restart does not publish it either, and does not stall on it.
    let running = env.start(relay_only()).await;
    let later = events::probe(&mut connection, "s", 3).await;
    env.eventually("a later event still flows", || async {
        env.stream_len().await == 3
    })
    .await;
    assert_eq!(env.stream_positions().await, vec![small, after, later]);
    running.stop().await;
}

#[tokio::test]
async fn published_messages_carry_the_contracts_headers_and_id() {
    let env = TestEnv::new().await;
    let running = env.start(relay_only()).await;
    let (user_id, token) = env.register("nina").await;
    env.eventually("published", || async { env.stream_len().await == 1 })
        .await;
    let (_, message) = env.stream_events().await.remove(0);
    let header = |name: &str| message.headers.get(name).map(|v| v.as_str().to_owned());
    assert_eq!(
        message.subject.as_str(),
        format!("{}.evt.user.UserRegistered", env.bus.prefix())
    );
    assert_eq!(header("Nats-Msg-Id"), Some(format!("user/{user_id}/1")));
    assert_eq!(
        header(bus::headers::POSITION),
        Some(token.position.to_string())
    );
    assert_eq!(header(bus::headers::TX_ID), Some(token.tx_id.to_string()));
    assert_eq!(header(bus::headers::SEQUENCE), Some("1".into()));
    assert_eq!(
        header(bus::headers::EVENT_TYPE),
        Some("UserRegistered".into())
    );
    assert_eq!(header(bus::headers::EVENT_VERSION), Some("3.0".into()));
    let body = bus::decode(&message.payload).unwrap();
    assert_eq!(body.token(), token);
    assert!(!String::from_utf8_lossy(&message.payload).contains("nina@example.test"));
    running.stop().await;
}

#[tokio::test]
async fn a_relay_refuses_to_resume_from_another_databases_stream() {
    let env = TestEnv::new().await;
    env.bus
        .ensure_stream(&env.js, 1 << 20, Duration::from_secs(120))
        .await
        .unwrap();
    let mut connection = env.pool.acquire().await.unwrap();
    events::probe(&mut connection, "x", 1).await;
    let log = env.relayable_log(1).await;
    // Another database once published under the same prefix.
    let foreign = Publisher::new(
        env.js.clone(),
        env.bus.clone(),
        1 << 20,
        "another-database".into(),
    );
    foreign.publish(&log[0], 0).await.unwrap();
    let running = env.start(relay_only()).await;
    events::probe(&mut connection, "x", 2).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        env.stream_len().await,
        1,
        "nothing may be published after a foreign message"
    );
    assert!(!running
        .relay_stats
        .as_ref()
        .unwrap()
        .active
        .load(std::sync::atomic::Ordering::Relaxed));
    running.stop().await;
}
