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
    /// Resolved or closed, its text is kept until then (see `services::retention`).
    pub retain_until: Option<DateTimeUtc>,
    /// When the owner (or the team) was told its text is about to be erased.
    pub retention_warned_at: Option<DateTimeUtc>,
    /// When a responder extended the keeping, once.
    pub retention_extended_at: Option<DateTimeUtc>,
    /// Why it was extended (sealed with the case's key).
    #[sea_orm(column_type = "Text", nullable)]
    pub retention_reason_enc: Option<String>,
    /// When its text was erased: what is left is its tombstone.
    pub erased_at: Option<DateTimeUtc>,
    /// Its reporter asked that only the case's owner know who they are.
    pub reporter_shielded: bool,
    /// The name other responders see instead (e.g. "Reporter K7").
    pub reporter_code: Option<String>,
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
