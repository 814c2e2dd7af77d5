use sea_orm::entity::prelude::*;

/// An appeal by someone a confirmed ban-evasion flag brought under a decision.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "coverage_appeals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub subject_id: Uuid,
    pub person_id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub text_enc: String,
    pub filed_at: DateTimeUtc,
    pub via: String,
    pub outcome: Option<String>,
    /// Why it was decided so (sealed; for staff).
    #[sea_orm(column_type = "Text", nullable)]
    pub reasons_enc: Option<String>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
