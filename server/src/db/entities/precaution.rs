use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "precautions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: Uuid,
    pub kind: String,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub removed_at: Option<DateTimeUtc>,
    pub removed_by: Option<Uuid>,
    #[sea_orm(column_type = "Text")]
    pub details_enc: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
