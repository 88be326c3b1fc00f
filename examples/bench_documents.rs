//! The document write path and the list reads (issue 5): prints figures, asserts nothing.
//!
//!     cargo run --release --example bench_documents      # against 127.0.0.1 Postgres and NATS
//!     BENCH_CONFIRMS=500 BENCH_USERS=50 BENCH_CONFIRMS_PER_USER=20 BENCH_LIST_DOCS=10000 \
//!         BENCH_SEED_TASKS=4 BENCH_LIST_CALLS=200 cargo run --release --example bench_documents
//!
//! Measures, in a database, stream and storage directory of its own (dropped at the end),
//! with the local-disk object store and `Documents` built as the API builds it:
//! 1. confirms/s and p50/p99 confirm latency for one person, BENCH_CONFIRMS (500)
//!    documents one after the other (initiate and bytes prepared first, only `confirm`
//!    timed: object read, content check, admission by the person's storage aggregate,
//!    the document confirmed);
//! 2. the same for BENCH_USERS (50) people in parallel, BENCH_CONFIRMS_PER_USER (20)
//!    each;
//! 3. confirm latency as a person's storage grows (the storage aggregate loads from its
//!    latest snapshot and folds fewer than 100 events after it; its snapshot grows with
//!    the person's documents): the first 100 confirms of step 1 against its last 100, and
//!    100 more once that person holds BENCH_LIST_DOCS;
//! 4. list latency for one person with BENCH_LIST_DOCS (10,000) documents: seeded through
//!    the same path by BENCH_SEED_TASKS (4) concurrent tasks for the same person (which
//!    exercises the storage aggregate's retries), hashed as the follow-up worker would,
//!    projected by the running relay and builders; then BENCH_LIST_CALLS (200) calls of
//!    each page variant and of `find`.
//!
//! Lost races on an aggregate are counted as the database's rolled-back transactions
//! (`pg_stat_database.xact_rollback`): every conflicting append rolls back one.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::panic
)]

use commands::documents::{Documents, DocumentsError};
use commands::{CommandMeta, EventStore};
use crypto::KeyRing;
use docuvault::config::Settings;
use docuvault::system::{self, Components};
use domain::Clock;
use projections::documents::queries::{self, Cursor, ListQuery, SortBy};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use storage::local::LocalDisk;
use storage::ObjectStore;
use uuid::Uuid;

const PAGE: i64 = 50;
const DEEP_PAGES: usize = 20;
const TARGET_CONFIRM_P99: Duration = Duration::from_millis(20);
const TARGET_LIST_P99: Duration = Duration::from_millis(20);

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[path = "support/bench_env.rs"]
mod bench_env;

use bench_env::BenchEnv;

struct Bench {
    env: BenchEnv,
    settings: Settings,
    pool: PgPool,
    keys: KeyRing,
    documents: Documents,
    disk: LocalDisk,
    clock: Arc<dyn Clock>,
    dir: PathBuf,
}

/// One line of the closing table.
struct Figure {
    label: String,
    value: String,
    target: String,
}

#[derive(Default)]
struct Figures(Vec<Figure>);

impl Figures {
    fn add(&mut self, label: impl Into<String>, value: impl Into<String>, target: &str) {
        self.0.push(Figure {
            label: label.into(),
            value: value.into(),
            target: target.to_owned(),
        });
    }

    fn latency(&mut self, label: impl Into<String>, lags: &[Duration], target: Option<Duration>) {
        let (p50, p99, max) = percentiles(lags.to_vec());
        let verdict = match target {
            Some(target) if p99 < target => format!("p99 < {} ms: met", target.as_millis()),
            Some(target) => format!("p99 < {} ms: MISSED", target.as_millis()),
            None => String::new(),
        };
        self.add(
            label,
            format!(
                "p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
                ms(p50),
                ms(p99),
                ms(max)
            ),
            &verdict,
        );
    }

    fn print(&self) {
        let width = self.0.iter().map(|f| f.label.len()).max().unwrap_or(0);
        let value_width = self.0.iter().map(|f| f.value.len()).max().unwrap_or(0);
        println!();
        println!(
            "{:width$}  {:value_width$}  target (issue 5)",
            "figure", "value"
        );
        println!("{}", "-".repeat(width + value_width + 22));
        for figure in &self.0 {
            println!(
                "{:width$}  {:value_width$}  {}",
                figure.label, figure.value, figure.target
            );
        }
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
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

fn show(lags: &[Duration]) -> String {
    let (p50, p99, max) = percentiles(lags.to_vec());
    format!(
        "p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(p50),
        ms(p99),
        ms(max)
    )
}

/// A text body of 1–3 KB, its size spread out so the size order is not the date order.
fn body_of(n: usize) -> Vec<u8> {
    let size = 1024 + (n * 7919) % 2048;
    let mut text = format!("Bench document {n}\n").into_bytes();
    let filler = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n";
    while text.len() < size {
        let room = size - text.len();
        text.extend_from_slice(&filler[..room.min(filler.len())]);
    }
    text
}

/// A name whose order is neither the date order nor the size order.
fn name_of(n: usize) -> String {
    let scrambled = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
    let extension = match n % 5 {
        0 => "md",
        _ => "txt",
    };
    format!("{scrambled:06x} note {n}.{extension}")
}

/// Every fifth document is Markdown, so a filter on kind has something to leave out.
fn content_type_of(n: usize) -> &'static str {
    match n % 5 {
        0 => "text/markdown",
        _ => "text/plain",
    }
}

impl Bench {
    async fn new() -> Self {
        let mut dir = PathBuf::new();
        let env = BenchEnv::new(|settings, tag| {
            dir = std::env::temp_dir().join(format!("dvbench-documents-{tag}"));
            settings.storage_backend = docuvault::config::StorageBackend::Local;
            settings.storage_dir = dir.clone();
            // Room for every document of the run: the quota is not what is measured.
            settings.default_quota_bytes = 1 << 40;
        })
        .await;
        let settings = env.settings.clone();
        // The API's own pool size (DATABASE_MAX_CONNECTIONS, 10 by default).
        let pool = PgPoolOptions::new()
            .max_connections(settings.database_max_connections)
            .connect(&settings.database_url)
            .await
            .unwrap();
        let keys = KeyRing::new(pool.clone(), env.master.clone());
        let objects = system::object_store(&settings, &keys).await.unwrap();
        let ObjectStore::Local(disk) = objects.clone() else {
            panic!("the benchmark writes bytes to the local-disk store");
        };
        let clock: Arc<dyn Clock> = Arc::new(eventlog::SystemClock);
        let documents = Documents::new(
            EventStore::new(pool.clone()),
            keys.clone(),
            objects,
            clock.clone(),
            settings.document_policy(),
        );
        Self {
            env,
            settings,
            pool,
            keys,
            documents,
            disk,
            clock,
            dir,
        }
    }

    /// Registers a person (with the data key their file names are sealed under).
    async fn register(&self, n: usize, tag: &str) -> Uuid {
        self.env
            .register(&self.pool, &self.keys, n, tag, self.clock.now())
            .await
    }

    async fn prepare(&self, owner: Uuid, n: usize) -> Uuid {
        bench_env::put_upload(
            &self.documents,
            &self.disk,
            self.clock.now(),
            owner,
            &name_of(n),
            body_of(n),
            content_type_of(n),
        )
        .await
    }

    /// Times one confirm.
    async fn confirm(&self, owner: Uuid, document_id: Uuid) -> Result<Duration, DocumentsError> {
        let meta = CommandMeta::new(owner.to_string(), "bench-confirm");
        let started = Instant::now();
        self.documents.confirm(owner, document_id, &meta).await?;
        Ok(started.elapsed())
    }

    /// Confirms one after the other; a `Busy` (every attempt lost a race) is tried again
    /// and counted, its time included.
    async fn confirm_all(&self, owner: Uuid, ids: &[Uuid]) -> (Vec<Duration>, usize) {
        let mut lags = Vec::with_capacity(ids.len());
        let mut busy = 0;
        for id in ids {
            let started = Instant::now();
            loop {
                match self.confirm(owner, *id).await {
                    Ok(_) => break,
                    Err(DocumentsError::Busy) => busy += 1,
                    Err(error) => panic!("confirm failed: {error}"),
                }
            }
            lags.push(started.elapsed());
        }
        (lags, busy)
    }

    /// Rolled-back transactions of the database so far (the statistics are flushed by
    /// idle backends within a second or so: wait for them).
    async fn rollbacks(&self) -> i64 {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        sqlx::query_scalar(
            "select xact_rollback from pg_stat_database where datname = current_database()",
        )
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }

    async fn storage_events(&self, owner: Uuid) -> i64 {
        sqlx::query_scalar(
            "select count(*) from events where aggregate_type = 'storage' and aggregate_id = $1",
        )
        .bind(owner.to_string())
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }

    async fn drop_everything(&self) {
        self.pool.close().await;
        self.env.drop_everything().await;
        let _ = tokio::fs::remove_dir_all(&self.dir).await;
    }
}

/// Step 1 (and the first half of step 3): one person's confirms, one after the other.
async fn one_user(bench: &Bench, owner: Uuid, count: usize, figures: &mut Figures) -> Vec<Uuid> {
    let mut ids = Vec::with_capacity(count);
    for n in 0..count {
        ids.push(bench.prepare(owner, n).await);
    }
    let before = bench.rollbacks().await;
    let started = Instant::now();
    let (lags, busy) = bench.confirm_all(owner, &ids).await;
    let elapsed = started.elapsed();
    let rolled_back = bench.rollbacks().await - before;
    let rate = count as f64 / elapsed.as_secs_f64();
    println!("1. one person, {count} confirms one after the other:");
    println!("   {rate:.0} confirms/s; {}", show(&lags));
    println!("   lost races (rolled-back transactions): {rolled_back}, busy answers: {busy}");
    figures.add(
        format!("1. confirms/s, 1 person, {count} in a row"),
        format!("{rate:.0} /s"),
        "",
    );
    figures.latency(
        "1. confirm latency, 1 person",
        &lags,
        Some(TARGET_CONFIRM_P99),
    );
    let band = 100.min(count);
    let first = &lags[..band];
    let last = &lags[count - band..];
    println!("3. the same person's storage growing:");
    println!(
        "   confirms 1..{band} (storage 0..{band} docs):   {}",
        show(first)
    );
    figures.latency(
        format!("3. confirm, storage 0..{band} docs"),
        first,
        Some(TARGET_CONFIRM_P99),
    );
    if count > band {
        println!(
            "   confirms {}..{count} (storage {}..{count} docs): {}",
            count - band + 1,
            count - band,
            show(last)
        );
        figures.latency(
            format!("3. confirm, storage {}..{count} docs", count - band),
            last,
            Some(TARGET_CONFIRM_P99),
        );
    }
    ids
}

/// Step 2: many people confirming at once, one task each.
async fn many_users(bench: &Arc<Bench>, users: usize, per_user: usize, figures: &mut Figures) {
    let mut people = Vec::with_capacity(users);
    for n in 0..users {
        people.push(bench.register(n, "many").await);
    }
    let preparing = people.iter().map(|owner| {
        let (bench, owner) = (bench.clone(), *owner);
        tokio::spawn(async move {
            let mut ids = Vec::with_capacity(per_user);
            for n in 0..per_user {
                ids.push(bench.prepare(owner, n).await);
            }
            (owner, ids)
        })
    });
    let prepared: Vec<(Uuid, Vec<Uuid>)> = futures::future::join_all(preparing)
        .await
        .into_iter()
        .map(|joined| joined.unwrap())
        .collect();
    let before = bench.rollbacks().await;
    let start = Arc::new(tokio::sync::Barrier::new(users + 1));
    let tasks: Vec<_> = prepared
        .into_iter()
        .map(|(owner, ids)| {
            let (bench, start) = (bench.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                bench.confirm_all(owner, &ids).await
            })
        })
        .collect();
    start.wait().await;
    let started = Instant::now();
    let mut lags = Vec::with_capacity(users * per_user);
    let mut busy = 0;
    for joined in futures::future::join_all(tasks).await {
        let (some, busy_here) = joined.unwrap();
        lags.extend(some);
        busy += busy_here;
    }
    let elapsed = started.elapsed();
    let rolled_back = bench.rollbacks().await - before;
    let total = users * per_user;
    let rate = total as f64 / elapsed.as_secs_f64();
    println!("2. {users} people in parallel, {per_user} confirms each ({total} in {elapsed:.2?}):");
    println!("   {rate:.0} confirms/s in all; {}", show(&lags));
    println!("   lost races (rolled-back transactions): {rolled_back}, busy answers: {busy}");
    figures.add(
        format!("2. confirms/s, {users} people x {per_user} in parallel"),
        format!("{rate:.0} /s"),
        "",
    );
    figures.latency(
        format!("2. confirm latency, {users} people in parallel"),
        &lags,
        Some(TARGET_CONFIRM_P99),
    );
}

/// Step 4's seeding: `count` more documents for `owner` by `tasks` concurrent tasks, each
/// initiating, uploading and confirming; prints the confirm latencies by how many
/// documents the person held. Returns the new documents' ids.
async fn seed(
    bench: &Arc<Bench>,
    owner: Uuid,
    from: usize,
    count: usize,
    tasks: usize,
) -> Vec<Uuid> {
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let results: Arc<Mutex<Vec<(usize, Duration, Uuid)>>> =
        Arc::new(Mutex::new(Vec::with_capacity(count)));
    let busy = Arc::new(AtomicUsize::new(0));
    let before = bench.rollbacks().await;
    let started = Instant::now();
    let workers: Vec<_> = (0..tasks)
        .map(|_| {
            let (bench, next, done, results, busy) = (
                bench.clone(),
                next.clone(),
                done.clone(),
                results.clone(),
                busy.clone(),
            );
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        return;
                    }
                    let n = from + i;
                    let id = bench.prepare(owner, n).await;
                    let (lags, busy_here) = bench.confirm_all(owner, &[id]).await;
                    busy.fetch_add(busy_here, Ordering::Relaxed);
                    let confirmed_before = done.fetch_add(1, Ordering::Relaxed) + from;
                    results
                        .lock()
                        .unwrap()
                        .push((confirmed_before, lags[0], id));
                }
            })
        })
        .collect();
    let all = futures::future::join_all(workers);
    tokio::pin!(all);
    let mut ticker = tokio::time::interval(Duration::from_secs(30));
    ticker.tick().await;
    loop {
        tokio::select! {
            joined = &mut all => {
                for worker in joined {
                    worker.unwrap();
                }
                break;
            }
            _ = ticker.tick() => {
                println!(
                    "   ... seeded {}/{count} in {:.0?}",
                    done.load(Ordering::Relaxed),
                    started.elapsed()
                );
            }
        }
    }
    let elapsed = started.elapsed();
    let rolled_back = bench.rollbacks().await - before;
    let mut results = std::mem::take(&mut *results.lock().unwrap());
    results.sort_by_key(|(n, _, _)| *n);
    println!(
        "4. seeded {count} documents for one person with {tasks} concurrent tasks in {elapsed:.1?} ({:.0} docs/s, initiate + upload + confirm)",
        count as f64 / elapsed.as_secs_f64()
    );
    println!(
        "   lost races on the person's storage (rolled-back transactions): {rolled_back} ({:.2} per confirm), busy answers: {}",
        rolled_back as f64 / count.max(1) as f64,
        busy.load(Ordering::Relaxed)
    );
    println!("   confirm latency while seeding ({tasks} concurrent confirms for the same person), by documents already held:");
    let band = 1000;
    let mut at = 0;
    while at < results.len() {
        let end = (at + band).min(results.len());
        let lags: Vec<Duration> = results[at..end].iter().map(|(_, lag, _)| *lag).collect();
        println!(
            "     {:>6}..{:<6} {}",
            results[at].0,
            results[end - 1].0 + 1,
            show(&lags)
        );
        at = end;
    }
    results.into_iter().map(|(_, _, id)| id).collect()
}

/// Records every document's hash as the follow-up worker does, so the list's duplicate
/// check has hashes to compare.
async fn hash_all(bench: &Arc<Bench>, ids: Vec<Uuid>, tasks: usize) {
    let started = Instant::now();
    let count = ids.len();
    let queue = Arc::new(Mutex::new(ids));
    let workers: Vec<_> = (0..tasks)
        .map(|_| {
            let (bench, queue) = (bench.clone(), queue.clone());
            tokio::spawn(async move {
                loop {
                    let Some(id) = queue.lock().unwrap().pop() else {
                        return;
                    };
                    let meta = CommandMeta::new("bench", "bench-hash");
                    bench.documents.record_hash(id, &meta).await.unwrap();
                }
            })
        })
        .collect();
    for worker in futures::future::join_all(workers).await {
        worker.unwrap();
    }
    println!(
        "   hashes recorded for {count} documents in {:.1?}",
        started.elapsed()
    );
}

async fn wait_caught_up(pool: &PgPool) {
    loop {
        let progress = projections::state::read(pool, "rm_documents")
            .await
            .unwrap()
            .token;
        let (backlog, _) = eventlog::log::backlog_after(pool, progress).await.unwrap();
        if backlog == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn time_pages(pool: &PgPool, query: &ListQuery, calls: usize) -> (Vec<Duration>, i64, usize) {
    let mut lags = Vec::with_capacity(calls);
    let mut last = None;
    for _ in 0..calls {
        let started = Instant::now();
        let page = queries::page(pool, query).await.unwrap();
        lags.push(started.elapsed());
        last = Some(page);
    }
    let page = last.unwrap();
    (lags, page.total, page.items.len())
}

async fn lists(bench: &Bench, owner: Uuid, ids: &[Uuid], calls: usize, figures: &mut Figures) {
    let pool = &bench.pool;
    let first = |sort, descending| ListQuery {
        owner,
        sort,
        descending,
        kind: None,
        status: None,
        folder: None,
        topic: None,
        limit: PAGE,
        cursor: None,
    };
    let mut cursor: Option<Cursor> = None;
    for _ in 0..DEEP_PAGES {
        let page = queries::page(
            pool,
            &ListQuery {
                cursor: cursor.clone(),
                ..first(SortBy::Date, true)
            },
        )
        .await
        .unwrap();
        cursor = page.next_cursor;
    }
    let variants = [
        ("first page, date desc", first(SortBy::Date, true)),
        ("first page, name asc", first(SortBy::Name, false)),
        ("first page, size desc", first(SortBy::Size, true)),
        (
            "deep page (21st), date desc",
            ListQuery {
                cursor,
                ..first(SortBy::Date, true)
            },
        ),
        (
            "kind=text status=confirmed",
            ListQuery {
                kind: Some("text".into()),
                status: Some("confirmed".into()),
                ..first(SortBy::Date, true)
            },
        ),
    ];
    println!(
        "4. list, one person, {} documents, {calls} calls each, limit {PAGE}:",
        ids.len()
    );
    for (label, query) in variants {
        let (lags, total, items) = time_pages(pool, &query, calls).await;
        println!("   {label:<28} {} ({items} rows of {total})", show(&lags));
        figures.latency(format!("4. list {label}"), &lags, Some(TARGET_LIST_P99));
    }
    let mut lags = Vec::with_capacity(calls);
    for i in 0..calls {
        let id = ids[(i * 7919) % ids.len()];
        let started = Instant::now();
        let found = queries::find(pool, owner, id).await.unwrap();
        lags.push(started.elapsed());
        if found.is_none() {
            println!("   find: document {id} missing from the read model");
        }
    }
    println!("   {:<28} {}", "find", show(&lags));
    figures.latency("4. find one document", &lags, Some(TARGET_LIST_P99));
}

#[tokio::main]
async fn main() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let confirms = env_usize("BENCH_CONFIRMS", 500).max(1);
    let users = env_usize("BENCH_USERS", 50).max(1);
    let per_user = env_usize("BENCH_CONFIRMS_PER_USER", 20).max(1);
    let list_docs = env_usize("BENCH_LIST_DOCS", 10_000);
    let seed_tasks = env_usize("BENCH_SEED_TASKS", 4).max(1);
    let calls = env_usize("BENCH_LIST_CALLS", 200).max(1);
    let hashes = env_usize("BENCH_HASHES", 1) != 0;
    let bench = Arc::new(Bench::new().await);
    println!(
        "database {}, stream prefix {}, storage {}, pool {} connections, {} cores",
        bench.env.database,
        bench.settings.nats_prefix,
        bench.dir.display(),
        bench.settings.database_max_connections,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let run = Instant::now();
    let mut figures = Figures::default();

    let owner = bench.register(0, "one").await;
    let mut ids = one_user(&bench, owner, confirms, &mut figures).await;
    let mut held = ids.len();
    many_users(&bench, users, per_user, &mut figures).await;

    let more = list_docs.saturating_sub(held);
    let seeding = Instant::now();
    ids.extend(seed(&bench, owner, held, more, seed_tasks).await);
    held += more;
    if hashes {
        hash_all(&bench, ids.clone(), seed_tasks).await;
    }
    let seeding = seeding.elapsed();
    println!(
        "   the person's storage aggregate holds {} events",
        bench.storage_events(owner).await
    );

    // 100 more confirms for the same person, now holding `held` documents.
    let extra = 100;
    let mut extra_ids = Vec::with_capacity(extra);
    for n in held..held + extra {
        extra_ids.push(bench.prepare(owner, n).await);
    }
    let before = bench.rollbacks().await;
    let (lags, busy) = bench.confirm_all(owner, &extra_ids).await;
    let rolled_back = bench.rollbacks().await - before;
    println!(
        "3. {extra} more confirms for the person holding {held} documents: {} (lost races {rolled_back}, busy {busy})",
        show(&lags)
    );
    figures.latency(
        format!("3. confirm, storage {held}..{} docs", held + extra),
        &lags,
        Some(TARGET_CONFIRM_P99),
    );
    ids.extend(extra_ids);

    let started = Instant::now();
    let running = system::start(
        &bench.settings,
        Components {
            relay: true,
            projections: true,
            ..Components::default()
        },
        Arc::new(eventlog::SystemClock),
    )
    .await
    .unwrap();
    wait_caught_up(&bench.pool).await;
    let events: i64 = sqlx::query_scalar("select count(*) from events")
        .fetch_one(&bench.pool)
        .await
        .unwrap();
    let catch_up = started.elapsed();
    println!(
        "4. relay + builders caught up with {events} events in {catch_up:.1?} ({:.0} events/s)",
        events as f64 / catch_up.as_secs_f64()
    );
    lists(&bench, owner, &ids, calls, &mut figures).await;
    running.stop().await;

    figures.add(
        format!("4. seeding {more} docs for 1 person, {seed_tasks} tasks"),
        format!("{seeding:.1?} (with hashes: {hashes})"),
        "",
    );
    figures.add(
        "4. catching up the read models",
        format!("{events} events in {catch_up:.1?}"),
        "",
    );
    figures.add("whole run", format!("{:.1?}", run.elapsed()), "");
    figures.print();
    bench.drop_everything().await;
}
