//! Proposals: the case's team proposes a decision; a decider who is not involved records
//! or declines it.

use super::{claim_proposal, tz_of};
use crate::crypto::sealed;
use crate::db::entities::{case, case_person, decision_proposal, event};
use crate::services::authz::Caller;
use crate::services::authz::Grants;
use crate::services::involvement::Involvement;
use crate::services::{Services, audit};
use haven_app::api::ProposalsApi;
use haven_app::api::{Actor, AppError};
use haven_app::domain::CaseReference;
use haven_app::domain::{DecisionInput, DecisionKind, RoleScope, Terms};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

impl Services {
    pub(super) async fn proposal_parts(
        &self,
        id: Uuid,
    ) -> Result<(decision_proposal::Model, case::Model, event::Model), AppError> {
        let db = &self.store.db;
        let p = decision_proposal::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound)?;
        let c = case::Entity::find_by_id(p.case_id).one(db).await?.ok_or(AppError::NotFound)?;
        let e = event::Entity::find_by_id(c.event_id).one(db).await?.ok_or(AppError::NotFound)?;
        Ok((p, c, e))
    }

    /// The caller's involvement, loaded once for a decider's request.
    pub(crate) async fn decider(&self, db: &impl ConnectionTrait, me: Uuid) -> Result<Involvement, AppError> {
        self.involvement_of(db, me).await?.ok_or(AppError::Unauthenticated)
    }

    /// Decisions about an administrator of the organization need another administrator.
    pub(crate) async fn may_decide_about(
        &self,
        db: &impl ConnectionTrait,
        grants: &Grants,
        e: &event::Model,
        subject: Uuid,
    ) -> Result<bool, AppError> {
        if grants.is_admin(e.organization_id) {
            return Ok(true);
        }
        Ok(!Grants::load(db, Some(subject)).await?.is_admin(e.organization_id))
    }

    /// Whether a decider with these grants and this involvement may decide proposal `p`:
    /// they manage its event, are not involved in it, and (for an administrator as its
    /// subject) are an administrator.
    pub(super) async fn may_decide_proposal(
        &self,
        db: &impl ConnectionTrait,
        grants: &Grants,
        who: &Involvement,
        p: &decision_proposal::Model,
        input: &DecisionInput,
        e: &event::Model,
    ) -> Result<bool, AppError> {
        let further: Vec<String> = input.cases.split_whitespace().map(str::to_owned).collect();
        Ok(grants.manages(e)
            && !self.involved_in_proposal(db, who, p, &further).await?
            && self.may_decide_about(db, grants, e, p.person_id).await?)
    }

    /// Refuses (as not found) a proposal the caller may not decide.
    pub(super) async fn decidable_proposal(
        &self,
        grants: &Grants,
        me: Uuid,
        p: &decision_proposal::Model,
        e: &event::Model,
    ) -> Result<(), AppError> {
        let db = &self.store.db;
        let mine = self.decider(db, me).await?;
        let input: DecisionInput =
            serde_json::from_str(&self.open_sealed(db, sealed::PROPOSAL_TERMS, p.id, &p.terms_enc).await?)
                .map_err(|_| AppError::Internal)?;
        if !self.may_decide_proposal(db, grants, &mine, p, &input, e).await? {
            return Err(AppError::NotFound);
        }
        Ok(())
    }

    /// Whether anyone (an organizer of the event or organization, an administrator) may
    /// decide this proposal: someone uninvolved, with the authority its kind needs.
    pub(super) async fn has_uninvolved_decider(
        &self,
        db: &impl ConnectionTrait,
        p: &decision_proposal::Model,
        input: &DecisionInput,
        e: &event::Model,
    ) -> Result<bool, AppError> {
        let kind = DecisionKind::parse("kind", &p.kind).unwrap_or(DecisionKind::Other);
        let scope = if input.role_scope.trim() == "organization" { RoleScope::Organization } else { RoleScope::Event };
        for candidate in self
            .plans()
            .event_staff(db, e, &[haven_app::domain::Role::Organizer, haven_app::domain::Role::Admin])
            .await?
        {
            let grants = Grants::load(db, Some(candidate.id)).await?;
            if kind.needs_organization(scope) && !grants.manages_organization(e.organization_id) {
                continue;
            }
            let who = self.involvement(db, &candidate).await?;
            if self.may_decide_proposal(db, &grants, &who, p, input, e).await? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Checks the caller may record terms of this kind at this event.
    pub(super) fn may_decide(&self, grants: &Grants, e: &event::Model, terms: &Terms) -> Result<(), AppError> {
        if !grants.manages(e) {
            return Err(AppError::NotFound);
        }
        let scope = terms.role.map(|(_, s)| s).unwrap_or(RoleScope::Event);
        if terms.kind.needs_organization(scope) && !grants.manages_organization(e.organization_id) {
            return Err(AppError::invalid(
                "kind",
                "this covers the whole organization: only an organization-wide organizer or an administrator may record it",
            ));
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl ProposalsApi for Services {
    async fn propose_decision(
        &self,
        actor: &Actor,
        reference: &CaseReference,
        input: DecisionInput,
    ) -> Result<(), AppError> {
        let v = self.cases().team_case(actor, reference).await?;
        let now = self.clock.now();
        let person = Uuid::parse_str(input.person.trim())
            .map_err(|_| AppError::invalid("person", "choose a person linked to this case"))?;
        let linked = case_person::Entity::find()
            .filter(case_person::Column::CaseId.eq(v.case.id))
            .filter(case_person::Column::PersonId.eq(person))
            .one(&self.store.db)
            .await?;
        if linked.is_none() {
            return Err(AppError::invalid("person", "choose a person linked to this case"));
        }
        let terms = Terms::parse(&input, tz_of(&v.event), now, false).map_err(AppError::Invalid)?;
        // Further cases: each one the proposer handles, of this organization, naming this
        // person. Kept as references in the sealed terms.
        let mut further = Vec::new();
        for r in haven_app::domain::decision::parse_case_list(&input.cases).map_err(|e| AppError::Invalid(vec![e]))? {
            if r.as_str() == v.case.reference {
                continue;
            }
            let not_this =
                || AppError::invalid("cases", format!("{r} is not a case you handle that names this person"));
            let other = self.cases().team_case(actor, &r).await.map_err(|_| not_this())?;
            let names = case_person::Entity::find()
                .filter(case_person::Column::CaseId.eq(other.case.id))
                .filter(case_person::Column::PersonId.eq(person))
                .one(&self.store.db)
                .await?
                .is_some();
            if other.event.organization_id != v.event.organization_id || !names {
                return Err(not_this());
            }
            further.push(r.as_str().to_owned());
        }
        let input = DecisionInput { cases: further.join(" "), ..input };
        let id = Uuid::new_v4();
        let tx = self.begin().await?;
        // A double click, or two responders at once, makes one proposal, not two.
        let waiting = decision_proposal::Entity::find()
            .filter(decision_proposal::Column::CaseId.eq(v.case.id))
            .filter(decision_proposal::Column::PersonId.eq(person))
            .filter(decision_proposal::Column::Kind.eq(terms.kind.as_str()))
            .filter(decision_proposal::Column::Status.eq("open"))
            .one(&*tx)
            .await?;
        if waiting.is_some() {
            return Err(AppError::invalid("kind", "a proposal of this kind about this person is already waiting"));
        }
        decision_proposal::Entity::insert(decision_proposal::ActiveModel {
            id: Set(id),
            case_id: Set(v.case.id),
            person_id: Set(person),
            kind: Set(terms.kind.as_str().to_owned()),
            // The case's key while it waits; the decision's once decided (`record_decision`).
            terms_enc: Set(tx.data_key(v.case.id).await?.seal_in(
                sealed::PROPOSAL_TERMS,
                id,
                &serde_json::to_string(&input).map_err(|_| AppError::Internal)?,
            )),
            proposed_by: Set(v.person.id),
            proposed_at: Set(now),
            status: Set("open".into()),
            resolved_by: Set(None),
            resolved_at: Set(None),
            decision_id: Set(None),
        })
        .exec(&*tx)
        .await?;
        tx.audit(vec![
            audit::Entry::new(Some(v.person.id), "decision.proposed", "case", v.case.id)
                .with("proposal", id.to_string()),
        ])
        .await?;
        tx.commit().await.map_err(AppError::from)
    }

    async fn decline_proposal(&self, actor: &Actor, proposal: Uuid) -> Result<(), AppError> {
        let Caller { person: me, grants } = self.caller(actor).await?;
        let (p, c, e) = self.proposal_parts(proposal).await?;
        if !grants.manages(&e) {
            return Err(AppError::NotFound);
        }
        self.decidable_proposal(&grants, me, &p, &e).await?;
        let tx = self.begin().await?;
        let now = tx.now;
        claim_proposal(&tx, p.id, "declined", me, now).await?;
        tx.audit(vec![
            audit::Entry::new(Some(me), "decision.declined", "case", c.id).with("proposal", p.id.to_string()),
        ])
        .await?;
        tx.commit().await.map_err(AppError::from)
    }
}
