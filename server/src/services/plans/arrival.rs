//! Arrival alerts: when a person someone must be told about is admitted at the door.

use crate::db::entities::{alert_recipient, case, case_person, event, person};
use crate::mail::templates;
use crate::services::{Services, audit};
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
            .await?;
        let cases = case::Entity::find()
            .filter(case::Column::Id.is_in(links.iter().map(|l| l.case_id).collect::<Vec<_>>()))
            .filter(case::Column::EventId.eq(e.id))
            .filter(case::Column::Status.is_not_in([CaseStatus::Resolved.as_str(), CaseStatus::Closed.as_str()]))
            .all(db)
            .await?;
        let mut instructions = Vec::new();
        let tx = self.begin().await?;
        let mut told = false;
        for c in &cases {
            // Only the case's team (responders not involved in it) get its reference.
            let subject = self.cases().subject(c).await?;
            let team: Vec<Uuid> =
                self.cases().case_team(&*tx, e, Some((c, &subject))).await?.into_iter().map(|p| p.id).collect();
            for p in self.live_precautions(c.id).await? {
                let kind = PrecautionKind::parse(&p.kind);
                let d = self.details(&p).await?;
                if kind == Some(PrecautionKind::DoorInstruction) {
                    instructions.push(d.text.clone());
                }
                if kind != Some(PrecautionKind::ArrivalAlert) {
                    continue;
                }
                let recipients = alert_recipient::Entity::find()
                    .filter(alert_recipient::Column::PrecautionId.eq(p.id))
                    .all(&*tx)
                    .await?;
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
                    tx.notify_about(Some(c.id), r.person_id, "arrival_alert", &title, &body, &link).await?;
                    if let Some(email) = person::Entity::find_by_id(r.person_id).one(&*tx).await?.and_then(|p| p.email)
                    {
                        let link = if on_team { format!("{}{link}", self.public_url) } else { String::new() };
                        tx.mail(templates::arrival_alert(&email, &e.name, gate, &d.text, &link).about(c.id)).await?;
                    }
                    told = true;
                }
            }
        }
        if told {
            tx.audit(vec![
                audit::Entry::new(None, "plan.arrival_alerted", "person", person).with("event", e.id.to_string()),
            ])
            .await?;
        }
        tx.commit().await?;
        Ok(instructions)
    }
}
