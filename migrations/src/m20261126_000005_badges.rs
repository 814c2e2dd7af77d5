//! Badges and the door: per-organization signing keys (private halves sealed), one badge
//! per registration (revoked when replaced), door devices with their tokens, every scan,
//! and the log of changes door devices sync (badges denied or cleared).

use sea_orm_migration::{prelude::*, schema::*};

use super::m20261125_000001_base::{Events, Organizations, Registrations};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BadgeKeys {
    Table,
    Id,
    OrganizationId,
    PublicKey,
    PrivateEnc,
    CreatedAt,
    RetiredAt,
}

#[derive(DeriveIden)]
enum Badges {
    Table,
    Id,
    RegistrationId,
    EventId,
    KeyId,
    IssuedAt,
    RevokedAt,
    RevokedReason,
    MailedAt,
}

#[derive(DeriveIden)]
enum DoorDevices {
    Table,
    Id,
    EventId,
    Name,
    TokenHash,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Scans {
    Table,
    Id,
    EventId,
    DeviceId,
    StaffId,
    BadgeId,
    TokenHash,
    Gate,
    ScannedAt,
    ReceivedAt,
    Result,
    Reason,
    PreviousScanAt,
    InstructionEnc,
}

#[derive(DeriveIden)]
enum DoorChanges {
    Table,
    Seq,
    EventId,
    BadgeId,
    Reason,
    At,
}

fn fk(from: (impl IntoIden, impl IntoIden), to: (impl IntoIden, impl IntoIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from.0, from.1).to(to.0, to.1).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(BadgeKeys::Table)
                .col(big_integer(BadgeKeys::Id).primary_key())
                .col(uuid(BadgeKeys::OrganizationId))
                .col(string_len(BadgeKeys::PublicKey, 64))
                .col(text(BadgeKeys::PrivateEnc))
                .col(timestamp_with_time_zone(BadgeKeys::CreatedAt))
                .col(timestamp_with_time_zone_null(BadgeKeys::RetiredAt))
                .foreign_key(&mut fk(
                    (BadgeKeys::Table, BadgeKeys::OrganizationId),
                    (Organizations::Table, Organizations::Id),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Badges::Table)
                .col(uuid(Badges::Id).primary_key())
                .col(uuid(Badges::RegistrationId))
                .col(uuid(Badges::EventId))
                .col(big_integer(Badges::KeyId))
                .col(timestamp_with_time_zone(Badges::IssuedAt))
                .col(timestamp_with_time_zone_null(Badges::RevokedAt))
                .col(string_len_null(Badges::RevokedReason, 20))
                .col(timestamp_with_time_zone_null(Badges::MailedAt))
                .foreign_key(&mut fk(
                    (Badges::Table, Badges::RegistrationId),
                    (Registrations::Table, Registrations::Id),
                ))
                .foreign_key(&mut fk((Badges::Table, Badges::EventId), (Events::Table, Events::Id)))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_badges_registration").table(Badges::Table).col(Badges::RegistrationId).to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_badges_event").table(Badges::Table).col(Badges::EventId).to_owned())
            .await?;

        m.create_table(
            Table::create()
                .table(DoorDevices::Table)
                .col(uuid(DoorDevices::Id).primary_key())
                .col(uuid(DoorDevices::EventId))
                .col(string_len(DoorDevices::Name, 100))
                .col(string_len_uniq(DoorDevices::TokenHash, 64))
                .col(timestamp_with_time_zone(DoorDevices::CreatedAt))
                .col(timestamp_with_time_zone_null(DoorDevices::RevokedAt))
                .foreign_key(&mut fk((DoorDevices::Table, DoorDevices::EventId), (Events::Table, Events::Id)))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Scans::Table)
                .col(uuid(Scans::Id).primary_key())
                .col(uuid(Scans::EventId))
                .col(uuid_null(Scans::DeviceId))
                .col(uuid_null(Scans::StaffId))
                .col(uuid_null(Scans::BadgeId))
                .col(string_len(Scans::TokenHash, 64))
                .col(string_len(Scans::Gate, 50))
                .col(timestamp_with_time_zone(Scans::ScannedAt))
                .col(timestamp_with_time_zone(Scans::ReceivedAt))
                .col(string_len(Scans::Result, 10))
                .col(string_len_null(Scans::Reason, 20))
                .col(timestamp_with_time_zone_null(Scans::PreviousScanAt))
                .col(text_null(Scans::InstructionEnc))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_scans_event_time")
                .table(Scans::Table)
                .col(Scans::EventId)
                .col(Scans::ScannedAt)
                .to_owned(),
        )
        .await?;
        // No index by badge: the door keeps each badge's last scan in memory, and every
        // index of this table costs each scan a page write.

        m.create_table(
            Table::create()
                .table(DoorChanges::Table)
                .col(pk_auto(DoorChanges::Seq))
                .col(uuid(DoorChanges::EventId))
                .col(uuid(DoorChanges::BadgeId))
                .col(string_len_null(DoorChanges::Reason, 20))
                .col(timestamp_with_time_zone(DoorChanges::At))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_door_changes_event")
                .table(DoorChanges::Table)
                .col(DoorChanges::EventId)
                .col(DoorChanges::Seq)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            DoorChanges::Table.into_iden(),
            Scans::Table.into_iden(),
            DoorDevices::Table.into_iden(),
            Badges::Table.into_iden(),
            BadgeKeys::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
