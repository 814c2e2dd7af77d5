//! A shielded reporter: when filing, a reporter may ask that only the case's owner know
//! who they are. Every other responder of the case's team sees a code name wherever the
//! reporter would appear (the case page: reporter, contact detail, messages, history; an
//! escort's assignments and calendar), until they ask to know with a written reason. Each
//! one who came to know (by asking, or by becoming the case's owner) is a row the reporter
//! sees on their page: who, when and why. Deciders and appeal reviewers never see a
//! reporter at all (no decision view names one).

use super::{Services, Standing, Visible};
use crate::crypto::sealed;
use crate::db::entities::{case, person, reporter_reveal};
use crate::mail::templates;
use crate::services::audit;
use crate::services::work::Work;
use haven_app::api::{Actor, AppError, RevealView};
use haven_app::domain::{CaseReference, PlainText};
use rand::Rng as _;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

/// What the owner is told they became, in the reporter's list of who knows.
pub const BECAME_OWNER: &str = "Became the case's owner.";

/// "Reporter K7": a letter and a digit that cannot be misread.
pub fn code_name() -> String {
    const LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut rng = rand::thread_rng();
    let letter = LETTERS[rng.gen_range(0..LETTERS.len())] as char;
    format!("Reporter {letter}{}", rng.gen_range(2..=9))
}

impl super::Cases<'_> {
    /// Whether `viewer` may know who reported `c`: always, unless the reporter is
    /// shielded; then only the reporter, the case's owner and those who came to know.
    pub(crate) async fn knows_reporter(
        &self,
        db: &impl ConnectionTrait,
        c: &case::Model,
        viewer: Uuid,
    ) -> Result<bool, AppError> {
        if !c.reporter_shielded || c.reporter_id == viewer || c.owner_id == Some(viewer) {
            return Ok(true);
        }
        Ok(reporter_reveal::Entity::find()
            .filter(reporter_reveal::Column::CaseId.eq(c.id))
            .filter(reporter_reveal::Column::PersonId.eq(viewer))
            .one(db)
            .await?
            .is_some())
    }

    /// The reporter's name as staff who are not told who they are see it (an escort, say):
    /// the code name when shielded.
    pub(crate) fn reporter_as_staff_see_it(&self, c: &case::Model, reporter: &person::Model) -> String {
        match (&c.reporter_code, c.reporter_shielded) {
            (Some(code), true) => code.clone(),
            _ => reporter.display_name.clone(),
        }
    }

    /// The code name of a shielded case's reporter.
    pub(crate) fn code_of(&self, c: &case::Model) -> String {
        c.reporter_code.clone().unwrap_or_else(|| "The reporter".to_owned())
    }

    /// Who came to know who reported a shielded case, for its reporter (and its team).
    pub(crate) async fn reveals(&self, c: &case::Model, tz: &str) -> Result<Vec<RevealView>, AppError> {
        let db = &self.0.store.db;
        let rows = reporter_reveal::Entity::find()
            .filter(reporter_reveal::Column::CaseId.eq(c.id))
            .order_by_asc(reporter_reveal::Column::CreatedAt)
            .all(db)
            .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let key = self.0.data_key(db, c.id).await?;
        let mut out = Vec::new();
        for r in rows {
            let by = person::Entity::find_by_id(r.person_id).one(db).await?.map(|p| p.display_name).unwrap_or_default();
            out.push(RevealView {
                by,
                at: super::local_time(r.created_at, tz),
                reason: key.open_in(sealed::REVEAL_REASON, r.id, &r.reason_enc)?,
            });
        }
        Ok(out)
    }

    /// Records in `tx` that `person` came to know who reported the case, and why.
    pub(crate) async fn record_reveal(
        &self,
        tx: &Work<'_>,
        c: &case::Model,
        person: Uuid,
        reason: &str,
    ) -> Result<(), AppError> {
        let id = Uuid::new_v4();
        let key = tx.data_key(c.id).await?;
        reporter_reveal::Entity::insert(reporter_reveal::ActiveModel {
            id: Set(id),
            case_id: Set(c.id),
            person_id: Set(person),
            reason_enc: Set(key.seal_in(sealed::REVEAL_REASON, id, reason)),
            created_at: Set(tx.now),
        })
        .exec(&**tx)
        .await
        .map_err(|e| crate::services::conflict_or_internal(e, "you already know who reported this"))?;
        tx.audit(vec![audit::Entry::new(Some(person), "case.reporter_revealed", "case", c.id)]).await?;
        // The reporter hears there is news on their report (the mail says nothing of it).
        if let Some(email) = person::Entity::find_by_id(c.reporter_id).one(&**tx).await?.and_then(|p| p.email) {
            let event = crate::db::entities::event::Entity::find_by_id(c.event_id).one(&**tx).await?;
            let link = format!("{}/cases/{}", self.0.public_url, c.reference);
            let name = event.map(|e| e.name).unwrap_or_default();
            tx.mail(templates::case_news(&email, &name, &link)).await?;
        }
        Ok(())
    }
}

impl Services {
    /// A responder of a shielded case's team asks to know who reported it, saying why.
    pub(crate) async fn reveal_reporter_for(
        &self,
        actor: &Actor,
        reference: &CaseReference,
        reason: &str,
    ) -> Result<(), AppError> {
        let v: Visible = self.cases().team_case(actor, reference).await?;
        debug_assert_eq!(v.standing, Standing::Team);
        let reason = PlainText::parse("reason", reason, 1, 2000)?;
        if !v.case.reporter_shielded {
            return Err(AppError::invalid("reason", "this report's reporter is not shielded"));
        }
        if self.cases().knows_reporter(&self.store.db, &v.case, v.person.id).await? {
            return Err(AppError::invalid("reason", "you already know who reported this"));
        }
        let tx = self.begin().await?;
        self.cases().record_reveal(&tx, &v.case, v.person.id, reason.as_str()).await?;
        tx.commit().await.map_err(AppError::from)
    }
}
