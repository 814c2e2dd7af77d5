use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "scans")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub event_id: Uuid,
    pub device_id: Option<Uuid>,
    pub staff_id: Option<Uuid>,
    pub badge_id: Option<Uuid>,
    pub token_hash: String,
    pub gate: String,
    pub scanned_at: DateTimeUtc,
    pub received_at: DateTimeUtc,
    pub result: String,
    pub reason: Option<String>,
    pub previous_scan_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub instruction_enc: Option<String>,
    /// A check-in by name (`registration:<id>`), not a badge read.
    pub by_name: bool,
    /// Recorded more than 7 days after it happened (`scanned_at`), for the organizers.
    pub late: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
