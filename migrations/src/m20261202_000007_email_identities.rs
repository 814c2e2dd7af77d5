//! A person may sign in with further e-mail addresses. Adding one sends a single-use
//! confirmation link to it (stored only as a hash); confirming makes the address an
//! `email` identity of that person.

use sea_orm_migration::{prelude::*, schema::*};

use super::m20261125_000001_base::People;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EmailConfirmations {
    Table,
    Id,
    TokenHash,
    PersonId,
    Email,
    EmailNormalized,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(EmailConfirmations::Table)
                .col(uuid(EmailConfirmations::Id).primary_key())
                .col(string_len_uniq(EmailConfirmations::TokenHash, 64))
                .col(uuid(EmailConfirmations::PersonId))
                .col(string_len(EmailConfirmations::Email, 254))
                .col(string_len(EmailConfirmations::EmailNormalized, 254))
                .col(timestamp_with_time_zone(EmailConfirmations::CreatedAt))
                .col(timestamp_with_time_zone(EmailConfirmations::ExpiresAt))
                .col(timestamp_with_time_zone_null(EmailConfirmations::UsedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(EmailConfirmations::Table, EmailConfirmations::PersonId)
                        .to(People::Table, People::Id),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(EmailConfirmations::Table).to_owned()).await
    }
}
