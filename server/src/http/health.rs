//! Liveness, readiness and metrics.

use super::AppState;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use haven_migrations::{Migrator, MigratorTrait};

/// The process is up.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// The database answers and every migration has been applied.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let db = &state.services.store.db;
    if db.ping().await.is_err() {
        return (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n");
    }
    match Migrator::get_pending_migrations(db).await {
        Ok(pending) if pending.is_empty() => (StatusCode::OK, "ready\n"),
        Ok(_) => (StatusCode::SERVICE_UNAVAILABLE, "migrations pending\n"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "migration state unreadable\n"),
    }
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let (size, idle) = crate::db::pool_stats(&state.services.store.db);
    let body = state.metrics.render(size, idle, state.settings.database.max_connections);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
