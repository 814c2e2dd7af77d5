//! Safety plans: precautions on a case, escorts' assignments (acknowledged, escalated
//! when not), the reporter's answer, calendar entries and feeds, in-app notifications,
//! and arrival alerts.
//!
//! Who sees what: the case's team sees and changes the plan; the reporter sees what
//! concerns them (escort times and place, arrangements) and answers; an escort sees only
//! their own assignments — who, when, where, how to reach them — never the case; alert
//! recipients are told an arrival and an instruction, never why.

use super::cases::{Visible, local_time, place};
use super::{Services, audit, internal};
use crate::crypto::{hash_token, looks_like_token, random_token};
use crate::db::WriteTx;
use crate::db::entities::{
    alert_recipient, case, case_person, escort_assignment, escort_window, event, ics_feed, notification, person,
    plan_response, precaution, staff_role,
};
use crate::mail::{Attachment, templates};
use chrono::{DateTime, Duration, Utc};
use haven_app::api::*;
use haven_app::domain::plan::{ics, parse_windows};
use haven_app::domain::{
    CalendarEntry, CaseStatus, EscortDetails, EventTimeZone, PlainText, PrecautionKind, Role, Window,
};
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

/// What a precaution holds besides its windows, escorts and recipients (sealed).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Details {
    #[serde(default)]
    escort: Option<EscortDetails>,
    /// Door instruction, arrival-alert instruction, or arrangement text.
    #[serde(default)]
    text: String,
}

/// Who may be told of an arrival: the event's staff of every kind.
const ALERT_ROLES: &[Role] = &[Role::Responder, Role::Door, Role::Organizer, Role::Escort, Role::Admin];

fn window_text(w: &escort_window::Model, tz: &str) -> String {
    let end = local_time(w.ends_at, tz);
    let end_time = end.rsplit(", ").next().unwrap_or(&end).to_owned();
    format!("{}–{}", local_time(w.starts_at, tz), end_time)
}

impl Services {
    /// People holding any of `roles` for the event (directly or organization-wide).
    pub(crate) async fn event_staff(
        &self,
        db: &impl ConnectionTrait,
        e: &event::Model,
        roles: &[Role],
    ) -> Result<Vec<person::Model>, AppError> {
        let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        let rows = staff_role::Entity::find()
            .filter(staff_role::Column::Role.is_in(names))
            .filter(staff_role::Column::OrganizationId.eq(e.organization_id))
            .filter(
                Condition::any().add(staff_role::Column::EventId.is_null()).add(staff_role::Column::EventId.eq(e.id)),
            )
            .filter(staff_role::Column::RevokedAt.is_null())
            .all(db)
            .await
            .map_err(internal)?;
        let ids: Vec<Uuid> = rows.into_iter().map(|r| r.person_id).collect();
        let mut people =
            person::Entity::find().filter(person::Column::Id.is_in(ids)).all(db).await.map_err(internal)?;
        people.sort_by(|a, b| a.display_name.cmp(&b.display_name));
        Ok(people)
    }

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
        let subject = self.subject(c)?;
        let mut out = Vec::new();
        for p in self.event_staff(db, e, roles).await? {
            if !self.involvement(db, &p).await?.in_case(c, &subject) {
                out.push(p);
            }
        }
        Ok(out)
    }

    /// After someone became involved in case `case_id` (or a case related to it): ends
    /// their escort assignments and arrival alerts on those cases, and tells each case's
    /// owner (or its team) to plan again.
    pub(crate) async fn end_involved_duties(
        &self,
        tx: &WriteTx,
        case_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let db = &**tx;
        let Some(c) = case::Entity::find_by_id(case_id).one(db).await.map_err(internal)? else { return Ok(()) };
        let mut ids = vec![c.id];
        ids.extend(c.related_case_id);
        ids.extend(
            case::Entity::find()
                .filter(case::Column::RelatedCaseId.eq(c.id))
                .all(db)
                .await
                .map_err(internal)?
                .into_iter()
                .map(|r| r.id),
        );
        let mut known: HashMap<Uuid, Option<super::involvement::Involvement>> = HashMap::new();
        for c in case::Entity::find().filter(case::Column::Id.is_in(ids)).all(db).await.map_err(internal)? {
            let subject = self.subject(&c)?;
            let mut ended = false;
            let precautions = precaution::Entity::find()
                .filter(precaution::Column::CaseId.eq(c.id))
                .filter(precaution::Column::RemovedAt.is_null())
                .all(db)
                .await
                .map_err(internal)?;
            let pids: Vec<Uuid> = precautions.iter().map(|p| p.id).collect();
            for a in escort_assignment::Entity::find()
                .filter(escort_assignment::Column::PrecautionId.is_in(pids.clone()))
                .filter(escort_assignment::Column::RemovedAt.is_null())
                .all(db)
                .await
                .map_err(internal)?
            {
                if !self.now_involved(db, &mut known, a.escort_id, &c, &subject).await? {
                    continue;
                }
                escort_assignment::Entity::update(escort_assignment::ActiveModel {
                    id: Set(a.id),
                    removed_at: Set(Some(now)),
                    ..Default::default()
                })
                .exec(db)
                .await
                .map_err(internal)?;
                audit::append(
                    tx,
                    now,
                    vec![
                        audit::Entry::new(None, "plan.assignment_ended", "escort_assignment", a.id)
                            .with("why", "involved"),
                    ],
                )
                .await
                .map_err(internal)?;
                ended = true;
            }
            for r in alert_recipient::Entity::find()
                .filter(alert_recipient::Column::PrecautionId.is_in(pids))
                .all(db)
                .await
                .map_err(internal)?
            {
                if !self.now_involved(db, &mut known, r.person_id, &c, &subject).await? {
                    continue;
                }
                alert_recipient::Entity::delete_by_id(r.id).exec(db).await.map_err(internal)?;
                audit::append(
                    tx,
                    now,
                    vec![
                        audit::Entry::new(None, "plan.alert_recipient_ended", "precaution", r.precaution_id)
                            .with("why", "involved"),
                    ],
                )
                .await
                .map_err(internal)?;
                ended = true;
            }
            if !ended {
                continue;
            }
            let Some(e) = event::Entity::find_by_id(c.event_id).one(db).await.map_err(internal)? else { continue };
            let team = self.case_team(db, &e, Some((&c, &subject))).await?;
            let link = format!("{}/cases/{}", self.public_url, c.reference);
            for member in team.into_iter().filter(|m| c.owner_id.is_none_or(|o| o == m.id)) {
                if let Some(email) = &member.email {
                    self.enqueue(tx, now, templates::team_duty_ended(email, &e.name, &link)).await.map_err(internal)?;
                }
                self.notify(
                    tx,
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

    fn details(&self, p: &precaution::Model) -> Result<Details, AppError> {
        serde_json::from_str(&self.open("precautions", "details_enc", p.id, &p.details_enc)?)
            .map_err(|_| AppError::Internal)
    }

    async fn live_precautions(&self, case_id: Uuid) -> Result<Vec<precaution::Model>, AppError> {
        precaution::Entity::find()
            .filter(precaution::Column::CaseId.eq(case_id))
            .filter(precaution::Column::RemovedAt.is_null())
            .order_by_asc(precaution::Column::CreatedAt)
            .all(&self.store.db)
            .await
            .map_err(internal)
    }

    async fn windows_of(&self, precautions: &[Uuid]) -> Result<Vec<escort_window::Model>, AppError> {
        escort_window::Entity::find()
            .filter(escort_window::Column::PrecautionId.is_in(precautions.to_vec()))
            .order_by_asc(escort_window::Column::StartsAt)
            .all(&self.store.db)
            .await
            .map_err(internal)
    }

    /// The plan as the case's team sees it.
    pub(crate) async fn plan_view(&self, c: &case::Model, e: &event::Model) -> Result<PlanView, AppError> {
        let db = &self.store.db;
        let tz = e.time_zone.as_str();
        let items = self.live_precautions(c.id).await?;
        let ids: Vec<Uuid> = items.iter().map(|p| p.id).collect();
        let windows = self.windows_of(&ids).await?;
        let assignments = escort_assignment::Entity::find()
            .filter(escort_assignment::Column::PrecautionId.is_in(ids.clone()))
            .filter(escort_assignment::Column::RemovedAt.is_null())
            .all(db)
            .await
            .map_err(internal)?;
        let recipients = alert_recipient::Entity::find()
            .filter(alert_recipient::Column::PrecautionId.is_in(ids))
            .all(db)
            .await
            .map_err(internal)?;
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
            .await
            .map_err(internal)?
            .into_iter()
            .map(|p| (p.id, p.display_name))
            .collect();
        let mut precautions = Vec::new();
        for p in &items {
            let d = self.details(p)?;
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
            response: self.plan_response(c, tz).await?,
            escorts: refs(self.uninvolved_staff(db, e, c, &[Role::Escort]).await?),
            staff: refs(self.uninvolved_staff(db, e, c, ALERT_ROLES).await?),
        })
    }

    async fn plan_response(&self, c: &case::Model, tz: &str) -> Result<Option<PlanResponseView>, AppError> {
        let latest = plan_response::Entity::find()
            .filter(plan_response::Column::CaseId.eq(c.id))
            .order_by_desc(plan_response::Column::CreatedAt)
            .one(&self.store.db)
            .await
            .map_err(internal)?;
        latest
            .map(|r| {
                Ok(PlanResponseView {
                    answer: if r.answer == "accepted" { PlanAnswer::Accepted } else { PlanAnswer::ChangesRequested },
                    comment: r
                        .comment_enc
                        .as_ref()
                        .map(|s| self.open("plan_responses", "comment_enc", r.id, s))
                        .transpose()?,
                    at: local_time(r.created_at, tz),
                })
            })
            .transpose()
    }

    /// What the reporter is told of the plan: escorts (when and where), that they will be
    /// told of an arrival, and the arrangements in the team's words. Not door instructions.
    pub(crate) async fn reporter_plan(
        &self,
        c: &case::Model,
        tz: &str,
    ) -> Result<(Vec<String>, Option<PlanResponseView>), AppError> {
        let items = self.live_precautions(c.id).await?;
        let windows = self.windows_of(&items.iter().map(|p| p.id).collect::<Vec<_>>()).await?;
        let mut lines = Vec::new();
        for p in &items {
            let d = self.details(p)?;
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
        Ok((lines, self.plan_response(c, tz).await?))
    }

    async fn add_precaution(
        &self,
        tx: &WriteTx,
        v: &Visible,
        kind: PrecautionKind,
        details: &Details,
    ) -> Result<Uuid, AppError> {
        let now = self.clock.now();
        let id = Uuid::new_v4();
        let json = serde_json::to_string(details).map_err(|_| AppError::Internal)?;
        precaution::Entity::insert(precaution::ActiveModel {
            id: Set(id),
            case_id: Set(v.case.id),
            kind: Set(kind.as_str().to_owned()),
            created_by: Set(v.person.id),
            created_at: Set(now),
            removed_at: Set(None),
            removed_by: Set(None),
            details_enc: Set(self.seal("precautions", "details_enc", id, &json)),
        })
        .exec(&**tx)
        .await
        .map_err(internal)?;
        audit::append(
            tx,
            now,
            vec![
                audit::Entry::new(Some(v.person.id), "plan.precaution_added", "case", v.case.id)
                    .with("precaution", id.to_string())
                    .with("kind", kind.as_str()),
            ],
        )
        .await
        .map_err(internal)?;
        // A plan moves an acknowledged or investigated case to "precautions planned".
        let status = CaseStatus::parse("status", &v.case.status).unwrap_or(CaseStatus::New);
        if status.can_become(CaseStatus::PrecautionsPlanned) && status.is_open() {
            case::Entity::update(case::ActiveModel {
                id: Set(v.case.id),
                status: Set(CaseStatus::PrecautionsPlanned.as_str().to_owned()),
                acknowledged_at: Set(Some(v.case.acknowledged_at.unwrap_or(now))),
                updated_at: Set(now),
                ..Default::default()
            })
            .exec(&**tx)
            .await
            .map_err(internal)?;
            crate::db::entities::case_status_change::Entity::insert(
                crate::db::entities::case_status_change::ActiveModel {
                    id: Set(Uuid::new_v4()),
                    case_id: Set(v.case.id),
                    from_status: Set(Some(status.as_str().to_owned())),
                    to_status: Set(CaseStatus::PrecautionsPlanned.as_str().to_owned()),
                    actor_id: Set(Some(v.person.id)),
                    at: Set(now),
                },
            )
            .exec(&**tx)
            .await
            .map_err(internal)?;
        }
        Ok(id)
    }

    fn pick_people(raw: &[String], allowed: &[person::Model], field: &str, what: &str) -> Result<Vec<Uuid>, AppError> {
        let mut ids = Vec::new();
        for r in raw.iter().filter(|r| !r.trim().is_empty()) {
            let id = Uuid::parse_str(r.trim())
                .map_err(|_| AppError::invalid(field, format!("choose {what} from the list")))?;
            if !allowed.iter().any(|p| p.id == id) {
                return Err(AppError::invalid(field, format!("choose {what} from the list")));
            }
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        if ids.is_empty() {
            return Err(AppError::invalid(field, format!("choose at least one of {what}")));
        }
        Ok(ids)
    }

    pub async fn add_escort(&self, actor: &Actor, reference: &str, input: &EscortInput) -> Result<(), AppError> {
        let v = self.team_case(actor, reference).await?;
        let e = &v.event;
        let tz = EventTimeZone::parse("tz", &e.time_zone).map_err(|_| AppError::Internal)?;
        let db = &self.store.db;
        let escorts_allowed = self.uninvolved_staff(db, e, &v.case, &[Role::Escort]).await?;
        let mut errors = Vec::new();
        let escorts = Self::pick_people(&input.escorts, &escorts_allowed, "escorts", "the event's escorts")
            .map_err(|e| {
                if let AppError::Invalid(mut x) = e {
                    errors.append(&mut x)
                }
            })
            .ok();
        let windows = parse_windows(
            tz,
            &[(&input.start_1, &input.end_1), (&input.start_2, &input.end_2), (&input.start_3, &input.end_3)],
            Window { starts_at: e.starts_at, ends_at: e.ends_at },
        )
        .map_err(|mut x| errors.append(&mut x))
        .ok();
        let details = EscortDetails::parse(&input.meeting_point, &input.contact, &input.notes)
            .map_err(|mut x| errors.append(&mut x))
            .ok();
        let (Some(escorts), Some(windows), Some(details)) = (escorts, windows, details) else {
            return Err(AppError::Invalid(errors));
        };
        let now = self.clock.now();
        let tx = self.store.write().await.map_err(internal)?;
        // No escort is in two places at once: check every live assignment of theirs.
        for escort in &escorts {
            let theirs = escort_assignment::Entity::find()
                .filter(escort_assignment::Column::EscortId.eq(*escort))
                .filter(escort_assignment::Column::RemovedAt.is_null())
                .all(&*tx)
                .await
                .map_err(internal)?;
            let live: Vec<Uuid> = precaution::Entity::find()
                .filter(precaution::Column::Id.is_in(theirs.iter().map(|a| a.precaution_id).collect::<Vec<_>>()))
                .filter(precaution::Column::RemovedAt.is_null())
                .all(&*tx)
                .await
                .map_err(internal)?
                .into_iter()
                .map(|p| p.id)
                .collect();
            let booked = escort_window::Entity::find()
                .filter(escort_window::Column::PrecautionId.is_in(live))
                .all(&*tx)
                .await
                .map_err(internal)?;
            for w in &windows {
                if let Some(clash) =
                    booked.iter().find(|b| Window { starts_at: b.starts_at, ends_at: b.ends_at }.overlaps(w))
                {
                    let name = escorts_allowed
                        .iter()
                        .find(|p| p.id == *escort)
                        .map(|p| p.display_name.clone())
                        .unwrap_or_default();
                    return Err(AppError::Conflict(format!(
                        "{name} is already escorting {}; choose another escort or time",
                        window_text(clash, &e.time_zone)
                    )));
                }
            }
        }
        let id = self
            .add_precaution(
                &tx,
                &v,
                PrecautionKind::Escort,
                &Details { escort: Some(details.clone()), text: String::new() },
            )
            .await?;
        let mut stored = Vec::new();
        for w in &windows {
            let wid = Uuid::new_v4();
            let model = escort_window::Model { id: wid, precaution_id: id, starts_at: w.starts_at, ends_at: w.ends_at };
            escort_window::Entity::insert(escort_window::ActiveModel::from(model.clone()))
                .exec(&*tx)
                .await
                .map_err(internal)?;
            stored.push(model);
        }
        let reporter = person::Entity::find_by_id(v.case.reporter_id)
            .one(&*tx)
            .await
            .map_err(internal)?
            .ok_or(AppError::Internal)?;
        for escort in &escorts {
            let aid = Uuid::new_v4();
            escort_assignment::Entity::insert(escort_assignment::ActiveModel {
                id: Set(aid),
                precaution_id: Set(id),
                escort_id: Set(*escort),
                created_at: Set(now),
                acknowledged_at: Set(None),
                escalated_at: Set(None),
                removed_at: Set(None),
            })
            .exec(&*tx)
            .await
            .map_err(internal)?;
            let Some(p) = escorts_allowed.iter().find(|p| p.id == *escort) else { continue };
            let entries = calendar_entries(aid, &e.name, &reporter.display_name, &details, &stored);
            let calendar = Attachment {
                name: "escort.ics".into(),
                content_type: "text/calendar; charset=utf-8; method=PUBLISH".into(),
                data: ics(&format!("Haven escorts · {}", e.name), now, &entries).into_bytes(),
            };
            let link = format!("{}/escort", self.public_url);
            if let Some(email) = &p.email {
                self.enqueue(&tx, now, templates::escort_assignment(email, &e.name, &link, calendar))
                    .await
                    .map_err(internal)?;
            }
            self.notify(
                &tx,
                p.id,
                "escort_assignment",
                &format!("A new escort assignment at {}", e.name),
                "Please acknowledge it.",
                "/escort",
            )
            .await?;
        }
        tx.commit().await.map_err(internal)?;
        self.mail_wake.notify_one();
        Ok(())
    }

    pub async fn add_arrival_alert(
        &self,
        actor: &Actor,
        reference: &str,
        recipients: &[String],
        instruction: &str,
    ) -> Result<(), AppError> {
        let v = self.team_case(actor, reference).await?;
        let staff = self.uninvolved_staff(&self.store.db, &v.event, &v.case, ALERT_ROLES).await?;
        let mut errors = Vec::new();
        let ids = Self::pick_people(recipients, &staff, "recipients", "the event's staff")
            .map_err(|e| {
                if let AppError::Invalid(mut x) = e {
                    errors.append(&mut x)
                }
            })
            .ok();
        let instruction = PlainText::parse_optional("instruction", instruction, 300).map_err(|e| errors.push(e)).ok();
        let (Some(ids), Some(instruction)) = (ids, instruction) else {
            return Err(AppError::Invalid(errors));
        };
        let tx = self.store.write().await.map_err(internal)?;
        let text = instruction.map(PlainText::into_string).unwrap_or_default();
        let id = self.add_precaution(&tx, &v, PrecautionKind::ArrivalAlert, &Details { escort: None, text }).await?;
        for person_id in ids {
            alert_recipient::Entity::insert(alert_recipient::ActiveModel {
                id: Set(Uuid::new_v4()),
                precaution_id: Set(id),
                person_id: Set(person_id),
            })
            .exec(&*tx)
            .await
            .map_err(internal)?;
        }
        super::door::note_door_change(&tx, v.event.id, self.clock.now()).await?;
        tx.commit().await.map_err(internal)?;
        self.door_changed();
        Ok(())
    }

    pub async fn add_text_precaution(
        &self,
        actor: &Actor,
        reference: &str,
        kind: PrecautionKind,
        text: &str,
    ) -> Result<(), AppError> {
        let v = self.team_case(actor, reference).await?;
        let (field, max) = match kind {
            PrecautionKind::DoorInstruction => ("instruction", 200),
            _ => ("text", 2000),
        };
        let text = PlainText::parse(field, text, 1, max)?;
        let tx = self.store.write().await.map_err(internal)?;
        self.add_precaution(&tx, &v, kind, &Details { escort: None, text: text.into_string() }).await?;
        if kind == PrecautionKind::DoorInstruction {
            super::door::note_door_change(&tx, v.event.id, self.clock.now()).await?;
        }
        if kind == PrecautionKind::Arrangement {
            let reporter = person::Entity::find_by_id(v.case.reporter_id).one(&*tx).await.map_err(internal)?;
            if let Some(email) = reporter.and_then(|p| p.email) {
                let link = format!("{}/cases/{}", self.public_url, v.case.reference);
                self.enqueue(&tx, self.clock.now(), templates::case_news(&email, &v.event.name, &link))
                    .await
                    .map_err(internal)?;
            }
        }
        tx.commit().await.map_err(internal)?;
        self.mail_wake.notify_one();
        self.door_changed();
        Ok(())
    }

    pub(crate) async fn remove_precaution(&self, actor: &Actor, reference: &str, id: &str) -> Result<(), AppError> {
        let v = self.team_case(actor, reference).await?;
        let id = Uuid::parse_str(id.trim()).map_err(|_| AppError::NotFound)?;
        let p = precaution::Entity::find_by_id(id)
            .filter(precaution::Column::CaseId.eq(v.case.id))
            .filter(precaution::Column::RemovedAt.is_null())
            .one(&self.store.db)
            .await
            .map_err(internal)?
            .ok_or(AppError::NotFound)?;
        let now = self.clock.now();
        let tx = self.store.write().await.map_err(internal)?;
        precaution::Entity::update(precaution::ActiveModel {
            id: Set(p.id),
            removed_at: Set(Some(now)),
            removed_by: Set(Some(v.person.id)),
            ..Default::default()
        })
        .exec(&*tx)
        .await
        .map_err(internal)?;
        escort_assignment::Entity::update_many()
            .col_expr(escort_assignment::Column::RemovedAt, sea_orm::sea_query::Expr::value(now))
            .filter(escort_assignment::Column::PrecautionId.eq(p.id))
            .filter(escort_assignment::Column::RemovedAt.is_null())
            .exec(&*tx)
            .await
            .map_err(internal)?;
        audit::append(
            &tx,
            now,
            vec![
                audit::Entry::new(Some(v.person.id), "plan.precaution_removed", "case", v.case.id)
                    .with("precaution", p.id.to_string()),
            ],
        )
        .await
        .map_err(internal)?;
        super::door::note_door_change(&tx, v.event.id, now).await?;
        tx.commit().await.map_err(internal)?;
        self.door_changed();
        Ok(())
    }

    pub(crate) async fn respond_to_plan(
        &self,
        actor: &Actor,
        reference: &str,
        answer: &str,
        comment: &str,
    ) -> Result<(), AppError> {
        let v = self.visible_case(actor, reference).await?;
        if v.standing != super::cases::Standing::Reporter {
            return Err(AppError::NotFound);
        }
        let answer = match answer.trim() {
            "accepted" => "accepted",
            "changes_requested" => "changes_requested",
            _ => return Err(AppError::invalid("answer", "accept the plan or ask for changes")),
        };
        let comment = PlainText::parse_optional("comment", comment, 2000)?;
        if answer == "changes_requested" && comment.is_none() {
            return Err(AppError::invalid("comment", "please say what should change"));
        }
        if self.live_precautions(v.case.id).await?.is_empty() {
            return Err(AppError::Conflict("there is no plan to answer yet".into()));
        }
        let now = self.clock.now();
        let id = Uuid::new_v4();
        let tx = self.store.write().await.map_err(internal)?;
        plan_response::Entity::insert(plan_response::ActiveModel {
            id: Set(id),
            case_id: Set(v.case.id),
            answer: Set(answer.to_owned()),
            comment_enc: Set(comment.map(|c| self.seal("plan_responses", "comment_enc", id, c.as_str()))),
            created_at: Set(now),
        })
        .exec(&*tx)
        .await
        .map_err(internal)?;
        audit::append(
            &tx,
            now,
            vec![audit::Entry::new(Some(v.person.id), "plan.answered", "case", v.case.id).with("answer", answer)],
        )
        .await
        .map_err(internal)?;
        let subject = self.subject(&v.case)?;
        let team = self.case_team(&*tx, &v.event, Some((&v.case, &subject))).await?;
        let link = format!("{}/cases/{}", self.public_url, v.case.reference);
        for member in team.into_iter().filter(|m| v.case.owner_id.is_none_or(|o| o == m.id)) {
            if let Some(email) = member.email {
                self.enqueue(&tx, now, templates::team_case_activity(&email, &v.event.name, &link))
                    .await
                    .map_err(internal)?;
            }
        }
        tx.commit().await.map_err(internal)?;
        self.mail_wake.notify_one();
        Ok(())
    }

    /// An escort's own live assignments.
    pub(crate) async fn my_assignments(&self, actor: &Actor) -> Result<MyAssignments, AppError> {
        let me = actor.person_id().ok_or(AppError::Unauthenticated)?;
        let db = &self.store.db;
        let mine = escort_assignment::Entity::find()
            .filter(escort_assignment::Column::EscortId.eq(me))
            .filter(escort_assignment::Column::RemovedAt.is_null())
            .all(db)
            .await
            .map_err(internal)?;
        let mut out = Vec::new();
        for a in mine {
            let Some(p) = precaution::Entity::find_by_id(a.precaution_id).one(db).await.map_err(internal)? else {
                continue;
            };
            if p.removed_at.is_some() {
                continue;
            }
            let Some(c) = case::Entity::find_by_id(p.case_id).one(db).await.map_err(internal)? else { continue };
            let Some(e) = event::Entity::find_by_id(c.event_id).one(db).await.map_err(internal)? else { continue };
            let reporter = person::Entity::find_by_id(c.reporter_id).one(db).await.map_err(internal)?;
            let details = self.details(&p)?.escort.unwrap_or_default();
            let windows = self.windows_of(&[p.id]).await?;
            out.push((
                windows.first().map(|w| w.starts_at),
                AssignmentView {
                    id: a.id,
                    event_name: e.name.clone(),
                    person: reporter.map(|r| r.display_name).unwrap_or_default(),
                    windows: windows.iter().map(|w| window_text(w, &e.time_zone)).collect(),
                    meeting_point: details.meeting_point,
                    contact: details.contact,
                    notes: details.notes,
                    acknowledged: a.acknowledged_at.is_some(),
                },
            ));
        }
        out.sort_by_key(|(start, _)| *start);
        let has_feed = ics_feed::Entity::find()
            .filter(ics_feed::Column::PersonId.eq(me))
            .filter(ics_feed::Column::RevokedAt.is_null())
            .one(db)
            .await
            .map_err(internal)?
            .is_some();
        Ok(MyAssignments { assignments: out.into_iter().map(|(_, a)| a).collect(), has_feed })
    }

    pub(crate) async fn acknowledge_assignment(&self, actor: &Actor, id: &str) -> Result<(), AppError> {
        let me = actor.person_id().ok_or(AppError::Unauthenticated)?;
        let id = Uuid::parse_str(id.trim()).map_err(|_| AppError::NotFound)?;
        let now = self.clock.now();
        let tx = self.store.write().await.map_err(internal)?;
        let a = escort_assignment::Entity::find_by_id(id)
            .filter(escort_assignment::Column::EscortId.eq(me))
            .filter(escort_assignment::Column::RemovedAt.is_null())
            .one(&*tx)
            .await
            .map_err(internal)?
            .ok_or(AppError::NotFound)?;
        if a.acknowledged_at.is_none() {
            escort_assignment::Entity::update(escort_assignment::ActiveModel {
                id: Set(a.id),
                acknowledged_at: Set(Some(now)),
                ..Default::default()
            })
            .exec(&*tx)
            .await
            .map_err(internal)?;
            audit::append(
                &tx,
                now,
                vec![audit::Entry::new(Some(me), "plan.assignment_acknowledged", "escort_assignment", a.id)],
            )
            .await
            .map_err(internal)?;
        }
        tx.commit().await.map_err(internal)
    }

    /// After `person` lost a role: ends their escort assignments at events where they are no
    /// longer an escort (so they stop seeing whom they were to escort, and how to reach
    /// them), and tells each case's owner (or its team) to plan another escort.
    pub(crate) async fn end_orphaned_assignments(
        &self,
        tx: &WriteTx,
        person: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let grants = crate::services::authz::Grants::load(&**tx, Some(person)).await.map_err(internal)?;
        let live = escort_assignment::Entity::find()
            .filter(escort_assignment::Column::EscortId.eq(person))
            .filter(escort_assignment::Column::RemovedAt.is_null())
            .all(&**tx)
            .await
            .map_err(internal)?;
        for a in live {
            let Some(p) = precaution::Entity::find_by_id(a.precaution_id).one(&**tx).await.map_err(internal)? else {
                continue;
            };
            let Some(c) = case::Entity::find_by_id(p.case_id).one(&**tx).await.map_err(internal)? else { continue };
            let Some(e) = event::Entity::find_by_id(c.event_id).one(&**tx).await.map_err(internal)? else { continue };
            if grants.has(Role::Escort, &e) {
                continue;
            }
            escort_assignment::Entity::update(escort_assignment::ActiveModel {
                id: Set(a.id),
                removed_at: Set(Some(now)),
                ..Default::default()
            })
            .exec(&**tx)
            .await
            .map_err(internal)?;
            audit::append(tx, now, vec![audit::Entry::new(None, "plan.assignment_ended", "escort_assignment", a.id)])
                .await
                .map_err(internal)?;
            if p.removed_at.is_some() {
                continue;
            }
            let subject = self.subject(&c)?;
            let team = self.case_team(&**tx, &e, Some((&c, &subject))).await?;
            let link = format!("{}/cases/{}", self.public_url, c.reference);
            for member in team.into_iter().filter(|m| c.owner_id.is_none_or(|o| o == m.id)) {
                if let Some(email) = &member.email {
                    self.enqueue(tx, now, templates::team_escort_gone(email, &e.name, &link))
                        .await
                        .map_err(internal)?;
                }
                self.notify(
                    tx,
                    member.id,
                    "escort_gone",
                    "An escort assignment has no escort any more",
                    &e.name,
                    &format!("/cases/{}", c.reference),
                )
                .await?;
            }
            self.mail_wake.notify_one();
        }
        Ok(())
    }

    /// Tells the case's owner (or its team) of assignments not acknowledged in time: a set
    /// time after they were made (`HAVEN_ESCORT_ACK_MINUTES`, two hours by default), or a
    /// set time before they start (`HAVEN_ESCORT_ACK_BEFORE_START_MINUTES`, half an hour),
    /// whichever is first.
    pub async fn escalate_unacknowledged(&self) -> Result<usize, DbErr> {
        let now = self.clock.now();
        let within = Duration::from_std(self.settings.escort_ack_within).unwrap_or(Duration::hours(2));
        let before_start = Duration::from_std(self.settings.escort_ack_before_start).unwrap_or(Duration::minutes(30));
        let waiting = escort_assignment::Entity::find()
            .filter(escort_assignment::Column::AcknowledgedAt.is_null())
            .filter(escort_assignment::Column::EscalatedAt.is_null())
            .filter(escort_assignment::Column::RemovedAt.is_null())
            .all(&self.store.db)
            .await?;
        let mut escalated = 0;
        for a in waiting {
            let windows = escort_window::Entity::find()
                .filter(escort_window::Column::PrecautionId.eq(a.precaution_id))
                .order_by_asc(escort_window::Column::StartsAt)
                .all(&self.store.db)
                .await?;
            let mut due = a.created_at + within;
            if let Some(first) = windows.first() {
                due = due.min(first.starts_at - before_start);
            }
            if now < due {
                continue;
            }
            let Some(p) = precaution::Entity::find_by_id(a.precaution_id).one(&self.store.db).await? else { continue };
            let Some(c) = case::Entity::find_by_id(p.case_id).one(&self.store.db).await? else { continue };
            let Some(e) = event::Entity::find_by_id(c.event_id).one(&self.store.db).await? else { continue };
            let tx = self.store.write().await?;
            let claimed = escort_assignment::Entity::update_many()
                .col_expr(escort_assignment::Column::EscalatedAt, sea_orm::sea_query::Expr::value(now))
                .filter(escort_assignment::Column::Id.eq(a.id))
                .filter(escort_assignment::Column::EscalatedAt.is_null())
                .exec(&*tx)
                .await?
                .rows_affected
                == 1;
            if claimed && p.removed_at.is_none() {
                let subject = self.subject(&c).map_err(|_| DbErr::Custom("subject".into()))?;
                let team =
                    self.case_team(&*tx, &e, Some((&c, &subject))).await.map_err(|_| DbErr::Custom("team".into()))?;
                let link = format!("{}/cases/{}", self.public_url, c.reference);
                for member in team.into_iter().filter(|m| c.owner_id.is_none_or(|o| o == m.id)) {
                    if let Some(email) = &member.email {
                        self.enqueue(&tx, now, templates::team_escort_unacknowledged(email, &e.name, &link)).await?;
                    }
                    self.notify(
                        &tx,
                        member.id,
                        "escort_unacknowledged",
                        "An escort assignment is not acknowledged",
                        &e.name,
                        &format!("/cases/{}", c.reference),
                    )
                    .await
                    .map_err(|_| DbErr::Custom("notify".into()))?;
                }
                escalated += 1;
            }
            tx.commit().await?;
        }
        if escalated > 0 {
            self.mail_wake.notify_one();
        }
        Ok(escalated)
    }

    /// Makes a new private calendar feed for the caller (ending any earlier one).
    pub(crate) async fn renew_calendar_feed(&self, actor: &Actor) -> Result<String, AppError> {
        let me = actor.person_id().ok_or(AppError::Unauthenticated)?;
        let now = self.clock.now();
        let token = random_token();
        let tx = self.store.write().await.map_err(internal)?;
        revoke_feeds(&tx, me, now).await?;
        ics_feed::Entity::insert(ics_feed::ActiveModel {
            id: Set(Uuid::new_v4()),
            person_id: Set(me),
            token_hash: Set(hash_token(&token)),
            created_at: Set(now),
            revoked_at: Set(None),
        })
        .exec(&*tx)
        .await
        .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        Ok(format!("{}/calendar/{token}.ics", self.public_url))
    }

    pub(crate) async fn revoke_calendar_feed(&self, actor: &Actor) -> Result<(), AppError> {
        let me = actor.person_id().ok_or(AppError::Unauthenticated)?;
        let tx = self.store.write().await.map_err(internal)?;
        revoke_feeds(&tx, me, self.clock.now()).await?;
        tx.commit().await.map_err(internal)
    }

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
            .await
            .map_err(internal)?
            .ok_or(AppError::NotFound)?;
        let actor = Actor {
            session: Some(ActorSession { person_id: feed.person_id, session_id: Uuid::nil() }),
            client: String::new(),
        };
        let db = &self.store.db;
        let mut entries = Vec::new();
        for a in self.my_assignments(&actor).await?.assignments {
            let Some(assignment) = escort_assignment::Entity::find_by_id(a.id).one(db).await.map_err(internal)? else {
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

    /// Adds an in-app notification for a person (sealed) and wakes their live streams.
    pub(crate) async fn notify(
        &self,
        tx: &WriteTx,
        person: Uuid,
        kind: &str,
        title: &str,
        body: &str,
        link: &str,
    ) -> Result<(), AppError> {
        let id = Uuid::new_v4();
        notification::Entity::insert(notification::ActiveModel {
            id: Set(id),
            person_id: Set(person),
            kind: Set(kind.to_owned()),
            title_enc: Set(self.keys.seal_str(&place("notifications", "title_enc", id), title)),
            body_enc: Set(self.keys.seal_str(&place("notifications", "body_enc", id), body)),
            link: Set(link.to_owned()),
            created_at: Set(self.clock.now()),
            read_at: Set(None),
        })
        .exec(&**tx)
        .await
        .map_err(internal)?;
        let _ = self.live.send(person);
        Ok(())
    }

    /// The caller's notifications, newest first (the latest 50).
    pub async fn notifications(&self, actor: &Actor) -> Result<Vec<NotificationView>, AppError> {
        let me = actor.person_id().ok_or(AppError::Unauthenticated)?;
        self.notifications_since(me, None).await
    }

    pub async fn notifications_since(
        &self,
        me: Uuid,
        after: Option<DateTime<Utc>>,
    ) -> Result<Vec<NotificationView>, AppError> {
        let mut q = notification::Entity::find().filter(notification::Column::PersonId.eq(me));
        if let Some(after) = after {
            q = q.filter(notification::Column::CreatedAt.gt(after));
        }
        let rows = sea_orm::QuerySelect::limit(q.order_by_desc(notification::Column::CreatedAt), 50)
            .all(&self.store.db)
            .await
            .map_err(internal)?;
        rows.into_iter()
            .map(|n| {
                Ok(NotificationView {
                    id: n.id,
                    title: self.open("notifications", "title_enc", n.id, &n.title_enc)?,
                    body: self.open("notifications", "body_enc", n.id, &n.body_enc)?,
                    kind: n.kind,
                    link: n.link,
                    at: n.created_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                    read: n.read_at.is_some(),
                })
            })
            .collect()
    }

    pub(crate) async fn mark_notifications_read(&self, actor: &Actor) -> Result<(), AppError> {
        let me = actor.person_id().ok_or(AppError::Unauthenticated)?;
        let tx = self.store.write().await.map_err(internal)?;
        notification::Entity::update_many()
            .col_expr(notification::Column::ReadAt, sea_orm::sea_query::Expr::value(self.clock.now()))
            .filter(notification::Column::PersonId.eq(me))
            .filter(notification::Column::ReadAt.is_null())
            .exec(&*tx)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)
    }

    /// Tells every recipient of the arrival alerts on open cases of this event that name
    /// `person` (a confirmed link) that they have just arrived at `gate`. Returns the
    /// door instructions for that person, for the scan answer.
    pub async fn arrival(&self, e: &event::Model, person: Uuid, gate: &str) -> Result<Vec<String>, AppError> {
        let db = &self.store.db;
        let links = case_person::Entity::find()
            .filter(case_person::Column::PersonId.eq(person))
            .filter(case_person::Column::Role.eq("named"))
            .all(db)
            .await
            .map_err(internal)?;
        let cases = case::Entity::find()
            .filter(case::Column::Id.is_in(links.iter().map(|l| l.case_id).collect::<Vec<_>>()))
            .filter(case::Column::EventId.eq(e.id))
            .filter(case::Column::Status.is_not_in([CaseStatus::Resolved.as_str(), CaseStatus::Closed.as_str()]))
            .all(db)
            .await
            .map_err(internal)?;
        let mut instructions = Vec::new();
        let now = self.clock.now();
        let tx = self.store.write().await.map_err(internal)?;
        let mut told = false;
        for c in &cases {
            // Only the case's team (responders not involved in it) get its reference.
            let subject = self.subject(c)?;
            let team: Vec<Uuid> =
                self.case_team(&*tx, e, Some((c, &subject))).await?.into_iter().map(|p| p.id).collect();
            for p in self.live_precautions(c.id).await? {
                let kind = PrecautionKind::parse(&p.kind);
                let d = self.details(&p)?;
                if kind == Some(PrecautionKind::DoorInstruction) {
                    instructions.push(d.text.clone());
                }
                if kind != Some(PrecautionKind::ArrivalAlert) {
                    continue;
                }
                let recipients = alert_recipient::Entity::find()
                    .filter(alert_recipient::Column::PrecautionId.eq(p.id))
                    .all(&*tx)
                    .await
                    .map_err(internal)?;
                // Never the arriving person, nor anyone else involved in the case.
                for r in recipients.into_iter().filter(|r| r.person_id != person) {
                    let Some(recipient) = self.involvement_of(&*tx, r.person_id).await? else { continue };
                    if recipient.in_case(c, &subject) {
                        continue;
                    }
                    let title = format!("Arrival at {gate}");
                    let body = if d.text.is_empty() { "Follow the agreed plan.".to_owned() } else { d.text.clone() };
                    let on_team = team.contains(&r.person_id);
                    let link = if on_team { format!("/cases/{}", c.reference) } else { "/notifications".to_owned() };
                    self.notify(&tx, r.person_id, "arrival_alert", &title, &body, &link).await?;
                    if let Some(email) =
                        person::Entity::find_by_id(r.person_id).one(&*tx).await.map_err(internal)?.and_then(|p| p.email)
                    {
                        let link = if on_team { format!("{}{link}", self.public_url) } else { String::new() };
                        self.enqueue(&tx, now, templates::arrival_alert(&email, &e.name, gate, &d.text, &link))
                            .await
                            .map_err(internal)?;
                    }
                    told = true;
                }
            }
        }
        if told {
            audit::append(
                &tx,
                now,
                vec![audit::Entry::new(None, "plan.arrival_alerted", "person", person).with("event", e.id.to_string())],
            )
            .await
            .map_err(internal)?;
        }
        tx.commit().await.map_err(internal)?;
        if told {
            self.mail_wake.notify_one();
            // Wake the live streams again now the notifications are committed.
            for c in &cases {
                for p in self.live_precautions(c.id).await? {
                    for r in alert_recipient::Entity::find()
                        .filter(alert_recipient::Column::PrecautionId.eq(p.id))
                        .all(db)
                        .await
                        .map_err(internal)?
                    {
                        let _ = self.live.send(r.person_id);
                    }
                }
            }
        }
        Ok(instructions)
    }
}

async fn revoke_feeds(tx: &WriteTx, person: Uuid, now: DateTime<Utc>) -> Result<(), AppError> {
    ics_feed::Entity::update_many()
        .col_expr(ics_feed::Column::RevokedAt, sea_orm::sea_query::Expr::value(now))
        .filter(ics_feed::Column::PersonId.eq(person))
        .filter(ics_feed::Column::RevokedAt.is_null())
        .exec(&**tx)
        .await
        .map_err(internal)?;
    Ok(())
}

fn calendar_entries(
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
