//! Mail waiting in the outbox is sealed like case text: a pending sign-in link is a
//! secret, and an escort's mail says how to reach the person escorted. The body columns
//! are renamed to say so; rows written before hold clear text (sent within seconds), which
//! the worker still reads.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Outbox {
    Table,
    BodyText,
    BodyHtml,
    Attachments,
    BodyEnc,
    HtmlEnc,
    AttachmentsEnc,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (from, to) in [
            (Outbox::BodyText, Outbox::BodyEnc),
            (Outbox::BodyHtml, Outbox::HtmlEnc),
            (Outbox::Attachments, Outbox::AttachmentsEnc),
        ] {
            m.alter_table(Table::alter().table(Outbox::Table).rename_column(from, to).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (from, to) in [
            (Outbox::BodyEnc, Outbox::BodyText),
            (Outbox::HtmlEnc, Outbox::BodyHtml),
            (Outbox::AttachmentsEnc, Outbox::Attachments),
        ] {
            m.alter_table(Table::alter().table(Outbox::Table).rename_column(from, to).to_owned()).await?;
        }
        Ok(())
    }
}
