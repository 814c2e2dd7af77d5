//! Precautions on a case: escorts, arrival alerts, door instructions and arrangements;
//! the reporter's answer to the plan.

use super::calendar::calendar_entries;
use super::{ALERT_ROLES, Details, window_text};
use crate::crypto::sealed;
use crate::db::entities::{alert_recipient, case, escort_assignment, escort_window, person, plan_response, precaution};
use crate::mail::{Attachment, templates};
use crate::services::cases::Visible;
use crate::services::{Services, audit};
use haven_app::api::PlansApi;
use haven_app::api::*;
use haven_app::domain::CaseReference;
use haven_app::domain::plan::{ics, parse_windows};
use haven_app::domain::{CaseStatus, EscortDetails, EventTimeZone, PlainText, PrecautionKind, Role, Window};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

impl Services {
    pub(super) async fn add_precaution(
        &self,
        tx: &crate::services::work::Work<'_>,
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
            details_enc: Set(tx.data_key(v.case.id).await?.seal_in(sealed::PRECAUTION_DETAILS, id, &json)),
        })
        .exec(&**tx)
        .await?;
        tx.audit(vec![
            audit::Entry::new(Some(v.person.id), "plan.precaution_added", "case", v.case.id)
                .with("precaution", id.to_string())
                .with("kind", kind.as_str()),
        ])
        .await?;
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
            .await?;
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
            .await?;
        }
        Ok(id)
    }

    pub(super) fn pick_people(
        raw: &[String],
        allowed: &[person::Model],
        field: &str,
        what: &str,
    ) -> Result<Vec<Uuid>, AppError> {
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
}

#[async_trait::async_trait]
impl PlansApi for Services {
    async fn add_escort(&self, actor: &Actor, reference: &CaseReference, input: &EscortInput) -> Result<(), AppError> {
        let v = self.cases().team_case(actor, reference).await?;
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
        let tx = self.begin().await?;
        let now = tx.now;
        // No escort is in two places at once: check every live assignment of theirs.
        for escort in &escorts {
            let theirs = escort_assignment::Entity::find()
                .filter(escort_assignment::Column::EscortId.eq(*escort))
                .filter(escort_assignment::Column::RemovedAt.is_null())
                .all(&*tx)
                .await?;
            let live: Vec<Uuid> = precaution::Entity::find()
                .filter(precaution::Column::Id.is_in(theirs.iter().map(|a| a.precaution_id).collect::<Vec<_>>()))
                .filter(precaution::Column::RemovedAt.is_null())
                .all(&*tx)
                .await?
                .into_iter()
                .map(|p| p.id)
                .collect();
            let booked =
                escort_window::Entity::find().filter(escort_window::Column::PrecautionId.is_in(live)).all(&*tx).await?;
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
            escort_window::Entity::insert(escort_window::ActiveModel::from(model.clone())).exec(&*tx).await?;
            stored.push(model);
        }
        let reporter = person::Entity::find_by_id(v.case.reporter_id).one(&*tx).await?.ok_or(AppError::Internal)?;
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
            .await?;
            let Some(p) = escorts_allowed.iter().find(|p| p.id == *escort) else { continue };
            let shown = self.cases().reporter_as_staff_see_it(&v.case, &reporter);
            let entries = calendar_entries(aid, &e.name, &shown, &details, &stored);
            let calendar = Attachment {
                name: "escort.ics".into(),
                content_type: "text/calendar; charset=utf-8; method=PUBLISH".into(),
                data: ics(&format!("Haven escorts · {}", e.name), now, &entries).into_bytes(),
            };
            let link = format!("{}/escort", self.public_url);
            if let Some(email) = &p.email {
                tx.mail(templates::escort_assignment(email, &e.name, &link, calendar).about(v.case.id)).await?;
            }
            tx.notify(
                p.id,
                "escort_assignment",
                &format!("A new escort assignment at {}", e.name),
                "Please acknowledge it.",
                "/escort",
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn add_arrival_alert(
        &self,
        actor: &Actor,
        reference: &CaseReference,
        recipients: &[String],
        instruction: &str,
    ) -> Result<(), AppError> {
        let v = self.cases().team_case(actor, reference).await?;
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
        let tx = self.begin().await?;
        let text = instruction.map(PlainText::into_string).unwrap_or_default();
        let id = self.add_precaution(&tx, &v, PrecautionKind::ArrivalAlert, &Details { escort: None, text }).await?;
        for person_id in ids {
            alert_recipient::Entity::insert(alert_recipient::ActiveModel {
                id: Set(Uuid::new_v4()),
                precaution_id: Set(id),
                person_id: Set(person_id),
            })
            .exec(&*tx)
            .await?;
        }
        tx.door_note(v.event.id).await?;
        tx.door_changed();
        tx.commit().await?;
        Ok(())
    }

    async fn add_text_precaution(
        &self,
        actor: &Actor,
        reference: &CaseReference,
        kind: PrecautionKind,
        text: &str,
    ) -> Result<(), AppError> {
        let v = self.cases().team_case(actor, reference).await?;
        let (field, max) = match kind {
            PrecautionKind::DoorInstruction => ("instruction", 200),
            _ => ("text", 2000),
        };
        let text = PlainText::parse(field, text, 1, max)?;
        let tx = self.begin().await?;
        self.add_precaution(&tx, &v, kind, &Details { escort: None, text: text.into_string() }).await?;
        if kind == PrecautionKind::DoorInstruction {
            tx.door_note(v.event.id).await?;
        }
        if kind == PrecautionKind::Arrangement {
            let reporter = person::Entity::find_by_id(v.case.reporter_id).one(&*tx).await?;
            if let Some(email) = reporter.and_then(|p| p.email) {
                let link = format!("{}/cases/{}", self.public_url, v.case.reference);
                tx.mail(templates::case_news(&email, &v.event.name, &link)).await?;
            }
        }
        tx.door_changed();
        tx.commit().await?;
        Ok(())
    }

    async fn remove_precaution(&self, actor: &Actor, reference: &CaseReference, id: Uuid) -> Result<(), AppError> {
        let v = self.cases().team_case(actor, reference).await?;
        let p = precaution::Entity::find_by_id(id)
            .filter(precaution::Column::CaseId.eq(v.case.id))
            .filter(precaution::Column::RemovedAt.is_null())
            .one(&self.store.db)
            .await?
            .ok_or(AppError::NotFound)?;
        let tx = self.begin().await?;
        let now = tx.now;
        precaution::Entity::update(precaution::ActiveModel {
            id: Set(p.id),
            removed_at: Set(Some(now)),
            removed_by: Set(Some(v.person.id)),
            ..Default::default()
        })
        .exec(&*tx)
        .await?;
        escort_assignment::Entity::update_many()
            .col_expr(escort_assignment::Column::RemovedAt, sea_orm::sea_query::Expr::value(now))
            .filter(escort_assignment::Column::PrecautionId.eq(p.id))
            .filter(escort_assignment::Column::RemovedAt.is_null())
            .exec(&*tx)
            .await?;
        tx.audit(vec![
            audit::Entry::new(Some(v.person.id), "plan.precaution_removed", "case", v.case.id)
                .with("precaution", p.id.to_string()),
        ])
        .await?;
        tx.door_note(v.event.id).await?;
        tx.door_changed();
        tx.commit().await?;
        Ok(())
    }

    async fn respond_to_plan(
        &self,
        actor: &Actor,
        reference: &CaseReference,
        answer: &str,
        comment: &str,
    ) -> Result<(), AppError> {
        let v = self.cases().visible_case(actor, reference).await?;
        if v.standing != crate::services::cases::Standing::Reporter {
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
        let tx = self.begin().await?;
        let key = tx.data_key(v.case.id).await?;
        plan_response::Entity::insert(plan_response::ActiveModel {
            id: Set(id),
            case_id: Set(v.case.id),
            answer: Set(answer.to_owned()),
            comment_enc: Set(comment.map(|c| key.seal_in(sealed::PLAN_RESPONSE_COMMENT, id, c.as_str()))),
            created_at: Set(now),
        })
        .exec(&*tx)
        .await?;
        tx.audit(vec![audit::Entry::new(Some(v.person.id), "plan.answered", "case", v.case.id).with("answer", answer)])
            .await?;
        let subject = self.cases().subject(&v.case).await?;
        let team = self.cases().case_team(&*tx, &v.event, Some((&v.case, &subject))).await?;
        let link = format!("{}/cases/{}", self.public_url, v.case.reference);
        for member in team.into_iter().filter(|m| v.case.owner_id.is_none_or(|o| o == m.id)) {
            if let Some(email) = member.email {
                tx.mail(templates::team_case_activity(&email, &v.event.name, &link)).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}
