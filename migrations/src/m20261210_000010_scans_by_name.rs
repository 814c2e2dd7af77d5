//! Check-ins by name are marked on the scan, so organizers see who checked in whom by
//! name (a trail for anyone looking people up at the door). Scans recorded before this
//! read as badge scans.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Scans {
    Table,
    ByName,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Scans::Table).add_column(boolean(Scans::ByName).default(false)).to_owned())
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Scans::Table).drop_column(Scans::ByName).to_owned()).await
    }
}
