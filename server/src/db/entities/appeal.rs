use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "appeals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub root_id: Uuid,
    pub decision_id: Uuid,
    pub person_id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub text_enc: String,
    pub filed_at: DateTimeUtc,
    pub via: String,
    pub outcome: Option<String>,
    pub decided_at: Option<DateTimeUtc>,
    pub outcome_decision_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
