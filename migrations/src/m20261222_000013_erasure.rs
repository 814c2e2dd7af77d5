//! Erasure and retention.
//!
//! A data key per case, per decision chain and per concern draft, so that erasing one is
//! destroying its key. `data_keys.key_enc` holds the key sealed by the installation's
//! wrapping key (the key file, outside the database); an erased key keeps its row, with no
//! key and the moment it was erased. `erasure_runs` claims each day's erasure run, so that
//! one instance at a time erases and re-wraps. `outbox.about_id` names the data key a
//! message is sealed with, so that erasing a case also finds its mail's copies on disk.
//!
//! Retention: each organization keeps a resolved or closed case's text for
//! `retention_days` (365 unless changed; 30 at least). A case says until when it is kept
//! (`retain_until`, set when it is resolved or closed), whether the 72-hour warning went
//! out, whether it was extended (once, with a reason sealed under the case's key), and
//! when its text was erased (what remains is its tombstone).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DataKeys {
    Table,
    Id,
    KeyEnc,
    CreatedAt,
    ErasedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    AboutId,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    RetentionDays,
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    RetainUntil,
    RetentionWarnedAt,
    RetentionExtendedAt,
    RetentionReasonEnc,
    ErasedAt,
}

#[derive(DeriveIden)]
enum ErasureRuns {
    Table,
    Day,
    StartedAt,
    FinishedAt,
    Erased,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(DataKeys::Table)
                .col(uuid(DataKeys::Id).primary_key())
                .col(text_null(DataKeys::KeyEnc))
                .col(timestamp_with_time_zone(DataKeys::CreatedAt))
                .col(timestamp_with_time_zone_null(DataKeys::ErasedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ErasureRuns::Table)
                .col(string_len(ErasureRuns::Day, 10).primary_key())
                .col(timestamp_with_time_zone(ErasureRuns::StartedAt))
                .col(timestamp_with_time_zone_null(ErasureRuns::FinishedAt))
                .col(big_integer(ErasureRuns::Erased).default(0))
                .to_owned(),
        )
        .await?;
        m.alter_table(Table::alter().table(Outbox::Table).add_column(uuid_null(Outbox::AboutId)).to_owned()).await?;
        m.alter_table(
            Table::alter()
                .table(Organizations::Table)
                .add_column(integer(Organizations::RetentionDays).default(365))
                .to_owned(),
        )
        .await?;
        // One column an ALTER: SQLite adds one at a time.
        for column in [Cases::RetainUntil, Cases::RetentionWarnedAt, Cases::RetentionExtendedAt, Cases::ErasedAt] {
            m.alter_table(
                Table::alter().table(Cases::Table).add_column(timestamp_with_time_zone_null(column)).to_owned(),
            )
            .await?;
        }
        m.alter_table(Table::alter().table(Cases::Table).add_column(text_null(Cases::RetentionReasonEnc)).to_owned())
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Cases::RetainUntil,
            Cases::RetentionWarnedAt,
            Cases::RetentionExtendedAt,
            Cases::ErasedAt,
            Cases::RetentionReasonEnc,
        ] {
            m.alter_table(Table::alter().table(Cases::Table).drop_column(column).to_owned()).await?;
        }
        m.alter_table(Table::alter().table(Organizations::Table).drop_column(Organizations::RetentionDays).to_owned())
            .await?;
        m.alter_table(Table::alter().table(Outbox::Table).drop_column(Outbox::AboutId).to_owned()).await?;
        m.drop_table(Table::drop().table(ErasureRuns::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(DataKeys::Table).to_owned()).await
    }
}
