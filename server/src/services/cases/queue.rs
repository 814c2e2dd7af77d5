//! The team's queue, the responder's start page, acknowledgement reminders, and telling
//! a case's owner when someone matching its named person registers.

use super::view::same_person;
use super::{Services, local_time};
use crate::db::entities::{case, case_match_notice, event, person, registration};
use crate::mail::templates;
use crate::services::authz::Caller;
use haven_app::domain::Slug;

use haven_app::api::QueueApi;
use haven_app::api::{Actor, AppError, QueueRow, QueueView, RespondEvent, RespondHome};
use haven_app::domain::matching::{Candidate, match_person};
use haven_app::domain::{CaseKind, CaseStatus, Relation, Role};
use sea_orm::{ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

impl Services {
    /// Reminds the team of cases past their acknowledgement deadline, once per case.
    /// Returns how many cases it reminded about.
    pub async fn remind_overdue(&self) -> Result<usize, DbErr> {
        let now = self.clock.now();
        let overdue = case::Entity::find()
            .filter(case::Column::AcknowledgedAt.is_null())
            .filter(case::Column::ReminderSentAt.is_null())
            .filter(case::Column::AckDueAt.lt(now))
            .all(&self.store.db)
            .await?;
        let count = overdue.len();
        for c in overdue {
            let Some(e) = event::Entity::find_by_id(c.event_id).one(&self.store.db).await? else { continue };
            let Ok(subject) = self.cases().subject(&c).await else { continue };
            let tx = self.begin().await?;
            let claimed = case::Entity::update_many()
                .col_expr(case::Column::ReminderSentAt, sea_orm::sea_query::Expr::value(now))
                .filter(case::Column::Id.eq(c.id))
                .filter(case::Column::ReminderSentAt.is_null())
                .exec(&*tx)
                .await?
                .rows_affected
                == 1;
            if claimed {
                let link = format!("{}/respond/{}", self.public_url, e.slug);
                let team = self
                    .cases()
                    .case_team(&*tx, &e, Some((&c, &subject)))
                    .await
                    .map_err(|_| DbErr::Custom("team".into()))?;
                for member in team {
                    if let Some(email) = member.email {
                        tx.mail(templates::team_ack_overdue(&email, &e.name, &link)).await?;
                    }
                }
            }
            tx.commit().await?;
        }
        Ok(count)
    }
}

fn status(s: &str) -> CaseStatus {
    CaseStatus::parse("status", s).unwrap_or(CaseStatus::New)
}

#[async_trait::async_trait]
impl QueueApi for Services {
    async fn respond_home(&self, actor: &Actor) -> Result<RespondHome, AppError> {
        let Caller { person: person_id, grants } = self.caller(actor).await?;
        let db = &self.store.db;
        let me = person::Entity::find_by_id(person_id).one(db).await?.ok_or(AppError::Unauthenticated)?;
        let org_ids: Vec<Uuid> = grants.organizations(Some(Role::Responder));
        let events = event::Entity::find()
            .filter(event::Column::OrganizationId.is_in(org_ids.clone()))
            .order_by_desc(event::Column::StartsAt)
            .all(db)
            .await?;
        let mut visible = Vec::new();
        let mut orgs = org_ids;
        orgs.sort();
        orgs.dedup();
        for org in orgs {
            visible.extend(self.visible_team_cases(&me, &grants, org).await?);
        }
        let now = self.clock.now();
        Ok(RespondHome {
            events: events
                .into_iter()
                .filter(|e| grants.responds_for(e))
                .map(|e| {
                    let mine = visible.iter().filter(|(c, _)| c.event_id == e.id);
                    let open: Vec<_> = mine.filter(|(c, _)| status(&c.status).is_open()).collect();
                    RespondEvent {
                        open_cases: open.len() as u32,
                        overdue: open.iter().filter(|(c, _)| c.acknowledged_at.is_none() && c.ack_due_at < now).count()
                            as u32,
                        slug: e.slug,
                        name: e.name,
                    }
                })
                .collect(),
        })
    }

    async fn case_queue(&self, actor: &Actor, slug: &Slug, query: &str) -> Result<QueueView, AppError> {
        let Caller { person: person_id, grants } = self.caller(actor).await?;
        let db = &self.store.db;
        let me = person::Entity::find_by_id(person_id).one(db).await?.ok_or(AppError::Unauthenticated)?;
        let e = match self.events().event_by_slug(slug).await? {
            Some(e) if grants.responds_for(&e) => e,
            _ => return Err(AppError::NotFound),
        };
        let all = self.visible_team_cases(&me, &grants, e.organization_id).await?;
        let owners: std::collections::HashMap<Uuid, String> = person::Entity::find()
            .filter(person::Column::Id.is_in(all.iter().filter_map(|(c, _)| c.owner_id).collect::<Vec<_>>()))
            .all(db)
            .await?
            .into_iter()
            .map(|p| (p.id, p.display_name))
            .collect();
        let now = self.clock.now();
        let mut rows: Vec<QueueRow> = all
            .iter()
            .filter(|(c, _)| c.event_id == e.id)
            .map(|(c, subject)| QueueRow {
                reference: c.reference.clone(),
                kind: CaseKind::parse("kind", &c.kind).unwrap_or(CaseKind::Concern),
                status: status(&c.status),
                person: if c.erased_at.is_some() { "(erased)".to_owned() } else { subject.summary() },
                filed: local_time(c.created_at, &e.time_zone),
                acknowledge_by: local_time(c.ack_due_at, &e.time_zone),
                overdue: c.acknowledged_at.is_none() && c.ack_due_at < now,
                owner: c.owner_id.and_then(|o| owners.get(&o).cloned()),
                flag: c.relation.as_deref().and_then(|r| Relation::parse("r", r).ok()).map(|r| r.label().to_owned()),
                same_person: all.iter().filter(|(o, s)| o.id != c.id && same_person(subject, s)).count() as u32,
            })
            .collect();
        let query: String = query.trim().chars().take(100).collect();
        let needle = query.to_lowercase();
        if !needle.is_empty() {
            rows.retain(|r| {
                [Some(&r.reference), Some(&r.person), r.owner.as_ref()]
                    .into_iter()
                    .flatten()
                    .any(|text| text.to_lowercase().contains(&needle))
            });
        }
        // Overdue first, then open before closed, then oldest first.
        rows.sort_by_key(|r| (!r.overdue, !r.status.is_open(), r.status));
        Ok(QueueView { event_slug: e.slug, event_name: e.name, query, rows })
    }
}

impl super::Cases<'_> {
    /// After registrations are created: tells each open case's owner (or its team) when a
    /// new registration strongly matches the person the case names. Once per pair.
    pub async fn notice_matching_registrations(
        &self,
        new_regs: &[(registration::Model, Option<person::Model>)],
    ) -> Result<(), DbErr> {
        if new_regs.is_empty() {
            return Ok(());
        }
        let db = &self.0.store.db;
        // Each event and organization once: an import of 100,000 rows names one event.
        let event_ids: std::collections::BTreeSet<Uuid> = new_regs.iter().map(|(r, _)| r.event_id).collect();
        let events = event::Entity::find().filter(event::Column::Id.is_in(event_ids)).all(db).await?;
        let orgs: std::collections::BTreeSet<Uuid> = events.iter().map(|e| e.organization_id).collect();
        let org_events = event::Entity::find().filter(event::Column::OrganizationId.is_in(orgs)).all(db).await?;
        let open_cases = case::Entity::find()
            .filter(case::Column::EventId.is_in(org_events.iter().map(|e| e.id).collect::<Vec<_>>()))
            .filter(case::Column::Status.is_not_in([CaseStatus::Resolved.as_str(), CaseStatus::Closed.as_str()]))
            .all(db)
            .await?;
        let now = self.0.clock.now();
        for c in open_cases {
            let Ok(subject) = self.0.cases().subject(&c).await else { continue };
            let Some(case_event) = org_events.iter().find(|e| e.id == c.event_id) else { continue };
            for (r, p) in new_regs {
                let Some(p) = p else { continue };
                let same_org =
                    events.iter().any(|e| e.id == r.event_id && e.organization_id == case_event.organization_id);
                if !same_org || p.id == c.reporter_id {
                    continue;
                }
                let strong = match_person(&subject, Candidate { name: &p.display_name, email: p.email.as_deref() })
                    .iter()
                    .any(|m| m.is_strong());
                if !strong {
                    continue;
                }
                let tx = self.0.begin().await?;
                let inserted = case_match_notice::Entity::insert(case_match_notice::ActiveModel {
                    id: Set(Uuid::new_v4()),
                    case_id: Set(c.id),
                    registration_id: Set(r.id),
                    at: Set(now),
                })
                .on_conflict_do_nothing_on([
                    case_match_notice::Column::CaseId,
                    case_match_notice::Column::RegistrationId,
                ])
                .exec(&*tx)
                .await?;
                if matches!(inserted, sea_orm::TryInsertResult::Inserted(_)) {
                    let team = self
                        .case_team(&*tx, case_event, Some((&c, &subject)))
                        .await
                        .map_err(|_| DbErr::Custom("team".into()))?;
                    let to: Vec<_> = match c.owner_id {
                        Some(owner) if team.iter().any(|t| t.id == owner) => {
                            team.into_iter().filter(|t| t.id == owner).collect()
                        }
                        _ => team,
                    };
                    let link = format!("{}/cases/{}", self.0.public_url, c.reference);
                    for member in to {
                        if let Some(email) = member.email {
                            tx.mail(templates::team_possible_match(&email, &case_event.name, &link)).await?;
                        }
                    }
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }
}
