//! The test kit: a fresh database and bus prefix per test, and helpers to drive them.

pub mod auth;
pub mod cluster;
pub mod documents;
pub mod events;
pub mod probe;
pub mod smtp;

use async_nats::jetstream;
use commands::registration::{RegistrationForm, RegistrationOutcome, Registrations};
use commands::{CommandMeta, EventStore, PasswordHasher};
use crypto::{KeyRing, MasterKey};
use docuvault::config::Settings;
use docuvault::system::{self, Components, Running};
use domain::user::Role;
use eventlog::bus::Bus;
use eventlog::Token;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// The shared server, as a superuser (trust auth on this machine).
pub fn admin_url() -> String {
    std::env::var("DV_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

pub fn nats_url() -> String {
    std::env::var("DV_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// With `RUST_LOG` set (`RUST_LOG=info cargo test …`), the running system's log goes to
/// each test's captured output, shown when it fails.
fn log_if_asked() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
}

/// Which object store a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Local,
    S3,
}

/// One test's world: its own database (migrated), its own stream prefix.
pub struct TestEnv {
    pub settings: Settings,
    pub database: String,
    pub ddl: PgPool,
    pub pool: PgPool,
    pub bus: Bus,
    pub js: jetstream::Context,
    pub master: MasterKey,
    pg_url: String,
}

impl TestEnv {
    pub async fn new() -> Self {
        Self::on(&admin_url(), &nats_url()).await
    }

    /// A world on the given Postgres server and NATS server.
    pub async fn on(pg_url: &str, nats_url: &str) -> Self {
        log_if_asked();
        let id = Uuid::new_v4().simple().to_string();
        let database = format!("dvtest_{}", &id[..16]);
        let prefix = format!("t{}", &id[..12]);
        let master = MasterKey::generate();
        let mut settings = Settings::defaults();
        settings.database_url = format!(
            "{}/{database}",
            pg_url.replace("postgres://postgres@", "postgres://docuvault_app@")
        );
        settings.database_migrate_url = format!("{pg_url}/{database}");
        settings.nats_url = nats_url.to_owned();
        settings.nats_prefix = prefix.clone();
        settings.master_key = Some(master.to_hex().to_string());
        settings.bind_addr = "127.0.0.1:0".parse().unwrap();
        settings.spa_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("frontend/dist");
        settings.relay_poll_ms = 50;
        settings.standby_poll_ms = 50;
        settings.consistency_wait_ms = 5000;
        settings.database_max_connections = 6;
        settings.mail_outbox_dir = std::env::temp_dir().join(format!("dv-outbox-{id}"));
        settings.storage_dir = std::env::temp_dir().join(format!("dv-objects-{id}"));
        // The worker extracts text by running the real binary's `extract` (this test
        // binary is not it).
        settings.extract_program = Some(env!("CARGO_BIN_EXE_docuvault").into());
        settings.classify_retry_seconds = 1;
        system::migrate(&settings)
            .await
            .expect("migrate the test database");
        let ddl = PgPoolOptions::new()
            .max_connections(4)
            .connect(&settings.database_migrate_url)
            .await
            .unwrap();
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect(&settings.database_url)
            .await
            .unwrap();
        let nats = async_nats::connect(nats_url).await.unwrap();
        let js = jetstream::new(nats);
        Self {
            settings,
            database,
            ddl,
            pool,
            bus: Bus::new(&prefix).unwrap(),
            js,
            master,
            pg_url: pg_url.to_owned(),
        }
    }

    pub fn keys(&self) -> KeyRing {
        KeyRing::new(self.pool.clone(), self.master.clone())
    }

    pub fn registrations(&self) -> Registrations {
        Registrations::new(
            EventStore::new(self.pool.clone()),
            self.keys(),
            PasswordHasher::default(),
            Arc::new(eventlog::SystemClock),
        )
    }

    /// Registers `<handle>@example.test` through the write side, as the API does; returns
    /// the id and token.
    pub async fn register(&self, handle: &str) -> (Uuid, Token) {
        register_with(&self.registrations(), handle).await
    }

    /// Starts only the API; returns it with its base URL.
    pub async fn start_api(&self) -> (Running, String) {
        let running = self
            .start(Components {
                api: true,
                ..Components::default()
            })
            .await;
        let url = format!("http://{}", running.addr.unwrap());
        (running, url)
    }

    /// Starts only the API with its own clock and adjusted settings.
    pub async fn start_api_with(
        &self,
        clock: Arc<dyn domain::Clock>,
        configure: impl FnOnce(&mut Settings),
    ) -> (Running, String) {
        let mut settings = self.settings.clone();
        configure(&mut settings);
        let components = Components {
            api: true,
            ..Components::default()
        };
        let running = system::start(&settings, components, clock)
            .await
            .expect("start");
        let url = format!("http://{}", running.addr.unwrap());
        (running, url)
    }

    pub async fn start(&self, components: Components) -> Running {
        system::start(&self.settings, components, Arc::new(eventlog::SystemClock))
            .await
            .expect("start")
    }

    /// Points the object store at `backend`: for S3, a fresh `s3s-fs` server that lives as
    /// long as the returned guard.
    pub fn use_backend(&mut self, backend: Backend) -> Option<storage::s3_server::S3Server> {
        match backend {
            Backend::Local => None,
            Backend::S3 => {
                let server = storage::s3_server::S3Server::start().expect("an S3 test server");
                let config = server.config("docuvault");
                let settings = &mut self.settings;
                settings.storage_backend = docuvault::config::StorageBackend::S3;
                settings.s3_endpoint = config.endpoint;
                settings.s3_region = config.region;
                settings.s3_bucket = config.bucket;
                settings.s3_access_key_id = Some(config.access_key);
                settings.s3_secret_access_key = Some(config.secret_key);
                settings.s3_path_style = true;
                settings.s3_create_bucket = true;
                Some(server)
            }
        }
    }

    /// The object store the system under test uses.
    pub async fn objects(&self) -> storage::ObjectStore {
        system::object_store(&self.settings, &self.keys())
            .await
            .expect("the object store")
    }

    /// The keys of every stored object.
    pub async fn stored_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .objects()
            .await
            .list()
            .await
            .expect("a listing")
            .into_iter()
            .map(|object| object.key)
            .collect();
        keys.sort();
        keys
    }

    /// Starts `components` with their own clock and adjusted settings; returns them with
    /// the API's base URL (empty without the API).
    pub async fn start_with(
        &self,
        components: Components,
        clock: Arc<dyn domain::Clock>,
        configure: impl FnOnce(&mut Settings),
    ) -> (Running, String) {
        let mut settings = self.settings.clone();
        configure(&mut settings);
        let running = system::start(&settings, components, clock)
            .await
            .expect("start");
        let url = running
            .addr
            .map(|addr| format!("http://{addr}"))
            .unwrap_or_default();
        (running, url)
    }

    /// Starts the whole system and returns it with its base URL.
    pub async fn start_all(&self) -> (Running, String) {
        let running = self.start(Components::ALL).await;
        let url = format!("http://{}", running.addr.unwrap());
        (running, url)
    }

    /// How many events the stream of this test holds (0 when it does not exist yet).
    pub async fn stream_len(&self) -> u64 {
        match self.js.get_stream(self.bus.stream_name()).await {
            Ok(mut stream) => stream.info().await.unwrap().state.messages,
            Err(_) => 0,
        }
    }

    /// Waits (bounded) until `condition` holds.
    pub async fn eventually<F, Fut>(&self, what: &str, mut condition: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !condition().await {
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting until {what}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until the users model has applied everything up to `token`.
    pub async fn users_reach(&self, token: Token) {
        let pool = self.pool.clone();
        self.eventually(&format!("users reaches {token}"), || {
            let pool = pool.clone();
            async move {
                projections::state::read(&pool, "rm_users")
                    .await
                    .map(|p| p.token >= token)
                    .unwrap_or(false)
            }
        })
        .await;
    }

    pub async fn event_count(&self) -> i64 {
        sqlx::query_scalar("select count(*) from events")
            .fetch_one(&self.ddl)
            .await
            .unwrap()
    }
}

/// Registers `<handle>@example.test` with `registrations` (usable from spawned tasks).
pub async fn register_with(registrations: &Registrations, handle: &str) -> (Uuid, Token) {
    register_as(registrations, handle, Role::User).await
}

/// Registers `<handle>@example.test` with a role.
pub async fn register_as(registrations: &Registrations, handle: &str, role: Role) -> (Uuid, Token) {
    let email = format!("{handle}@example.test");
    let form = RegistrationForm {
        email: &email,
        handle,
        password: "correct horse battery staple",
    };
    match registrations
        .register(form, role, true, &CommandMeta::new("test", "test"))
        .await
        .unwrap()
    {
        RegistrationOutcome::Registered { user_id, token } => (user_id, token),
        other => panic!("expected a registration, got {other:?}"),
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.settings.mail_outbox_dir);
        let _ = std::fs::remove_dir_all(&self.settings.storage_dir);
        // Async drop does not exist: clean up on a thread of our own, even after a panic.
        let (pg_url, database, nats_url, stream) = (
            self.pg_url.clone(),
            self.database.clone(),
            self.settings.nats_url.clone(),
            self.bus.stream_name(),
        );
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                // `with (force)` ends this test's connections; their pools belong to the
                // test's runtime, which this thread blocks, so they are not closed here.
                if let Ok(server) = PgPoolOptions::new()
                    .max_connections(1)
                    .connect(&format!("{pg_url}/postgres"))
                    .await
                {
                    let _ =
                        sqlx::query(&format!("drop database if exists {database} with (force)"))
                            .execute(&server)
                            .await;
                }
                if let Ok(client) = async_nats::connect(&nats_url).await {
                    let _ = jetstream::new(client).delete_stream(&stream).await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

impl TestEnv {
    /// The stream's messages, in order, decoded.
    pub async fn stream_events(&self) -> Vec<(u64, async_nats::jetstream::message::StreamMessage)> {
        let Ok(stream) = self.js.get_stream(self.bus.stream_name()).await else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let last = self.stream_len().await;
        for seq in 1..=last {
            if let Ok(message) = stream.get_raw_message(seq).await {
                out.push((seq, message));
            }
        }
        out
    }

    /// Positions of the events in the stream, in stream order.
    pub async fn stream_positions(&self) -> Vec<i64> {
        self.stream_events()
            .await
            .into_iter()
            .map(|(_, message)| eventlog::bus::decode(&message.payload).unwrap().position)
            .collect()
    }

    /// The log as a relay sees it, once all `count` events are past its horizon. Other
    /// tests' open transactions on the shared cluster hold that horizon back for a moment.
    pub async fn relayable_log(&self, count: usize) -> Vec<eventlog::StoredEvent> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let log = eventlog::log::read_committed_after(&self.pool, Token::ZERO, 10_000)
                .await
                .unwrap();
            if log.len() >= count {
                return log;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{count} events never passed the relay's horizon"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// This database's identity, as the relay stamps it.
    pub async fn instance(&self) -> String {
        workers::relay::instance_id(&self.pool).await.unwrap()
    }

    /// Positions of all committed events, in relay order.
    pub async fn log_positions(&self) -> Vec<i64> {
        sqlx::query_scalar("select position from events order by tx_id, position")
            .fetch_all(&self.ddl)
            .await
            .unwrap()
    }
}
