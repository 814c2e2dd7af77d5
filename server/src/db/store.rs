//! Write transactions. SQLite admits one writer at a time, and a transaction that reads
//! before it writes can fail when another writer commits in between. So on SQLite every
//! write transaction begins `IMMEDIATE` (it takes the write lock at once, waiting up to the
//! busy timeout, so it never has to upgrade later), and the writers of this process queue
//! on one async lock first rather than spin on SQLite's. PostgreSQL needs neither: appends
//! to the audit chain lock its head row instead.

use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};
use std::ops::Deref;
use std::sync::Arc;
use tokio::sync::{Mutex, OwnedMutexGuard};

#[derive(Clone)]
pub struct Store {
    pub db: DatabaseConnection,
    writer: Option<Arc<Mutex<()>>>,
}

impl Store {
    pub fn new(db: DatabaseConnection) -> Store {
        let writer = (db.get_database_backend() == DbBackend::Sqlite).then(|| Arc::new(Mutex::new(())));
        Store { db, writer }
    }

    /// SQLite only: copies committed pages from the write-ahead log into the database
    /// a few times a second, off the path of any request, so that commits (scans
    /// above all) do not stop to do it themselves and the log stays small.
    pub async fn checkpoint_in_background(self) {
        if self.writer.is_none() {
            return;
        }
        use sea_orm::ConnectionTrait;
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            if let Err(e) = self.db.execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)").await {
                tracing::warn!(error = %e, "checkpointing the write-ahead log failed");
            }
        }
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// Begins a transaction that will write.
    pub async fn write(&self) -> Result<WriteTx, DbErr> {
        let guard = match &self.writer {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        let tx = if guard.is_some() {
            self.db
                .begin_with_options(TransactionOptions {
                    sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                    ..TransactionOptions::default()
                })
                .await?
        } else {
            self.db.begin().await?
        };
        Ok(WriteTx { tx, _guard: guard })
    }
}

/// A write transaction; dropped without [`WriteTx::commit`] it rolls back.
pub struct WriteTx {
    tx: DatabaseTransaction,
    _guard: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub async fn commit(self) -> Result<(), DbErr> {
        self.tx.commit().await
    }
}

impl Deref for WriteTx {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        &self.tx
    }
}
