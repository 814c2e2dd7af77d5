//! Appeals: the person decided about sees their decisions and appeals in writing (signed
//! in, or through the link in the notice) for 30 calendar days from the notice; someone
//! with the deciding role who took no part in the decision or its case decides; that
//! decision is final.

use super::{NewDecision, cases_of, kind_of, tz_of};
use crate::crypto::hash_token;
use crate::crypto::sealed;
use crate::db::entities::{
    appeal, audit_log, case, case_person, coverage_appeal, decision, decision_case, decision_proposal,
    decision_subject, event, organization,
};
use crate::services::authz::Caller;
use crate::services::authz::Grants;
use crate::services::involvement::{Involvement, Purpose};
use crate::services::{Services, audit};
use haven_app::api::AppealsApi;
use haven_app::api::{Actor, AppError, AppealLinkView, MyDecision};
use haven_app::domain::decision::{Details, Terms};
use haven_app::domain::{AppealOutcome, DecisionInput, DecisionKind, PlainText, RoleScope};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashSet;
use uuid::Uuid;

/// The refusal of an appeal after its deadline.
pub(super) fn appeal_closed(until: chrono::DateTime<chrono::Utc>, e: &event::Model) -> AppError {
    AppError::invalid(
        "decision",
        format!(
            "the time to appeal ended on {} ({}): appeals are accepted for 30 days from the notice",
            crate::services::cases::local_time(until, &e.time_zone),
            e.time_zone
        ),
    )
}

/// An appeal insert that hit the one-appeal rule is a second appeal, not a failure.
pub(super) fn once_only(err: sea_orm::DbErr) -> AppError {
    if matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) {
        AppError::invalid("decision", "has already been appealed: an appeal can be made once")
    } else {
        AppError::from(err)
    }
}

/// The event and organization of a decision.
async fn event_and_organization(
    db: &impl ConnectionTrait,
    d: &decision::Model,
) -> Result<(event::Model, organization::Model), AppError> {
    let e = event::Entity::find_by_id(d.event_id).one(db).await?.ok_or(AppError::Internal)?;
    let org = organization::Entity::find_by_id(d.organization_id).one(db).await?.ok_or(AppError::Internal)?;
    Ok((e, org))
}

/// How an appeal arrived.
#[derive(Clone, Copy)]
enum Via {
    SignedIn,
    Link,
}

impl Services {
    /// A decision as its person sees it; `covered` when the viewer is someone a confirmed
    /// flag brought under it (their own deadline, appeal and outcome).
    async fn my_decision(
        &self,
        db: &impl ConnectionTrait,
        d: &decision::Model,
        superseded: bool,
        covered: Option<&decision_subject::Model>,
    ) -> Result<MyDecision, AppError> {
        if let Some(s) = covered {
            return self.covered_decision(db, d, superseded, s).await;
        }
        let (e, org) = event_and_organization(db, d).await?;
        let appeal = appeal::Entity::find().filter(appeal::Column::RootId.eq(d.root_id)).one(db).await?;
        let now = self.clock.now();
        let can_appeal =
            !superseded && appeal.is_none() && d.appeal_id.is_none() && d.appeal_until.is_some_and(|u| now <= u);
        Ok(MyDecision {
            id: d.id,
            organization: org.name,
            event_name: e.name.clone(),
            summary: self.decision_summary(d, &e).await,
            decided: crate::services::cases::local_time(d.decided_at, &e.time_zone),
            appeal_until: d
                .appeal_until
                .map(|u| format!("{} ({})", crate::services::cases::local_time(u, &e.time_zone), e.time_zone)),
            can_appeal,
            appeal: match appeal {
                Some(a) => Some(self.appeal_view(&a, &e).await),
                None => None,
            },
            is_final: d.appeal_id.is_some(),
            superseded,
        })
    }

    async fn covered_decision(
        &self,
        db: &impl ConnectionTrait,
        d: &decision::Model,
        superseded: bool,
        s: &decision_subject::Model,
    ) -> Result<MyDecision, AppError> {
        let (e, org) = event_and_organization(db, d).await?;
        let appeal = self.coverage_appeal_of(db, s).await?;
        let now = self.clock.now();
        let lifted = s.removed_at.is_some();
        let mut summary = self.decision_summary(d, &e).await;
        if lifted {
            summary.push_str(" (lifted on appeal: it no longer applies to you)");
        }
        Ok(MyDecision {
            id: d.id,
            organization: org.name,
            event_name: e.name.clone(),
            summary,
            decided: crate::services::cases::local_time(s.added_at, &e.time_zone),
            appeal_until: s
                .appeal_until
                .map(|u| format!("{} ({})", crate::services::cases::local_time(u, &e.time_zone), e.time_zone)),
            can_appeal: !superseded && !lifted && appeal.is_none() && s.appeal_until.is_some_and(|u| now <= u),
            is_final: appeal.as_ref().is_some_and(|a| a.outcome.is_some()),
            // Their own appeal only: the original person's appeal is that person's words.
            appeal: match appeal {
                Some(a) => Some(self.coverage_appeal_view(&a, &e).await),
                None => None,
            },
            superseded,
        })
    }

    pub(crate) fn appeal_token_hash(token: &str) -> Option<String> {
        let t = token.trim();
        (!t.is_empty() && t.len() <= 100 && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .then(|| hash_token(t))
    }

    async fn decision_by_token(&self, token: &str) -> Result<decision::Model, AppError> {
        let hash = Self::appeal_token_hash(token).ok_or(AppError::NotFound)?;
        decision::Entity::find()
            .filter(decision::Column::AppealTokenHash.eq(hash))
            .one(&self.store.db)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// One appeal per decision history, in writing, within the deadline, never against
    /// the final decision of an appeal.
    async fn file_appeal(&self, d: &decision::Model, text: &str, via: Via) -> Result<(), AppError> {
        let text = PlainText::parse("text", text, 1, 10_000).map_err(AppError::from)?;
        let now = self.clock.now();
        let e = event::Entity::find_by_id(d.event_id).one(&self.store.db).await?.ok_or(AppError::Internal)?;
        if d.appeal_id.is_some() {
            return Err(AppError::invalid(
                "decision",
                "is the decision on an appeal, which is final: it cannot be appealed",
            ));
        }
        let Some(until) = d.appeal_until else {
            return Err(AppError::invalid("decision", "cannot be appealed"));
        };
        if now > until {
            return Err(appeal_closed(until, &e));
        }
        let tx = self.begin().await?;
        let already = appeal::Entity::find().filter(appeal::Column::RootId.eq(d.root_id)).one(&*tx).await?;
        if already.is_some() {
            return Err(AppError::invalid("decision", "has already been appealed: an appeal can be made once"));
        }
        let head = self.chain_head(&*tx, d.root_id).await?;
        if head.as_ref().is_none_or(|h| h.id != d.id) {
            return Err(AppError::invalid("decision", "was replaced by a later decision: appeal that one"));
        }
        let id = Uuid::new_v4();
        appeal::Entity::insert(appeal::ActiveModel {
            id: Set(id),
            root_id: Set(d.root_id),
            decision_id: Set(d.id),
            person_id: Set(d.person_id),
            text_enc: Set(tx.data_key(d.root_id).await?.seal_in(sealed::APPEAL_TEXT, id, text.as_str())),
            filed_at: Set(now),
            via: Set(match via {
                Via::SignedIn => "signed_in",
                Via::Link => "link",
            }
            .into()),
            outcome: Set(None),
            decided_at: Set(None),
            outcome_decision_id: Set(None),
        })
        .exec(&*tx)
        .await
        .map_err(once_only)?;
        tx.audit(vec![
            audit::Entry::new(Some(d.person_id), "appeal.filed", "decision", d.id).with("appeal", id.to_string()),
        ])
        .await?;
        tx.commit().await.map_err(AppError::from)
    }

    /// Everyone who took part in a decision history or the cases it rests on: whoever
    /// proposed, decided, reported, is named, owns, or acted on or read the case (from the
    /// audit log).
    async fn participants(&self, db: &impl ConnectionTrait, head: &decision::Model) -> Result<HashSet<Uuid>, AppError> {
        let chain = decision::Entity::find().filter(decision::Column::RootId.eq(head.root_id)).all(db).await?;
        let chain_ids: Vec<Uuid> = chain.iter().map(|d| d.id).collect();
        let mut people: HashSet<Uuid> = chain.iter().flat_map(|d| [d.decided_by, d.person_id]).collect();
        let cases: Vec<Uuid> = decision_case::Entity::find()
            .filter(decision_case::Column::DecisionId.is_in(chain_ids.clone()))
            .all(db)
            .await?
            .into_iter()
            .map(|c| c.case_id)
            .collect();
        for c in case::Entity::find().filter(case::Column::Id.is_in(cases.clone())).all(db).await? {
            people.insert(c.reporter_id);
            people.extend(c.owner_id);
        }
        for p in case_person::Entity::find().filter(case_person::Column::CaseId.is_in(cases.clone())).all(db).await? {
            people.insert(p.person_id);
        }
        for p in decision_proposal::Entity::find()
            .filter(decision_proposal::Column::CaseId.is_in(cases.clone()))
            .all(db)
            .await?
        {
            people.insert(p.proposed_by);
            people.extend(p.resolved_by);
        }
        let subjects: Vec<Uuid> = cases.into_iter().chain(chain_ids).collect();
        // (subject type, subject id) is indexed.
        for a in audit_log::Entity::find()
            .filter(audit_log::Column::SubjectType.is_in(["case", "decision"]))
            .filter(audit_log::Column::SubjectId.is_in(subjects))
            .all(db)
            .await?
        {
            people.extend(a.actor_id);
        }
        Ok(people)
    }

    /// Why this decider may not decide an appeal on `head`, if they may not.
    pub(crate) async fn why_not_reviewer(
        &self,
        db: &impl ConnectionTrait,
        grants: &Grants,
        who: &Involvement,
        head: &decision::Model,
        e: &event::Model,
    ) -> Result<Option<String>, AppError> {
        if self.participants(db, head).await?.contains(&who.person)
            || self.involved_in_decision(db, who, head, Purpose::Decide).await?
        {
            return Ok(Some(
                "You took part in this decision or its case: someone who did not must decide this appeal.".into(),
            ));
        }
        let scope = if head.role.is_some() && head.role_event_id.is_none() {
            RoleScope::Organization
        } else {
            RoleScope::Event
        };
        if kind_of(head).needs_organization(scope) && !grants.manages_organization(e.organization_id) {
            return Ok(Some("This decision covers the whole organization: an organization-wide organizer or an administrator must decide the appeal.".into()));
        }
        if !self.may_decide_about(db, grants, e, head.person_id).await? {
            return Ok(Some(
                "This decision is about an administrator: another administrator must decide the appeal.".into(),
            ));
        }
        Ok(None)
    }
}

#[async_trait::async_trait]
impl AppealsApi for Services {
    async fn my_decisions(&self, actor: &Actor) -> Result<Vec<MyDecision>, AppError> {
        let me = actor.signed_in()?;
        let db = &self.store.db;
        let records = decision::Entity::find()
            .filter(decision::Column::PersonId.eq(me))
            .order_by_desc(decision::Column::DecidedAt)
            .all(db)
            .await?;
        // Decisions that cover the caller through a confirmed flag: the latest record.
        let mut covered: Vec<(decision::Model, decision_subject::Model)> = Vec::new();
        for s in decision_subject::Entity::find().filter(decision_subject::Column::PersonId.eq(me)).all(db).await? {
            let Some(d) = decision::Entity::find_by_id(s.decision_id).one(db).await? else {
                continue;
            };
            if let Some(head) = self.chain_head(db, d.root_id).await? {
                covered.push((head, s));
            }
        }
        let roots: Vec<Uuid> = records.iter().chain(covered.iter().map(|(d, _)| d)).map(|d| d.root_id).collect();
        let superseded: HashSet<Uuid> = decision::Entity::find()
            .filter(decision::Column::RootId.is_in(roots))
            .all(db)
            .await?
            .into_iter()
            .filter_map(|d| d.supersedes_id)
            .collect();
        let mut out = Vec::new();
        for d in records {
            out.push(self.my_decision(db, &d, superseded.contains(&d.id), None).await?);
        }
        for (d, s) in covered {
            out.push(self.my_decision(db, &d, superseded.contains(&d.id), Some(&s)).await?);
        }
        Ok(out)
    }

    async fn appeal_decision(&self, actor: &Actor, decision_id: Uuid, text: &str) -> Result<(), AppError> {
        let me = actor.signed_in()?;
        let d = decision::Entity::find_by_id(decision_id).one(&self.store.db).await?.ok_or(AppError::NotFound)?;
        if d.person_id == me {
            return self.file_appeal(&d, text, Via::SignedIn).await;
        }
        // Someone the decision covers appeals being covered.
        let s = self.coverage_of(&self.store.db, d.root_id, me).await?.ok_or(AppError::NotFound)?;
        self.file_coverage_appeal(&s, text, "signed_in").await
    }

    async fn appeal_link(&self, _actor: &Actor, token: &str) -> Result<AppealLinkView, AppError> {
        let db = &self.store.db;
        match self.decision_by_token(token).await {
            Ok(d) => {
                let head = self.chain_head(db, d.root_id).await?;
                let superseded = head.is_none_or(|h| h.id != d.id);
                Ok(AppealLinkView { decision: self.my_decision(db, &d, superseded, None).await? })
            }
            Err(AppError::NotFound) => {
                let s = self.coverage_by_token(token).await?;
                let d = decision::Entity::find_by_id(s.decision_id).one(db).await?;
                let head =
                    self.chain_head(db, d.ok_or(AppError::NotFound)?.root_id).await?.ok_or(AppError::NotFound)?;
                Ok(AppealLinkView { decision: self.my_decision(db, &head, false, Some(&s)).await? })
            }
            Err(e) => Err(e),
        }
    }

    async fn appeal_by_link(&self, _actor: &Actor, token: &str, text: &str) -> Result<(), AppError> {
        match self.decision_by_token(token).await {
            Ok(d) => self.file_appeal(&d, text, Via::Link).await,
            Err(AppError::NotFound) => {
                let s = self.coverage_by_token(token).await?;
                self.file_coverage_appeal(&s, text, "link").await
            }
            Err(e) => Err(e),
        }
    }

    async fn decide_appeal(
        &self,
        actor: &Actor,
        id: Uuid,
        outcome: &str,
        input: DecisionInput,
    ) -> Result<(), AppError> {
        let Caller { person: me, grants } = self.caller(actor).await?;
        let db = &self.store.db;
        let mine = self.decider(db, me).await?;
        let Some(a) = appeal::Entity::find_by_id(id).one(db).await? else {
            let covered = coverage_appeal::Entity::find_by_id(id).one(db).await?;
            let covered = covered.ok_or(AppError::NotFound)?;
            return self.decide_coverage_appeal(&mine, &grants, covered, outcome, &input.reasons).await;
        };
        let head = self.chain_head(db, a.root_id).await?.ok_or(AppError::NotFound)?;
        let e = event::Entity::find_by_id(head.event_id).one(db).await?.ok_or(AppError::NotFound)?;
        // To the person it is about (or anyone involved), its handling does not exist.
        if !grants.manages(&e) || self.involved_in_decision(db, &mine, &head, Purpose::See).await? {
            return Err(AppError::NotFound);
        }
        if a.outcome.is_some() {
            return Err(AppError::invalid("appeal", "was already decided, and that decision is final"));
        }
        if let Some(why) = self.why_not_reviewer(db, &grants, &mine, &head, &e).await? {
            return Err(AppError::invalid("appeal", why));
        }
        let outcome = AppealOutcome::parse("outcome", outcome).map_err(AppError::from)?;
        let now = self.clock.now();
        let reasons = PlainText::parse("reasons", &input.reasons, 1, 5000).map_err(AppError::from)?.into_string();
        let terms = match outcome {
            AppealOutcome::Upheld => Terms {
                kind: kind_of(&head),
                starts_at: head.starts_at,
                ends_at: head.ends_at,
                role: head.role.as_deref().and_then(|r| haven_app::domain::Role::parse("role", r).ok()).map(|r| {
                    (r, if head.role_event_id.is_some() { RoleScope::Event } else { RoleScope::Organization })
                }),
                details: self.decision_details(&head).await,
                reasons,
            },
            AppealOutcome::Lifted => Terms {
                kind: DecisionKind::Lifted,
                starts_at: None,
                ends_at: None,
                role: None,
                details: Details::default(),
                reasons,
            },
            AppealOutcome::Modified => {
                let terms = Terms::parse(&input, tz_of(&e), now, false).map_err(AppError::Invalid)?;
                self.may_decide(&grants, &e, &terms)?;
                terms
            }
        };
        let cases = cases_of(db, head.id).await?;
        let tx = self.begin().await?;
        let fresh = appeal::Entity::find_by_id(a.id).one(&*tx).await?;
        if fresh.is_none_or(|f| f.outcome.is_some()) {
            return Err(AppError::invalid("appeal", "was already decided, and that decision is final"));
        }
        if self.chain_head(&*tx, a.root_id).await?.is_none_or(|h| h.id != head.id) {
            return Err(AppError::invalid("appeal", "its decision changed meanwhile; reload and try again"));
        }
        let d = self
            .insert_decision(
                &tx,
                now,
                NewDecision {
                    event: &e,
                    person: head.person_id,
                    terms: &terms,
                    decided_by: me,
                    proposal: None,
                    cases,
                    supersedes: Some(&head),
                    appeal: Some(a.id),
                },
            )
            .await?;
        appeal::Entity::update(appeal::ActiveModel {
            id: Set(a.id),
            outcome: Set(Some(outcome.as_str().into())),
            decided_at: Set(Some(now)),
            outcome_decision_id: Set(Some(d.id)),
            ..Default::default()
        })
        .exec(&*tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
