//! What the safety team does on a case, and messages both ways.

use super::{Services, Standing};
use crate::crypto::sealed;
use crate::db::entities::{
    case, case_conflict, case_message, case_note, case_person, case_status_change, case_witness, person,
};
use crate::mail::templates;
use crate::services::audit;
use haven_app::api::CasesApi;
use haven_app::api::{Actor, AppError};
use haven_app::domain::{CaseReference, CaseStatus, DisplayName, PlainText, Relation};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

const MESSAGE_MAX: usize = 5_000;

impl Services {
    async fn touch(
        &self,
        tx: &crate::services::work::Work<'_>,
        case_id: Uuid,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), AppError> {
        case::Entity::update(case::ActiveModel { id: Set(case_id), updated_at: Set(now), ..Default::default() })
            .exec(&**tx)
            .await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl CasesApi for Services {
    async fn send_message(&self, actor: &Actor, reference: &CaseReference, body: &str) -> Result<(), AppError> {
        let v = self.cases().visible_case(actor, reference).await?;
        let body = PlainText::parse("body", body, 1, MESSAGE_MAX)?;
        let now = self.clock.now();
        let from_team = v.standing == Standing::Team;
        let id = Uuid::new_v4();
        let tx = self.begin().await?;
        let key = tx.data_key(v.case.id).await?;
        case_message::Entity::insert(case_message::ActiveModel {
            id: Set(id),
            case_id: Set(v.case.id),
            author_id: Set(v.person.id),
            from_team: Set(from_team),
            body_enc: Set(key.seal_in(sealed::MESSAGE_BODY, id, body.as_str())),
            created_at: Set(now),
        })
        .exec(&*tx)
        .await?;
        self.touch(&tx, v.case.id, now).await?;
        tx.audit(vec![
            audit::Entry::new(Some(v.person.id), "case.message", "case", v.case.id).with("from_team", from_team),
        ])
        .await?;
        let link = format!("{}/cases/{}", self.public_url, v.case.reference);
        if from_team {
            let reporter = person::Entity::find_by_id(v.case.reporter_id).one(&*tx).await?;
            if let Some(email) = reporter.and_then(|p| p.email) {
                tx.mail(templates::case_news(&email, &v.event.name, &link)).await?;
            }
        } else {
            // The owner hears of it; without an owner, the whole (not recused) team.
            let subject = self.cases().subject(&v.case).await?;
            let team = self.cases().case_team(&*tx, &v.event, Some((&v.case, &subject))).await?;
            let to: Vec<_> = match v.case.owner_id {
                Some(owner) if team.iter().any(|p| p.id == owner) => {
                    team.into_iter().filter(|p| p.id == owner).collect()
                }
                _ => team,
            };
            for member in to {
                if let Some(email) = member.email {
                    tx.mail(templates::team_case_activity(&email, &v.event.name, &link)).await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn change_status(&self, actor: &Actor, reference: &CaseReference, to: CaseStatus) -> Result<(), AppError> {
        let v = self.cases().team_case(actor, reference).await?;
        let from = CaseStatus::parse("status", &v.case.status).map_err(|_| AppError::Internal)?;
        if v.case.erased_at.is_some() {
            return Err(AppError::invalid("status", "its text was erased: what is left cannot change"));
        }
        if !from.can_become(to) {
            return Err(AppError::invalid(
                "status",
                format!("a case that is {} cannot become {}", from.label(), to.label()),
            ));
        }
        let tx = self.begin().await?;
        let now = tx.now;
        // Only from the state this view was made in: two responders cannot both move it.
        let mut update = case::Entity::update_many()
            .col_expr(case::Column::Status, sea_orm::sea_query::Expr::value(to.as_str()))
            .col_expr(case::Column::UpdatedAt, sea_orm::sea_query::Expr::value(now))
            .filter(case::Column::Id.eq(v.case.id))
            .filter(case::Column::Status.eq(from.as_str()));
        if v.case.acknowledged_at.is_none() && to != CaseStatus::New {
            update = update.col_expr(case::Column::AcknowledgedAt, sea_orm::sea_query::Expr::value(now));
        }
        if update.exec(&*tx).await?.rows_affected != 1 {
            return Err(AppError::Conflict("the case changed meanwhile; reload and try again".into()));
        }
        if from.is_open() != to.is_open() {
            self.retention_after_status(&tx, &v.case, &v.event, to).await?;
        }
        case_status_change::Entity::insert(case_status_change::ActiveModel {
            id: Set(Uuid::new_v4()),
            case_id: Set(v.case.id),
            from_status: Set(Some(from.as_str().to_owned())),
            to_status: Set(to.as_str().to_owned()),
            actor_id: Set(Some(v.person.id)),
            at: Set(now),
        })
        .exec(&*tx)
        .await?;
        tx.audit(vec![
            audit::Entry::new(Some(v.person.id), "case.status", "case", v.case.id)
                .with("from", from.as_str())
                .with("to", to.as_str()),
        ])
        .await?;
        let reporter = person::Entity::find_by_id(v.case.reporter_id).one(&*tx).await?;
        if let Some(email) = reporter.and_then(|p| p.email) {
            let link = format!("{}/cases/{}", self.public_url, v.case.reference);
            tx.mail(templates::case_news(&email, &v.event.name, &link)).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn assign_owner(&self, actor: &Actor, reference: &CaseReference, person: &str) -> Result<(), AppError> {
        let v = self.cases().team_case(actor, reference).await?;
        let owner = if person.trim().is_empty() {
            v.person.id
        } else {
            Uuid::parse_str(person.trim()).map_err(|_| AppError::invalid("person", "choose someone from the team"))?
        };
        let subject = self.cases().subject(&v.case).await?;
        let team = self.cases().case_team(&self.store.db, &v.event, Some((&v.case, &subject))).await?;
        if !team.iter().any(|p| p.id == owner) {
            return Err(AppError::invalid("person", "the owner must be on this event's safety team and not recused"));
        }
        let tx = self.begin().await?;
        let now = tx.now;
        case::Entity::update(case::ActiveModel {
            id: Set(v.case.id),
            owner_id: Set(Some(owner)),
            updated_at: Set(now),
            ..Default::default()
        })
        .exec(&*tx)
        .await?;
        tx.audit(vec![
            audit::Entry::new(Some(v.person.id), "case.owner", "case", v.case.id).with("owner", owner.to_string()),
        ])
        .await?;
        // The owner of a shielded case knows who reported it; its reporter sees that they do.
        if v.case.reporter_shielded && !self.cases().knows_reporter(&*tx, &v.case, owner).await? {
            self.cases().record_reveal(&tx, &v.case, owner, super::shield::BECAME_OWNER).await?;
        }
        tx.commit().await.map_err(AppError::from)
    }

    async fn add_note(&self, actor: &Actor, reference: &CaseReference, body: &str) -> Result<(), AppError> {
        let v = self.cases().team_case(actor, reference).await?;
        let body = PlainText::parse("body", body, 1, MESSAGE_MAX)?;
        let now = self.clock.now();
        let id = Uuid::new_v4();
        let tx = self.begin().await?;
        let key = tx.data_key(v.case.id).await?;
        case_note::Entity::insert(case_note::ActiveModel {
            id: Set(id),
            case_id: Set(v.case.id),
            author_id: Set(v.person.id),
            body_enc: Set(key.seal_in(sealed::NOTE_BODY, id, body.as_str())),
            created_at: Set(now),
        })
        .exec(&*tx)
        .await?;
        self.touch(&tx, v.case.id, now).await?;
        tx.audit(vec![audit::Entry::new(Some(v.person.id), "case.note", "case", v.case.id)]).await?;
        tx.commit().await.map_err(AppError::from)
    }

    async fn add_witness(&self, actor: &Actor, reference: &CaseReference, fields: [&str; 3]) -> Result<(), AppError> {
        let v = self.cases().team_case(actor, reference).await?;
        let [name, contact, statement] = fields;
        let mut errors = Vec::new();
        let name = DisplayName::parse("name", name).map_err(|e| errors.push(e)).ok();
        let contact = PlainText::parse_optional("contact", contact, 300).map_err(|e| errors.push(e)).ok();
        let statement = PlainText::parse_optional("statement", statement, MESSAGE_MAX).map_err(|e| errors.push(e)).ok();
        let (Some(name), Some(contact), Some(statement)) = (name, contact, statement) else {
            return Err(AppError::Invalid(errors));
        };
        let details = serde_json::to_string(&(
            name.as_str(),
            contact.map(PlainText::into_string).unwrap_or_default(),
            statement.map(PlainText::into_string).unwrap_or_default(),
        ))
        .map_err(|_| AppError::Internal)?;
        let now = self.clock.now();
        let id = Uuid::new_v4();
        let tx = self.begin().await?;
        let key = tx.data_key(v.case.id).await?;
        case_witness::Entity::insert(case_witness::ActiveModel {
            id: Set(id),
            case_id: Set(v.case.id),
            added_by: Set(v.person.id),
            details_enc: Set(key.seal_in(sealed::WITNESS_DETAILS, id, &details)),
            created_at: Set(now),
        })
        .exec(&*tx)
        .await?;
        tx.audit(vec![audit::Entry::new(Some(v.person.id), "case.witness", "case", v.case.id)]).await?;
        tx.commit().await.map_err(AppError::from)
    }

    async fn confirm_match(&self, actor: &Actor, reference: &CaseReference, person_id: &str) -> Result<(), AppError> {
        let v = self.cases().team_case(actor, reference).await?;
        let person_id =
            Uuid::parse_str(person_id.trim()).map_err(|_| AppError::invalid("person", "choose one of the matches"))?;
        let subject = self.cases().subject(&v.case).await?;
        // Only someone the matching offered (a registration of this organization).
        if !self.candidates(&v.event, &subject, &[]).await?.iter().any(|c| c.person_id == person_id) {
            return Err(AppError::invalid("person", "choose one of the matches"));
        }
        let tx = self.begin().await?;
        let now = tx.now;
        let exists = case_person::Entity::find()
            .filter(case_person::Column::CaseId.eq(v.case.id))
            .filter(case_person::Column::PersonId.eq(person_id))
            .filter(case_person::Column::Role.eq("named"))
            .one(&*tx)
            .await?
            .is_some();
        if !exists {
            case_person::Entity::insert(case_person::ActiveModel {
                id: Set(Uuid::new_v4()),
                case_id: Set(v.case.id),
                person_id: Set(person_id),
                role: Set("named".into()),
                confirmed_by: Set(Some(v.person.id)),
                created_at: Set(now),
            })
            .exec(&*tx)
            .await?;
            tx.audit(vec![
                audit::Entry::new(Some(v.person.id), "case.person_linked", "case", v.case.id)
                    .with("person", person_id.to_string()),
            ])
            .await?;
            // The person named may be on its plan (an escort, told of an arrival).
            self.plans().end_involved_duties(&tx, v.case.id, now).await?;
            // The door's instructions and alerts follow the people a case names.
            tx.door_note(v.event.id).await?;
        }
        tx.door_changed();
        tx.commit().await?;
        Ok(())
    }

    async fn declare_conflict(&self, actor: &Actor, reference: &CaseReference) -> Result<(), AppError> {
        let v = self.cases().team_case(actor, reference).await?;
        let tx = self.begin().await?;
        let now = tx.now;
        case_conflict::Entity::insert(case_conflict::ActiveModel {
            id: Set(Uuid::new_v4()),
            case_id: Set(v.case.id),
            person_id: Set(v.person.id),
            declared_at: Set(now),
        })
        .exec(&*tx)
        .await?;
        if v.case.owner_id == Some(v.person.id) {
            case::Entity::update(case::ActiveModel { id: Set(v.case.id), owner_id: Set(None), ..Default::default() })
                .exec(&*tx)
                .await?;
        }
        tx.audit(vec![audit::Entry::new(Some(v.person.id), "case.conflict_declared", "case", v.case.id)]).await?;
        self.plans().end_involved_duties(&tx, v.case.id, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn relate_case(
        &self,
        actor: &Actor,
        reference: &CaseReference,
        earlier: &str,
        relation: &str,
    ) -> Result<(), AppError> {
        let v = self.cases().team_case(actor, reference).await?;
        let relation = Relation::parse("relation", relation)?;
        let unknown = || AppError::invalid("earlier", "no case with that reference that you handle");
        let earlier_ref = CaseReference::parse("earlier", earlier).map_err(|_| unknown())?;
        let earlier = self
            .visible_team_cases(&v.person, &v.grants, v.event.organization_id)
            .await?
            .into_iter()
            .map(|(c, _)| c)
            .find(|c| c.reference == earlier_ref.as_str())
            .ok_or_else(unknown)?;
        if earlier.id == v.case.id || earlier.created_at > v.case.created_at {
            return Err(AppError::invalid("earlier", "choose a case filed before this one"));
        }
        let tx = self.begin().await?;
        let now = tx.now;
        case::Entity::update(case::ActiveModel {
            id: Set(v.case.id),
            related_case_id: Set(Some(earlier.id)),
            relation: Set(Some(relation.as_str().to_owned())),
            updated_at: Set(now),
            ..Default::default()
        })
        .exec(&*tx)
        .await?;
        tx.audit(vec![
            audit::Entry::new(Some(v.person.id), "case.related", "case", v.case.id)
                .with("earlier", earlier.id.to_string())
                .with("relation", relation.as_str()),
        ])
        .await?;
        // People named in either case are now involved in both.
        self.plans().end_involved_duties(&tx, v.case.id, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn reveal_reporter(&self, actor: &Actor, reference: &CaseReference, reason: &str) -> Result<(), AppError> {
        self.reveal_reporter_for(actor, reference, reason).await
    }
}
