//! The event platform's benchmark: prints figures, asserts nothing.
//!
//!     cargo run --release --example bench            # against 127.0.0.1 Postgres and NATS
//!     BENCH_EVENTS=100000 BENCH_APPENDS=4000 BENCH_LAG_RATE=1000 BENCH_LAG_SECONDS=10 \
//!         cargo run --release --example bench
//!
//! Measures, in a database and stream of its own (dropped at the end):
//! 1. appends/s through cqrs-es (one event per command, 8 concurrent writers) beside raw
//!    INSERTs of the same rows by 8 writers, and their ratio;
//! 2. relay throughput (events/s from the table to the stream);
//! 3. p50/p99 lag from commit to the relay's publish and to the users projection's
//!    checkpoint at a steady BENCH_LAG_RATE events/s (1,000) through the running relay and
//!    builder;
//! 4. replay speed (events/s) of the users model over BENCH_EVENTS events.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::panic
)]

use commands::{CommandMeta, EventStore};
use crypto::{KeyRing, MasterKey};
use docuvault::config::Settings;
use docuvault::system::{self, Components};
use domain::user::{RegisterUser, User, UserCommand};
use eventlog::Token;
use serde_json::json;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

const WRITERS: usize = 8;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[path = "support/bench_env.rs"]
#[allow(dead_code)]
mod bench_env;

use bench_env::BenchEnv;

struct Bench {
    env: BenchEnv,
    settings: Settings,
    pool: PgPool,
    ddl: PgPool,
    keys: KeyRing,
    master: MasterKey,
}

impl Bench {
    async fn new() -> Self {
        let env = BenchEnv::new(|settings, _| settings.database_max_connections = 20).await;
        let settings = env.settings.clone();
        let pool = PgPoolOptions::new()
            .max_connections(20)
            .connect(&settings.database_url)
            .await
            .unwrap();
        let ddl = PgPoolOptions::new()
            .max_connections(4)
            .connect(&settings.database_migrate_url)
            .await
            .unwrap();
        let keys = KeyRing::new(pool.clone(), env.master.clone());
        let master = env.master.clone();
        Self {
            env,
            settings,
            pool,
            ddl,
            keys,
            master,
        }
    }

    /// A registration command with real sealed fields under a real key.
    async fn command(&self, n: usize, tag: &str) -> (Uuid, RegisterUser) {
        let command = self
            .env
            .registration(&self.keys, n, tag, chrono::DateTime::UNIX_EPOCH)
            .await;
        (command.user_id, command)
    }

    async fn drop_everything(self) {
        self.pool.close().await;
        self.ddl.close().await;
        self.env.drop_everything().await;
    }
}

fn payload_of(command: &RegisterUser) -> serde_json::Value {
    json!({"UserRegistered": {
        "user_id": command.user_id, "handle": command.handle.as_str(), "email": command.email.as_str(),
        "email_lookup": command.email_lookup, "password_hash": command.password_hash.as_str(),
        "role": "user", "registered_at": command.at,
    }})
}

async fn appends(bench: &Bench, count: usize) {
    let per_writer = count / WRITERS;
    let mut batches = Vec::new();
    for w in 0..WRITERS {
        let mut batch = Vec::new();
        for n in 0..per_writer {
            batch.push(bench.command(w * per_writer + n, "c").await);
        }
        batches.push(batch);
    }
    let started = Instant::now();
    let writers = batches.into_iter().map(|batch| {
        let store = EventStore::new(bench.pool.clone());
        tokio::spawn(async move {
            for (user_id, command) in batch {
                store
                    .execute::<User>(
                        &user_id.to_string(),
                        UserCommand::Register(command),
                        (),
                        &CommandMeta::new("bench", "bench"),
                    )
                    .await
                    .unwrap();
            }
        })
    });
    futures::future::join_all(writers).await;
    let cqrs_rate = (per_writer * WRITERS) as f64 / started.elapsed().as_secs_f64();

    let mut rows = Vec::new();
    for w in 0..WRITERS {
        let mut batch = Vec::new();
        for n in 0..per_writer {
            batch.push(bench.command(w * per_writer + n, "r").await);
        }
        rows.push(batch);
    }
    let started = Instant::now();
    let writers = rows.into_iter().map(|batch| {
        let pool = bench.pool.clone();
        tokio::spawn(async move {
            for (user_id, command) in batch {
                sqlx::query("insert into events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) values ('user', $1, 1, 'UserRegistered', '2.0', $2, $3)")
                    .bind(user_id.to_string())
                    .bind(payload_of(&command))
                    .bind(json!({"command_id": Uuid::new_v4(), "actor": "bench", "correlation_id": "bench"}))
                    .execute(&pool)
                    .await
                    .unwrap();
            }
        })
    });
    futures::future::join_all(writers).await;
    let raw_rate = (per_writer * WRITERS) as f64 / started.elapsed().as_secs_f64();
    println!("appends, {WRITERS} writers, 1 event per command:");
    println!("  cqrs-es + postgres-es   {cqrs_rate:>9.0} events/s (load, decide, append, read back the token)");
    println!("  raw INSERT              {raw_rate:>9.0} events/s");
    println!(
        "  ratio                   {:>9.0} %  (target >= 50 %)",
        100.0 * cqrs_rate / raw_rate
    );
}

async fn relay_throughput(bench: &Bench) {
    let backlog: i64 = sqlx::query_scalar("select count(*) from events")
        .fetch_one(&bench.pool)
        .await
        .unwrap();
    let started = Instant::now();
    let running = system::start(
        &bench.settings,
        Components {
            relay: true,
            ..Components::default()
        },
        Arc::new(eventlog::SystemClock),
    )
    .await
    .unwrap();
    let stats = running.relay_stats.clone().unwrap();
    while (stats.published.load(std::sync::atomic::Ordering::Relaxed) as i64) < backlog {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    running.stop().await;
    println!(
        "relay: {backlog} events in {elapsed:.2?} = {:.0} events/s",
        backlog as f64 / elapsed.as_secs_f64()
    );
}

/// The relay and the builders on a runtime (threads) of their own, as in a deployment
/// where they are processes apart from the writers.
struct Pipeline {
    stats: Arc<workers::relay::RelayStats>,
    stop: tokio_util::sync::CancellationToken,
    thread: std::thread::JoinHandle<()>,
}

impl Pipeline {
    fn start(settings: &Settings) -> Self {
        let settings = settings.clone();
        let (ready, started) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let components = Components {
                    relay: true,
                    projections: true,
                    ..Components::default()
                };
                let running = system::start(&settings, components, Arc::new(eventlog::SystemClock))
                    .await
                    .unwrap();
                ready
                    .send((
                        running.relay_stats.clone().unwrap(),
                        running.shutdown_token(),
                    ))
                    .unwrap();
                running.wait().await;
            });
        });
        let (stats, stop) = started.recv().unwrap();
        Self {
            stats,
            stop,
            thread,
        }
    }

    fn stop(self) {
        self.stop.cancel();
        self.thread.join().unwrap();
    }
}

async fn steady_lag(bench: &Bench, rate: usize, seconds: usize) {
    let pipeline = Pipeline::start(&bench.settings);
    // Let the builder catch up with everything before measuring.
    wait_caught_up(&bench.pool).await;
    let total = rate * seconds;
    let mut commands = Vec::with_capacity(total);
    for n in 0..total {
        commands.push(bench.command(n, "l").await);
    }
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<(Token, Instant)>();
    let relay_stats = pipeline.stats.clone();
    let watcher = {
        // A connection of its own: waiting behind the writers for the shared pool would
        // add their queueing to the lag it measures.
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect(&bench.settings.database_url)
            .await
            .unwrap();
        tokio::spawn(async move {
            let mut pending: Vec<(Token, Instant, bool)> = Vec::new();
            let mut lags = Vec::new();
            let mut relay_lags = Vec::new();
            let mut done = false;
            while !(done && pending.is_empty()) {
                while let Ok((token, at)) = receiver.try_recv() {
                    pending.push((token, at, false));
                }
                if receiver.is_closed() && receiver.is_empty() {
                    done = true;
                }
                let progress = projections::state::read(&pool, "rm_users")
                    .await
                    .unwrap()
                    .token;
                let relayed = relay_stats.last_token();
                let now = Instant::now();
                for (token, at, seen) in pending.iter_mut() {
                    if !*seen && *token <= relayed {
                        relay_lags.push(now - *at);
                        *seen = true;
                    }
                }
                pending.retain(|(token, at, _)| {
                    if *token <= progress {
                        lags.push(now - *at);
                        false
                    } else {
                        true
                    }
                });
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            (lags, relay_lags)
        })
    };
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let store = EventStore::new(bench.pool.clone());
    let started = Instant::now();
    let mut in_flight = Vec::new();
    for (n, (user_id, command)) in commands.into_iter().enumerate() {
        let due = started + interval * n as u32;
        tokio::time::sleep_until(due.into()).await;
        let (store, sender) = (store.clone(), sender.clone());
        in_flight.push(tokio::spawn(async move {
            let token = store
                .execute::<User>(
                    &user_id.to_string(),
                    UserCommand::Register(command),
                    (),
                    &CommandMeta::new("bench", "lag"),
                )
                .await
                .unwrap();
            let _ = sender.send((token, Instant::now()));
        }));
    }
    futures::future::join_all(in_flight).await;
    drop(sender);
    let (lags, relay_lags) = watcher.await.unwrap();
    pipeline.stop();
    let (p50, p99, max) = percentiles(lags);
    let (r50, r99, rmax) = percentiles(relay_lags);
    println!("steady {rate} events/s for {seconds} s, lag from commit:");
    println!("  to the users checkpoint  p50 {p50:.1?}, p99 {p99:.1?}, max {max:.1?} (target p99 < 50 ms)");
    println!("  to the relay's publish   p50 {r50:.1?}, p99 {r99:.1?}, max {rmax:.1?}");
}

fn percentiles(mut lags: Vec<Duration>) -> (Duration, Duration, Duration) {
    lags.sort();
    let at = |q: f64| {
        lags.get(((lags.len() as f64 * q) as usize).min(lags.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    (at(0.50), at(0.99), lags.last().copied().unwrap_or_default())
}

async fn wait_caught_up(pool: &PgPool) {
    loop {
        let (backlog,): (i64,) = sqlx::query_as("select count(*) from events e, rm_users.projection_state s where e.aggregate_type = 'user' and (e.tx_id, e.position) > (s.tx_id::text::xid8, s.position)")
            .fetch_one(pool)
            .await
            .unwrap();
        if backlog == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Fills the log with `count` registrations quickly (keys and events in bulk).
async fn bulk_registrations(bench: &Bench, count: usize) {
    let mut done = 0;
    while done < count {
        let chunk = (count - done).min(5000);
        let mut ids = Vec::with_capacity(chunk);
        let mut payloads = Vec::with_capacity(chunk);
        for n in 0..chunk {
            let (user_id, command) = bench.command(done + n, "b").await;
            ids.push(user_id.to_string());
            payloads.push(payload_of(&command));
        }
        sqlx::query("insert into events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
                     select 'user', id, 1, 'UserRegistered', '2.0', p, '{}'::jsonb from unnest($1::text[], $2::jsonb[]) as t(id, p)")
            .bind(&ids)
            .bind(&payloads)
            .execute(&bench.pool)
            .await
            .unwrap();
        done += chunk;
    }
}

async fn replay_speed(bench: &Bench) {
    let model = system::read_model(
        KeyRing::new(bench.ddl.clone(), bench.master.clone()),
        "users",
    )
    .unwrap();
    let report =
        projections::replay::replay(&bench.ddl, model.as_ref(), bench.settings.replay_chunk)
            .await
            .unwrap();
    println!(
        "replay users: {} events in {:.2?} = {:.0} events/s (target >= 100,000)",
        report.events_read,
        report.elapsed,
        report.events_per_second()
    );
}

#[tokio::main]
async fn main() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let bench = Bench::new().await;
    println!(
        "database {}, stream prefix {}",
        bench.env.database, bench.settings.nats_prefix
    );
    appends(&bench, env_usize("BENCH_APPENDS", 4000)).await;
    relay_throughput(&bench).await;
    steady_lag(
        &bench,
        env_usize("BENCH_LAG_RATE", 1000),
        env_usize("BENCH_LAG_SECONDS", 10),
    )
    .await;
    let already: i64 = sqlx::query_scalar("select count(*) from events")
        .fetch_one(&bench.pool)
        .await
        .unwrap();
    let target = env_usize("BENCH_EVENTS", 100_000);
    bulk_registrations(&bench, target.saturating_sub(already as usize)).await;
    replay_speed(&bench).await;
    bench.drop_everything().await;
}
