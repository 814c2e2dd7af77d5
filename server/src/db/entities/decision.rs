use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "decisions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub root_id: Uuid,
    pub organization_id: Uuid,
    pub event_id: Uuid,
    pub person_id: Uuid,
    pub kind: String,
    pub starts_at: Option<DateTimeUtc>,
    pub ends_at: Option<DateTimeUtc>,
    pub role: Option<String>,
    pub role_event_id: Option<Uuid>,
    #[sea_orm(column_type = "Text", nullable)]
    pub details_enc: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub reasons_enc: String,
    pub proposal_id: Option<Uuid>,
    pub decided_by: Uuid,
    pub decided_at: DateTimeUtc,
    pub supersedes_id: Option<Uuid>,
    pub appeal_id: Option<Uuid>,
    pub appeal_until: Option<DateTimeUtc>,
    pub appeal_token_hash: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
