//! ARCHITECTURE tests 3 and 9, on a Postgres cluster and NATS server of their own: a long
//! open transaction holds the whole cluster's snapshot back, and restarts must not touch
//! the shared services.

use crate::support::cluster::{PrivateServices, SERIAL};
use crate::support::TestEnv;
use projections::users::queries;
use std::time::Duration;

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|line| {
            line.strip_prefix(name)
                .and_then(|rest| rest.trim().parse().ok())
        })
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
}

#[tokio::test]
async fn a_long_open_transaction_stalls_the_relay_without_loss_and_the_lag_shows() {
    let _serial = SERIAL.lock().await;
    let services = PrivateServices::start();
    let env = TestEnv::on(&services.pg_url(), &services.nats_url()).await;
    let (running, url) = env.start_all().await;

    // Any open write transaction in the cluster holds the relay's horizon.
    let mut long = env.ddl.begin().await.unwrap();
    let _: String = sqlx::query_scalar("select pg_current_xact_id()::text")
        .fetch_one(&mut *long)
        .await
        .unwrap();
    for n in 0..3 {
        env.register(&format!("stalled{n}")).await;
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        env.stream_len().await,
        0,
        "nothing may pass the open transaction"
    );
    let metrics = reqwest::get(format!("{url}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(metric(&metrics, "docuvault_relay_lag_events"), 3.0);
    assert!(
        metric(&metrics, "docuvault_relay_lag_seconds") > 0.3,
        "{metrics}"
    );

    long.commit().await.unwrap();
    env.eventually("all three arrive", || async {
        queries::all_in(&env.pool, "rm_users").await.unwrap().len() == 3
    })
    .await;
    assert_eq!(env.stream_positions().await, env.log_positions().await);
    let metrics = reqwest::get(format!("{url}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(metric(&metrics, "docuvault_relay_lag_events"), 0.0);
    running.stop().await;
}

#[tokio::test]
async fn after_nats_and_postgres_restart_everything_resumes_from_its_checkpoint() {
    let _serial = SERIAL.lock().await;
    let mut services = PrivateServices::start();
    let env = TestEnv::on(&services.pg_url(), &services.nats_url()).await;
    let (running, _) = env.start_all().await;
    let (_, token) = env.register("before").await;
    env.users_reach(token).await;

    services.restart_nats();
    env.register("between").await;
    env.eventually("the write after NATS came back arrives", || async {
        queries::handle_exists(&env.pool, "between")
            .await
            .unwrap_or(false)
    })
    .await;

    services.restart_postgres();
    // The first statements after a restart may meet dead connections; a user retries.
    let mut registered = false;
    for _ in 0..50 {
        let form = commands::registration::RegistrationForm {
            email: "after@example.test",
            handle: "after",
            password: "correct horse battery staple",
        };
        if env
            .registrations()
            .register(
                form,
                domain::user::Role::User,
                true,
                &commands::CommandMeta::new("test", "restart"),
            )
            .await
            .is_ok()
        {
            registered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(registered, "Postgres did not come back");
    env.eventually("the write after Postgres came back arrives", || async {
        queries::handle_exists(&env.pool, "after")
            .await
            .unwrap_or(false)
    })
    .await;
    assert_eq!(
        env.stream_positions().await,
        env.log_positions().await,
        "nothing lost or doubled on the stream"
    );
    let live = queries::all_in(&env.pool, "rm_users").await.unwrap();
    assert_eq!(live.len(), 3);
    running.stop().await;
    let model = docuvault::system::read_model(env.keys(), "users").unwrap();
    projections::replay::replay(&env.ddl, model.as_ref(), 10)
        .await
        .unwrap();
    assert_eq!(queries::all_in(&env.pool, "rm_users").await.unwrap(), live);
}
