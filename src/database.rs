//! Creating the database, migrating it as the DDL role, and the runtime role (EV-2).

use anyhow::{bail, Context};
use projections::ReadModel;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};
use std::str::FromStr;
use std::sync::Arc;

pub const RUNTIME_GROUP: &str = projections::replay::RUNTIME_ROLE;

pub fn options(url: &str, what: &str) -> anyhow::Result<PgConnectOptions> {
    PgConnectOptions::from_str(url)
        .with_context(|| format!("{what} is not a valid postgres:// URL"))
        .map(|options| options.log_statements(tracing::log::LevelFilter::Trace))
}

/// Creates the database named in `migrate_url` if it does not exist.
pub async fn ensure_database(migrate_url: &str) -> anyhow::Result<()> {
    let target = options(migrate_url, "DATABASE_MIGRATE_URL")?;
    let name = target.get_database().unwrap_or("postgres").to_owned();
    let server = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(target.clone().database("postgres"))
        .await
        .context("cannot reach Postgres with DATABASE_MIGRATE_URL")?;
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
            .bind(&name)
            .fetch_one(&server)
            .await?;
    if !exists {
        tracing::info!(database = %name, "creating database");
        sqlx::query(&format!("create database {}", quote_identifier(&name)?))
            .execute(&server)
            .await?;
    }
    server.close().await;
    Ok(())
}

/// Applies the SQL migrations, lets the runtime user in through the runtime group, and
/// creates (or rebuilds) every read model's schema.
pub async fn migrate(
    migrate_url: &str,
    runtime_url: &str,
    models: &[Arc<dyn ReadModel>],
    replay_chunk: i64,
) -> anyhow::Result<()> {
    let ddl = ddl_pool(migrate_url).await?;
    sqlx::migrate!("./migrations")
        .run(&ddl)
        .await
        .context("applying migrations")?;
    let runtime_user = options(runtime_url, "DATABASE_URL")?
        .get_username()
        .to_owned();
    let ddl_user: String = sqlx::query_scalar("select current_user::text")
        .fetch_one(&ddl)
        .await?;
    if runtime_user != ddl_user {
        grant_runtime_role(&ddl, &runtime_user).await?;
    } else {
        tracing::warn!("DATABASE_URL and DATABASE_MIGRATE_URL use the same role: the runtime is not restricted");
    }
    for model in models {
        projections::replay::install(&ddl, model.as_ref(), replay_chunk)
            .await
            .with_context(|| format!("installing read model {}", model.name()))?;
    }
    ddl.close().await;
    Ok(())
}

async fn grant_runtime_role(ddl: &PgPool, user: &str) -> anyhow::Result<()> {
    let user = quote_identifier(user)?;
    // Provisioned roles (docker-compose) already exist; locally the migrating role may
    // create it. A role created by a parallel migration is fine.
    sqlx::raw_sql(&format!(
        "do $$ begin
           if not exists (select 1 from pg_roles where rolname = {literal}) then
             create role {user} login;
           end if;
         exception when duplicate_object or unique_violation then null;
         end $$;
         grant {RUNTIME_GROUP} to {user};",
        literal = quote_literal(user.trim_matches('"')),
    ))
    .execute(ddl)
    .await
    .context("letting the runtime role in (does the migrating role have CREATEROLE?)")?;
    Ok(())
}

pub async fn ddl_pool(migrate_url: &str) -> anyhow::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(4)
        .connect_with(options(migrate_url, "DATABASE_MIGRATE_URL")?)
        .await
        .context("cannot connect with DATABASE_MIGRATE_URL")
}

pub async fn runtime_pool(runtime_url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .after_connect(|connection, _| {
            Box::pin(async move {
                // A forgotten open transaction would stall the relay for everyone.
                sqlx::query("set idle_in_transaction_session_timeout = '60s'")
                    .execute(connection)
                    .await?;
                Ok(())
            })
        })
        .connect_with(options(runtime_url, "DATABASE_URL")?)
        .await
        .context("cannot connect with DATABASE_URL (has `docuvault migrate` run?)")
}

/// Role and database names are interpolated into DDL, so only plain names are accepted.
fn quote_identifier(name: &str) -> anyhow::Result<String> {
    if name.is_empty()
        || name.len() > 63
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        bail!("{name:?} is not a plain identifier (letters, digits, underscore)");
    }
    Ok(format!("\"{name}\""))
}

fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}
