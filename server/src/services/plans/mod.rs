//! Safety plans: precautions on a case, escorts' assignments (acknowledged, escalated
//! when not), the reporter's answer, calendar entries and feeds, in-app notifications,
//! and arrival alerts.
//!
//! Who sees what: the case's team sees and changes the plan; the reporter sees what
//! concerns them (escort times and place, arrangements) and answers; an escort sees only
//! their own assignments — who, when, where, how to reach them — never the case; alert
//! recipients are told an arrival and an instruction, never why.

mod arrival;
mod calendar;
mod escorts;
mod precautions;

use super::cases::local_time;
use super::{Services, audit};
use crate::crypto::sealed;
use crate::db::entities::{
    alert_recipient, case, escort_assignment, escort_window, event, person, plan_response, precaution,
};
use crate::mail::templates;
use chrono::{DateTime, Utc};
use haven_app::api::*;
use haven_app::domain::{EscortDetails, PrecautionKind, Role};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

/// What a precaution holds besides its windows, escorts and recipients (sealed).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct Details {
    #[serde(default)]
    escort: Option<EscortDetails>,
    /// Door instruction, arrival-alert instruction, or arrangement text.
    #[serde(default)]
    text: String,
}

/// Who may be told of an arrival: the event's staff of every kind.
pub(super) const ALERT_ROLES: &[Role] = &[Role::Responder, Role::Door, Role::Organizer, Role::Escort, Role::Admin];

pub(super) fn window_text(w: &escort_window::Model, tz: &str) -> String {
    let end = local_time(w.ends_at, tz);
    let end_time = end.rsplit(", ").next().unwrap_or(&end).to_owned();
    format!("{}–{}", local_time(w.starts_at, tz), end_time)
}

impl Services {
    /// Staff holding any of `roles` for the event who are not involved in case `c` (a
    /// recused responder is involved): whom the team may choose as an escort or tell of an
    /// arrival.
    pub(crate) async fn uninvolved_staff(
        &self,
        db: &impl ConnectionTrait,
        e: &event::Model,
        c: &case::Model,
        roles: &[Role],
    ) -> Result<Vec<person::Model>, AppError> {
        let subject = self.cases().subject(c).await?;
        let mut out = Vec::new();
        for p in self.plans().event_staff(db, e, roles).await? {
            if !self.involvement(db, &p).await?.in_case(c, &subject) {
                out.push(p);
            }
        }
        Ok(out)
    }

    async fn now_involved(
        &self,
        db: &impl ConnectionTrait,
        known: &mut HashMap<Uuid, Option<super::involvement::Involvement>>,
        person: Uuid,
        c: &case::Model,
        subject: &haven_app::domain::PersonDescription,
    ) -> Result<bool, AppError> {
        if let std::collections::hash_map::Entry::Vacant(slot) = known.entry(person) {
            slot.insert(self.involvement_of(db, person).await?);
        }
        Ok(known[&person].as_ref().is_some_and(|i| i.in_case(c, subject)))
    }

    async fn details(&self, p: &precaution::Model) -> Result<Details, AppError> {
        let key = self.data_key(&self.store.db, p.case_id).await?;
        serde_json::from_str(&key.open_in(sealed::PRECAUTION_DETAILS, p.id, &p.details_enc)?)
            .map_err(|_| AppError::Internal)
    }

    async fn live_precautions(&self, case_id: Uuid) -> Result<Vec<precaution::Model>, AppError> {
        precaution::Entity::find()
            .filter(precaution::Column::CaseId.eq(case_id))
            .filter(precaution::Column::RemovedAt.is_null())
            .order_by_asc(precaution::Column::CreatedAt)
            .all(&self.store.db)
            .await
            .map_err(AppError::from)
    }

    async fn windows_of(&self, precautions: &[Uuid]) -> Result<Vec<escort_window::Model>, AppError> {
        escort_window::Entity::find()
            .filter(escort_window::Column::PrecautionId.is_in(precautions.to_vec()))
            .order_by_asc(escort_window::Column::StartsAt)
            .all(&self.store.db)
            .await
            .map_err(AppError::from)
    }

    async fn plan_response(&self, c: &case::Model, tz: &str) -> Result<Option<PlanResponseView>, AppError> {
        let latest = plan_response::Entity::find()
            .filter(plan_response::Column::CaseId.eq(c.id))
            .order_by_desc(plan_response::Column::CreatedAt)
            .one(&self.store.db)
            .await?;
        let key = self.data_key(&self.store.db, c.id).await?;
        latest
            .map(|r| {
                Ok(PlanResponseView {
                    answer: if r.answer == "accepted" { PlanAnswer::Accepted } else { PlanAnswer::ChangesRequested },
                    comment: r
                        .comment_enc
                        .as_ref()
                        .map(|s| key.open_in(sealed::PLAN_RESPONSE_COMMENT, r.id, s))
                        .transpose()?,
                    at: local_time(r.created_at, tz),
                })
            })
            .transpose()
    }
}

/// Plans as the other areas (and the plans' own use cases) reach them:
/// `services.plans()`.
pub struct Plans<'s>(&'s Services);

impl Services {
    pub(crate) fn plans(&self) -> Plans<'_> {
        Plans(self)
    }
}

impl Plans<'_> {
    /// People holding any of `roles` for the event (directly or organization-wide).
    pub(crate) async fn event_staff(
        &self,
        db: &impl ConnectionTrait,
        e: &event::Model,
        roles: &[Role],
    ) -> Result<Vec<person::Model>, AppError> {
        let rows = crate::services::authz::holders_at(e, roles).all(db).await?;
        let ids: Vec<Uuid> = rows.into_iter().map(|r| r.person_id).collect();
        let mut people = person::Entity::find().filter(person::Column::Id.is_in(ids)).all(db).await?;
        people.sort_by(|a, b| a.display_name.cmp(&b.display_name));
        Ok(people)
    }
    /// After someone became involved in case `case_id` (or a case related to it): ends
    /// their escort assignments and arrival alerts on those cases, and tells each case's
    /// owner (or its team) to plan again.
    pub(crate) async fn end_involved_duties(
        &self,
        tx: &crate::services::work::Work<'_>,
        case_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let db = &**tx;
        let Some(c) = case::Entity::find_by_id(case_id).one(db).await? else { return Ok(()) };
        let mut ids = vec![c.id];
        ids.extend(c.related_case_id);
        ids.extend(
            case::Entity::find().filter(case::Column::RelatedCaseId.eq(c.id)).all(db).await?.into_iter().map(|r| r.id),
        );
        let mut known: HashMap<Uuid, Option<super::involvement::Involvement>> = HashMap::new();
        for c in case::Entity::find().filter(case::Column::Id.is_in(ids)).all(db).await? {
            let subject = self.0.cases().subject(&c).await?;
            let mut ended = false;
            let precautions = precaution::Entity::find()
                .filter(precaution::Column::CaseId.eq(c.id))
                .filter(precaution::Column::RemovedAt.is_null())
                .all(db)
                .await?;
            let pids: Vec<Uuid> = precautions.iter().map(|p| p.id).collect();
            for a in escort_assignment::Entity::find()
                .filter(escort_assignment::Column::PrecautionId.is_in(pids.clone()))
                .filter(escort_assignment::Column::RemovedAt.is_null())
                .all(db)
                .await?
            {
                if !self.0.now_involved(db, &mut known, a.escort_id, &c, &subject).await? {
                    continue;
                }
                escort_assignment::Entity::update(escort_assignment::ActiveModel {
                    id: Set(a.id),
                    removed_at: Set(Some(now)),
                    ..Default::default()
                })
                .exec(db)
                .await?;
                tx.audit(vec![
                    audit::Entry::new(None, "plan.assignment_ended", "escort_assignment", a.id).with("why", "involved"),
                ])
                .await?;
                ended = true;
            }
            for r in alert_recipient::Entity::find()
                .filter(alert_recipient::Column::PrecautionId.is_in(pids))
                .all(db)
                .await?
            {
                if !self.0.now_involved(db, &mut known, r.person_id, &c, &subject).await? {
                    continue;
                }
                alert_recipient::Entity::delete_by_id(r.id).exec(db).await?;
                tx.audit(vec![
                    audit::Entry::new(None, "plan.alert_recipient_ended", "precaution", r.precaution_id)
                        .with("why", "involved"),
                ])
                .await?;
                ended = true;
            }
            if !ended {
                continue;
            }
            let Some(e) = event::Entity::find_by_id(c.event_id).one(db).await? else { continue };
            let team = self.0.cases().case_team(db, &e, Some((&c, &subject))).await?;
            let link = format!("{}/cases/{}", self.0.public_url, c.reference);
            for member in team.into_iter().filter(|m| c.owner_id.is_none_or(|o| o == m.id)) {
                if let Some(email) = &member.email {
                    tx.mail(templates::team_duty_ended(email, &e.name, &link)).await?;
                }
                tx.notify(
                    member.id,
                    "duty_ended",
                    "Someone on a plan is now involved in its case",
                    &e.name,
                    &format!("/cases/{}", c.reference),
                )
                .await?;
            }
        }
        Ok(())
    }
    /// The plan as the case's team sees it.
    pub(crate) async fn plan_view(&self, c: &case::Model, e: &event::Model) -> Result<PlanView, AppError> {
        let db = &self.0.store.db;
        let tz = e.time_zone.as_str();
        let items = self.0.live_precautions(c.id).await?;
        let ids: Vec<Uuid> = items.iter().map(|p| p.id).collect();
        let windows = self.0.windows_of(&ids).await?;
        let assignments = escort_assignment::Entity::find()
            .filter(escort_assignment::Column::PrecautionId.is_in(ids.clone()))
            .filter(escort_assignment::Column::RemovedAt.is_null())
            .all(db)
            .await?;
        let recipients =
            alert_recipient::Entity::find().filter(alert_recipient::Column::PrecautionId.is_in(ids)).all(db).await?;
        let people: HashMap<Uuid, String> = person::Entity::find()
            .filter(
                person::Column::Id.is_in(
                    assignments
                        .iter()
                        .map(|a| a.escort_id)
                        .chain(recipients.iter().map(|r| r.person_id))
                        .collect::<Vec<_>>(),
                ),
            )
            .all(db)
            .await?
            .into_iter()
            .map(|p| (p.id, p.display_name))
            .collect();
        let mut precautions = Vec::new();
        for p in &items {
            let d = self.0.details(p).await?;
            let escort = d.escort.clone().unwrap_or_default();
            precautions.push(PrecautionView {
                id: p.id,
                kind: PrecautionKind::parse(&p.kind).unwrap_or(PrecautionKind::Arrangement),
                windows: windows.iter().filter(|w| w.precaution_id == p.id).map(|w| window_text(w, tz)).collect(),
                escorts: assignments
                    .iter()
                    .filter(|a| a.precaution_id == p.id)
                    .map(|a| AssignedEscort {
                        name: people.get(&a.escort_id).cloned().unwrap_or_default(),
                        acknowledged: a.acknowledged_at.is_some(),
                    })
                    .collect(),
                meeting_point: escort.meeting_point,
                contact: escort.contact,
                text: if d.escort.is_some() { escort.notes } else { d.text },
                recipients: recipients
                    .iter()
                    .filter(|r| r.precaution_id == p.id)
                    .filter_map(|r| people.get(&r.person_id).cloned())
                    .collect(),
                created: local_time(p.created_at, tz),
            });
        }
        let refs = |ps: Vec<person::Model>| {
            ps.into_iter().map(|p| PersonRef { id: p.id, name: p.display_name, email: p.email }).collect::<Vec<_>>()
        };
        Ok(PlanView {
            precautions,
            response: self.0.plan_response(c, tz).await?,
            escorts: refs(self.0.uninvolved_staff(db, e, c, &[Role::Escort]).await?),
            staff: refs(self.0.uninvolved_staff(db, e, c, ALERT_ROLES).await?),
        })
    }
    /// What the reporter is told of the plan: escorts (when and where), that they will be
    /// told of an arrival, and the arrangements in the team's words. Not door instructions.
    pub(crate) async fn reporter_plan(
        &self,
        c: &case::Model,
        tz: &str,
    ) -> Result<(Vec<String>, Option<PlanResponseView>), AppError> {
        let items = self.0.live_precautions(c.id).await?;
        let windows = self.0.windows_of(&items.iter().map(|p| p.id).collect::<Vec<_>>()).await?;
        let mut lines = Vec::new();
        for p in &items {
            let d = self.0.details(p).await?;
            match PrecautionKind::parse(&p.kind) {
                Some(PrecautionKind::Escort) => {
                    let when: Vec<String> =
                        windows.iter().filter(|w| w.precaution_id == p.id).map(|w| window_text(w, tz)).collect();
                    let place = d.escort.map(|e| e.meeting_point).unwrap_or_default();
                    lines.push(format!("An escort will meet you at {place}: {}", when.join("; ")));
                }
                Some(PrecautionKind::ArrivalAlert) => {
                    lines.push("The team will be told at once if the person arrives.".to_owned());
                }
                Some(PrecautionKind::Arrangement) => lines.push(d.text),
                _ => {}
            }
        }
        lines.dedup();
        Ok((lines, self.0.plan_response(c, tz).await?))
    }
}
