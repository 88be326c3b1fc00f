//! Starting DocuVault's processes: the API, the relay, the projection builders and the
//! workers, alone (one subcommand each) or together (`docuvault all`).

use crate::config::Settings;
use crate::config::StorageBackend;
use crate::{database, master_key};
use anyhow::Context;
use api::auth::AccessTokens;
use api::{ApiConfig, AppState};
use async_nats::jetstream;
use commands::accounts::Accounts;
use commands::auth::sessions::Sessions;
use commands::auth::sign_in::SignIns;
use commands::documents::Documents;
use commands::registration::Registrations;
use commands::{EventStore, PasswordHasher};
use crypto::KeyRing;
use domain::Clock;
use eventlog::bus::Bus;
use projections::audit::AuditModel;
use projections::documents::word_shares::WordShares;
use projections::documents::DocumentsModel;
use projections::runner::{Runner, RunnerConfig};
use projections::users::UsersModel;
use projections::ReadModel;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use storage::local::LocalDisk;
use storage::s3::{S3Config, S3Store};
use storage::ObjectStore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use workers::documents::follow::FollowDocuments;
use workers::jobs::JobConfig;
use workers::relay::{Relay, RelayConfig, RelayStats};

/// Which processes to run in this one.
#[derive(Debug, Clone, Copy, Default)]
pub struct Components {
    pub api: bool,
    pub relay: bool,
    pub projections: bool,
    pub workers: bool,
}

impl Components {
    pub const ALL: Components = Components {
        api: true,
        relay: true,
        projections: true,
        workers: true,
    };
}

/// Every read model, in one list: migrate installs them, `project` builds them, replay
/// rebuilds them, `/metrics` reports on them.
pub fn read_models(keys: KeyRing) -> Vec<Arc<dyn ReadModel>> {
    vec![
        Arc::new(UsersModel::new(keys.clone())),
        Arc::new(AuditModel),
        Arc::new(DocumentsModel::new(keys.clone())),
        Arc::new(projections::classifier::ClassifierModel::new(keys)),
    ]
}

/// The origin browsers PUT upload bytes to when it is not the API's own.
fn upload_origin(settings: &Settings) -> Option<String> {
    if settings.storage_backend != StorageBackend::S3 {
        return None;
    }
    Some(match &settings.s3_endpoint {
        Some(endpoint) => {
            let (scheme, rest) = endpoint.split_once("://")?;
            let host = rest.split('/').next()?;
            format!("{scheme}://{host}")
        }
        None if settings.s3_path_style => {
            format!("https://s3.{}.amazonaws.com", settings.s3_region)
        }
        None => format!(
            "https://{}.s3.{}.amazonaws.com",
            settings.s3_bucket, settings.s3_region
        ),
    })
}

/// The configured object store (OPS-7).
pub async fn object_store(settings: &Settings, keys: &KeyRing) -> anyhow::Result<ObjectStore> {
    Ok(match settings.storage_backend {
        StorageBackend::Local => ObjectStore::Local(LocalDisk::new(
            &settings.storage_dir,
            keys.master().link_signing_key("local-upload"),
        )),
        StorageBackend::S3 => {
            let (Some(access_key), Some(secret_key)) = (
                settings.s3_access_key_id.clone(),
                settings.s3_secret_access_key.clone(),
            ) else {
                anyhow::bail!("STORAGE_BACKEND=s3 needs S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY");
            };
            let store = S3Store::new(S3Config {
                endpoint: settings.s3_endpoint.clone(),
                region: settings.s3_region.clone(),
                bucket: settings.s3_bucket.clone(),
                access_key,
                secret_key,
                path_style: settings.s3_path_style,
            });
            if settings.s3_create_bucket {
                store
                    .ensure_bucket()
                    .await
                    .context("creating the S3 bucket")?;
            }
            ObjectStore::S3(store)
        }
    })
}

/// Finds a read model by name.
pub fn read_model(keys: KeyRing, name: &str) -> anyhow::Result<Arc<dyn ReadModel>> {
    let models = read_models(keys);
    let names: Vec<&str> = models.iter().map(|model| model.name()).collect();
    let known = names.join(", ");
    models
        .into_iter()
        .find(|model| model.name() == name)
        .with_context(|| format!("no read model named {name:?}; known: {known}"))
}

/// The running processes of this one.
pub struct Running {
    /// Where the API listens, when it runs.
    pub addr: Option<SocketAddr>,
    pub relay_stats: Option<Arc<RelayStats>>,
    shutdown: CancellationToken,
    tasks: JoinSet<()>,
}

impl Running {
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Waits until every process has ended (after a shutdown, or a failure of the API).
    pub async fn wait(mut self) {
        while self.tasks.join_next().await.is_some() {}
    }

    /// Ends every process abruptly, as a crash would: tasks are dropped wherever they
    /// are, connections (and the advisory locks they hold) go with them.
    pub fn kill(mut self) {
        self.tasks.abort_all();
    }

    /// Asks every process to stop, and waits for them.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.wait().await;
    }
}

/// Migrates the database (creating it if needed) as the DDL role. Creates the master key
/// file on first run.
pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let master = master_key::load(settings, true)?;
    database::ensure_database(&settings.database_migrate_url).await?;
    let ddl = database::ddl_pool(&settings.database_migrate_url).await?;
    let models = read_models(KeyRing::new(ddl.clone(), master.clone()));
    database::migrate(
        &settings.database_migrate_url,
        &settings.database_url,
        &models,
        settings.replay_chunk,
    )
    .await?;
    master_key::verify(&ddl, &master).await?;
    ddl.close().await;
    Ok(())
}

/// Starts the chosen processes and returns at once.
pub async fn start(
    settings: &Settings,
    components: Components,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Running> {
    let master = master_key::load(settings, false)?;
    let pool =
        database::runtime_pool(&settings.database_url, settings.database_max_connections).await?;
    master_key::verify(&pool, &master).await?;
    let keys = KeyRing::new(pool.clone(), master);
    let bus = Bus::new(&settings.nats_prefix).context("NATS_PREFIX")?;
    let nats = async_nats::connect(&settings.nats_url)
        .await
        .with_context(|| format!("cannot reach NATS at {}", settings.nats_url))?;
    let js = jetstream::new(nats.clone());
    let models = read_models(keys.clone());
    let shutdown = CancellationToken::new();
    let mut tasks = JoinSet::new();
    let mut running = Running {
        addr: None,
        relay_stats: None,
        shutdown: shutdown.clone(),
        tasks: JoinSet::new(),
    };

    if components.relay {
        let relay = Relay::new(
            pool.clone(),
            js.clone(),
            bus.clone(),
            relay_config(settings),
        );
        running.relay_stats = Some(relay.stats());
        tasks.spawn(relay.run(shutdown.clone()));
    }
    if components.projections {
        for model in &models {
            let runner = Runner::new(
                pool.clone(),
                js.clone(),
                bus.clone(),
                model.clone(),
                runner_config(settings),
            );
            tasks.spawn(runner.run(shutdown.clone()));
        }
    }
    let objects = object_store(settings, &keys).await?;
    let documents = Documents::new(
        EventStore::new(pool.clone()),
        keys.clone(),
        objects.clone(),
        clock.clone(),
        settings.document_policy(),
    );
    if components.workers {
        tasks.spawn(workers::jobs::run(
            js.clone(),
            bus.clone(),
            Arc::new(FollowDocuments::new(documents.clone())),
            JobConfig {
                standby_poll: settings.standby_poll(),
                ..JobConfig::default()
            },
            shutdown.clone(),
        ));
        tasks.spawn(workers::jobs::run(
            js.clone(),
            bus.clone(),
            Arc::new(workers::classify::ClassifyDocuments::new(
                commands::classification::Classifications::new(documents.clone()),
                commands::topics::Topics::new(
                    EventStore::new(pool.clone()),
                    clock.clone(),
                    documents.clone(),
                ),
                pool.clone(),
                settings.extraction_sandbox()?,
                Arc::new(settings.classifiers(
                    pool.clone(),
                    settings.llm_endpoints(pool.clone(), keys.master().clone(), clock.clone()),
                    clock.clone(),
                )),
            )),
            settings.classify_jobs(),
            shutdown.clone(),
        ));
        tasks.spawn(workers::documents::expiry::run(
            pool.clone(),
            documents.clone(),
            clock.clone(),
            Duration::from_secs(settings.expiry_scan_seconds),
            shutdown.clone(),
        ));
        tasks.spawn(workers::documents::sweeper::run(
            pool.clone(),
            objects.clone(),
            clock.clone(),
            Duration::from_secs(settings.sweep_interval_seconds),
            chrono::Duration::minutes(settings.sweep_grace_minutes),
            shutdown.clone(),
        ));
    }
    if components.api {
        let store = EventStore::new(pool.clone());
        let hasher = PasswordHasher::default();
        let sessions = Sessions::new(pool.clone(), clock.clone(), settings.session_policy());
        let sign_ins = SignIns::new(
            store.clone(),
            keys.clone(),
            hasher.clone(),
            sessions.clone(),
            clock.clone(),
        );
        // Read before the first search, so that none waits for them.
        let word_shares = WordShares::new(Duration::from_secs(300));
        word_shares.refresh(
            &pool,
            &projections::model::live_schema(DocumentsModel::NAME),
        );
        let state = AppState {
            pool: pool.clone(),
            nats: nats.clone(),
            registrations: Registrations::new(
                store.clone(),
                keys.clone(),
                hasher.clone(),
                clock.clone(),
            ),
            sign_ins: sign_ins.clone(),
            accounts: Accounts::new(
                store.clone(),
                keys.clone(),
                hasher.clone(),
                sessions.clone(),
                sign_ins,
                clock.clone(),
                settings.link_policy(),
            ),
            mailer: mail::Mailer::new(
                settings.smtp_url.as_deref(),
                &settings.mail_from,
                &settings.mail_outbox_dir,
            )
            .context("the mail settings (SMTP_URL, MAIL_FROM, MAIL_OUTBOX_DIR)")?,
            invites: commands::invites::Invites::new(
                store.clone(),
                keys.clone(),
                clock.clone(),
                chrono::Duration::hours(settings.invite_link_hours),
            ),
            sessions,
            folders: commands::folders::Folders::new(
                EventStore::new(pool.clone()),
                clock.clone(),
                documents.clone(),
            ),
            topics: commands::topics::Topics::new(
                EventStore::new(pool.clone()),
                clock.clone(),
                documents.clone(),
            ),
            shares: commands::shares::Shares::new(
                EventStore::new(pool.clone()),
                clock.clone(),
                documents.clone(),
            ),
            classifications: commands::classification::Classifications::new(documents.clone()),
            word_shares: word_shares.clone(),
            llm: settings.llm_endpoints(pool.clone(), keys.master().clone(), clock.clone()),
            live: api::live::LiveEvents::start(
                nats.clone(),
                bus.clone(),
                Duration::from_secs(settings.access_token_ttl_seconds.unsigned_abs()),
                Duration::from_secs(15),
                shutdown.clone(),
            ),
            documents: documents.clone(),
            download_links: api::content::download_link::DownloadLinks::new(
                keys.master().link_signing_key("download"),
            ),
            tokens: AccessTokens::new(
                &keys.master().token_signing_seed(),
                chrono::Duration::seconds(settings.access_token_ttl_seconds),
                clock.clone(),
            ),
            store,
            keys: keys.clone(),
            models: models.clone(),
            clock,
            config: Arc::new(ApiConfig {
                consistency_wait: settings.consistency_wait(),
                consistency_poll: settings.consistency_poll(),
                spa_dir: settings.spa_dir.clone(),
                trusted_proxies: settings.trusted_proxies.0.clone(),
                public_origin: Some(settings.public_url.clone()),
                upload_origin: upload_origin(settings),
            }),
        };
        if !settings.spa_dir.join("index.html").exists() {
            tracing::warn!(spa_dir = %settings.spa_dir.display(), "the SPA is not built; run `npm ci && npm run build` in frontend/");
        }
        let listener = tokio::net::TcpListener::bind(settings.bind_addr)
            .await
            .with_context(|| format!("cannot listen on {}", settings.bind_addr))?;
        running.addr = Some(listener.local_addr()?);
        let app = api::router(state);
        let stop = shutdown.clone();
        tasks.spawn(async move {
            let served = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(stop.clone().cancelled_owned())
            .await;
            if let Err(error) = served {
                tracing::error!(%error, "the API server failed");
            }
            // Without its API the process is of no use: take the rest down too.
            stop.cancel();
        });
    }
    running.tasks = tasks;
    Ok(running)
}

pub fn relay_config(settings: &Settings) -> RelayConfig {
    RelayConfig {
        batch_size: settings.relay_batch,
        poll_interval: settings.relay_poll(),
        held_back_poll: Duration::from_millis(settings.relay_held_back_poll_ms),
        standby_poll: settings.standby_poll(),
        max_message_bytes: settings.stream_max_message_bytes,
        checkpoint_interval: Duration::from_millis(250),
        duplicate_window: Duration::from_secs(120),
    }
}

pub fn runner_config(settings: &Settings) -> RunnerConfig {
    RunnerConfig {
        batch_size: usize::try_from(settings.projection_batch).unwrap_or(500),
        standby_poll: settings.standby_poll(),
        max_attempts: settings.projection_max_attempts,
        ..RunnerConfig::default()
    }
}
