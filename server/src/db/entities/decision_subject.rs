use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "decision_subjects")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub decision_id: Uuid,
    pub person_id: Uuid,
    pub flag_id: Option<Uuid>,
    pub added_by: Uuid,
    pub added_at: DateTimeUtc,
    /// Until when the person covered may appeal being covered (30 days from their notice).
    pub appeal_until: Option<DateTimeUtc>,
    pub appeal_token_hash: Option<String>,
    /// Lifted on appeal: the decision no longer covers them.
    pub removed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
