use sea_orm::entity::prelude::*;

/// A person's TOTP secret in force, and one being set up (each sealed): a new secret is in
/// force only once a first code from it is entered.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "second_factors")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub person_id: Uuid,
    #[sea_orm(column_type = "Text", nullable)]
    pub secret_enc: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub pending_enc: Option<String>,
    pub created_at: DateTimeUtc,
    pub confirmed_at: Option<DateTimeUtc>,
    /// The last time step a code was accepted for: no code is accepted twice.
    pub last_step: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
