use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "door_changes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i32,
    pub event_id: Uuid,
    pub badge_id: Uuid,
    pub reason: Option<String>,
    pub at: DateTimeUtc,
    pub starts_at: Option<DateTimeUtc>,
    pub ends_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
