//! Full-text search and the folder tree (issue 6): prints figures, asserts nothing.
//!
//!     cargo run --release --example bench_search        # against 127.0.0.1 Postgres and NATS
//!     BENCH_SEARCH_DOCS=200000 BENCH_SEARCH_WORDS=300 BENCH_SEARCH_QUERIES=50 \
//!         BENCH_FOLDERS=5000 cargo run --release --example bench_search
//!
//! In a database and stream of its own (dropped at the end), with the API running:
//! 1. BENCH_SEARCH_DOCS (200,000) confirmed documents of one person, each BENCH_SEARCH_WORDS
//!    (300) words drawn from a Zipf-like distribution (s = 1) over a 50,000-word
//!    vocabulary, so common words match most documents. They are written straight into
//!    the read model (name; extracted text in `document_bodies`) and given their search
//!    vectors by the model's own expression (`search_vector`), with the GIN index built
//!    after the load.
//! 2. BENCH_SEARCH_QUERIES (50) two-word queries drawn the same way, each run (page of
//!    20, best first) three ways, with and without snippets: the very statement the API
//!    runs (`search_sql`) in one psql session (`\timing`, server time plus a local round
//!    trip), the same through `search::search` (sqlx), and `GET /api/search` over HTTP
//!    with a signed-in person's token. Prints p50/p95 and each way's ratio to psql.
//! 3. The folder tree: BENCH_FOLDERS (5,000) folders for one person (random parents),
//!    loaded 200 times through `queries::folders` and `GET /api/folders`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::panic
)]

// People here register through the real flow (they sign in over HTTP), not through
// `BenchEnv::registration`.
#[allow(dead_code)]
#[path = "support/bench_env.rs"]
mod bench_env;

use bench_env::BenchEnv;
use commands::registration::{RegistrationForm, RegistrationOutcome, Registrations};
use commands::{CommandMeta, EventStore, PasswordHasher};
use crypto::KeyRing;
use docuvault::system::{self, Components};
use domain::user::Role;
use projections::documents::queries;
use projections::documents::search::{self, SearchQuery};
use projections::documents::search_vector;
use projections::documents::word_shares::WordShares;
use projections::model::live_schema;
use rand::distributions::Distribution;
use rand::{Rng, SeedableRng};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

const VOCABULARY: usize = 50_000;
const PAGE: i64 = 20;
const BATCH: usize = 2_000;
const PASSWORD: &str = "correct horse battery staple";
const TARGET_P95_PLAIN: Duration = Duration::from_millis(30);
const TARGET_P95_SNIPPETS: Duration = Duration::from_millis(80);
const TARGET_TREE: Duration = Duration::from_millis(20);

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// Word `rank` of the vocabulary: pronounceable, distinct, lower-case.
fn word(rank: usize) -> String {
    const SYLLABLES: [&str; 20] = [
        "ka", "lo", "mi", "nu", "pe", "ra", "si", "to", "va", "ze", "bo", "di", "fa", "gu", "ho",
        "ji", "ke", "ly", "mo", "ne",
    ];
    let mut n = rank;
    let mut out = String::new();
    loop {
        out.push_str(SYLLABLES[n % SYLLABLES.len()]);
        n /= SYLLABLES.len();
        if n == 0 {
            break;
        }
    }
    // Keep every word at least two syllables, so none is a stop word of `simple`.
    if rank < SYLLABLES.len() {
        out.push('x');
    }
    out
}

/// Ranks drawn with probability proportional to 1 / rank.
struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    fn new(n: usize) -> Self {
        let mut total = 0.0;
        let cumulative = (1..=n)
            .map(|rank| {
                total += 1.0 / rank as f64;
                total
            })
            .collect();
        Self { cumulative }
    }

    fn draw(&self, rng: &mut impl Rng) -> usize {
        let total = *self.cumulative.last().unwrap();
        let target = rand::distributions::Uniform::new(0.0, total).sample(rng);
        self.cumulative.partition_point(|c| *c < target)
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct Row {
    label: String,
    p50: Duration,
    p95: Duration,
}

fn summarize(label: &str, mut samples: Vec<Duration>) -> Row {
    samples.sort();
    Row {
        label: label.to_owned(),
        p50: percentile(&samples, 0.50),
        p95: percentile(&samples, 0.95),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let docs = env_usize("BENCH_SEARCH_DOCS", 200_000);
    let words_per_doc = env_usize("BENCH_SEARCH_WORDS", 300);
    let query_count = env_usize("BENCH_SEARCH_QUERIES", 50);
    let folders = env_usize("BENCH_FOLDERS", 5_000);

    let env = BenchEnv::new(|_, _| {}).await;
    let settings = env.settings.clone();
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect(&settings.database_url)
        .await
        .unwrap();
    let ddl = PgPoolOptions::new()
        .max_connections(2)
        .connect(&settings.database_migrate_url)
        .await
        .unwrap();
    let keys = KeyRing::new(pool.clone(), env.master.clone());
    let registrations = Registrations::new(
        EventStore::new(pool.clone()),
        keys.clone(),
        PasswordHasher::default(),
        Arc::new(eventlog::SystemClock),
    );
    let outcome = registrations
        .register(
            RegistrationForm {
                email: "searcher@bench.test",
                handle: "searcher",
                password: PASSWORD,
            },
            Role::User,
            true,
            &CommandMeta::new("bench", "search"),
        )
        .await
        .unwrap();
    let RegistrationOutcome::Registered { user_id: owner, .. } = outcome else {
        panic!("not registered: {outcome:?}");
    };
    let running = system::start(
        &settings,
        Components {
            api: true,
            ..Components::default()
        },
        Arc::new(eventlog::SystemClock),
    )
    .await
    .unwrap();
    let url = format!("http://{}", running.addr.unwrap());
    let client = reqwest::Client::new();
    let access = sign_in(&client, &url).await;

    let schema = live_schema("documents");
    let zipf = Zipf::new(VOCABULARY);
    let mut rng = rand::rngs::StdRng::seed_from_u64(6);
    println!("seeding {docs} documents of {words_per_doc} words (Zipf over {VOCABULARY} words) …");
    let started = Instant::now();
    seed_documents(&ddl, &schema, owner, docs, words_per_doc, &zipf, &mut rng).await;
    println!(
        "seeded in {:.0} s (rows, vectors and the index)",
        started.elapsed().as_secs_f64()
    );

    let queries: Vec<String> = (0..query_count)
        .map(|_| {
            format!(
                "{} {}",
                word(zipf.draw(&mut rng)),
                word(zipf.draw(&mut rng))
            )
        })
        .collect();
    let mut rows = Vec::new();
    let mut slowest = Vec::new();
    for snippets in [false, true] {
        let suffix = if snippets {
            "with snippets"
        } else {
            "no snippets"
        };
        let psql = psql_timings(&settings.database_url, &schema, owner, &queries, snippets);
        let sqlx_times = sqlx_timings(&pool, owner, &queries, snippets).await;
        let http = http_timings(&client, &url, &access, &queries, snippets).await;
        if !snippets {
            slowest = http.iter().copied().zip(queries.iter()).collect();
        }
        rows.push(summarize(&format!("psql, {suffix}"), psql));
        rows.push(summarize(
            &format!("search::search (sqlx), {suffix}"),
            sqlx_times,
        ));
        rows.push(summarize(&format!("GET /api/search, {suffix}"), http));
    }
    let hits = match_counts(&pool, &schema, owner, &queries).await;
    let shares = WordShares::new(Duration::from_secs(300));
    slowest.sort_by_key(|(took, _)| std::cmp::Reverse(*took));
    println!();
    println!("slowest through the API without snippets (estimated share, matches):");
    for (took, text) in slowest.iter().take(5) {
        let share = shares
            .matching(&pool, &schema, text, "english")
            .await
            .unwrap();
        let n = hits[queries.iter().position(|q| q == *text).unwrap()];
        println!(
            "  {:<24} {:>7.1} ms {:>8.4} {:>8}",
            text,
            ms(*took),
            share,
            n
        );
    }
    let mut hits = hits;
    hits.sort();
    if std::env::var("BENCH_EXPLAIN").is_ok() {
        explain(&settings.database_url, &schema, owner, &queries);
    }
    println!();
    println!(
        "search over {docs} documents, {query_count} two-word queries, page of {PAGE}: \
         matches per query p50 {} / max {}",
        hits[hits.len() / 2],
        hits.last().unwrap()
    );
    println!(
        "{:<44} {:>9} {:>9} {:>12}",
        "", "p50 ms", "p95 ms", "p95 / psql"
    );
    for (n, row) in rows.iter().enumerate() {
        let base = &rows[n - n % 3];
        println!(
            "{:<44} {:>9.1} {:>9.1} {:>12.2}",
            row.label,
            ms(row.p50),
            ms(row.p95),
            ms(row.p95) / ms(base.p95).max(0.001)
        );
    }
    println!(
        "targets: p95 < {} ms without snippets, < {} ms with (the API rows)",
        TARGET_P95_PLAIN.as_millis(),
        TARGET_P95_SNIPPETS.as_millis()
    );

    // The folder tree.
    seed_folders(&ddl, &schema, owner, folders, &mut rng).await;
    let mut direct = Vec::new();
    let mut http = Vec::new();
    for _ in 0..200 {
        let started = Instant::now();
        let rows = queries::folders(&pool, owner).await.unwrap();
        direct.push(started.elapsed());
        assert_eq!(rows.len(), folders);
        let started = Instant::now();
        let response = client
            .get(format!("{url}/api/folders"))
            .bearer_auth(&access)
            .send()
            .await
            .unwrap();
        let body = response.bytes().await.unwrap();
        http.push(started.elapsed());
        assert!(body.len() > folders * 50);
    }
    let direct = summarize("queries::folders (sqlx)", direct);
    let http = summarize("GET /api/folders", http);
    println!();
    println!("folder tree of {folders} folders, 200 loads each:");
    for row in [direct, http] {
        println!(
            "{:<44} {:>9.1} {:>9.1}",
            row.label,
            ms(row.p50),
            ms(row.p95)
        );
    }
    println!("target: < {} ms", TARGET_TREE.as_millis());

    running.stop().await;
    pool.close().await;
    ddl.close().await;
    if std::env::var("BENCH_KEEP").is_ok() {
        println!("kept database {} (BENCH_KEEP)", env.database);
    } else {
        env.drop_everything().await;
    }
}

async fn sign_in(client: &reqwest::Client, url: &str) -> String {
    let response = client
        .post(format!("{url}/api/auth/login"))
        .json(&serde_json::json!({"email": "searcher@bench.test", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let body: serde_json::Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// Writes the documents straight into the read model, then their vectors, then the index.
async fn seed_documents(
    ddl: &PgPool,
    schema: &str,
    owner: Uuid,
    docs: usize,
    words_per_doc: usize,
    zipf: &Zipf,
    rng: &mut impl Rng,
) {
    let definition: String = sqlx::query_scalar(
        "select indexdef from pg_indexes where schemaname = $1 and indexname = 'documents_search'",
    )
    .bind(schema)
    .fetch_one(ddl)
    .await
    .unwrap();
    sqlx::query(&format!("drop index {schema}.documents_search"))
        .execute(ddl)
        .await
        .unwrap();
    let start = domain::Clock::now(&eventlog::SystemClock) - chrono::Duration::days(365);
    let mut done = 0;
    while done < docs {
        let n = BATCH.min(docs - done);
        let mut ids = Vec::with_capacity(n);
        let mut names = Vec::with_capacity(n);
        let mut bodies = Vec::with_capacity(n);
        let mut created = Vec::with_capacity(n);
        for i in 0..n {
            ids.push(Uuid::now_v7());
            let title: Vec<String> = (0..3).map(|_| word(zipf.draw(rng))).collect();
            names.push(format!("{}.pdf", title.join("-")));
            let body: Vec<String> = (0..words_per_doc).map(|_| word(zipf.draw(rng))).collect();
            bodies.push(body.join(" "));
            created.push(start + chrono::Duration::seconds(((done + i) * 150) as i64));
        }
        sqlx::query(&format!(
            "with documents as (
               insert into {schema}.documents
                 (document_id, owner, name, kind, status, size, storage_key, created_at,
                  confirmed_at, expires_at)
               select id, $1, name, 'pdf', 'confirmed', 100000,
                      $1::text || '/' || id::text || '/x.pdf', at, at, at
                 from unnest($2::uuid[], $3::text[], $5::timestamptz[]) as seeded (id, name, at)
               returning document_id
             )
             insert into {schema}.document_bodies (document_id, body)
             select d.document_id, seeded.body
               from documents d
               join unnest($2::uuid[], $4::text[]) as seeded (id, body) on seeded.id = d.document_id"
        ))
        .bind(owner)
        .bind(&ids)
        .bind(&names)
        .bind(&bodies)
        .bind(&created)
        .execute(ddl)
        .await
        .unwrap();
        sqlx::query(&format!(
            "update {schema}.documents d set search = {vector} where d.document_id = any($1)",
            vector = search_vector(schema)
        ))
        .bind(&ids)
        .execute(ddl)
        .await
        .unwrap();
        done += n;
        if done % 20_000 < BATCH {
            println!("  {done} documents");
        }
    }
    sqlx::query("set maintenance_work_mem = '1GB'")
        .execute(ddl)
        .await
        .unwrap();
    let started = Instant::now();
    sqlx::query(&definition).execute(ddl).await.unwrap();
    println!(
        "  search index built in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    sqlx::query(&format!("vacuum analyze {schema}.documents"))
        .execute(ddl)
        .await
        .unwrap();
}

/// The same statement the API runs, in one psql session with `\timing`.
fn psql_timings(
    url: &str,
    schema: &str,
    owner: Uuid,
    queries: &[String],
    snippets: bool,
) -> Vec<Duration> {
    let mut script = format!(
        "set plan_cache_mode = force_custom_plan;\nprepare search_page (uuid, text, text, text, uuid, uuid, timestamptz, timestamptz, bigint, bigint, bigint, timestamptz) as {};\n\\timing on\n",
        search::search_sql(schema, snippets)
    );
    for query in queries {
        script.push_str(&format!(
            "execute search_page('{owner}', '{query}', 'english', null, null, null, null, null, {}, 0, {}, null);\n",
            PAGE + 1,
            search::SEARCH_CANDIDATES
        ));
    }
    let mut child = Command::new("psql")
        .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("psql");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "psql failed");
    let text = String::from_utf8_lossy(&output.stdout);
    let times: Vec<Duration> = text
        .lines()
        .filter_map(|line| line.strip_prefix("Time: "))
        .filter_map(|rest| rest.split_whitespace().next())
        .filter_map(|number| number.parse::<f64>().ok())
        .map(|millis| Duration::from_secs_f64(millis / 1000.0))
        .collect();
    assert_eq!(times.len(), queries.len(), "one timing per query");
    times
}

/// Prints the plan of each query (BENCH_EXPLAIN=1): what the index did.
fn explain(url: &str, schema: &str, owner: Uuid, queries: &[String]) {
    let mut script = format!(
        "set plan_cache_mode = force_custom_plan;\nprepare search_page (uuid, text, text, text, uuid, uuid, timestamptz, timestamptz, bigint, bigint, bigint, timestamptz) as {};\n",
        search::search_sql(schema, false)
    );
    for query in queries {
        script.push_str(&format!(
            "\\echo '{query}'\nexplain (analyze, buffers, costs off) execute search_page('{owner}', '{query}', 'english', null, null, null, null, null, {}, 0, {}, null);\n",
            PAGE + 1,
            search::SEARCH_CANDIDATES
        ));
    }
    let mut child = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", url])
        .stdin(Stdio::piped())
        .spawn()
        .expect("psql");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    child.wait().unwrap();
}

async fn sqlx_timings(
    pool: &PgPool,
    owner: Uuid,
    queries: &[String],
    snippets: bool,
) -> Vec<Duration> {
    let shares = WordShares::new(Duration::from_secs(300));
    let mut times = Vec::new();
    for text in queries {
        let query = SearchQuery {
            reader: owner,
            text: text.clone(),
            language: "english".into(),
            kind: None,
            topic: None,
            folder: None,
            created_from: None,
            created_before: None,
            snippets,
            limit: PAGE,
            offset: 0,
        };
        let started = Instant::now();
        search::search(pool, &shares, &query).await.unwrap();
        times.push(started.elapsed());
    }
    times
}

async fn http_timings(
    client: &reqwest::Client,
    url: &str,
    access: &str,
    queries: &[String],
    snippets: bool,
) -> Vec<Duration> {
    let mut times = Vec::new();
    for text in queries {
        let started = Instant::now();
        let response = client
            .get(format!("{url}/api/search"))
            .query(&[
                ("q", text.as_str()),
                ("snippets", if snippets { "true" } else { "false" }),
                ("limit", &PAGE.to_string()),
            ])
            .bearer_auth(access)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        response.bytes().await.unwrap();
        times.push(started.elapsed());
    }
    times
}

/// How many documents each query matches (not timed), in the queries' order.
async fn match_counts(pool: &PgPool, schema: &str, owner: Uuid, queries: &[String]) -> Vec<i64> {
    let mut counts = Vec::new();
    for text in queries {
        let n: i64 = sqlx::query_scalar(&format!(
            "select count(*) from {schema}.documents
              where owner = $1
                and search @@ (websearch_to_tsquery('simple', $2) || websearch_to_tsquery('english', $2))"
        ))
        .bind(owner)
        .bind(text)
        .fetch_one(pool)
        .await
        .unwrap();
        counts.push(n);
    }
    counts
}

/// `count` folders for `owner` with random parents (each under an earlier one or at the
/// top), straight into the read model.
async fn seed_folders(ddl: &PgPool, schema: &str, owner: Uuid, count: usize, rng: &mut impl Rng) {
    let mut ids: Vec<Uuid> = Vec::with_capacity(count);
    let mut parents: Vec<Option<Uuid>> = Vec::with_capacity(count);
    let mut names = Vec::with_capacity(count);
    for n in 0..count {
        let parent = if n == 0 || rng.gen_bool(0.2) {
            None
        } else {
            Some(ids[rng.gen_range(0..n)])
        };
        ids.push(Uuid::now_v7());
        parents.push(parent);
        names.push(format!("Folder {n} {}", word(rng.gen_range(0..VOCABULARY))));
    }
    sqlx::query(&format!(
        "insert into {schema}.folders (folder_id, owner, parent_id, name, created_at)
         select id, $1, parent, name, now()
           from unnest($2::uuid[], $3::uuid[], $4::text[]) as seeded (id, parent, name)"
    ))
    .bind(owner)
    .bind(&ids)
    .bind(&parents)
    .bind(&names)
    .execute(ddl)
    .await
    .unwrap();
    sqlx::query(&format!("analyze {schema}.folders"))
        .execute(ddl)
        .await
        .unwrap();
}
