//! Rebuilding read models (EV-5): equivalence, reads stay up, failures are loud, and
//! crypto-shredding survives a rebuild (ARCHITECTURE tests 11 and 13).

use crate::support::TestEnv;
use projections::users::queries;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[tokio::test]
async fn a_rebuild_equals_the_live_model_and_reads_stay_up_while_it_runs() {
    let env = TestEnv::new().await;
    let (running, url) = env.start_all().await;
    let mut last = eventlog::Token::ZERO;
    for n in 0..30 {
        last = env.register(&format!("rita{n}")).await.1;
    }
    env.users_reach(last).await;
    let live = queries::all_in(&env.pool, "rm_users").await.unwrap();

    // Readers hammer the model while it is rebuilt and swapped.
    let failures = Arc::new(AtomicU64::new(0));
    let reads = Arc::new(AtomicU64::new(0));
    let stop = tokio_util::sync::CancellationToken::new();
    let reader = {
        let (failures, reads, stop, url) =
            (failures.clone(), reads.clone(), stop.clone(), url.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            while !stop.is_cancelled() {
                match client.get(format!("{url}/api/handles/rita7")).send().await {
                    Ok(response) if response.status() == 200 => {
                        let body: serde_json::Value = response.json().await.unwrap();
                        if body["available"] != false {
                            failures.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    _ => {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
                reads.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let model = docuvault::system::read_model(env.keys(), "users").unwrap();
    let report = projections::replay::replay(&env.ddl, model.as_ref(), 4)
        .await
        .unwrap();
    stop.cancel();
    reader.await.unwrap();
    assert_eq!(report.events_read, 30);
    assert_eq!(
        failures.load(Ordering::Relaxed),
        0,
        "reads failed during the rebuild"
    );
    assert!(reads.load(Ordering::Relaxed) > 0);
    assert_eq!(queries::all_in(&env.pool, "rm_users").await.unwrap(), live);

    // The live builder carries on on the swapped-in model.
    let (_, token) = env.register("after_swap").await;
    env.users_reach(token).await;
    assert!(queries::handle_exists(&env.pool, "after_swap")
        .await
        .unwrap());
    running.stop().await;
}

fn docuvault(env: &TestEnv, args: &[&str], migrate_url: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_docuvault"))
        .args(args)
        .env("DATABASE_URL", &env.settings.database_url)
        .env("DATABASE_MIGRATE_URL", migrate_url)
        .env("DOCUVAULT_MASTER_KEY", env.master.to_hex().as_str())
        .env("NATS_URL", &env.settings.nats_url)
        .env("NATS_PREFIX", &env.settings.nats_prefix)
        .output()
        .unwrap()
}

#[tokio::test]
async fn the_replay_command_rebuilds_and_a_database_error_fails_it_loudly() {
    let env = TestEnv::new().await;
    env.register("sam").await;
    // Other tests' open transactions on the shared cluster hold the horizon back a moment.
    env.relayable_log(1).await;
    let ok = docuvault(
        &env,
        &["replay", "users"],
        &env.settings.database_migrate_url,
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(
        String::from_utf8_lossy(&ok.stdout).starts_with("rebuilt users: 1 events"),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(queries::handle_exists(&env.pool, "sam").await.unwrap());

    let unknown = docuvault(
        &env,
        &["replay", "nonsense"],
        &env.settings.database_migrate_url,
    );
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no read model named \"nonsense\""));

    // A role that can build schemas but not read the events: the scan fails mid-way.
    let limited = format!("dv_limited_{}", &env.database[7..]);
    sqlx::raw_sql(&format!(
        "create role {limited} login; grant create on database {db} to {limited};
         grant select on instance_settings, user_keys to {limited}; grant docuvault_runtime to {limited};
         revoke select on events from docuvault_runtime;",
        db = env.database
    ))
    .execute(&env.ddl)
    .await
    .unwrap();
    let url = env
        .settings
        .database_migrate_url
        .replace("postgres://postgres@", &format!("postgres://{limited}@"));
    let failed = docuvault(&env, &["replay", "users"], &url);
    sqlx::raw_sql(&format!("grant select on events to docuvault_runtime; drop owned by {limited}; drop role {limited};"))
        .execute(&env.ddl)
        .await
        .unwrap();
    assert!(
        !failed.status.success(),
        "a replay that cannot read the events must fail"
    );
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(stderr.contains("permission denied"), "{stderr}");
    // The live model was not touched.
    assert!(queries::handle_exists(&env.pool, "sam").await.unwrap());
}

#[tokio::test]
async fn after_a_users_key_is_deleted_no_plaintext_email_survives_anywhere() {
    let env = TestEnv::new().await;
    let (running, _) = env.start_all().await;
    let (victor, _) = env.register("victor").await;
    let (_, token) = env.register("wendy").await;
    env.users_reach(token).await;
    assert_eq!(
        queries::find_by_handle(&env.pool, "victor")
            .await
            .unwrap()
            .unwrap()
            .email
            .as_deref(),
        Some("victor@example.test")
    );

    // Erasure: the key goes (the accounts issue adds the event and the projection cleanup).
    assert!(env.keys().shred(victor).await.unwrap());
    running.stop().await;
    let model = docuvault::system::read_model(env.keys(), "users").unwrap();
    projections::replay::replay(&env.ddl, model.as_ref(), 100)
        .await
        .unwrap();

    let row = queries::find_by_handle(&env.pool, "victor")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.email, None, "a rebuild cannot read the shredded email");
    assert_eq!(
        queries::find_by_handle(&env.pool, "wendy")
            .await
            .unwrap()
            .unwrap()
            .email
            .as_deref(),
        Some("wendy@example.test")
    );
    let in_events: i64 = sqlx::query_scalar(
        "select count(*) from events where payload::text ilike '%victor@example.test%'",
    )
    .fetch_one(&env.ddl)
    .await
    .unwrap();
    assert_eq!(in_events, 0);
    for (_, message) in env.stream_events().await {
        assert!(
            !String::from_utf8_lossy(&message.payload).contains("victor@example.test"),
            "plaintext on the bus"
        );
    }
    let dump: String =
        sqlx::query_scalar("select string_agg(t::text, '') from (select * from rm_users.users) t")
            .fetch_one(&env.ddl)
            .await
            .unwrap();
    assert!(!dump.contains("victor@example.test"));
    assert!(env.keys().find(victor).await.unwrap().is_none());
}
