use sea_orm::entity::prelude::*;

/// The audit chain's head as mailed to the operators on a day (UTC, `YYYY-MM-DD`); the
/// row claims the day, so several instances mail it once.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_checkpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: String,
    pub seq: i64,
    pub hash: String,
    pub taken_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
