//! The schema migrates up, all the way down, and up again, on SQLite and PostgreSQL.

use haven_migrations::{Migrator, MigratorTrait};
use haven_tests::backends;
use haven_tests::server::TestDatabase;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

async fn tables(db: &sea_orm::DatabaseConnection) -> Vec<String> {
    let sql = match db.get_database_backend() {
        DbBackend::Sqlite => {
            "SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1"
        }
        _ => "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    };
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.try_get::<String>("", "t").unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn migrations_run_up_down_and_up_again_on_every_database() {
    for backend in backends() {
        let database = TestDatabase::create(&backend).await;
        let db = Database::connect(database.url.as_str()).await.unwrap();

        Migrator::up(&db, None).await.unwrap();
        let after_up = tables(&db).await;
        for t in ["organizations", "events", "people", "registrations"] {
            assert!(after_up.contains(&t.to_owned()), "{backend}: {t} missing from {after_up:?}");
        }

        Migrator::down(&db, None).await.unwrap();
        let after_down = tables(&db).await;
        assert_eq!(after_down, vec!["seaql_migrations".to_owned()], "{backend}");

        Migrator::up(&db, None).await.unwrap();
        assert_eq!(tables(&db).await, after_up, "{backend}");
        assert!(Migrator::get_pending_migrations(&db).await.unwrap().is_empty());
        db.close().await.unwrap();
    }
}
