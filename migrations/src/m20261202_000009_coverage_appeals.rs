//! Someone a confirmed ban-evasion flag brought under a decision is told in writing and
//! may appeal it too: each such coverage gets its own appeal deadline and link, may be
//! lifted (the decision no longer covers them), and has at most one appeal of its own.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DecisionSubjects {
    Table,
    Id,
    AppealUntil,
    AppealTokenHash,
    RemovedAt,
}

#[derive(DeriveIden)]
enum CoverageAppeals {
    Table,
    Id,
    SubjectId,
    PersonId,
    TextEnc,
    FiledAt,
    Via,
    Outcome,
    ReasonsEnc,
    DecidedBy,
    DecidedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        for column in [
            timestamp_with_time_zone_null(DecisionSubjects::AppealUntil),
            string_len_null(DecisionSubjects::AppealTokenHash, 64),
            timestamp_with_time_zone_null(DecisionSubjects::RemovedAt),
        ] {
            let mut column = column;
            m.alter_table(Table::alter().table(DecisionSubjects::Table).add_column(&mut column).to_owned()).await?;
        }
        m.create_index(
            Index::create()
                .name("decision_subjects_appeal_token")
                .table(DecisionSubjects::Table)
                .col(DecisionSubjects::AppealTokenHash)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(CoverageAppeals::Table)
                .col(uuid(CoverageAppeals::Id).primary_key())
                .col(uuid_uniq(CoverageAppeals::SubjectId))
                .col(uuid(CoverageAppeals::PersonId))
                .col(text(CoverageAppeals::TextEnc))
                .col(timestamp_with_time_zone(CoverageAppeals::FiledAt))
                .col(string_len(CoverageAppeals::Via, 10))
                .col(string_len_null(CoverageAppeals::Outcome, 10))
                .col(text_null(CoverageAppeals::ReasonsEnc))
                .col(uuid_null(CoverageAppeals::DecidedBy))
                .col(timestamp_with_time_zone_null(CoverageAppeals::DecidedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(CoverageAppeals::Table, CoverageAppeals::SubjectId)
                        .to(DecisionSubjects::Table, DecisionSubjects::Id),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(CoverageAppeals::Table).to_owned()).await?;
        m.drop_index(Index::drop().name("decision_subjects_appeal_token").table(DecisionSubjects::Table).to_owned())
            .await?;
        for column in [DecisionSubjects::RemovedAt, DecisionSubjects::AppealTokenHash, DecisionSubjects::AppealUntil] {
            m.alter_table(Table::alter().table(DecisionSubjects::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
