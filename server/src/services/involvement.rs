//! The rule of involvement: who is a party to a case or a decision, whatever staff roles
//! they hold. Every area asks here; nobody writes the rule again.
//!
//! A person is *involved in a case* when they filed it, are linked to it as a person it
//! names, declared a conflict on it, are covered by a decision resting on it, are linked to
//! a related case (retaliation, false information) as its subject, or when its description
//! strongly matches them under any of their addresses.
//!
//! They are *involved in a decision* when it is about them (its person, or someone a
//! confirmed ban-evasion match brought under it), when they are involved in any case it
//! rests on, and — for deciding and reviewing only — when they proposed it (a proposing
//! responder keeps working the case).
//!
//! To an involved person a case, a proposal, a decision's reasons and an appeal's handling
//! exist only as their own part entitles them (a reporter sees their case as its reporter,
//! a person decided about sees the decision as its subject); staff roles add nothing.

use super::{Services, auth};
use crate::db::entities::{
    case, case_conflict, case_person, decision, decision_case, decision_proposal, decision_subject, identity, person,
};
use haven_app::api::AppError;
use haven_app::domain::PersonDescription;
use haven_app::domain::matching::{Candidate, match_person};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::HashSet;
use uuid::Uuid;

/// Why a decision is being looked at: seeing it, or deciding (recording, declining,
/// correcting, reviewing) it. A proposer is involved only in the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    See,
    Decide,
}

/// What one person is a party to, loaded once and asked many times.
#[derive(Debug, Clone)]
pub struct Involvement {
    pub person: Uuid,
    name: String,
    /// Their main address and every e-mail sign-in identity.
    addresses: Vec<String>,
    /// Cases they are a party to by record (everything but the description match).
    cases: HashSet<Uuid>,
    /// Decision histories (by root) about them or covering them.
    about: HashSet<Uuid>,
    /// Proposals they made.
    proposed: HashSet<Uuid>,
}

impl Involvement {
    /// Everything `person` is a party to by record.
    pub async fn load(db: &impl ConnectionTrait, person: &person::Model) -> Result<Involvement, AppError> {
        let me = person.id;
        let ids = |rows: Vec<Uuid>| rows.into_iter().collect::<HashSet<Uuid>>();
        let mut cases: HashSet<Uuid> = ids(case::Entity::find()
            .select_only()
            .column(case::Column::Id)
            .filter(case::Column::ReporterId.eq(me))
            .into_tuple()
            .all(db)
            .await?);
        cases.extend(
            case_conflict::Entity::find()
                .select_only()
                .column(case_conflict::Column::CaseId)
                .filter(case_conflict::Column::PersonId.eq(me))
                .into_tuple::<Uuid>()
                .all(db)
                .await?,
        );
        let linked: Vec<Uuid> = case_person::Entity::find()
            .select_only()
            .column(case_person::Column::CaseId)
            .filter(case_person::Column::PersonId.eq(me))
            .into_tuple()
            .all(db)
            .await?;
        cases.extend(linked.iter().copied());
        // Cases related to one that names them, in either direction.
        if !linked.is_empty() {
            for (id, related) in case::Entity::find()
                .select_only()
                .column(case::Column::Id)
                .column(case::Column::RelatedCaseId)
                .filter(
                    Condition::any()
                        .add(case::Column::Id.is_in(linked.clone()))
                        .add(case::Column::RelatedCaseId.is_in(linked.clone())),
                )
                .into_tuple::<(Uuid, Option<Uuid>)>()
                .all(db)
                .await?
            {
                cases.insert(id);
                cases.extend(related);
            }
        }
        // Decision histories about them, or that a confirmed match brought them under.
        let mut about: HashSet<Uuid> = ids(decision::Entity::find()
            .select_only()
            .column(decision::Column::RootId)
            .filter(decision::Column::PersonId.eq(me))
            .into_tuple()
            .all(db)
            .await?);
        let covering: Vec<Uuid> = decision_subject::Entity::find()
            .select_only()
            .column(decision_subject::Column::DecisionId)
            .filter(decision_subject::Column::PersonId.eq(me))
            .into_tuple()
            .all(db)
            .await?;
        if !covering.is_empty() {
            about.extend(
                decision::Entity::find()
                    .select_only()
                    .column(decision::Column::RootId)
                    .filter(decision::Column::Id.is_in(covering))
                    .into_tuple::<Uuid>()
                    .all(db)
                    .await?,
            );
        }
        // The cases those decisions rest on.
        if !about.is_empty() {
            let records: Vec<Uuid> = decision::Entity::find()
                .select_only()
                .column(decision::Column::Id)
                .filter(decision::Column::RootId.is_in(about.iter().copied().collect::<Vec<_>>()))
                .into_tuple()
                .all(db)
                .await?;
            cases.extend(
                decision_case::Entity::find()
                    .select_only()
                    .column(decision_case::Column::CaseId)
                    .filter(decision_case::Column::DecisionId.is_in(records))
                    .into_tuple::<Uuid>()
                    .all(db)
                    .await?,
            );
        }
        let proposed = ids(decision_proposal::Entity::find()
            .select_only()
            .column(decision_proposal::Column::Id)
            .filter(decision_proposal::Column::ProposedBy.eq(me))
            .into_tuple()
            .all(db)
            .await?);
        let mut addresses: Vec<String> = identity::Entity::find()
            .filter(identity::Column::PersonId.eq(me))
            .filter(identity::Column::Provider.eq(auth::EMAIL_PROVIDER))
            .all(db)
            .await?
            .into_iter()
            .map(|i| i.subject)
            .collect();
        addresses.extend(person.email.clone());
        Ok(Involvement { person: me, name: person.display_name.clone(), addresses, cases, about, proposed })
    }

    /// Whether a description strongly matches this person under any of their addresses
    /// (or by name alone, when they have none).
    pub fn described_by(&self, subject: &PersonDescription) -> bool {
        let strong = |email: Option<&str>| {
            match_person(subject, Candidate { name: &self.name, email }).iter().any(|r| r.is_strong())
        };
        if self.addresses.is_empty() {
            return strong(None);
        }
        self.addresses.iter().any(|a| strong(Some(a)))
    }

    /// Whether they are a party to case `c`, whose description is `subject`.
    pub fn in_case(&self, c: &case::Model, subject: &PersonDescription) -> bool {
        c.reporter_id == self.person || self.cases.contains(&c.id) || self.described_by(subject)
    }

    /// Whether a decision history (by root) is about them or covers them.
    pub fn about(&self, root: Uuid) -> bool {
        self.about.contains(&root)
    }

    /// Whether they made this proposal.
    pub fn proposed(&self, proposal: Uuid) -> bool {
        self.proposed.contains(&proposal)
    }
}

impl Services {
    /// What `person` is a party to.
    pub(crate) async fn involvement(
        &self,
        db: &impl ConnectionTrait,
        person: &person::Model,
    ) -> Result<Involvement, AppError> {
        Involvement::load(db, person).await
    }

    /// The same, by id; `None` when the person does not exist.
    pub(crate) async fn involvement_of(
        &self,
        db: &impl ConnectionTrait,
        person: Uuid,
    ) -> Result<Option<Involvement>, AppError> {
        match person::Entity::find_by_id(person).one(db).await? {
            Some(p) => Ok(Some(Involvement::load(db, &p).await?)),
            None => Ok(None),
        }
    }

    /// Whether `who` is involved in any of these cases (each opened for its description).
    pub(crate) async fn involved_in_cases(
        &self,
        db: &impl ConnectionTrait,
        who: &Involvement,
        cases: &[Uuid],
    ) -> Result<bool, AppError> {
        if cases.iter().any(|c| who.cases.contains(c)) {
            return Ok(true);
        }
        if cases.is_empty() {
            return Ok(false);
        }
        for c in case::Entity::find().filter(case::Column::Id.is_in(cases.to_vec())).all(db).await? {
            if who.in_case(&c, &self.cases().subject(&c).await?) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Whether `who` is involved in the decision history `d` belongs to, for `purpose`.
    pub(crate) async fn involved_in_decision(
        &self,
        db: &impl ConnectionTrait,
        who: &Involvement,
        d: &decision::Model,
        purpose: Purpose,
    ) -> Result<bool, AppError> {
        if who.about(d.root_id) {
            return Ok(true);
        }
        let chain = decision::Entity::find().filter(decision::Column::RootId.eq(d.root_id)).all(db).await?;
        if purpose == Purpose::Decide && chain.iter().any(|r| r.proposal_id.is_some_and(|p| who.proposed(p))) {
            return Ok(true);
        }
        let cases: Vec<Uuid> = decision_case::Entity::find()
            .select_only()
            .column(decision_case::Column::CaseId)
            .filter(decision_case::Column::DecisionId.is_in(chain.iter().map(|r| r.id).collect::<Vec<_>>()))
            .into_tuple()
            .all(db)
            .await?;
        self.involved_in_cases(db, who, &cases).await
    }

    /// Whether `who` may not decide proposal `p`: it is about them, they made it, or they
    /// are involved in a case it would rest on (its own and the further ones named).
    pub(crate) async fn involved_in_proposal(
        &self,
        db: &impl ConnectionTrait,
        who: &Involvement,
        p: &decision_proposal::Model,
        further: &[String],
    ) -> Result<bool, AppError> {
        if p.person_id == who.person || who.proposed(p.id) {
            return Ok(true);
        }
        let mut cases = vec![p.case_id];
        if !further.is_empty() {
            cases.extend(
                case::Entity::find()
                    .select_only()
                    .column(case::Column::Id)
                    .filter(case::Column::Reference.is_in(further.to_vec()))
                    .into_tuple::<Uuid>()
                    .all(db)
                    .await?,
            );
        }
        self.involved_in_cases(db, who, &cases).await
    }
}
