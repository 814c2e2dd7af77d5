//! Telling other instances that something changed. The changes themselves are rows
//! (`door_changes`, `outbox`) that every instance polls; on PostgreSQL a write also sends a
//! `NOTIFY` (delivered when its transaction commits) and every instance `LISTEN`s, so the
//! others look at once instead of at their next poll. On SQLite the polls serve alone.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

/// Door-relevant data changed (a ban, a device, a badge key, an instruction).
pub const DOOR: &str = "haven_door";
/// Mail was queued.
pub const MAIL: &str = "haven_mail";

/// Signals `channel` to every instance when `tx` commits (PostgreSQL only).
pub async fn signal(tx: &sea_orm::DatabaseTransaction, channel: &'static str) -> Result<(), DbErr> {
    if tx.get_database_backend() == DbBackend::Postgres {
        tx.execute_unprepared(&format!("NOTIFY {channel}")).await?;
    }
    Ok(())
}

/// Who is woken by a signal, and whether signals are being heard right now (then polls
/// may be rare).
#[derive(Default)]
pub struct Listeners {
    pub door: Arc<Notify>,
    pub mail: Arc<Notify>,
    pub listening: AtomicBool,
}

impl Listeners {
    /// How long to wait between polls for changes made elsewhere: long while notifications
    /// arrive, short while they do not (SQLite, or a lost listening connection).
    pub fn poll_every(&self) -> Duration {
        if self.listening.load(Ordering::SeqCst) { Duration::from_secs(5) } else { Duration::from_millis(500) }
    }

    /// Listens on PostgreSQL until the process ends, reconnecting after a failure; returns
    /// at once on SQLite.
    pub async fn run(&self, db: &DatabaseConnection) {
        if db.get_database_backend() != DbBackend::Postgres {
            return;
        }
        loop {
            if let Err(e) = self.listen(db).await {
                tracing::warn!(error = %e, "listening for other instances' changes failed; polling meanwhile");
            }
            self.listening.store(false, Ordering::SeqCst);
            // Whatever was said while not listening is found by the polls.
            self.door.notify_one();
            self.mail.notify_one();
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    async fn listen(&self, db: &DatabaseConnection) -> Result<(), sea_orm::sqlx::Error> {
        let pool = db.get_postgres_connection_pool();
        let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(pool).await?;
        listener.listen_all([DOOR, MAIL]).await?;
        self.listening.store(true, Ordering::SeqCst);
        // Changes made before the LISTEN took hold are found by one look now.
        self.door.notify_one();
        self.mail.notify_one();
        loop {
            let note = listener.recv().await?;
            match note.channel() {
                DOOR => self.door.notify_one(),
                MAIL => self.mail.notify_one(),
                _ => {}
            }
        }
    }
}
