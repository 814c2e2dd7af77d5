//! A shielded reporter: when filing, a reporter may ask that only the case's owner knows
//! who they are. The case keeps that wish and the code name other responders see
//! (`reporter_code`, e.g. "Reporter K7"); `reporter_reveals` records each responder who
//! came to know (by a written reason, sealed with the case's key, or by becoming its
//! owner), which the reporter sees on their page.

use sea_orm_migration::{prelude::*, schema::*};

use super::m20261125_000001_base::People;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
    ReporterShielded,
    ReporterCode,
}

#[derive(DeriveIden)]
enum ReporterReveals {
    Table,
    Id,
    CaseId,
    PersonId,
    ReasonEnc,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter().table(Cases::Table).add_column(boolean(Cases::ReporterShielded).default(false)).to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter().table(Cases::Table).add_column(string_len_null(Cases::ReporterCode, 16)).to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ReporterReveals::Table)
                .col(uuid(ReporterReveals::Id).primary_key())
                .col(uuid(ReporterReveals::CaseId))
                .col(uuid(ReporterReveals::PersonId))
                .col(text(ReporterReveals::ReasonEnc))
                .col(timestamp_with_time_zone(ReporterReveals::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(ReporterReveals::Table, ReporterReveals::CaseId)
                        .to(Cases::Table, Cases::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ReporterReveals::Table, ReporterReveals::PersonId)
                        .to(People::Table, People::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("reporter_reveals_case_person")
                .table(ReporterReveals::Table)
                .col(ReporterReveals::CaseId)
                .col(ReporterReveals::PersonId)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ReporterReveals::Table).to_owned()).await?;
        for column in [Cases::ReporterCode, Cases::ReporterShielded] {
            m.alter_table(Table::alter().table(Cases::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
