//! Liveness, readiness and metrics (OPS-3).

use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;
use std::fmt::Write;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/health", tag = "ops", responses((status = 200, body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    pub postgres: &'static str,
    pub nats: &'static str,
    /// The object store (local directory or S3 bucket).
    pub storage: &'static str,
}

/// Postgres, NATS and the object store answer.
#[utoipa::path(get, path = "/ready", tag = "ops", responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let postgres = match sqlx::query("select 1").execute(&state.pool).await {
        Ok(_) => "ok",
        Err(_) => "down",
    };
    let nats =
        match tokio::time::timeout(std::time::Duration::from_secs(2), state.nats.flush()).await {
            Ok(Ok(())) => "ok",
            _ => "down",
        };
    let objects = state.documents.objects();
    let storage = match tokio::time::timeout(std::time::Duration::from_secs(2), objects.check())
        .await
    {
        Ok(Ok(())) => "ok",
        Ok(Err(error)) => {
            tracing::warn!(backend = objects.backend(), %error, "the object store is not ready");
            "down"
        }
        Err(_) => "down",
    };
    let status = if [postgres, nats, storage].iter().all(|part| *part == "ok") {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Readiness {
            postgres,
            nats,
            storage,
        }),
    )
}

/// Prometheus metrics: the relay's and each projection's lag, parked events.
#[utoipa::path(get, path = "/metrics", tag = "ops", responses((status = 200, content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    match render_metrics(&state).await {
        Ok(text) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response(),
        Err(error) => crate::ApiError::Unavailable(error.to_string()).into_response(),
    }
}

async fn render_metrics(state: &AppState) -> Result<String, sqlx::Error> {
    let now = state.clock.now();
    let age = |oldest: Option<chrono::DateTime<chrono::Utc>>| {
        oldest
            .map(|at| (now - at).num_milliseconds().max(0) as f64 / 1000.0)
            .unwrap_or(0.0)
    };
    let mut out = String::new();
    let relay_at = workers::relay::checkpoint(&state.pool).await?;
    let (relay_backlog, relay_oldest) = eventlog::log::backlog_after(&state.pool, relay_at).await?;
    let relay_parked: i64 = sqlx::query_scalar("select count(*) from relay_parked")
        .fetch_one(&state.pool)
        .await?;
    let _ = writeln!(
        out,
        "# HELP docuvault_relay_lag_events Committed events the relay has not published yet."
    );
    let _ = writeln!(
        out,
        "# TYPE docuvault_relay_lag_events gauge\ndocuvault_relay_lag_events {relay_backlog}"
    );
    let _ = writeln!(
        out,
        "# HELP docuvault_relay_lag_seconds Age of the oldest event the relay has not published."
    );
    let _ = writeln!(
        out,
        "# TYPE docuvault_relay_lag_seconds gauge\ndocuvault_relay_lag_seconds {}",
        age(relay_oldest)
    );
    let _ = writeln!(
        out,
        "# HELP docuvault_relay_parked_events Events too large to publish, parked by the relay."
    );
    let _ = writeln!(
        out,
        "# TYPE docuvault_relay_parked_events gauge\ndocuvault_relay_parked_events {relay_parked}"
    );
    let _ = writeln!(
        out,
        "# HELP docuvault_projection_lag_events Events of the model's type not applied yet."
    );
    let _ = writeln!(out, "# TYPE docuvault_projection_lag_events gauge");
    let mut lag_seconds = String::new();
    let mut parked = String::new();
    for model in &state.models {
        let schema = projections::model::live_schema(model.name());
        let progress = projections::state::read(&state.pool, &schema).await?;
        let (backlog, oldest): (i64, Option<chrono::DateTime<chrono::Utc>>) = sqlx::query_as(
            "select count(*), min(recorded_at) from events
              where aggregate_type = any($1) and (tx_id, position) > ($2::text::xid8, $3)",
        )
        .bind(model.aggregate_types())
        .bind(progress.token.tx_id.to_string())
        .bind(progress.token.position)
        .fetch_one(&state.pool)
        .await?;
        let name = model.name();
        let _ = writeln!(
            out,
            "docuvault_projection_lag_events{{projection=\"{name}\"}} {backlog}"
        );
        let _ = writeln!(
            lag_seconds,
            "docuvault_projection_lag_seconds{{projection=\"{name}\"}} {}",
            age(oldest)
        );
        let dead = projections::dead_letter::count(&state.pool, name).await?;
        let _ = writeln!(
            parked,
            "docuvault_projection_dead_letters{{projection=\"{name}\"}} {dead}"
        );
    }
    let _ = writeln!(out, "# HELP docuvault_projection_lag_seconds Age of the oldest event the model has not applied.");
    let _ = writeln!(
        out,
        "# TYPE docuvault_projection_lag_seconds gauge\n{}",
        lag_seconds.trim_end()
    );
    let _ = writeln!(
        out,
        "# HELP docuvault_projection_dead_letters Events parked by the model's builder."
    );
    let _ = writeln!(
        out,
        "# TYPE docuvault_projection_dead_letters gauge\n{}",
        parked.trim_end()
    );
    Ok(out)
}
