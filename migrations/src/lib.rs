//! Haven's schema, one migration per change, each with its `down`. Written with the
//! schema builder so the same migration runs identically on SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_base;
mod m20261125_000002_identity;
mod m20261126_000003_cases;
mod m20261126_000004_plans;
mod m20261126_000005_badges;
mod m20261126_000006_enforcement;
mod m20261202_000007_email_identities;
mod m20261202_000008_sealed_outbox;
mod m20261202_000009_coverage_appeals;
mod m20261204_000010_append_only_audit;
mod m20261210_000010_scans_by_name;
mod m20261212_000020_outbox_failed;
mod m20261215_000011_scans_late;
mod m20261221_000012_second_factor;
mod m20261222_000013_erasure;
mod m20261223_000014_shielded_reporter;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_base::Migration),
            Box::new(m20261125_000002_identity::Migration),
            Box::new(m20261126_000003_cases::Migration),
            Box::new(m20261126_000004_plans::Migration),
            Box::new(m20261126_000005_badges::Migration),
            Box::new(m20261126_000006_enforcement::Migration),
            Box::new(m20261202_000007_email_identities::Migration),
            Box::new(m20261202_000008_sealed_outbox::Migration),
            Box::new(m20261202_000009_coverage_appeals::Migration),
            Box::new(m20261210_000010_scans_by_name::Migration),
            Box::new(m20261212_000020_outbox_failed::Migration),
            Box::new(m20261215_000011_scans_late::Migration),
            Box::new(m20261204_000010_append_only_audit::Migration),
            Box::new(m20261221_000012_second_factor::Migration),
            Box::new(m20261222_000013_erasure::Migration),
            Box::new(m20261223_000014_shielded_reporter::Migration),
        ]
    }
}
