//! Arrival alerts: when a person someone must be told about is admitted at the door.

use crate::db::entities::{alert_recipient, case, case_person, event, person};
use crate::mail::templates;
use crate::services::{Services, audit, internal};
use haven_app::api::*;
use haven_app::domain::{CaseStatus, PrecautionKind};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

impl Services {
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
