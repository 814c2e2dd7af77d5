//! Enforcement and appeals: decisions (append-only; a correction or an appeal's outcome is
//! a new record that supersedes), the cases they rest on, further people a decision covers
//! (confirmed ban evasion), responders' proposals, appeals (one per decision), ban-evasion
//! flags (a dismissed pair is remembered), the refund forfeited on a registration, a
//! phone number on people, and periods on door changes (a ban may start or end later).

use sea_orm_migration::{prelude::*, schema::*};

use super::m20261125_000001_base::{Events, Organizations, People, Registrations};
use super::m20261126_000003_cases::Cases;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Decisions {
    Table,
    Id,
    RootId,
    OrganizationId,
    EventId,
    PersonId,
    Kind,
    StartsAt,
    EndsAt,
    Role,
    RoleEventId,
    DetailsEnc,
    ReasonsEnc,
    ProposalId,
    DecidedBy,
    DecidedAt,
    SupersedesId,
    AppealId,
    AppealUntil,
    AppealTokenHash,
}

#[derive(DeriveIden)]
enum DecisionCases {
    Table,
    Id,
    DecisionId,
    CaseId,
}

#[derive(DeriveIden)]
enum DecisionSubjects {
    Table,
    Id,
    DecisionId,
    PersonId,
    FlagId,
    AddedBy,
    AddedAt,
}

#[derive(DeriveIden)]
enum DecisionProposals {
    Table,
    Id,
    CaseId,
    PersonId,
    Kind,
    TermsEnc,
    ProposedBy,
    ProposedAt,
    Status,
    ResolvedBy,
    ResolvedAt,
    DecisionId,
}

#[derive(DeriveIden)]
enum Appeals {
    Table,
    Id,
    RootId,
    DecisionId,
    PersonId,
    TextEnc,
    FiledAt,
    Via,
    Outcome,
    DecidedAt,
    OutcomeDecisionId,
}

#[derive(DeriveIden)]
enum EvasionFlags {
    Table,
    Id,
    OrganizationId,
    RegistrationId,
    PersonId,
    BannedPersonId,
    DecisionId,
    Reasons,
    Status,
    CreatedAt,
    ResolvedBy,
    ResolvedAt,
}

#[derive(DeriveIden)]
enum RegistrationsExtra {
    #[sea_orm(iden = "registrations")]
    Table,
    RefundForfeitedAt,
    ForfeitedBy,
}

#[derive(DeriveIden)]
enum PeopleExtra {
    #[sea_orm(iden = "people")]
    Table,
    Phone,
}

#[derive(DeriveIden)]
enum DoorChangesExtra {
    #[sea_orm(iden = "door_changes")]
    Table,
    StartsAt,
    EndsAt,
}

fn fk(from: (impl IntoIden, impl IntoIden), to: (impl IntoIden, impl IntoIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from.0, from.1).to(to.0, to.1).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Decisions::Table)
                .col(uuid(Decisions::Id).primary_key())
                .col(uuid(Decisions::RootId))
                .col(uuid(Decisions::OrganizationId))
                .col(uuid(Decisions::EventId))
                .col(uuid(Decisions::PersonId))
                .col(string_len(Decisions::Kind, 20))
                .col(timestamp_with_time_zone_null(Decisions::StartsAt))
                .col(timestamp_with_time_zone_null(Decisions::EndsAt))
                .col(string_len_null(Decisions::Role, 20))
                .col(uuid_null(Decisions::RoleEventId))
                .col(text_null(Decisions::DetailsEnc))
                .col(text(Decisions::ReasonsEnc))
                .col(uuid_null(Decisions::ProposalId))
                .col(uuid(Decisions::DecidedBy))
                .col(timestamp_with_time_zone(Decisions::DecidedAt))
                .col(uuid_null(Decisions::SupersedesId).unique_key())
                .col(uuid_null(Decisions::AppealId))
                .col(timestamp_with_time_zone_null(Decisions::AppealUntil))
                .col(string_len_null(Decisions::AppealTokenHash, 64).unique_key())
                .foreign_key(&mut fk(
                    (Decisions::Table, Decisions::OrganizationId),
                    (Organizations::Table, Organizations::Id),
                ))
                .foreign_key(&mut fk((Decisions::Table, Decisions::EventId), (Events::Table, Events::Id)))
                .foreign_key(&mut fk((Decisions::Table, Decisions::PersonId), (People::Table, People::Id)))
                .foreign_key(&mut fk((Decisions::Table, Decisions::DecidedBy), (People::Table, People::Id)))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_decisions_org")
                .table(Decisions::Table)
                .col(Decisions::OrganizationId)
                .col(Decisions::Kind)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_decisions_person").table(Decisions::Table).col(Decisions::PersonId).to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(DecisionCases::Table)
                .col(uuid(DecisionCases::Id).primary_key())
                .col(uuid(DecisionCases::DecisionId))
                .col(uuid(DecisionCases::CaseId))
                .foreign_key(&mut fk(
                    (DecisionCases::Table, DecisionCases::DecisionId),
                    (Decisions::Table, Decisions::Id),
                ))
                .foreign_key(&mut fk((DecisionCases::Table, DecisionCases::CaseId), (Cases::Table, Cases::Id)))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_decision_cases")
                .table(DecisionCases::Table)
                .col(DecisionCases::DecisionId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(DecisionSubjects::Table)
                .col(uuid(DecisionSubjects::Id).primary_key())
                .col(uuid(DecisionSubjects::DecisionId))
                .col(uuid(DecisionSubjects::PersonId))
                .col(uuid_null(DecisionSubjects::FlagId))
                .col(uuid(DecisionSubjects::AddedBy))
                .col(timestamp_with_time_zone(DecisionSubjects::AddedAt))
                .foreign_key(&mut fk(
                    (DecisionSubjects::Table, DecisionSubjects::DecisionId),
                    (Decisions::Table, Decisions::Id),
                ))
                .foreign_key(&mut fk(
                    (DecisionSubjects::Table, DecisionSubjects::PersonId),
                    (People::Table, People::Id),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(DecisionProposals::Table)
                .col(uuid(DecisionProposals::Id).primary_key())
                .col(uuid(DecisionProposals::CaseId))
                .col(uuid(DecisionProposals::PersonId))
                .col(string_len(DecisionProposals::Kind, 20))
                .col(text(DecisionProposals::TermsEnc))
                .col(uuid(DecisionProposals::ProposedBy))
                .col(timestamp_with_time_zone(DecisionProposals::ProposedAt))
                .col(string_len(DecisionProposals::Status, 10))
                .col(uuid_null(DecisionProposals::ResolvedBy))
                .col(timestamp_with_time_zone_null(DecisionProposals::ResolvedAt))
                .col(uuid_null(DecisionProposals::DecisionId))
                .foreign_key(&mut fk((DecisionProposals::Table, DecisionProposals::CaseId), (Cases::Table, Cases::Id)))
                .foreign_key(&mut fk(
                    (DecisionProposals::Table, DecisionProposals::PersonId),
                    (People::Table, People::Id),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Appeals::Table)
                .col(uuid(Appeals::Id).primary_key())
                .col(uuid_uniq(Appeals::RootId))
                .col(uuid(Appeals::DecisionId))
                .col(uuid(Appeals::PersonId))
                .col(text(Appeals::TextEnc))
                .col(timestamp_with_time_zone(Appeals::FiledAt))
                .col(string_len(Appeals::Via, 10))
                .col(string_len_null(Appeals::Outcome, 10))
                .col(timestamp_with_time_zone_null(Appeals::DecidedAt))
                .col(uuid_null(Appeals::OutcomeDecisionId))
                .foreign_key(&mut fk((Appeals::Table, Appeals::DecisionId), (Decisions::Table, Decisions::Id)))
                .foreign_key(&mut fk((Appeals::Table, Appeals::PersonId), (People::Table, People::Id)))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(EvasionFlags::Table)
                .col(uuid(EvasionFlags::Id).primary_key())
                .col(uuid(EvasionFlags::OrganizationId))
                .col(uuid(EvasionFlags::RegistrationId))
                .col(uuid(EvasionFlags::PersonId))
                .col(uuid(EvasionFlags::BannedPersonId))
                .col(uuid(EvasionFlags::DecisionId))
                .col(string_len(EvasionFlags::Reasons, 200))
                .col(string_len(EvasionFlags::Status, 10))
                .col(timestamp_with_time_zone(EvasionFlags::CreatedAt))
                .col(uuid_null(EvasionFlags::ResolvedBy))
                .col(timestamp_with_time_zone_null(EvasionFlags::ResolvedAt))
                .foreign_key(&mut fk(
                    (EvasionFlags::Table, EvasionFlags::RegistrationId),
                    (Registrations::Table, Registrations::Id),
                ))
                .foreign_key(&mut fk(
                    (EvasionFlags::Table, EvasionFlags::DecisionId),
                    (Decisions::Table, Decisions::Id),
                ))
                .to_owned(),
        )
        .await?;
        // A pair once flagged (and perhaps dismissed) is never flagged again.
        m.create_index(
            Index::create()
                .name("ux_evasion_pair")
                .table(EvasionFlags::Table)
                .col(EvasionFlags::OrganizationId)
                .col(EvasionFlags::PersonId)
                .col(EvasionFlags::BannedPersonId)
                .unique()
                .to_owned(),
        )
        .await?;

        // One column per statement: SQLite alters one thing at a time.
        m.alter_table(
            Table::alter()
                .table(RegistrationsExtra::Table)
                .add_column(timestamp_with_time_zone_null(RegistrationsExtra::RefundForfeitedAt))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(RegistrationsExtra::Table)
                .add_column(uuid_null(RegistrationsExtra::ForfeitedBy))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter().table(PeopleExtra::Table).add_column(string_len_null(PeopleExtra::Phone, 20)).to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(DoorChangesExtra::Table)
                .add_column(timestamp_with_time_zone_null(DoorChangesExtra::StartsAt))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(DoorChangesExtra::Table)
                .add_column(timestamp_with_time_zone_null(DoorChangesExtra::EndsAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in [
            (DoorChangesExtra::Table.into_iden(), DoorChangesExtra::EndsAt.into_iden()),
            (DoorChangesExtra::Table.into_iden(), DoorChangesExtra::StartsAt.into_iden()),
            (PeopleExtra::Table.into_iden(), PeopleExtra::Phone.into_iden()),
            (RegistrationsExtra::Table.into_iden(), RegistrationsExtra::ForfeitedBy.into_iden()),
            (RegistrationsExtra::Table.into_iden(), RegistrationsExtra::RefundForfeitedAt.into_iden()),
        ] {
            m.alter_table(Table::alter().table(table).drop_column(column).to_owned()).await?;
        }
        for table in [
            EvasionFlags::Table.into_iden(),
            Appeals::Table.into_iden(),
            DecisionProposals::Table.into_iden(),
            DecisionSubjects::Table.into_iden(),
            DecisionCases::Table.into_iden(),
            Decisions::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
