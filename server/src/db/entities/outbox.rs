use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: String,
    pub to_address: String,
    pub subject: String,
    /// Sealed (place `outbox.<column>:<id>`), and blanked once delivered.
    #[sea_orm(column_type = "Text")]
    pub body_enc: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub html_enc: Option<String>,
    /// The attachments as sealed JSON.
    #[sea_orm(column_type = "Text", nullable)]
    pub attachments_enc: Option<String>,
    pub created_at: DateTimeUtc,
    pub next_attempt_at: DateTimeUtc,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTimeUtc>,
    /// Refused for good (or a sign-in link past its life): never tried again.
    pub failed_at: Option<DateTimeUtc>,
    /// The data key (a case's, a decision chain's) the message is sealed with, if any.
    pub about_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
