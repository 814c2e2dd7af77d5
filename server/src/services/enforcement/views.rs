//! What a case's team and deciders see of decisions and proposals.

use super::{cases_of, kind_of, names_of};
use crate::crypto::sealed;
use crate::db::entities::{appeal, case, case_person, decision, decision_case, decision_proposal, event, person};
use crate::services::Services;
use crate::services::authz::Caller;
use crate::services::authz::Grants;
use crate::services::involvement::Purpose;
use haven_app::api::DecisionViewsApi;
use haven_app::api::{Actor, AppError, AppealView, CaseDecisions, DecideHome, DecisionView, PersonRef, ProposalView};
use haven_app::domain::CaseReference;
use haven_app::domain::{DecisionInput, DecisionKind};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

impl Services {
    /// A decision as staff see it.
    pub(crate) async fn decision_view(
        &self,
        db: &impl ConnectionTrait,
        d: &decision::Model,
        e: &event::Model,
        superseded: bool,
        show_cases: bool,
    ) -> Result<DecisionView, AppError> {
        let names = names_of(db, &[d.person_id, d.decided_by]).await?;
        let cases = if show_cases {
            let ids = cases_of(db, d.id).await?;
            case::Entity::find()
                .filter(case::Column::Id.is_in(ids))
                .all(db)
                .await?
                .into_iter()
                .map(|c| c.reference)
                .collect()
        } else {
            Vec::new()
        };
        let appeal = appeal::Entity::find().filter(appeal::Column::RootId.eq(d.root_id)).one(db).await?;
        let appeal = match appeal {
            Some(a) => Some(self.appeal_view(&a, e).await),
            None => None,
        };
        Ok(DecisionView {
            id: d.id,
            person: names.get(&d.person_id).cloned().unwrap_or_default(),
            event_name: e.name.clone(),
            kind: kind_of(d),
            summary: self.staff_summary(d, e).await,
            decided_by: names.get(&d.decided_by).cloned().unwrap_or_default(),
            decided: crate::services::cases::local_time(d.decided_at, &e.time_zone),
            reasons: self.open_sealed(db, sealed::DECISION_REASONS, d.id, &d.reasons_enc).await?,
            cases,
            superseded,
            from_appeal: d.appeal_id.is_some(),
            appeal,
        })
    }

    pub(crate) async fn appeal_view(&self, a: &appeal::Model, e: &event::Model) -> AppealView {
        AppealView {
            id: a.id,
            filed: crate::services::cases::local_time(a.filed_at, &e.time_zone),
            text: self.open_sealed(&self.store.db, sealed::APPEAL_TEXT, a.id, &a.text_enc).await.unwrap_or_default(),
            outcome: a.outcome.as_deref().and_then(|o| haven_app::domain::AppealOutcome::parse("o", o).ok()).map(|o| {
                format!(
                    "{} ({})",
                    o.label(),
                    a.decided_at.map(|t| crate::services::cases::local_time(t, &e.time_zone)).unwrap_or_default()
                )
            }),
        }
    }

    pub(super) async fn proposal_view(
        &self,
        p: &decision_proposal::Model,
        c: &case::Model,
        e: &event::Model,
        names: &HashMap<Uuid, String>,
    ) -> Result<ProposalView, AppError> {
        let input: DecisionInput =
            serde_json::from_str(&self.open_sealed(&self.store.db, sealed::PROPOSAL_TERMS, p.id, &p.terms_enc).await?)
                .map_err(|_| AppError::Internal)?;
        let kind = DecisionKind::parse("kind", &p.kind).unwrap_or(DecisionKind::Other);
        let mut summary = kind.label().to_owned();
        for (label, value) in [
            ("from", &input.starts),
            ("until", &input.ends),
            ("role", &input.role),
            ("told", &input.authority),
            ("measure", &input.measure),
        ] {
            if !value.trim().is_empty() {
                summary.push_str(&format!(", {label} {}", value.trim().replace('T', " ")));
            }
        }
        Ok(ProposalView {
            id: p.id,
            case: c.reference.clone(),
            event_name: e.name.clone(),
            person: names.get(&p.person_id).cloned().unwrap_or_default(),
            person_id: p.person_id,
            summary,
            proposed_by: names.get(&p.proposed_by).cloned().unwrap_or_default(),
            proposed: crate::services::cases::local_time(p.proposed_at, &e.time_zone),
            input,
            status: p.status.clone(),
            time_zone: e.time_zone.clone(),
            no_decider: false,
        })
    }

    /// The events the caller decides for (organizer of the event or organization, admin).
    pub(super) async fn decided_events(&self, grants: &Grants) -> Result<Vec<event::Model>, AppError> {
        let orgs: Vec<Uuid> = grants.organizations(None);
        Ok(event::Entity::find()
            .filter(event::Column::OrganizationId.is_in(orgs))
            .all(&self.store.db)
            .await?
            .into_iter()
            .filter(|e| grants.manages(e))
            .collect())
    }
}

#[async_trait::async_trait]
impl DecisionViewsApi for Services {
    async fn case_decisions(&self, actor: &Actor, reference: &CaseReference) -> Result<CaseDecisions, AppError> {
        let v = self.cases().team_case(actor, reference).await?;
        let db = &self.store.db;
        let linked = case_person::Entity::find().filter(case_person::Column::CaseId.eq(v.case.id)).all(db).await?;
        let people = person::Entity::find()
            .filter(person::Column::Id.is_in(linked.iter().map(|l| l.person_id).collect::<Vec<_>>()))
            .all(db)
            .await?
            .into_iter()
            .map(|p| PersonRef { id: p.id, name: p.display_name, email: p.email })
            .collect();
        let proposals = decision_proposal::Entity::find()
            .filter(decision_proposal::Column::CaseId.eq(v.case.id))
            .order_by_desc(decision_proposal::Column::ProposedAt)
            .all(db)
            .await?;
        let mut ids: Vec<Uuid> = proposals.iter().flat_map(|p| [p.person_id, p.proposed_by]).collect();
        ids.dedup();
        let names = names_of(db, &ids).await?;
        let mut views = Vec::new();
        for p in &proposals {
            let mut view = self.proposal_view(p, &v.case, &v.event, &names).await?;
            if p.status == "open" {
                view.no_decider = !self.has_uninvolved_decider(db, p, &view.input, &v.event).await?;
            }
            views.push(view);
        }
        let proposals = views;
        let decision_ids: Vec<Uuid> = decision_case::Entity::find()
            .filter(decision_case::Column::CaseId.eq(v.case.id))
            .all(db)
            .await?
            .into_iter()
            .map(|d| d.decision_id)
            .collect();
        let records = decision::Entity::find()
            .filter(decision::Column::Id.is_in(decision_ids))
            .order_by_desc(decision::Column::DecidedAt)
            .all(db)
            .await?;
        let superseded: HashSet<Uuid> = records.iter().filter_map(|d| d.supersedes_id).collect();
        let mut decisions = Vec::new();
        for d in &records {
            decisions.push(self.decision_view(db, d, &v.event, superseded.contains(&d.id), true).await?);
        }
        Ok(CaseDecisions { people, proposals, decisions, time_zone: v.event.time_zone.clone() })
    }

    async fn decide_home(&self, actor: &Actor) -> Result<DecideHome, AppError> {
        let Caller { person: me, grants } = self.caller(actor).await?;
        let db = &self.store.db;
        let events = self.decided_events(&grants).await?;
        if events.is_empty() {
            return Err(AppError::NotFound);
        }
        let mine = self.decider(db, me).await?;
        let by_id: HashMap<Uuid, &event::Model> = events.iter().map(|e| (e.id, e)).collect();
        let cases = case::Entity::find()
            .filter(case::Column::EventId.is_in(by_id.keys().copied().collect::<Vec<_>>()))
            .all(db)
            .await?;
        let case_by_id: HashMap<Uuid, &case::Model> = cases.iter().map(|c| (c.id, c)).collect();
        let open = decision_proposal::Entity::find()
            .filter(decision_proposal::Column::CaseId.is_in(case_by_id.keys().copied().collect::<Vec<_>>()))
            .filter(decision_proposal::Column::Status.eq("open"))
            .order_by_asc(decision_proposal::Column::ProposedAt)
            .all(db)
            .await?;
        let ids: Vec<Uuid> = open.iter().flat_map(|p| [p.person_id, p.proposed_by]).collect();
        let names = names_of(db, &ids).await?;
        let mut proposals = Vec::new();
        for p in &open {
            let c = case_by_id[&p.case_id];
            let e = by_id[&c.event_id];
            let view = self.proposal_view(p, c, e, &names).await?;
            // A proposal the caller may not decide does not exist for them.
            if self.may_decide_proposal(db, &grants, &mine, p, &view.input, e).await? {
                proposals.push(view);
            }
        }
        // Decisions at these events, newest first; appeals waiting on them.
        let records = decision::Entity::find()
            .filter(decision::Column::EventId.is_in(by_id.keys().copied().collect::<Vec<_>>()))
            .order_by_desc(decision::Column::DecidedAt)
            .limit(200)
            .all(db)
            .await?;
        let superseded: HashSet<Uuid> = records.iter().filter_map(|d| d.supersedes_id).collect();
        let mut recent = Vec::new();
        for d in records.iter() {
            if recent.len() == 50 {
                break;
            }
            if self.involved_in_decision(db, &mine, d, Purpose::See).await? {
                continue;
            }
            recent.push(self.decision_view(db, d, by_id[&d.event_id], superseded.contains(&d.id), false).await?);
        }
        let waiting = appeal::Entity::find()
            .filter(appeal::Column::Outcome.is_null())
            .order_by_asc(appeal::Column::FiledAt)
            .all(db)
            .await?;
        let mut appeals = Vec::new();
        for a in waiting {
            let Some(head) = self.chain_head(db, a.root_id).await? else { continue };
            let Some(e) = by_id.get(&head.event_id) else { continue };
            if self.involved_in_decision(db, &mine, &head, Purpose::See).await? {
                continue;
            }
            let not_you = self.why_not_reviewer(db, &grants, &mine, &head, e).await?;
            appeals.push(haven_app::api::AppealToDecide {
                appeal: self.appeal_view(&a, e).await,
                decision: self.decision_view(db, &head, e, false, false).await?,
                not_you,
                time_zone: e.time_zone.clone(),
                covered: None,
            });
        }
        appeals.extend(self.coverage_appeals_to_decide(db, &grants, &mine, &by_id).await?);
        Ok(DecideHome { proposals, appeals, recent })
    }
}
