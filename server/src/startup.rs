//! Building and running the server: connect, migrate, bind, serve until told to stop,
//! with the background workers (mail outbox, sign-in dispatcher) alongside.

use crate::clock::SharedClock;
use crate::config::Settings;
use crate::db::{self, ConnectError, Store};
use crate::http::{self, AppState};
use crate::mail::{Mailer, OutboxWorker};
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
    #[error("cannot prepare the database: {0}")]
    Prepare(String),
    #[error("cannot listen on {addr}: {reason}")]
    Bind { addr: SocketAddr, reason: String },
    #[error("{0}")]
    Mail(String),
    #[error("cannot load the encryption keys: {0}")]
    Keys(String),
}

/// A server bound to its address, ready to run.
pub struct Server {
    listener: TcpListener,
    /// `HAVEN_METRICS_ADDR`'s listener, serving only `/metrics`.
    metrics_listener: Option<TcpListener>,
    router: axum::Router,
    mailer: Arc<Mailer>,
    pub state: AppState,
}

/// Aborts a background task when dropped, so workers end with their server.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Server {
    pub fn addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// Where `/metrics` has its own listener (`HAVEN_METRICS_ADDR`), if anywhere.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.state.services.store.db
    }

    pub fn services(&self) -> Arc<Services> {
        self.state.services.clone()
    }

    /// Serves until `shutdown` resolves, then finishes the requests under way. The
    /// background workers run for exactly as long.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let services = self.state.services.clone();
        let (listeners, listening_db) = (services.signals.clone(), services.store.db.clone());
        let mut workers = vec![
            AbortOnDrop(
                OutboxWorker {
                    store: services.store.clone(),
                    mailer: self.mailer.clone(),
                    clock: services.clock.clone(),
                    wake: services.mail_wake.clone(),
                    keys: services.keys.clone(),
                }
                .spawn(),
            ),
            AbortOnDrop(crate::jobs::spawn(services.clone())),
            AbortOnDrop(crate::jobs::arrival_alerts(services.clone())),
            AbortOnDrop(tokio::spawn({
                let store = services.store.clone();
                async move { store.checkpoint_in_background().await }
            })),
            AbortOnDrop(tokio::spawn(async move {
                // Today's doors are loaded before /readyz says ready, retried until they are.
                while let Err(e) = services.warm_doors().await {
                    tracing::error!(error = ?e, "loading today's door pictures failed; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
                // Door pictures follow changes made by other instances (and operator
                // commands): at once when PostgreSQL tells, else within half a second.
                let signals = services.signals.clone();
                loop {
                    if let Err(e) = services.watch_door_changes().await {
                        tracing::error!(error = %e, "watching door changes failed");
                    }
                    let _ = tokio::time::timeout(signals.poll_every(), signals.door.notified()).await;
                }
            })),
            AbortOnDrop(tokio::spawn(async move { listeners.run(&listening_db).await })),
        ];
        if let Some(listener) = self.metrics_listener {
            let router = http::metrics_router(self.state.clone());
            workers.push(AbortOnDrop(tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, router).await {
                    tracing::error!(error = %e, "the metrics listener stopped");
                }
            })));
        }
        let _workers = workers;
        axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// Opens the database and applies pending migrations.
pub async fn open_database(settings: &Settings, migrate: bool) -> Result<DatabaseConnection, StartError> {
    let db = db::connect(&settings.database).await?;
    if migrate {
        Migrator::up(&db, None).await.map_err(|e| StartError::Migrate(first_line(&e.to_string())))?;
    }
    Ok(db)
}

/// The services over an open database, for commands that do not serve HTTP.
pub async fn services(
    settings: Settings,
    db: DatabaseConnection,
    clock: SharedClock,
    public_url: String,
) -> Result<Arc<Services>, StartError> {
    let keys = Arc::new(crate::crypto::fields::KeyStore::load(&settings.encryption).map_err(StartError::Keys)?);
    let store = Store::new(db);
    let secret =
        db::server_secret(&store, "client_key").await.map_err(|e| StartError::Prepare(first_line(&e.to_string())))?;
    // Data from before data keys and retention is brought along once the schema has them
    // (a server told not to migrate may run on an older schema: it is not ready then).
    let current = Migrator::get_pending_migrations(&store.db).await.is_ok_and(|pending| pending.is_empty());
    if current {
        let prepare = |e: sea_orm::DbErr| StartError::Prepare(first_line(&e.to_string()));
        crate::crypto::data_keys::adopt_legacy(&keys, &store.db, clock.now()).await.map_err(prepare)?;
        crate::services::retention::backfill(&store.db).await.map_err(prepare)?;
    }
    Ok(Services::new(store, clock, Arc::new(settings), public_url, secret, keys))
}

/// Connects, migrates (unless the settings say not to) and binds; `settings.addr` with
/// port 0 picks a free port, which [`Server::addr`] tells.
pub async fn build(settings: Settings, clock: SharedClock) -> Result<Server, StartError> {
    // Before anything is changed. A missing file is created later, readable by its owner.
    if let crate::config::EncryptionSettings::File(path) = &settings.encryption
        && path.exists()
    {
        crate::crypto::fields::check_private(path).map_err(StartError::Keys)?;
    }
    let mailer = Arc::new(Mailer::from_settings(&settings).map_err(StartError::Mail)?);
    let db = open_database(&settings, settings.migrate_on_start).await?;
    let listener = TcpListener::bind(settings.addr)
        .await
        .map_err(|e| StartError::Bind { addr: settings.addr, reason: first_line(&e.to_string()) })?;
    let addr = listener.local_addr().map_err(|e| StartError::Bind { addr: settings.addr, reason: e.to_string() })?;
    let metrics_listener = match settings.metrics_addr {
        Some(at) => Some(
            TcpListener::bind(at)
                .await
                .map_err(|e| StartError::Bind { addr: at, reason: first_line(&e.to_string()) })?,
        ),
        None => None,
    };
    let assets = http::assets::Assets::load(&settings.site_root);
    if assets.hash_file.is_none() && !settings.site_root.join("pkg").join("haven.js").exists() {
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
        // Leptos reads the hashed names when it writes a page's scripts and stylesheet.
        .hash_files(assets.hash_file.is_some())
        .hash_file(assets.hash_file.as_ref().map(|p| p.display().to_string()).unwrap_or_default().into())
        .build();
    let public_url = settings.public_url_for(addr);
    let services = services(settings, db, clock, public_url).await?;
    let state = AppState {
        backend: services.clone(),
        settings: services.settings.clone(),
        services,
        leptos,
        metrics: Arc::new(Metrics::default()),
        assets: Arc::new(assets),
    };
    let router = http::router(state.clone());
    Ok(Server { listener, metrics_listener, router, mailer, state })
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_owned()
}
