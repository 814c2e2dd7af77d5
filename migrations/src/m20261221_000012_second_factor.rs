//! A second factor for staff: a person's TOTP secret in force and one being set up
//! (both sealed), and one-time recovery codes
//! (hashed); each session records whether it passed a second factor and how; each
//! organization says whether its responders, organizers and administrators need one, and
//! whether a sign-in provider's own multi-factor claim counts. Organizations that exist
//! keep today's behaviour (not required); new ones require it.

use sea_orm_migration::{prelude::*, schema::*};

use super::m20261125_000001_base::{Organizations, People};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SecondFactors {
    Table,
    Id,
    PersonId,
    SecretEnc,
    PendingEnc,
    CreatedAt,
    ConfirmedAt,
    LastStep,
}

#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    Id,
    PersonId,
    CodeHash,
    CreatedAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    SecondFactor,
}

#[derive(DeriveIden)]
enum Security {
    SecondFactorRequired,
    AcceptProviderMfa,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(SecondFactors::Table)
                .col(uuid(SecondFactors::Id).primary_key())
                .col(uuid_uniq(SecondFactors::PersonId))
                .col(text_null(SecondFactors::SecretEnc))
                .col(text_null(SecondFactors::PendingEnc))
                .col(timestamp_with_time_zone(SecondFactors::CreatedAt))
                .col(timestamp_with_time_zone_null(SecondFactors::ConfirmedAt))
                .col(big_integer_null(SecondFactors::LastStep))
                .foreign_key(
                    ForeignKey::create()
                        .from(SecondFactors::Table, SecondFactors::PersonId)
                        .to(People::Table, People::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(RecoveryCodes::Table)
                .col(uuid(RecoveryCodes::Id).primary_key())
                .col(uuid(RecoveryCodes::PersonId))
                .col(string_len_uniq(RecoveryCodes::CodeHash, 64))
                .col(timestamp_with_time_zone(RecoveryCodes::CreatedAt))
                .col(timestamp_with_time_zone_null(RecoveryCodes::UsedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(RecoveryCodes::Table, RecoveryCodes::PersonId)
                        .to(People::Table, People::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("recovery_codes_person")
                .table(RecoveryCodes::Table)
                .col(RecoveryCodes::PersonId)
                .to_owned(),
        )
        .await?;
        // One column an ALTER: SQLite adds one at a time.
        m.alter_table(
            Table::alter().table(Sessions::Table).add_column(string_len_null(Sessions::SecondFactor, 16)).to_owned(),
        )
        .await?;
        for column in [Security::SecondFactorRequired, Security::AcceptProviderMfa] {
            m.alter_table(
                Table::alter().table(Organizations::Table).add_column(boolean(column).default(false)).to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [Security::SecondFactorRequired, Security::AcceptProviderMfa] {
            m.alter_table(Table::alter().table(Organizations::Table).drop_column(column).to_owned()).await?;
        }
        m.alter_table(Table::alter().table(Sessions::Table).drop_column(Sessions::SecondFactor).to_owned()).await?;
        m.drop_table(Table::drop().table(RecoveryCodes::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(SecondFactors::Table).to_owned()).await
    }
}
