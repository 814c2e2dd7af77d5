//! The base tables later changes extend: organizations, events, people, registrations.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Organizations {
    Table,
    Id,
    Slug,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
pub enum Events {
    Table,
    Id,
    OrganizationId,
    Slug,
    Name,
    Venue,
    TimeZone,
    StartsAt,
    EndsAt,
    AckHours,
    CreatedAt,
}

#[derive(DeriveIden)]
pub enum People {
    Table,
    Id,
    DisplayName,
    Email,
    EmailNormalized,
    CreatedAt,
}

#[derive(DeriveIden)]
pub enum Registrations {
    Table,
    Id,
    EventId,
    PersonId,
    TicketRef,
    Role,
    Status,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Organizations::Table)
                .col(uuid(Organizations::Id).primary_key())
                .col(string_len_uniq(Organizations::Slug, 64))
                .col(string_len(Organizations::Name, 200))
                .col(timestamp_with_time_zone(Organizations::CreatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Events::Table)
                .col(uuid(Events::Id).primary_key())
                .col(uuid(Events::OrganizationId))
                .col(string_len_uniq(Events::Slug, 64))
                .col(string_len(Events::Name, 200))
                .col(string_len(Events::Venue, 200))
                .col(string_len(Events::TimeZone, 64))
                .col(timestamp_with_time_zone(Events::StartsAt))
                .col(timestamp_with_time_zone(Events::EndsAt))
                .col(integer(Events::AckHours).default(24))
                .col(timestamp_with_time_zone(Events::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Events::Table, Events::OrganizationId)
                        .to(Organizations::Table, Organizations::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_events_organization").table(Events::Table).col(Events::OrganizationId).to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(People::Table)
                .col(uuid(People::Id).primary_key())
                .col(string_len(People::DisplayName, 200))
                .col(string_len_null(People::Email, 254))
                .col(string_len_null(People::EmailNormalized, 254).unique_key())
                .col(timestamp_with_time_zone(People::CreatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Registrations::Table)
                .col(uuid(Registrations::Id).primary_key())
                .col(uuid(Registrations::EventId))
                .col(uuid(Registrations::PersonId))
                .col(string_len_null(Registrations::TicketRef, 100))
                .col(string_len_null(Registrations::Role, 50))
                .col(string_len(Registrations::Status, 20).default("active"))
                .col(timestamp_with_time_zone(Registrations::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Registrations::Table, Registrations::EventId)
                        .to(Events::Table, Events::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Registrations::Table, Registrations::PersonId)
                        .to(People::Table, People::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_registrations_event_person")
                .table(Registrations::Table)
                .col(Registrations::EventId)
                .col(Registrations::PersonId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_registrations_event_ticket")
                .table(Registrations::Table)
                .col(Registrations::EventId)
                .col(Registrations::TicketRef)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_registrations_person")
                .table(Registrations::Table)
                .col(Registrations::PersonId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Registrations::Table.into_iden(),
            People::Table.into_iden(),
            Events::Table.into_iden(),
            Organizations::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
