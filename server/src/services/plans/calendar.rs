//! Calendar feeds: a secret `.ics` link per person with their escort assignments.

use crate::crypto::{hash_token, looks_like_token, random_token};
use crate::db::entities::{escort_assignment, escort_window, ics_feed};
use crate::services::Services;
use chrono::{DateTime, Utc};
use haven_app::api::CalendarApi;
use haven_app::api::*;
use haven_app::domain::plan::ics;
use haven_app::domain::{CalendarEntry, EscortDetails};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

impl Services {
    /// The calendar behind a feed token: every live assignment's windows.
    pub async fn calendar_feed(&self, token: &str) -> Result<String, AppError> {
        let token = token.strip_suffix(".ics").unwrap_or(token);
        if !looks_like_token(token) {
            return Err(AppError::NotFound);
        }
        let feed = ics_feed::Entity::find()
            .filter(ics_feed::Column::TokenHash.eq(hash_token(token)))
            .filter(ics_feed::Column::RevokedAt.is_null())
            .one(&self.store.db)
            .await?
            .ok_or(AppError::NotFound)?;
        let actor = Actor {
            session: Some(ActorSession { person_id: feed.person_id, session_id: Uuid::nil(), second_factor: None }),
            client: String::new(),
        };
        let db = &self.store.db;
        let mut entries = Vec::new();
        for a in self.my_assignments(&actor).await?.assignments {
            let Some(assignment) = escort_assignment::Entity::find_by_id(a.id).one(db).await? else {
                continue;
            };
            let windows = self.windows_of(&[assignment.precaution_id]).await?;
            let details = EscortDetails {
                meeting_point: a.meeting_point.clone(),
                contact: a.contact.clone(),
                notes: a.notes.clone(),
            };
            entries.extend(calendar_entries(a.id, &a.event_name, &a.person, &details, &windows));
        }
        Ok(ics("Haven escorts", self.clock.now(), &entries))
    }
}

pub(super) async fn revoke_feeds(
    tx: &crate::services::work::Work<'_>,
    person: Uuid,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    ics_feed::Entity::update_many()
        .col_expr(ics_feed::Column::RevokedAt, sea_orm::sea_query::Expr::value(now))
        .filter(ics_feed::Column::PersonId.eq(person))
        .filter(ics_feed::Column::RevokedAt.is_null())
        .exec(&**tx)
        .await?;
    Ok(())
}

pub(super) fn calendar_entries(
    assignment: Uuid,
    event: &str,
    person: &str,
    d: &EscortDetails,
    windows: &[escort_window::Model],
) -> Vec<CalendarEntry> {
    windows
        .iter()
        .map(|w| CalendarEntry {
            uid: format!("{}-{}@haven", assignment.simple(), w.id.simple()),
            starts_at: w.starts_at,
            ends_at: w.ends_at,
            summary: format!("Escort {person} ({event})"),
            location: d.meeting_point.clone(),
            description: format!(
                "Meet {person} at {}.{}{}",
                d.meeting_point,
                if d.contact.is_empty() { String::new() } else { format!(" Reach them: {}.", d.contact) },
                if d.notes.is_empty() { String::new() } else { format!(" Notes: {}", d.notes) }
            ),
        })
        .collect()
}

#[async_trait::async_trait]
impl CalendarApi for Services {
    async fn renew_calendar_feed(&self, actor: &Actor) -> Result<String, AppError> {
        let me = actor.signed_in()?;
        let now = self.clock.now();
        let token = random_token();
        let tx = self.begin().await?;
        revoke_feeds(&tx, me, now).await?;
        ics_feed::Entity::insert(ics_feed::ActiveModel {
            id: Set(Uuid::new_v4()),
            person_id: Set(me),
            token_hash: Set(hash_token(&token)),
            created_at: Set(now),
            revoked_at: Set(None),
        })
        .exec(&*tx)
        .await?;
        tx.commit().await?;
        Ok(format!("{}/calendar/{token}.ics", self.public_url))
    }

    async fn revoke_calendar_feed(&self, actor: &Actor) -> Result<(), AppError> {
        let me = actor.signed_in()?;
        let tx = self.begin().await?;
        revoke_feeds(&tx, me, self.clock.now()).await?;
        tx.commit().await.map_err(AppError::from)
    }
}
