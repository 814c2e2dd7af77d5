//! Mail a mail server refused for good (a 5xx reply), or a sign-in link that could not be
//! delivered while it was valid, is marked failed instead of being retried forever; the
//! operators list it with `haven mail failed`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Outbox {
    Table,
    FailedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter().table(Outbox::Table).add_column(timestamp_with_time_zone_null(Outbox::FailedAt)).to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Outbox::Table).drop_column(Outbox::FailedAt).to_owned()).await
    }
}
