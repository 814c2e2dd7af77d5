//! The database: connecting (SQLite or PostgreSQL, chosen by URL), the entities, and
//! connection-pool figures for `/metrics`.

pub mod entities;
pub mod signals;
pub mod store;

pub use store::{Store, WriteTx};

use crate::config::{DatabaseKind, DatabaseSettings};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend, DbErr};
use std::time::Duration;

pub use sea_orm::DatabaseConnection as Db;

/// Why the database could not be opened, in one line a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot create the data directory {path}: {reason}")]
    DataDir { path: String, reason: String },
    #[error("cannot open the SQLite database {path}: {reason}")]
    Sqlite { path: String, reason: String },
    #[error("cannot connect to PostgreSQL at {target}: {reason}")]
    Postgres { target: String, reason: String },
}

/// Opens a pool. SQLite files (and their directory) are created if missing and opened in
/// WAL mode with foreign keys on and a busy timeout; PostgreSQL must be reachable.
pub async fn connect(settings: &DatabaseSettings) -> Result<DatabaseConnection, ConnectError> {
    let mut options = ConnectOptions::new(settings.url.expose().clone());
    options
        .max_connections(settings.max_connections)
        .min_connections(1)
        .connect_timeout(settings.connect_timeout)
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    match &settings.kind {
        DatabaseKind::Sqlite { path } => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| ConnectError::DataDir { path: dir.display().to_string(), reason: io_reason(&e) })?;
            }
            options.map_sqlx_sqlite_opts(|o| {
                use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
                o.create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    // FULL: a commit is on disk before it is acknowledged, even across a
                    // power cut (NORMAL in WAL mode may lose the last commits then).
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(5))
                    // Pages read through a memory map and a larger page cache: a busy door
                    // touches index pages all over a large scans table.
                    .pragma("mmap_size", "268435456")
                    .pragma("cache_size", "-32768")
            });
            let db = Database::connect(options)
                .await
                .map_err(|e| ConnectError::Sqlite { path: path.display().to_string(), reason: db_reason(&e) })?;
            // Opening is lazy about writing: prove now that the file takes writes, so a
            // read-only directory fails at start rather than on the first report.
            use sea_orm::ConnectionTrait;
            db.execute_unprepared(
                "CREATE TABLE IF NOT EXISTS haven_write_check (x INTEGER); DROP TABLE haven_write_check;",
            )
            .await
            .map_err(|e| ConnectError::Sqlite { path: path.display().to_string(), reason: db_reason(&e) })?;
            Ok(db)
        }
        DatabaseKind::Postgres { target } => Database::connect(options)
            .await
            .map_err(|e| ConnectError::Postgres { target: target.clone(), reason: db_reason(&e) }),
    }
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::ReadOnlyFilesystem => "read-only file system".into(),
        _ => e.to_string(),
    }
}

/// The innermost cause of a database error on one line, without any URL.
fn db_reason(e: &DbErr) -> String {
    let mut source: &dyn std::error::Error = e;
    while let Some(inner) = source.source() {
        source = inner;
    }
    let text = source.to_string();
    let line = text.lines().next().unwrap_or("unknown error").trim();
    if line.contains("readonly") || line.contains("read-only") || line.contains("unable to open database file") {
        format!("{line} (is the directory writable?)")
    } else {
        line.to_owned()
    }
}

/// Pool size and idle connections, for `/metrics`.
pub fn pool_stats(db: &DatabaseConnection) -> (u32, usize) {
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => (0, 0),
    }
}

/// A random value made once per installation and kept in the database, so every
/// instance shares it (created on first use).
pub async fn server_secret(store: &Store, name: &str) -> Result<String, DbErr> {
    use entities::server_secret;
    use sea_orm::{ActiveValue::Set, EntityTrait};
    if let Some(s) = server_secret::Entity::find_by_id(name.to_owned()).one(&store.db).await? {
        return Ok(s.value);
    }
    let tx = store.write().await?;
    let value = crate::crypto::random_token();
    let inserted =
        server_secret::Entity::insert(server_secret::ActiveModel { name: Set(name.to_owned()), value: Set(value) })
            .on_conflict_do_nothing_on([server_secret::Column::Name])
            .exec(&*tx)
            .await;
    inserted?;
    tx.commit().await?;
    // Another instance may have won the race: read what was kept.
    server_secret::Entity::find_by_id(name.to_owned())
        .one(&store.db)
        .await?
        .map(|s| s.value)
        .ok_or_else(|| DbErr::Custom("a server secret vanished".into()))
}
