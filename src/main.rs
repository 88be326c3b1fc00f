//! `docuvault`: one binary, one subcommand per process (OPS-1).

use clap::{Parser, Subcommand};
use docuvault::config::{LogFormat, Settings};
use docuvault::system::{self, Components};
use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "docuvault",
    version,
    about = "Self-hosted, privacy-first document vault"
)]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the database if needed, apply migrations, install read models.
    Migrate,
    /// The HTTP API and the SPA.
    Serve,
    /// Publish committed events to JetStream.
    Relay,
    /// Build the read models from the stream.
    Project,
    /// Background workers.
    Work,
    /// Migrate, then run everything in this one process.
    All,
    /// Rebuild a read model from the event store beside the live one, then swap.
    Replay {
        /// The read model, e.g. `users`.
        projection: String,
    },
    /// Administration.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// Extracts the text of one document from standard input, in this process, under
    /// the resource limits it is given (the workers run it as a child process: AI-4).
    #[command(hide = true)]
    Extract {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

#[derive(Subcommand)]
enum AdminAction {
    /// Create an administrator account.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        handle: String,
        /// Read the password from the first line of standard input (else from
        /// DOCUVAULT_ADMIN_PASSWORD).
        #[arg(long)]
        password_stdin: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The extraction child: no runtime, no logs on stdout (its one JSON line goes there).
    if let Command::Extract { args } = &cli.command {
        return match extract::parse_child_args(args) {
            Ok((kind, limits)) => extract::child_main(kind, &limits),
            Err(problem) => {
                let _ = writeln!(std::io::stderr(), "docuvault extract: {problem}");
                ExitCode::from(2)
            }
        };
    }
    init_tracing(cli.settings.log_format);
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| runtime.block_on(run(cli)));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            let _ = writeln!(std::io::stderr(), "docuvault: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = cli.settings;
    let clock: Arc<dyn domain::Clock> = Arc::new(eventlog::SystemClock);
    let components = match cli.command {
        Command::Migrate => return system::migrate(&settings).await,
        Command::Replay { projection } => return replay(&settings, &projection).await,
        Command::Admin {
            action:
                AdminAction::Create {
                    email,
                    handle,
                    password_stdin,
                },
        } => {
            let password = read_password(password_stdin)?;
            let user_id =
                docuvault::admin::create_admin(&settings, &email, &handle, &password, clock)
                    .await?;
            let _ = writeln!(std::io::stdout(), "created admin {handle} ({user_id})");
            return Ok(());
        }
        Command::Serve => Components {
            api: true,
            ..Components::default()
        },
        Command::Relay => Components {
            relay: true,
            ..Components::default()
        },
        Command::Project => Components {
            projections: true,
            ..Components::default()
        },
        Command::Work => Components {
            workers: true,
            ..Components::default()
        },
        Command::All => {
            system::migrate(&settings).await?;
            Components::ALL
        }
        Command::Extract { .. } => anyhow::bail!("extract runs without a runtime"),
    };
    let running = system::start(&settings, components, clock).await?;
    if let Some(addr) = running.addr {
        tracing::info!("DocuVault is serving at http://{addr}/");
        let _ = writeln!(std::io::stdout(), "DocuVault is serving at http://{addr}/");
    }
    let shutdown = running.shutdown_token();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        shutdown.cancel();
    });
    running.wait().await;
    Ok(())
}

async fn replay(settings: &Settings, name: &str) -> anyhow::Result<()> {
    let master = docuvault::master_key::load(settings, false)?;
    let ddl = docuvault::database::ddl_pool(&settings.database_migrate_url).await?;
    docuvault::master_key::verify(&ddl, &master).await?;
    let model = system::read_model(crypto::KeyRing::new(ddl.clone(), master), name)?;
    let report = projections::replay::replay(&ddl, model.as_ref(), settings.replay_chunk).await?;
    let _ = writeln!(
        std::io::stdout(),
        "rebuilt {name}: {} events in {:.2?} ({:.0} events/s), {} parked",
        report.events_read,
        report.elapsed,
        report.events_per_second(),
        report.events_parked
    );
    Ok(())
}

fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    std::env::var("DOCUVAULT_ADMIN_PASSWORD").map_err(|_| {
        anyhow::anyhow!("give the password with --password-stdin or DOCUVAULT_ADMIN_PASSWORD")
    })
}

async fn wait_for_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,async_nats=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}
