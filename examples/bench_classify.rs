//! Extraction and classification throughput and latency (issue 7): prints figures,
//! asserts nothing.
//!
//!     cargo run --release --example bench_classify    # against 127.0.0.1 Postgres and NATS
//!     BENCH_DOCS=1000 BENCH_PEOPLE=4 BENCH_TRAINING=40 BENCH_LATENCY_DOCS=100 \
//!         cargo run --release --example bench_classify
//!
//! In a database, stream and storage directory of its own (dropped at the end), with the
//! relay, the projection builders and the real workers (`docuvault work`'s jobs, the
//! extraction child being this very binary run as `extract`):
//! 1. BENCH_PEOPLE (4) people, each with the corpus's 8 topics as their own and
//!    BENCH_TRAINING (40) corpus documents filed by hand, so the offline classifier has a
//!    model to read;
//! 2. BENCH_DOCS (1,000) mixed documents (corpus texts as 40 % text, 20 % Markdown, 20 %
//!    PDF, 20 % DOCX), uploaded first, then all confirmed at once: documents classified
//!    per second from the first confirm to the last classification, with one worker and
//!    with two (two worker processes-in-one competing on the job's consumer);
//! 3. BENCH_LATENCY_DOCS (100) documents confirmed one every 50 ms (below the workers'
//!    throughput, so the figure is the path, not a queue): p50/p99 from `UploadConfirmed`
//!    to `DocumentClassified` as the event log recorded them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::panic
)]

#[path = "support/bench_env.rs"]
#[allow(dead_code)]
mod bench_env;
#[path = "../extract/tests/it/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;

use bench_env::BenchEnv;
use commands::documents::Documents;
use commands::topics::Topics;
use commands::{CommandMeta, EventStore};
use crypto::KeyRing;
use docuvault::system::{self, Components, Running};
use domain::topic::Namespace;
use domain::Clock;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use storage::local::LocalDisk;
use storage::ObjectStore;
use uuid::Uuid;

const TOPICS: [&str; 8] = [
    "Taxes",
    "Health",
    "Insurance",
    "Housing",
    "Employment",
    "Travel",
    "Vehicles",
    "Banking",
];
const TARGET_P99: Duration = Duration::from_secs(1);

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> std::process::ExitCode {
    // The extraction child: the workers run this binary as `<it> extract …`.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("extract") {
        let (kind, limits) = extract::parse_child_args(&args[1..]).unwrap();
        return extract::child_main(kind, &limits);
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(run());
    std::process::ExitCode::SUCCESS
}

struct Example {
    topic: String,
    text: String,
}

fn corpus() -> Vec<Example> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/classifier/corpus/documents.jsonl"
    );
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            Example {
                topic: value["topic"].as_str().unwrap().to_owned(),
                text: value["text"].as_str().unwrap().to_owned(),
            }
        })
        .collect()
}

/// Document `n` of the mix: its name, bytes and content type.
fn document(n: usize, text: &str) -> (String, Vec<u8>, &'static str) {
    match n % 5 {
        0 | 1 => (
            format!("doc {n}.txt"),
            text.as_bytes().to_vec(),
            "text/plain",
        ),
        2 => (
            format!("doc {n}.md"),
            format!("# Document {n}\n\n{text}\n").into_bytes(),
            "text/markdown",
        ),
        3 => {
            let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
            (
                format!("doc {n}.pdf"),
                fixtures::pdf(&[&lines.join(" ")]),
                "application/pdf",
            )
        }
        _ => {
            let paragraphs: String = text
                .lines()
                .map(|line| {
                    let escaped = line
                        .replace('&', "&amp;")
                        .replace('<', "&lt;")
                        .replace('>', "&gt;");
                    format!("<w:p><w:r><w:t xml:space=\"preserve\">{escaped}</w:t></w:r></w:p>")
                })
                .collect();
            (
                format!("doc {n}.docx"),
                fixtures::docx(&fixtures::document_xml(&paragraphs)),
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            )
        }
    }
}

struct Bench {
    env: BenchEnv,
    pool: PgPool,
    keys: KeyRing,
    documents: Documents,
    disk: LocalDisk,
    clock: Arc<dyn Clock>,
    dir: std::path::PathBuf,
}

impl Bench {
    async fn new() -> Self {
        let mut dir = std::path::PathBuf::new();
        let env = BenchEnv::new(|settings, tag| {
            dir = std::env::temp_dir().join(format!("dvbench-classify-{tag}"));
            settings.storage_backend = docuvault::config::StorageBackend::Local;
            settings.storage_dir = dir.clone();
            settings.default_quota_bytes = 1 << 40;
            settings.extract_program = Some(std::env::current_exe().unwrap());
            settings.relay_poll_ms = 20;
        })
        .await;
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .connect(&env.settings.database_url)
            .await
            .unwrap();
        let keys = KeyRing::new(pool.clone(), env.master.clone());
        let objects = system::object_store(&env.settings, &keys).await.unwrap();
        let ObjectStore::Local(disk) = objects.clone() else {
            panic!("the benchmark writes bytes to the local-disk store");
        };
        let clock: Arc<dyn Clock> = Arc::new(eventlog::SystemClock);
        let documents = Documents::new(
            EventStore::new(pool.clone()),
            keys.clone(),
            objects,
            clock.clone(),
            env.settings.document_policy(),
        );
        Self {
            env,
            pool,
            keys,
            documents,
            disk,
            clock,
            dir,
        }
    }

    async fn upload(&self, owner: Uuid, n: usize, text: &str) -> Uuid {
        let (name, bytes, content_type) = document(n, text);
        bench_env::put_upload(
            &self.documents,
            &self.disk,
            self.clock.now(),
            owner,
            &name,
            bytes,
            content_type,
        )
        .await
    }

    async fn confirm(&self, owner: Uuid, id: Uuid) {
        let meta = CommandMeta::new(owner.to_string(), "bench-confirm");
        self.documents.confirm(owner, id, &meta).await.unwrap();
    }

    /// How many of `ids` have ended their run (classified or failed).
    async fn settled(&self, ids: &[Uuid]) -> i64 {
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        sqlx::query_scalar(
            "select count(distinct aggregate_id) from events
              where aggregate_type = 'document' and aggregate_id = any($1)
                and event_type in ('DocumentClassified', 'ClassificationFailed')",
        )
        .bind(&ids)
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }

    async fn wait_settled(&self, ids: &[Uuid]) {
        let deadline = Instant::now() + Duration::from_secs(1800);
        while self.settled(ids).await < ids.len() as i64 {
            assert!(Instant::now() < deadline, "classification did not finish");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Seconds from the first confirm of `ids` to their last classification, and how
    /// many failed.
    async fn span(&self, ids: &[Uuid]) -> (f64, i64) {
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        sqlx::query_as(
            "select extract(epoch from
                      max(recorded_at) filter (where event_type in ('DocumentClassified', 'ClassificationFailed'))
                    - min(recorded_at) filter (where event_type = 'UploadConfirmed'))::float8,
                    count(*) filter (where event_type = 'ClassificationFailed')
               from events where aggregate_type = 'document' and aggregate_id = any($1)",
        )
        .bind(&ids)
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }

    /// Confirm-to-classified of each of `ids`, from the log's own times.
    async fn latencies(&self, ids: &[Uuid]) -> Vec<Duration> {
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let seconds: Vec<f64> = sqlx::query_scalar(
            "select extract(epoch from
                      max(recorded_at) filter (where event_type = 'DocumentClassified')
                    - max(recorded_at) filter (where event_type = 'UploadConfirmed'))::float8
               from events where aggregate_type = 'document' and aggregate_id = any($1)
              group by aggregate_id
             having count(*) filter (where event_type = 'DocumentClassified') > 0",
        )
        .bind(&ids)
        .fetch_all(&self.pool)
        .await
        .unwrap();
        seconds.into_iter().map(Duration::from_secs_f64).collect()
    }

    async fn start(&self, components: Components) -> Running {
        system::start(&self.env.settings, components, self.clock.clone())
            .await
            .unwrap()
    }
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

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

async fn run() {
    let people = env_usize("BENCH_PEOPLE", 4);
    let training = env_usize("BENCH_TRAINING", 40);
    let total = env_usize("BENCH_DOCS", 1000);
    let latency_docs = env_usize("BENCH_LATENCY_DOCS", 100);
    let corpus = corpus();
    let bench = Bench::new().await;
    let mut figures: Vec<(String, String)> = Vec::new();

    // 1. People, their topics, and documents they filed by hand.
    let platform = bench
        .start(Components {
            api: false,
            relay: true,
            projections: true,
            workers: false,
        })
        .await;
    let mut worker = bench
        .start(Components {
            workers: true,
            ..Components::default()
        })
        .await;
    let topics = Topics::new(
        EventStore::new(bench.pool.clone()),
        bench.clock.clone(),
        bench.documents.clone(),
    );
    let meta = CommandMeta::new("bench", "bench");
    let mut owners = Vec::new();
    let mut training_ids = Vec::new();
    let started = Instant::now();
    for p in 0..people {
        let owner = bench
            .env
            .register(&bench.pool, &bench.keys, p, "classify", bench.clock.now())
            .await;
        let mut ids = std::collections::HashMap::new();
        for name in TOPICS {
            let created = topics
                .create(Namespace::Person(owner), name, &meta)
                .await
                .unwrap();
            ids.insert(name, created.topic_id);
        }
        for t in 0..training {
            let example = &corpus[(p * 97 + t * 2) % corpus.len()];
            let id = bench.upload(owner, t, &example.text).await;
            bench.confirm(owner, id).await;
            training_ids.push((owner, id, ids[example.topic.as_str()]));
        }
        owners.push(owner);
    }
    let ids: Vec<Uuid> = training_ids.iter().map(|(_, id, _)| *id).collect();
    bench.wait_settled(&ids).await;
    for (owner, id, topic) in &training_ids {
        topics
            .assign(*owner, *id, BTreeSet::from([*topic]), &meta)
            .await
            .unwrap();
    }
    println!(
        "seeded {people} people with {training} filed documents each in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // 2. Throughput: everything confirmed at once, one worker then two.
    for workers in [1usize, 2] {
        let extra = if workers == 2 {
            Some(
                bench
                    .start(Components {
                        workers: true,
                        ..Components::default()
                    })
                    .await,
            )
        } else {
            None
        };
        let mut batch = Vec::with_capacity(total);
        for n in 0..total {
            let owner = owners[n % owners.len()];
            let text = &corpus[(n * 31 + workers) % corpus.len()].text;
            batch.push((owner, bench.upload(owner, n, text).await));
        }
        for (owner, id) in &batch {
            bench.confirm(*owner, *id).await;
        }
        let ids: Vec<Uuid> = batch.iter().map(|(_, id)| *id).collect();
        bench.wait_settled(&ids).await;
        let (seconds, failed) = bench.span(&ids).await;
        figures.push((
            format!("{total} mixed documents, {workers} worker(s)"),
            format!(
                "{:.1} documents/s ({seconds:.1} s; {failed} failed)",
                total as f64 / seconds
            ),
        ));
        if let Some(extra) = extra {
            extra.stop().await;
        }
    }

    // 3. Latency at a pace the workers keep up with.
    worker.stop().await;
    worker = bench
        .start(Components {
            workers: true,
            ..Components::default()
        })
        .await;
    let mut paced = Vec::with_capacity(latency_docs);
    for n in 0..latency_docs {
        let owner = owners[n % owners.len()];
        let text = &corpus[(n * 13 + 5) % corpus.len()].text;
        let id = bench.upload(owner, n + 100_000, text).await;
        paced.push((owner, id));
    }
    for (owner, id) in &paced {
        bench.confirm(*owner, *id).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ids: Vec<Uuid> = paced.iter().map(|(_, id)| *id).collect();
    bench.wait_settled(&ids).await;
    let (p50, p99, max) = percentiles(bench.latencies(&ids).await);
    figures.push((
        format!("confirm → classified, {latency_docs} documents, 1 worker"),
        format!(
            "p50 {:.0} ms  p99 {:.0} ms  max {:.0} ms  (target p99 < {} ms: {})",
            ms(p50),
            ms(p99),
            ms(max),
            TARGET_P99.as_millis(),
            if p99 < TARGET_P99 { "met" } else { "MISSED" }
        ),
    ));

    worker.stop().await;
    platform.stop().await;
    println!();
    let width = figures.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    for (label, value) in &figures {
        println!("{label:width$}  {value}");
    }
    bench.pool.close().await;
    bench.env.drop_everything().await;
    let _ = std::fs::remove_dir_all(&bench.dir);
}
