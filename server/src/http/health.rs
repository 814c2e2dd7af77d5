//! Liveness, readiness and metrics.

use super::AppState;
use crate::config::Settings;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use haven_migrations::{Migrator, MigratorTrait};
use sha2::{Digest, Sha256};

/// The process is up.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// The database answers, every migration has been applied, and the door pictures of
/// today's events are loaded (so a load balancer sends scans only to a warm instance).
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let db = &state.services.store.db;
    if db.ping().await.is_err() {
        return (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n");
    }
    match Migrator::get_pending_migrations(db).await {
        Ok(pending) if pending.is_empty() => {
            if state.services.door.warm.load(std::sync::atomic::Ordering::SeqCst) {
                (StatusCode::OK, "ready\n")
            } else {
                (StatusCode::SERVICE_UNAVAILABLE, "loading the doors\n")
            }
        }
        Ok(_) => (StatusCode::SERVICE_UNAVAILABLE, "migrations pending\n"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "migration state unreadable\n"),
    }
}

/// Whether a request may read the metrics: with `Authorization: Bearer <HAVEN_METRICS_TOKEN>`
/// only. Without a token configured nobody may (on the main address).
pub fn metrics_allowed(settings: &Settings, headers: &HeaderMap) -> bool {
    let Some(token) = &settings.metrics_token else {
        return false;
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    // Compared as digests, so the time taken says nothing about the token.
    given.is_some_and(|g| Sha256::digest(g.as_bytes()) == Sha256::digest(token.expose().as_bytes()))
}

/// The Prometheus text: request counts and latencies, and the database pool.
pub fn metrics(state: &AppState) -> Response {
    let (size, idle) = crate::db::pool_stats(&state.services.store.db);
    let body = state.metrics.render(size, idle, state.settings.database.max_connections);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// `/metrics` on the metrics address (`HAVEN_METRICS_ADDR`): open to whoever reaches that
/// address, unless a token is configured, which is then needed there too.
pub async fn metrics_on_their_own_address(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if state.settings.metrics_token.is_some() && !metrics_allowed(&state.settings, &headers) {
        return super::error::answer(&haven_app::api::AppError::NotFound, super::error::Format::Text);
    }
    metrics(&state)
}
