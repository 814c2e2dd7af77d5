use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cases")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub reference: String,
    pub event_id: Uuid,
    pub kind: String,
    pub reporter_id: Uuid,
    pub status: String,
    pub owner_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub ack_due_at: DateTimeUtc,
    pub acknowledged_at: Option<DateTimeUtc>,
    pub reminder_sent_at: Option<DateTimeUtc>,
    pub related_case_id: Option<Uuid>,
    pub relation: Option<String>,
    pub witnesses: String,
    #[sea_orm(column_type = "Text")]
    pub subject_enc: String,
    #[sea_orm(column_type = "Text")]
    pub narrative_enc: String,
    #[sea_orm(column_type = "Text")]
    pub wishes_enc: String,
    #[sea_orm(column_type = "Text")]
    pub contact_enc: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub witness_details_enc: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::event::Entity", from = "Column::EventId", to = "super::event::Column::Id")]
    Event,
}

impl Related<super::event::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Event.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
