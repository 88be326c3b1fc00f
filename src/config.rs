//! Configuration from environment variables (OPS-2), with defaults for a machine that runs
//! Postgres and NATS locally. Every variable is documented in `.env.example`; clap
//! validates them at start and names the variable in its error.

use clap::{Args, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Runtime connection (a role with DML rights only).
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://docuvault_app@127.0.0.1:5432/docuvault"
    )]
    pub database_url: String,

    /// Migration connection (a role that may create tables, schemas and roles).
    #[arg(
        long,
        env = "DATABASE_MIGRATE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/docuvault"
    )]
    pub database_migrate_url: String,

    /// Pool size of the runtime connection.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 10, value_parser = clap::value_parser!(u32).range(2..=500))]
    pub database_max_connections: u32,

    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    pub nats_url: String,

    /// Prefix of every subject and of the stream name (`<prefix>.evt.…`, `<PREFIX>_EVENTS`).
    #[arg(long, env = "NATS_PREFIX", default_value = "dv")]
    pub nats_prefix: String,

    /// The 256-bit master secret as 64 hex characters. Overrides the key file.
    #[arg(long, env = "DOCUVAULT_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<String>,

    /// Where the master secret is kept when not given directly; `migrate` creates it.
    #[arg(
        long,
        env = "DOCUVAULT_MASTER_KEY_FILE",
        default_value = "data/master.key"
    )]
    pub master_key_file: PathBuf,

    /// Address the API and SPA listen on.
    #[arg(long, env = "BIND_ADDR", default_value = "127.0.0.1:8080")]
    pub bind_addr: SocketAddr,

    /// The built SPA.
    #[arg(long, env = "SPA_DIR", default_value = "frontend/dist")]
    pub spa_dir: PathBuf,

    /// Longest a read waits for its consistency token before a 503.
    #[arg(long, env = "CONSISTENCY_WAIT_MS", default_value_t = 3000, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub consistency_wait_ms: u64,

    /// How often a waiting read re-checks.
    #[arg(long, env = "CONSISTENCY_POLL_MS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub consistency_poll_ms: u64,

    /// Relay's poll interval when no notification arrives.
    #[arg(long, env = "RELAY_POLL_MS", default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub relay_poll_ms: u64,

    /// Relay's poll interval while committed events wait behind an open transaction.
    #[arg(long, env = "RELAY_HELD_BACK_POLL_MS", default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub relay_held_back_poll_ms: u64,

    /// Events the relay reads per query.
    #[arg(long, env = "RELAY_BATCH", default_value_t = 500, value_parser = clap::value_parser!(i64).range(1..=10_000))]
    pub relay_batch: i64,

    /// Largest message the stream accepts; larger events are parked by the relay.
    #[arg(long, env = "STREAM_MAX_MESSAGE_BYTES", default_value_t = 1_048_576, value_parser = clap::value_parser!(i32).range(1024..=67_108_864))]
    pub stream_max_message_bytes: i32,

    /// Events a projection builder applies per transaction.
    #[arg(long, env = "PROJECTION_BATCH", default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub projection_batch: u64,

    /// Tries before a projection parks an event it cannot apply.
    #[arg(long, env = "PROJECTION_MAX_ATTEMPTS", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub projection_max_attempts: u32,

    /// How often standbys (relay, builders) try to take over.
    #[arg(long, env = "STANDBY_POLL_MS", default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub standby_poll_ms: u64,

    /// Events per read during a replay.
    #[arg(long, env = "REPLAY_CHUNK", default_value_t = 20_000, value_parser = clap::value_parser!(i64).range(1..=100_000))]
    pub replay_chunk: i64,

    /// Where people reach DocuVault: the origin accepted on cookie routes and the base of
    /// links in emails (never taken from a request's Host header).
    #[arg(long, env = "PUBLIC_URL", default_value = "http://127.0.0.1:8080", value_parser = parse_public_url)]
    pub public_url: String,

    /// Reverse proxies (CIDRs, comma-separated) whose X-Forwarded-For is believed. Empty:
    /// the peer address is the client.
    #[arg(long, env = "TRUSTED_PROXIES", default_value = "", value_parser = parse_trusted_proxies)]
    pub trusted_proxies: TrustedProxies,

    /// Outgoing mail server, e.g. `smtp://127.0.0.1:25`, `smtp://user:pass@host:587?tls=required`
    /// or `smtps://user:pass@host:465`. Unset: messages are written to MAIL_OUTBOX_DIR.
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// The sender of DocuVault's messages.
    #[arg(
        long,
        env = "MAIL_FROM",
        default_value = "DocuVault <docuvault@localhost>"
    )]
    pub mail_from: String,

    /// Where messages go as .eml files when SMTP_URL is unset.
    #[arg(long, env = "MAIL_OUTBOX_DIR", default_value = "data/outbox")]
    pub mail_outbox_dir: PathBuf,

    /// How long an email-confirmation link works, in hours.
    #[arg(long, env = "VERIFY_LINK_HOURS", default_value_t = 48, value_parser = clap::value_parser!(i64).range(1..=336))]
    pub verify_link_hours: i64,

    /// How long a password-reset link works, in minutes (at most 60).
    #[arg(long, env = "RESET_LINK_MINUTES", default_value_t = 60, value_parser = clap::value_parser!(i64).range(5..=60))]
    pub reset_link_minutes: i64,

    /// How long an invitation works, in hours (default 7 days).
    #[arg(long, env = "INVITE_LINK_HOURS", default_value_t = 168, value_parser = clap::value_parser!(i64).range(1..=2160))]
    pub invite_link_hours: i64,

    /// No second link of a kind goes to one account within this many seconds.
    #[arg(long, env = "EMAIL_SPACING_SECONDS", default_value_t = 60, value_parser = clap::value_parser!(i64).range(0..=3600))]
    pub email_spacing_seconds: i64,

    /// Lifetime of access tokens in seconds (at most 600).
    #[arg(long, env = "ACCESS_TOKEN_TTL_SECONDS", default_value_t = 600, value_parser = clap::value_parser!(i64).range(30..=600))]
    pub access_token_ttl_seconds: i64,

    /// A refresh token unused for this many seconds lapses (default 7 days).
    #[arg(long, env = "REFRESH_IDLE_SECONDS", default_value_t = 604_800, value_parser = clap::value_parser!(i64).range(60..=31_536_000))]
    pub refresh_idle_seconds: i64,

    /// No session lives longer than this many seconds (default 30 days).
    #[arg(long, env = "SESSION_MAX_SECONDS", default_value_t = 2_592_000, value_parser = clap::value_parser!(i64).range(60..=31_536_000))]
    pub session_max_seconds: i64,

    /// Where document bytes live: `local` (files under STORAGE_DIR, the default) or `s3`.
    #[arg(long, env = "STORAGE_BACKEND", value_enum, default_value_t = StorageBackend::Local)]
    pub storage_backend: StorageBackend,

    /// The S3 endpoint for S3-compatible services (MinIO, Garage, …); unset for AWS.
    #[arg(long, env = "S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,

    #[arg(long, env = "S3_REGION", default_value = "us-east-1")]
    pub s3_region: String,

    #[arg(long, env = "S3_BUCKET", default_value = "docuvault")]
    pub s3_bucket: String,

    #[arg(long, env = "S3_ACCESS_KEY_ID", hide_env_values = true)]
    pub s3_access_key_id: Option<String>,

    #[arg(long, env = "S3_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub s3_secret_access_key: Option<String>,

    /// Address the bucket as a path segment (most self-hosted servers need this).
    #[arg(long, env = "S3_PATH_STYLE", default_value_t = true, action = clap::ArgAction::Set)]
    pub s3_path_style: bool,

    /// Create the bucket at start when it is missing (development).
    #[arg(long, env = "S3_CREATE_BUCKET", default_value_t = false, action = clap::ArgAction::Set)]
    pub s3_create_bucket: bool,

    /// The local store's directory.
    #[arg(long, env = "STORAGE_DIR", default_value = "data/objects")]
    pub storage_dir: PathBuf,

    /// The largest file accepted, in bytes (default 50 MB).
    #[arg(long, env = "MAX_UPLOAD_BYTES", default_value_t = 52_428_800, value_parser = clap::value_parser!(u64).range(1..=(1u64 << 40)))]
    pub max_upload_bytes: u64,

    /// Each person's quota unless an admin sets another, in bytes (default 100 MB).
    #[arg(long, env = "DEFAULT_QUOTA_BYTES", default_value_t = 104_857_600, value_parser = clap::value_parser!(u64).range(0..=(1u64 << 50)))]
    pub default_quota_bytes: u64,

    /// How long an upload link works, in seconds (5–15 minutes).
    #[arg(long, env = "UPLOAD_LINK_SECONDS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(300..=900))]
    pub upload_link_seconds: u64,

    /// Minutes an upload may stay unconfirmed before it expires.
    #[arg(long, env = "PENDING_UPLOAD_MINUTES", default_value_t = 60, value_parser = clap::value_parser!(i64).range(1..=10_080))]
    pub pending_upload_minutes: i64,

    /// Seconds between passes of the upload-expiry worker.
    #[arg(long, env = "EXPIRY_SCAN_SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub expiry_scan_seconds: u64,

    /// Seconds between passes of the orphan sweeper.
    #[arg(long, env = "SWEEP_INTERVAL_SECONDS", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub sweep_interval_seconds: u64,

    /// Minutes an object must be old before the sweeper may take it for an orphan.
    #[arg(long, env = "SWEEP_GRACE_MINUTES", default_value_t = 120, value_parser = clap::value_parser!(i64).range(1..=10_080))]
    pub sweep_grace_minutes: i64,

    /// The program that extracts text in a limited child process (`<program> extract …`);
    /// by default this very executable.
    #[arg(long, env = "EXTRACT_PROGRAM")]
    pub extract_program: Option<PathBuf>,

    /// Address space the extraction child may use, in MiB (RLIMIT_AS).
    #[arg(long, env = "EXTRACT_MAX_MEMORY_MB", default_value_t = 512, value_parser = clap::value_parser!(u64).range(64..=16_384))]
    pub extract_max_memory_mb: u64,

    /// CPU seconds the extraction child may use (RLIMIT_CPU).
    #[arg(long, env = "EXTRACT_MAX_CPU_SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub extract_max_cpu_seconds: u64,

    /// Wall-clock seconds after which the extraction child is killed.
    #[arg(long, env = "EXTRACT_TIMEOUT_SECONDS", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub extract_timeout_seconds: u64,

    /// Seconds before a failed classification step is tried again; doubles per try.
    #[arg(long, env = "CLASSIFY_RETRY_SECONDS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub classify_retry_seconds: u64,

    /// The classifier of people an admin assigned none: offline, ollama or
    /// openai_compatible.
    #[arg(long, env = "DEFAULT_AI_PROVIDER", default_value = "offline", value_parser = ["offline", "ollama", "openai_compatible"])]
    pub default_ai_provider: String,

    /// The model asked for when an admin assigned none (Ollama / OpenAI-compatible).
    #[arg(long, env = "DEFAULT_AI_MODEL")]
    pub default_ai_model: Option<String>,

    /// The system prompt for Ollama and OpenAI-compatible classifiers (a built-in one
    /// otherwise).
    #[arg(long, env = "SYSTEM_PROMPT")]
    pub system_prompt: Option<String>,

    /// Base URL of an Ollama server (`/api/chat` is appended); none: no Ollama.
    #[arg(long, env = "OLLAMA_URL")]
    pub ollama_url: Option<String>,

    /// Base URL of an OpenAI-compatible endpoint (`/v1/chat/completions` is appended).
    #[arg(long, env = "OPENAI_URL")]
    pub openai_url: Option<String>,

    #[arg(long, env = "OPENAI_API_KEY", hide_env_values = true)]
    pub openai_api_key: Option<String>,

    /// Networks outbound calls may reach although private (SECURITY 22), comma-separated
    /// CIDRs, e.g. an Ollama on the LAN: `192.168.1.20/32`.
    #[arg(long, env = "OUTBOUND_ALLOW", value_delimiter = ',')]
    pub outbound_allow: Vec<ipnet::IpNet>,

    /// Let outbound calls use plain http (an Ollama on the LAN usually speaks nothing else).
    #[arg(long, env = "OUTBOUND_ALLOW_HTTP", default_value_t = false)]
    pub outbound_allow_http: bool,

    /// Tries of a classification step before its run is recorded as failed.
    #[arg(long, env = "CLASSIFY_MAX_ATTEMPTS", default_value_t = 6, value_parser = clap::value_parser!(i64).range(1..=100))]
    pub classify_max_attempts: i64,

    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StorageBackend {
    Local,
    S3,
}

/// Networks of trusted reverse proxies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(pub Vec<ipnet::IpNet>);

/// A comma-separated list of CIDRs or single addresses; empty for none.
fn parse_trusted_proxies(text: &str) -> Result<TrustedProxies, String> {
    text.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            entry
                .parse::<ipnet::IpNet>()
                .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| format!("{entry:?} is not an address or CIDR"))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(TrustedProxies)
}

/// An absolute http(s) URL without path, query or fragment; kept without a trailing slash.
fn parse_public_url(text: &str) -> Result<String, String> {
    let trimmed = text.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or("must start with http:// or https://")?;
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
        return Err("must be an origin such as https://vault.example.org".into());
    }
    Ok(trimmed.to_owned())
}

impl Settings {
    pub fn link_policy(&self) -> commands::accounts::LinkPolicy {
        commands::accounts::LinkPolicy {
            verify_email: chrono::Duration::hours(self.verify_link_hours),
            reset_password: chrono::Duration::minutes(self.reset_link_minutes),
            spacing: chrono::Duration::seconds(self.email_spacing_seconds),
        }
    }

    pub fn session_policy(&self) -> commands::auth::sessions::SessionPolicy {
        commands::auth::sessions::SessionPolicy {
            idle: chrono::Duration::seconds(self.refresh_idle_seconds),
            absolute: chrono::Duration::seconds(self.session_max_seconds),
        }
    }

    pub fn document_policy(&self) -> commands::documents::DocumentPolicy {
        commands::documents::DocumentPolicy {
            max_file_bytes: self.max_upload_bytes,
            default_quota_bytes: self.default_quota_bytes,
            upload_link_ttl: Duration::from_secs(self.upload_link_seconds),
            pending_ttl: chrono::Duration::minutes(self.pending_upload_minutes),
            ..commands::documents::DocumentPolicy::default()
        }
    }

    pub fn consistency_wait(&self) -> Duration {
        Duration::from_millis(self.consistency_wait_ms)
    }

    pub fn consistency_poll(&self) -> Duration {
        Duration::from_millis(self.consistency_poll_ms)
    }

    pub fn relay_poll(&self) -> Duration {
        Duration::from_millis(self.relay_poll_ms)
    }

    /// The limited child process text is extracted in (AI-4).
    pub fn extraction_sandbox(&self) -> anyhow::Result<extract::Sandbox> {
        let program = match &self.extract_program {
            Some(program) => program.clone(),
            None => std::env::current_exe()
                .map_err(|error| anyhow::anyhow!("cannot find this executable: {error}"))?,
        };
        let limits = extract::Limits {
            max_memory_bytes: self.extract_max_memory_mb * 1024 * 1024,
            max_cpu_seconds: self.extract_max_cpu_seconds,
            wall_clock: Duration::from_secs(self.extract_timeout_seconds),
            ..extract::Limits::default()
        };
        Ok(extract::Sandbox::new(
            program,
            vec!["extract".to_owned()],
            limits,
        ))
    }

    /// The classifiers this server offers, and which one people get by default (AI-2).
    pub fn classifiers(
        &self,
        pool: sqlx::PgPool,
        endpoints: commands::llm::LlmEndpoints,
        clock: std::sync::Arc<dyn domain::Clock>,
    ) -> workers::classify::choice::Providers {
        use std::sync::Arc;
        let offline = workers::classify::offline::OfflineClassifier::new(pool);
        workers::classify::choice::Providers {
            endpoints: Some(endpoints),
            default_provider: domain::user::AiProvider::parse(&self.default_ai_provider)
                .unwrap_or(domain::user::AiProvider::Offline),
            default_model: self.default_ai_model.clone(),
            system_prompt: self
                .system_prompt
                .clone()
                .unwrap_or_else(|| workers::classify::llm::DEFAULT_SYSTEM_PROMPT.to_owned()),
            ..workers::classify::choice::Providers::offline(Arc::new(offline), clock)
        }
    }

    /// Where the LLM providers are: what admins stored (AI-2), over this server's
    /// `OLLAMA_URL`, `OPENAI_URL`, `OPENAI_API_KEY` and `OUTBOUND_ALLOW*`.
    pub fn llm_endpoints(
        &self,
        pool: sqlx::PgPool,
        master: crypto::MasterKey,
        clock: std::sync::Arc<dyn domain::Clock>,
    ) -> commands::llm::LlmEndpoints {
        use commands::llm::{LlmEndpoint, LlmSettings};
        let endpoint = |url: &Option<String>, api_key: Option<&String>| {
            url.as_ref().map(|url| LlmEndpoint {
                url: url.clone(),
                api_key: api_key.cloned().map(secrecy::SecretString::from),
            })
        };
        let server = LlmSettings {
            ollama: endpoint(&self.ollama_url, None),
            openai_compatible: endpoint(&self.openai_url, self.openai_api_key.as_ref()),
            policy: outbound::Policy {
                allow: self.outbound_allow.clone(),
                allow_http: self.outbound_allow_http,
                ..outbound::Policy::default()
            },
        };
        commands::llm::LlmEndpoints::new(commands::EventStore::new(pool), master, clock, server)
    }

    /// How the classification worker retries.
    pub fn classify_jobs(&self) -> workers::jobs::JobConfig {
        workers::jobs::JobConfig {
            standby_poll: self.standby_poll(),
            retry_after: Duration::from_secs(self.classify_retry_seconds),
            max_deliver: self.classify_max_attempts,
            // A child may take its whole wall clock; JetStream must not hand the event to
            // another worker meanwhile.
            ack_wait: Duration::from_secs(self.extract_timeout_seconds + 60),
            ..workers::jobs::JobConfig::default()
        }
    }

    pub fn standby_poll(&self) -> Duration {
        Duration::from_millis(self.standby_poll_ms)
    }

    /// The defaults, as if no variable were set (for tests and tools).
    pub fn defaults() -> Self {
        #[derive(clap::Parser)]
        struct Only {
            #[command(flatten)]
            settings: Settings,
        }
        <Only as clap::Parser>::parse_from(["docuvault"]).settings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_proxies_accept_cidrs_addresses_and_nothing() {
        assert_eq!(parse_trusted_proxies(""), Ok(TrustedProxies::default()));
        let parsed = parse_trusted_proxies("10.0.0.0/8, 192.0.2.7 ,::1").unwrap();
        assert_eq!(parsed.0.len(), 3);
        assert!(parsed.0[1].contains(&"192.0.2.7".parse::<std::net::IpAddr>().unwrap()));
        assert!(parse_trusted_proxies("10.0.0.0/8,bad").is_err());
    }

    #[test]
    fn the_public_url_is_an_origin() {
        assert_eq!(
            parse_public_url("https://vault.example.org/"),
            Ok("https://vault.example.org".to_owned())
        );
        for bad in [
            "vault.example.org",
            "https://",
            "https://a.example/path",
            "ftp://a.example",
        ] {
            assert!(parse_public_url(bad).is_err(), "{bad}");
        }
    }
}
