//! Safety plans: precautions on a case (escorts with time windows and assigned escorts,
//! arrival alerts with their recipients, door instructions, agreed arrangements), the
//! reporter's answers, in-app notifications, and private calendar feeds for escorts.

use sea_orm_migration::{prelude::*, schema::*};

use super::m20261125_000001_base::People;
use super::m20261126_000003_cases::Cases;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Precautions {
    Table,
    Id,
    CaseId,
    Kind,
    CreatedBy,
    CreatedAt,
    RemovedAt,
    RemovedBy,
    DetailsEnc,
}

#[derive(DeriveIden)]
enum EscortWindows {
    Table,
    Id,
    PrecautionId,
    StartsAt,
    EndsAt,
}

#[derive(DeriveIden)]
enum EscortAssignments {
    Table,
    Id,
    PrecautionId,
    EscortId,
    CreatedAt,
    AcknowledgedAt,
    EscalatedAt,
    RemovedAt,
}

#[derive(DeriveIden)]
enum AlertRecipients {
    Table,
    Id,
    PrecautionId,
    PersonId,
}

#[derive(DeriveIden)]
enum PlanResponses {
    Table,
    Id,
    CaseId,
    Answer,
    CommentEnc,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    PersonId,
    Kind,
    TitleEnc,
    BodyEnc,
    Link,
    CreatedAt,
    ReadAt,
}

#[derive(DeriveIden)]
enum IcsFeeds {
    Table,
    Id,
    PersonId,
    TokenHash,
    CreatedAt,
    RevokedAt,
}

fn fk(from: (impl IntoIden, impl IntoIden), to: (impl IntoIden, impl IntoIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from.0, from.1).to(to.0, to.1).to_owned()
}

fn index(name: &str, table: impl IntoIden, col: impl IntoIden) -> IndexCreateStatement {
    Index::create().name(name).table(table).col(col).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Precautions::Table)
                .col(uuid(Precautions::Id).primary_key())
                .col(uuid(Precautions::CaseId))
                .col(string_len(Precautions::Kind, 30))
                .col(uuid(Precautions::CreatedBy))
                .col(timestamp_with_time_zone(Precautions::CreatedAt))
                .col(timestamp_with_time_zone_null(Precautions::RemovedAt))
                .col(uuid_null(Precautions::RemovedBy))
                .col(text(Precautions::DetailsEnc))
                .foreign_key(&mut fk((Precautions::Table, Precautions::CaseId), (Cases::Table, Cases::Id)))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_precautions_case", Precautions::Table, Precautions::CaseId)).await?;

        m.create_table(
            Table::create()
                .table(EscortWindows::Table)
                .col(uuid(EscortWindows::Id).primary_key())
                .col(uuid(EscortWindows::PrecautionId))
                .col(timestamp_with_time_zone(EscortWindows::StartsAt))
                .col(timestamp_with_time_zone(EscortWindows::EndsAt))
                .foreign_key(&mut fk(
                    (EscortWindows::Table, EscortWindows::PrecautionId),
                    (Precautions::Table, Precautions::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_escort_windows_precaution", EscortWindows::Table, EscortWindows::PrecautionId))
            .await?;

        m.create_table(
            Table::create()
                .table(EscortAssignments::Table)
                .col(uuid(EscortAssignments::Id).primary_key())
                .col(uuid(EscortAssignments::PrecautionId))
                .col(uuid(EscortAssignments::EscortId))
                .col(timestamp_with_time_zone(EscortAssignments::CreatedAt))
                .col(timestamp_with_time_zone_null(EscortAssignments::AcknowledgedAt))
                .col(timestamp_with_time_zone_null(EscortAssignments::EscalatedAt))
                .col(timestamp_with_time_zone_null(EscortAssignments::RemovedAt))
                .foreign_key(&mut fk(
                    (EscortAssignments::Table, EscortAssignments::PrecautionId),
                    (Precautions::Table, Precautions::Id),
                ))
                .foreign_key(&mut fk(
                    (EscortAssignments::Table, EscortAssignments::EscortId),
                    (People::Table, People::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_escort_assignments_escort", EscortAssignments::Table, EscortAssignments::EscortId))
            .await?;

        m.create_table(
            Table::create()
                .table(AlertRecipients::Table)
                .col(uuid(AlertRecipients::Id).primary_key())
                .col(uuid(AlertRecipients::PrecautionId))
                .col(uuid(AlertRecipients::PersonId))
                .foreign_key(&mut fk(
                    (AlertRecipients::Table, AlertRecipients::PrecautionId),
                    (Precautions::Table, Precautions::Id),
                ))
                .foreign_key(&mut fk((AlertRecipients::Table, AlertRecipients::PersonId), (People::Table, People::Id)))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(PlanResponses::Table)
                .col(uuid(PlanResponses::Id).primary_key())
                .col(uuid(PlanResponses::CaseId))
                .col(string_len(PlanResponses::Answer, 20))
                .col(text_null(PlanResponses::CommentEnc))
                .col(timestamp_with_time_zone(PlanResponses::CreatedAt))
                .foreign_key(&mut fk((PlanResponses::Table, PlanResponses::CaseId), (Cases::Table, Cases::Id)))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Notifications::Table)
                .col(uuid(Notifications::Id).primary_key())
                .col(uuid(Notifications::PersonId))
                .col(string_len(Notifications::Kind, 30))
                .col(text(Notifications::TitleEnc))
                .col(text(Notifications::BodyEnc))
                .col(string_len(Notifications::Link, 300))
                .col(timestamp_with_time_zone(Notifications::CreatedAt))
                .col(timestamp_with_time_zone_null(Notifications::ReadAt))
                .foreign_key(&mut fk((Notifications::Table, Notifications::PersonId), (People::Table, People::Id)))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_notifications_person_created")
                .table(Notifications::Table)
                .col(Notifications::PersonId)
                .col(Notifications::CreatedAt)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(IcsFeeds::Table)
                .col(uuid(IcsFeeds::Id).primary_key())
                .col(uuid(IcsFeeds::PersonId))
                .col(string_len_uniq(IcsFeeds::TokenHash, 64))
                .col(timestamp_with_time_zone(IcsFeeds::CreatedAt))
                .col(timestamp_with_time_zone_null(IcsFeeds::RevokedAt))
                .foreign_key(&mut fk((IcsFeeds::Table, IcsFeeds::PersonId), (People::Table, People::Id)))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            IcsFeeds::Table.into_iden(),
            Notifications::Table.into_iden(),
            PlanResponses::Table.into_iden(),
            AlertRecipients::Table.into_iden(),
            EscortAssignments::Table.into_iden(),
            EscortWindows::Table.into_iden(),
            Precautions::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
