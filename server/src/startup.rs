//! Building and running the server: connect, migrate, bind, serve until told to stop.

use crate::clock::SharedClock;
use crate::config::Settings;
use crate::db::{self, ConnectError};
use crate::http::{self, AppState};
use crate::services::Services;
use crate::telemetry::Metrics;
use haven_migrations::{Migrator, MigratorTrait};
use leptos::config::LeptosOptions;
use sea_orm::DatabaseConnection;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Why the server could not start, in one line.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Database(#[from] ConnectError),
    #[error("cannot apply migrations: {0}")]
    Migrate(String),
    #[error("cannot listen on {addr}: {reason}")]
    Bind { addr: SocketAddr, reason: String },
}

/// A server bound to its address, ready to run.
pub struct Server {
    listener: TcpListener,
    router: axum::Router,
    pub state: AppState,
}

impl Server {
    pub fn addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.state.services.db
    }

    /// Serves until `shutdown` resolves, then finishes the requests under way.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// Opens the database and applies pending migrations.
pub async fn open_database(
    settings: &Settings,
    migrate: bool,
) -> Result<DatabaseConnection, StartError> {
    let db = db::connect(&settings.database).await?;
    if migrate {
        Migrator::up(&db, None)
            .await
            .map_err(|e| StartError::Migrate(first_line(&e.to_string())))?;
    }
    Ok(db)
}

/// Connects, migrates (unless the settings say not to) and binds; `settings.addr` with
/// port 0 picks a free port, which [`Server::addr`] tells.
pub async fn build(settings: Settings, clock: SharedClock) -> Result<Server, StartError> {
    let db = open_database(&settings, settings.migrate_on_start).await?;
    let listener = TcpListener::bind(settings.addr)
        .await
        .map_err(|e| StartError::Bind {
            addr: settings.addr,
            reason: first_line(&e.to_string()),
        })?;
    let addr = listener.local_addr().map_err(|e| StartError::Bind {
        addr: settings.addr,
        reason: e.to_string(),
    })?;
    if !settings.site_root.join("pkg").join("haven.js").exists() {
        tracing::warn!(
            site_root = %settings.site_root.display(),
            "the built site is missing: pages will render but not hydrate (run `cargo leptos build`)"
        );
    }
    let leptos = LeptosOptions::builder()
        .output_name("haven")
        .site_root(settings.site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();
    let services = Services::new(db, clock);
    let state = AppState {
        backend: services.clone(),
        services,
        leptos,
        metrics: Arc::new(Metrics::default()),
        settings: Arc::new(settings),
    };
    let router = http::router(state.clone());
    Ok(Server {
        listener,
        router,
        state,
    })
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_owned()
}
