//! Cases: filing, the reporter's and the team's views, and the team's work.
//!
//! Who may see a case is decided here and nowhere else:
//! - its reporter sees their own case (without the team's notes);
//! - a responder of the case's event sees it, unless involved in it (`involvement`: they
//!   declared a conflict, are the person it names by link, address or name, are covered by
//!   a decision resting on it, or are named in a related case): then they are recused;
//! - for everyone else, the case does not exist (`NotFound`, exactly as for a reference
//!   that was never issued).
//!
//! Case text is sealed at rest (see `crypto::fields`); every team read of a narrative is
//! logged in `case_reads` and in the audit chain.

mod attachments;
mod filing;
mod queue;
mod shield;
mod team;
mod view;

pub use view::same_person;

pub use attachments::{ATTACHMENT_MAX_BYTES, ATTACHMENT_TOO_LARGE, Download};
pub(crate) use filing::forget_drafts;
pub use filing::{Filed, PHOTO_MAX_BYTES, PHOTO_TOO_LARGE, Upload};

use super::Services;
use crate::crypto::sealed;
use crate::db::entities::{case, event, person};
use crate::services::authz::{Caller, Grants};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use haven_app::api::{Actor, AppError};
use haven_app::domain::{CaseReference, PersonDescription, Role};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

/// How the caller stands to a case they may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Reporter,
    Team,
}

/// A case the caller may see, with its event.
pub struct Visible {
    pub case: case::Model,
    pub event: event::Model,
    pub standing: Standing,
    pub person: person::Model,
    /// What the caller's session may use of their roles.
    pub grants: Grants,
}

/// The cases area as the other areas (and the cases' own use cases) reach it:
/// `services.cases()`. What is here is all they may ask of it.
pub struct Cases<'s>(&'s Services);

impl Services {
    pub(crate) fn cases(&self) -> Cases<'_> {
        Cases(self)
    }
}

impl Cases<'_> {
    /// The person a case names, as the reporter described them.
    /// Nothing once the case is erased: the people linked to it by id still count for the
    /// rule of involvement, its description no longer.
    pub(crate) async fn subject(&self, c: &case::Model) -> Result<PersonDescription, AppError> {
        if c.erased_at.is_some() {
            return Ok(PersonDescription::default());
        }
        let key = self.0.data_key(&self.0.store.db, c.id).await?;
        let json = key.open_in(sealed::CASE_SUBJECT, c.id, &c.subject_enc)?;
        serde_json::from_str(&json).map_err(|_| AppError::Internal)
    }

    /// Finds a case the caller may see. Grants are loaded before the case, and every path
    /// that ends in "no" ends in the same `NotFound`.
    pub(crate) async fn visible_case(&self, actor: &Actor, reference: &CaseReference) -> Result<Visible, AppError> {
        let Caller { person: person_id, grants } = self.0.caller(actor).await?;
        let db = &self.0.store.db;
        let person = person::Entity::find_by_id(person_id).one(db).await?.ok_or(AppError::Unauthenticated)?;
        let c = case::Entity::find()
            .filter(case::Column::Reference.eq(reference.as_str()))
            .one(db)
            .await?
            .ok_or(AppError::NotFound)?;
        let e = event::Entity::find_by_id(c.event_id).one(db).await?.ok_or(AppError::NotFound)?;
        if c.reporter_id == person_id {
            return Ok(Visible { case: c, event: e, standing: Standing::Reporter, person, grants });
        }
        if grants.responds_for(&e) {
            let subject = self.subject(&c).await?;
            if !self.0.involvement(db, &person).await?.in_case(&c, &subject) {
                return Ok(Visible { case: c, event: e, standing: Standing::Team, person, grants });
            }
        }
        Err(AppError::NotFound)
    }

    /// A case the caller handles as a responder (reporters may not use team actions).
    pub(crate) async fn team_case(&self, actor: &Actor, reference: &CaseReference) -> Result<Visible, AppError> {
        let v = self.visible_case(actor, reference).await?;
        if v.standing != Standing::Team {
            return Err(AppError::NotFound);
        }
        Ok(v)
    }

    /// The responders of an event who are not involved in case `c` (the rule of
    /// involvement: a recused responder is one of them).
    pub(crate) async fn case_team(
        &self,
        db: &impl ConnectionTrait,
        e: &event::Model,
        c: Option<(&case::Model, &PersonDescription)>,
    ) -> Result<Vec<person::Model>, AppError> {
        let roles = super::authz::holders_at(e, &[Role::Responder]).all(db).await?;
        let mut ids: Vec<Uuid> = roles.into_iter().map(|r| r.person_id).collect();
        ids.sort();
        ids.dedup();
        let people = person::Entity::find().filter(person::Column::Id.is_in(ids)).all(db).await?;
        let mut team = Vec::new();
        for p in people {
            match c {
                Some((c, subject)) if self.0.involvement(db, &p).await?.in_case(c, subject) => {}
                _ => team.push(p),
            }
        }
        team.sort_by(|a, b| a.display_name.cmp(&b.display_name));
        Ok(team)
    }
}

/// A time as people at the event read it: "Sat 12 Jun 2027, 14:05".
pub fn local_time(at: DateTime<Utc>, tz: &str) -> String {
    let tz: Tz = tz.parse().unwrap_or(Tz::UTC);
    at.with_timezone(&tz).format("%a %-d %b %Y, %H:%M").to_string()
}
