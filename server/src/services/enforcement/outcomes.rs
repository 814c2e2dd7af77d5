//! An event's outcomes for its organizers, and the expulsions list for refunds.

use super::{DOOR_KINDS, tz_of};
use crate::db::entities::{decision, person, registration};
use crate::services::Services;
use haven_app::api::OutcomesApi;
use haven_app::api::{Actor, AppError, OutcomeRow, OutcomesView};
use haven_app::domain::Slug;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

impl Services {
    /// For the ticketing side: every registration of the event whose refund an expulsion
    /// forfeited (registration, ticket reference, decision date, refund).
    pub async fn expulsions_csv(&self, actor: &Actor, slug: &Slug) -> Result<String, AppError> {
        let (e, _) = self.events().managed_event(actor, slug).await?;
        let rows = registration::Entity::find()
            .filter(registration::Column::EventId.eq(e.id))
            .filter(registration::Column::RefundForfeitedAt.is_not_null())
            .order_by_asc(registration::Column::RefundForfeitedAt)
            .all(&self.store.db)
            .await?;
        let mut out = csv::Writer::from_writer(Vec::new());
        let _ = out.write_record(["registration", "ticket_ref", "decision_date", "refund"]);
        let tz = tz_of(&e).tz();
        for r in rows {
            let date = r.refund_forfeited_at.map(|t| t.with_timezone(&tz).format("%Y-%m-%d").to_string());
            let _ = out.write_record([
                r.id.to_string(),
                r.ticket_ref.unwrap_or_default(),
                date.unwrap_or_default(),
                "none".to_owned(),
            ]);
        }
        String::from_utf8(out.into_inner().map_err(|_| AppError::Internal)?).map_err(|_| AppError::Internal)
    }
}

#[async_trait::async_trait]
impl OutcomesApi for Services {
    async fn event_outcomes(&self, actor: &Actor, slug: &Slug) -> Result<OutcomesView, AppError> {
        let (e, _) = self.events().managed_event(actor, slug).await?;
        let db = &self.store.db;
        let now = self.clock.now();
        let heads = self.decision_heads(db, e.organization_id, Some(&DOOR_KINDS)).await?;
        let heads: Vec<decision::Model> = heads
            .into_iter()
            .filter(|d| d.kind != "expulsion" || d.event_id == e.id)
            .filter(|d| d.ends_at.is_none_or(|end| end > now))
            .collect();
        let covered = self.covered_people(db, &heads).await?;
        let mut rows = Vec::new();
        for d in &heads {
            let people = covered.get(&d.root_id).cloned().unwrap_or_default();
            let found = person::Entity::find().filter(person::Column::Id.is_in(people)).all(db).await?;
            let measure = match d.kind.as_str() {
                "expulsion" => "Expelled from this event (no refund)".to_owned(),
                "permanent_ban" => match d.starts_at {
                    Some(s) if s > now => {
                        format!("Banned permanently from {}", crate::services::cases::local_time(s, &e.time_zone))
                    }
                    _ => "Banned permanently".to_owned(),
                },
                _ => format!(
                    "Banned {}until {}",
                    d.starts_at
                        .filter(|s| *s > now)
                        .map(|s| format!("from {} ", crate::services::cases::local_time(s, &e.time_zone)))
                        .unwrap_or_default(),
                    d.ends_at.map(|t| crate::services::cases::local_time(t, &e.time_zone)).unwrap_or_default()
                ),
            };
            for p in found {
                rows.push(OutcomeRow {
                    name: p.display_name,
                    email: p.email,
                    measure: measure.clone(),
                    since: crate::services::cases::local_time(d.decided_at, &e.time_zone),
                });
            }
        }
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(OutcomesView { event_name: e.name, rows })
    }
}
