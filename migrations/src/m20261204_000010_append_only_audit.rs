//! The audit log, scans and decisions are records, not state: the database itself refuses
//! to change or remove an audit record and to remove a scan or a decision (key rotation
//! still re-seals their sealed columns, which is an `UPDATE`). And the head of the audit
//! chain is mailed to the installation's operators once a day (`audit_checkpoints` claims
//! each day, so several instances send it once), so that a chain cut back or rewritten
//! inside the database no longer matches what they keep elsewhere.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditCheckpoints {
    Table,
    Day,
    Seq,
    Hash,
    TakenAt,
}

/// (trigger, table, operation, why): each refuses one operation on one table.
const GUARDS: &[(&str, &str, &str, &str)] = &[
    ("audit_log_no_update", "audit_log", "UPDATE", "audit records are append-only: they are never changed"),
    ("audit_log_no_delete", "audit_log", "DELETE", "audit records are append-only: they are never deleted"),
    ("scans_no_delete", "scans", "DELETE", "scans are never deleted"),
    ("decisions_no_delete", "decisions", "DELETE", "decisions are never deleted"),
];

/// PostgreSQL's `TRUNCATE` skips row triggers: these refuse it on the same tables.
const TRUNCATE_GUARDS: &[(&str, &str, &str)] = &[
    ("audit_log_no_truncate", "audit_log", "audit records are append-only: they are never deleted"),
    ("scans_no_truncate", "scans", "scans are never deleted"),
    ("decisions_no_truncate", "decisions", "decisions are never deleted"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AuditCheckpoints::Table)
                .col(string_len(AuditCheckpoints::Day, 10).primary_key())
                .col(big_integer(AuditCheckpoints::Seq))
                .col(string_len(AuditCheckpoints::Hash, 64))
                .col(timestamp_with_time_zone(AuditCheckpoints::TakenAt))
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        match m.get_database_backend() {
            sea_orm::DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE FUNCTION haven_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$",
                )
                .await?;
                for (name, table, operation, why) in GUARDS {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {name} BEFORE {operation} ON {table} \
                         FOR EACH ROW EXECUTE FUNCTION haven_refuse('{why}')"
                    ))
                    .await?;
                }
                for (name, table, why) in TRUNCATE_GUARDS {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {name} BEFORE TRUNCATE ON {table} \
                         FOR EACH STATEMENT EXECUTE FUNCTION haven_refuse('{why}')"
                    ))
                    .await?;
                }
            }
            _ => {
                for (name, table, operation, why) in GUARDS {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {name} BEFORE {operation} ON {table} \
                         BEGIN SELECT RAISE(ABORT, '{why}'); END"
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        match m.get_database_backend() {
            sea_orm::DbBackend::Postgres => {
                for (name, table, _, _) in GUARDS {
                    db.execute_unprepared(&format!("DROP TRIGGER {name} ON {table}")).await?;
                }
                for (name, table, _) in TRUNCATE_GUARDS {
                    db.execute_unprepared(&format!("DROP TRIGGER {name} ON {table}")).await?;
                }
                db.execute_unprepared("DROP FUNCTION haven_refuse()").await?;
            }
            _ => {
                for (name, _, _, _) in GUARDS {
                    db.execute_unprepared(&format!("DROP TRIGGER {name}")).await?;
                }
            }
        }
        m.drop_table(Table::drop().table(AuditCheckpoints::Table).to_owned()).await
    }
}
