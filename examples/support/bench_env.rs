//! What every benchmark sets up: a database, stream prefix and master key of its own on the
//! machine's Postgres and NATS, people registered with real sealed fields under real keys,
//! and dropping it all at the end. Included by each example with `#[path]`.

use crypto::{seal, KeyRing, MasterKey};
use docuvault::config::Settings;
use docuvault::system;
use domain::user::{sealed_fields, Handle, RegisterUser, Role};
use sqlx::postgres::PgPoolOptions;
use uuid::Uuid;

/// A database and stream prefix of the run's own, migrated.
pub struct BenchEnv {
    pub settings: Settings,
    pub master: MasterKey,
    pub database: String,
    /// The server's URL as the DDL role (BENCH_PG_URL).
    pg: String,
}

impl BenchEnv {
    /// Settings for a fresh database and prefix; `configure` adjusts them (given the
    /// run's short random tag, for naming anything else it needs) before the database is
    /// created and migrated.
    pub async fn new(configure: impl FnOnce(&mut Settings, &str)) -> Self {
        let pg = std::env::var("BENCH_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        let id = Uuid::new_v4().simple().to_string();
        let tag = id[..12].to_owned();
        let database = format!("dvbench_{tag}");
        let master = MasterKey::generate();
        let mut settings = Settings::defaults();
        settings.database_url = format!(
            "{}/{database}",
            pg.replace("postgres://postgres@", "postgres://docuvault_app@")
        );
        settings.database_migrate_url = format!("{pg}/{database}");
        settings.nats_prefix = format!("b{tag}");
        settings.master_key = Some(master.to_hex().to_string());
        settings.bind_addr = "127.0.0.1:0".parse().unwrap();
        configure(&mut settings, &tag);
        system::migrate(&settings).await.unwrap();
        Self {
            settings,
            master,
            database,
            pg,
        }
    }

    /// A registration command for person `n` of group `tag`, with its data key created.
    pub async fn registration(
        &self,
        keys: &KeyRing,
        n: usize,
        tag: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> RegisterUser {
        let user_id = Uuid::new_v4();
        let key = keys.create(user_id).await.unwrap();
        let email = format!("{tag}{n}@bench.test");
        RegisterUser {
            user_id,
            handle: Handle::parse(&format!("{tag}-user-{n}")).unwrap(),
            email: seal(&key, user_id, sealed_fields::EMAIL, email.as_bytes()),
            email_lookup: self.master.email_lookup(&email),
            password_hash: seal(
                &key,
                user_id,
                sealed_fields::PASSWORD_HASH,
                b"$argon2id$v=19$m=19456,t=2,p=1$salt$hash",
            ),
            role: Role::User,
            email_verified: true,
            at,
        }
    }

    /// Registers person `n` of group `tag` through the write side (with the data key
    /// their fields are sealed under); returns their id.
    pub async fn register(
        &self,
        pool: &sqlx::PgPool,
        keys: &KeyRing,
        n: usize,
        tag: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Uuid {
        let command = self.registration(keys, n, tag, at).await;
        let user_id = command.user_id;
        commands::EventStore::new(pool.clone())
            .execute::<domain::user::User>(
                &user_id.to_string(),
                domain::user::UserCommand::Register(command),
                (),
                &commands::CommandMeta::new("bench", "bench"),
            )
            .await
            .unwrap();
        user_id
    }

    /// Drops the database and the stream (close the run's pools first).
    pub async fn drop_everything(&self) {
        let server = PgPoolOptions::new()
            .max_connections(1)
            .connect(&format!("{}/postgres", self.pg))
            .await
            .unwrap();
        sqlx::query(&format!("drop database {} with (force)", self.database))
            .execute(&server)
            .await
            .unwrap();
        server.close().await;
        let client = async_nats::connect(&self.settings.nats_url).await.unwrap();
        let bus = eventlog::bus::Bus::new(&self.settings.nats_prefix).unwrap();
        let _ = async_nats::jetstream::new(client)
            .delete_stream(bus.stream_name())
            .await;
    }
}

/// Step one of an upload and the PUT of its bytes to the local-disk store, as the upload
/// route does it: the key from the link's path, the grant checked against the link's
/// signature. Returns the pending document's id.
pub async fn put_upload(
    documents: &commands::documents::Documents,
    disk: &storage::local::LocalDisk,
    now: chrono::DateTime<chrono::Utc>,
    owner: Uuid,
    name: &str,
    body: Vec<u8>,
    content_type: &str,
) -> Uuid {
    let meta = commands::CommandMeta::new(owner.to_string(), "bench-initiate");
    let initiated = documents
        .initiate(
            owner,
            commands::documents::NewUpload {
                name,
                size: body.len() as u64,
                content_type,
            },
            &meta,
        )
        .await
        .unwrap();
    let (path, query) = initiated.link.url.split_once('?').unwrap();
    let key = path
        .strip_prefix(storage::store::LOCAL_UPLOAD_PATH)
        .and_then(|rest| rest.strip_prefix('/'))
        .and_then(storage::ObjectKey::parse)
        .unwrap();
    let signature = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("signature="))
        .unwrap();
    let grant = storage::local::UploadGrant {
        key,
        length: body.len() as u64,
        content_type: initiated.kind.content_type().to_owned(),
        expires_at: initiated.link.expires_at,
    };
    disk.verify(&grant, signature, now).unwrap();
    let chunks =
        futures::stream::iter([Ok::<_, std::convert::Infallible>(bytes::Bytes::from(body))]);
    disk.write(&grant, chunks).await.unwrap();
    initiated.document_id
}
