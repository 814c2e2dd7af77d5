//! A scan recorded more than 7 days after it happened (a device that was offline that
//! long) is marked late, so organizers see it apart on the arrivals page. Scans recorded
//! before this read as on time.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Scans {
    Table,
    Late,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Scans::Table).add_column(boolean(Scans::Late).default(false)).to_owned())
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Scans::Table).drop_column(Scans::Late).to_owned()).await
    }
}
