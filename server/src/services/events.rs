//! Public event information.

use super::Services;
use crate::db::entities::{event, organization};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use haven_app::api::{Actor, AppError, EventSummary, EventView, HomeView, PublicApi};
use haven_app::domain::Slug;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

#[async_trait::async_trait]
impl PublicApi for Services {
    async fn home(&self, _actor: &Actor) -> Result<HomeView, AppError> {
        let now = self.clock.now();
        let rows = event::Entity::find()
            .filter(event::Column::EndsAt.gte(now))
            .order_by_asc(event::Column::StartsAt)
            .find_also_related(organization::Entity)
            .all(&self.store.db)
            .await?;
        let events = rows.into_iter().map(|(e, org)| summary(&e, org.map(|o| o.name).unwrap_or_default())).collect();
        Ok(HomeView { events })
    }

    async fn event(&self, _actor: &Actor, slug: &Slug) -> Result<EventView, AppError> {
        let (e, org) = event::Entity::find()
            .filter(event::Column::Slug.eq(slug.as_str()))
            .find_also_related(organization::Entity)
            .one(&self.store.db)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(EventView {
            time_zone: e.time_zone.clone(),
            ack_hours: u32::try_from(e.ack_hours).unwrap_or(24),
            event: summary(&e, org.map(|o| o.name).unwrap_or_default()),
        })
    }
}

fn summary(e: &event::Model, organization: String) -> EventSummary {
    EventSummary {
        slug: e.slug.clone(),
        name: e.name.clone(),
        organization,
        when: format_span(e.starts_at, e.ends_at, &e.time_zone),
        venue: e.venue.clone(),
    }
}

/// "Mon 12 Apr 2027, 09:00 – Wed 14 Apr 2027, 18:00" in the event's time zone.
pub fn format_span(start: DateTime<Utc>, end: DateTime<Utc>, tz: &str) -> String {
    let tz: Tz = tz.parse().unwrap_or(Tz::UTC);
    let fmt = "%a %-d %b %Y, %H:%M";
    format!("{} – {}", start.with_timezone(&tz).format(fmt), end.with_timezone(&tz).format(fmt))
}
