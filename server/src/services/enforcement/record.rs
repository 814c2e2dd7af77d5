//! Recording decisions: a new record (or a correction) and its effects, applied in the
//! transaction that records it, and the notice to the person decided about.

use super::{DOOR_KINDS, NewDecision, cases_of, claim_proposal, kind_of, tz_of};
use crate::crypto::sealed;
use crate::crypto::{hash_token, random_token};
use crate::db::entities::{
    appeal, badge, case, decision, decision_case, decision_proposal, event, organization, person, registration,
    staff_role,
};
use crate::mail::Mail;
use crate::services::authz::Caller;
use crate::services::involvement::Purpose;
use crate::services::{Services, audit};
use chrono::{DateTime, Utc};
use haven_app::api::DecisionsApi;
use haven_app::api::{Actor, AppError};
use haven_app::domain::badge::{Denial, DenyReason};
use haven_app::domain::decision::appeal_deadline;
use haven_app::domain::{DecisionInput, DecisionKind, RoleScope, Terms};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

impl Services {
    /// Records a decision and applies its effects, as part of `tx` (the door picture is
    /// marked changed). Returns the record and the appeal link's token (when it may be
    /// appealed).
    pub(crate) async fn insert_decision(
        &self,
        tx: &crate::services::work::Work<'_>,
        now: DateTime<Utc>,
        new: NewDecision<'_>,
    ) -> Result<decision::Model, AppError> {
        let e = new.event;
        let id = Uuid::new_v4();
        let kind = new.terms.kind;
        // One appeal per decision, corrections included: a correction of a decision that
        // was already appealed offers no second one.
        let appealed = match new.supersedes {
            Some(p) => appeal::Entity::find().filter(appeal::Column::RootId.eq(p.root_id)).one(&**tx).await?.is_some(),
            None => false,
        };
        let appealable = new.appeal.is_none() && !appealed && kind != DecisionKind::Lifted;
        let appeal_until = match (appealable, new.supersedes) {
            (false, _) => None,
            // A correction keeps the first notice's deadline.
            (true, Some(previous)) => previous.appeal_until.or(Some(appeal_deadline(now, tz_of(e)))),
            (true, None) => Some(appeal_deadline(now, tz_of(e))),
        };
        let token = appealable.then(random_token);
        // A decision chain (a record and its corrections) has one data key, its root's.
        let key = match new.supersedes {
            Some(previous) => tx.data_key(previous.root_id).await?,
            None => tx.new_data_key(id).await?,
        };
        let details = &new.terms.details;
        let details_enc = (details.authority.is_some() || details.measure.is_some())
            .then(|| key.seal_in(sealed::DECISION_DETAILS, id, &serde_json::to_string(details).unwrap_or_default()));
        let (role, role_event) = match new.terms.role {
            Some((r, RoleScope::Event)) => (Some(r.as_str().to_owned()), Some(e.id)),
            Some((r, RoleScope::Organization)) => (Some(r.as_str().to_owned()), None),
            None => (None, None),
        };
        let model = decision::Model {
            id,
            root_id: new.supersedes.map(|p| p.root_id).unwrap_or(id),
            organization_id: e.organization_id,
            event_id: e.id,
            person_id: new.person,
            kind: kind.as_str().to_owned(),
            starts_at: new.terms.starts_at,
            ends_at: new.terms.ends_at,
            role,
            role_event_id: role_event,
            details_enc,
            reasons_enc: key.seal_in(sealed::DECISION_REASONS, id, &new.terms.reasons),
            proposal_id: new.proposal,
            decided_by: new.decided_by,
            decided_at: now,
            supersedes_id: new.supersedes.map(|p| p.id),
            appeal_id: new.appeal,
            appeal_until,
            appeal_token_hash: token.as_deref().map(hash_token),
        };
        // Two corrections of one record at once: a record is superseded once (a unique
        // column), so the later one is refused.
        decision::Entity::insert(decision::ActiveModel::from(model.clone()))
            .exec(&**tx)
            .await
            .map_err(|e| crate::services::conflict_or_internal(e, ALREADY_CORRECTED))?;
        for case_id in &new.cases {
            decision_case::Entity::insert(decision_case::ActiveModel {
                id: Set(Uuid::new_v4()),
                decision_id: Set(id),
                case_id: Set(*case_id),
            })
            .exec(&**tx)
            .await?;
        }
        let mut entry = audit::Entry::new(Some(new.decided_by), "decision.recorded", "decision", id)
            .with("kind", kind.as_str())
            .with("root", model.root_id.to_string());
        if let Some(p) = new.supersedes {
            entry = entry.with("supersedes", p.id.to_string());
        }
        if let Some(a) = new.appeal {
            entry = entry.with("appeal", a.to_string());
        }
        tx.audit(vec![entry]).await?;
        self.apply_effects(tx, now, &model, new.supersedes).await?;
        tx.door_changed();
        self.send_notice(tx, now, &model, e, token.as_deref(), new.supersedes.is_some()).await?;
        Ok(model)
    }

    /// Refund, roles and door for a new record.
    pub(super) async fn apply_effects(
        &self,
        tx: &crate::services::work::Work<'_>,
        now: DateTime<Utc>,
        d: &decision::Model,
        previous: Option<&decision::Model>,
    ) -> Result<(), AppError> {
        let covered = self.covered_people(&**tx, std::slice::from_ref(d)).await?;
        let people: Vec<Uuid> = covered.get(&d.root_id).cloned().unwrap_or_default();
        // The refund: forfeited by an expulsion; restored when one no longer holds. An
        // expulsion upheld or corrected stays dated from when it was first decided.
        if let Some(p) = previous.filter(|p| p.kind == "expulsion")
            && d.kind == "expulsion"
        {
            registration::Entity::update_many()
                .col_expr(registration::Column::ForfeitedBy, Expr::value(Some(d.id)))
                .filter(registration::Column::ForfeitedBy.eq(p.id))
                .exec(&**tx)
                .await?;
        } else if let Some(p) = previous.filter(|p| p.kind == "expulsion") {
            registration::Entity::update_many()
                .col_expr(registration::Column::RefundForfeitedAt, Expr::value(Option::<DateTime<Utc>>::None))
                .col_expr(registration::Column::ForfeitedBy, Expr::value(Option::<Uuid>::None))
                .filter(registration::Column::ForfeitedBy.eq(p.id))
                .exec(&**tx)
                .await?;
        }
        if d.kind == "expulsion" {
            registration::Entity::update_many()
                .col_expr(registration::Column::RefundForfeitedAt, Expr::value(Some(now)))
                .col_expr(registration::Column::ForfeitedBy, Expr::value(Some(d.id)))
                .filter(registration::Column::EventId.eq(d.event_id))
                .filter(registration::Column::PersonId.is_in(people.clone()))
                .filter(registration::Column::RefundForfeitedAt.is_null())
                .exec(&**tx)
                .await?;
        }
        if d.kind == "role_removal"
            && let Some(role) = d.role.as_deref()
        {
            let held = staff_role::Entity::find()
                .filter(staff_role::Column::PersonId.eq(d.person_id))
                .filter(staff_role::Column::OrganizationId.eq(d.organization_id))
                .filter(staff_role::Column::Role.eq(role))
                .filter(staff_role::Column::RevokedAt.is_null())
                .all(&**tx)
                .await?;
            let revoked: Vec<staff_role::Model> = match d.role_event_id {
                // Removing a role at one event cannot take away the same role held for the
                // whole organization (it would still cover the event).
                Some(_) if held.iter().any(|r| r.event_id.is_none()) => {
                    return Err(AppError::invalid(
                        "role_scope",
                        "they hold this role for the whole organization; remove it from the whole organization",
                    ));
                }
                Some(ev) => held.into_iter().filter(|r| r.event_id == Some(ev)).collect(),
                None => held,
            };
            for r in revoked {
                staff_role::Entity::update(staff_role::ActiveModel {
                    id: Set(r.id),
                    revoked_at: Set(Some(now)),
                    ..Default::default()
                })
                .exec(&**tx)
                .await?;
                tx.audit(vec![
                    audit::Entry::new(Some(d.decided_by), "role.revoked", "staff_role", r.id)
                        .with("decision", d.id.to_string()),
                ])
                .await?;
            }
            self.plans().end_orphaned_assignments(tx, d.person_id, now).await?;
        }
        let touches_door =
            DOOR_KINDS.contains(&d.kind.as_str()) || previous.is_some_and(|p| DOOR_KINDS.contains(&p.kind.as_str()));
        if touches_door {
            self.enforcement().refresh_door(tx, d.organization_id, &people, now).await?;
        }
        Ok(())
    }

    /// Tells the person in writing: e-mail through the outbox, and a notification on
    /// their page. What was decided, its period, and how to appeal; nothing about reports.
    pub(super) async fn send_notice(
        &self,
        tx: &crate::services::work::Work<'_>,
        now: DateTime<Utc>,
        d: &decision::Model,
        e: &event::Model,
        token: Option<&str>,
        correction: bool,
    ) -> Result<(), AppError> {
        let p = person::Entity::find_by_id(d.person_id).one(&**tx).await?.ok_or(AppError::Internal)?;
        let org = organization::Entity::find_by_id(e.organization_id).one(&**tx).await?.ok_or(AppError::Internal)?;
        let summary = self.decision_summary(d, e).await;
        let when = crate::services::cases::local_time(now, &e.time_zone);
        let mut text = if d.appeal_id.is_some() {
            format!(
                "Hello {},\n\nyour appeal has been decided by someone who took no part in the original decision.\n\n\
                 The decision now is: {summary}.\nDecided on {when} ({}).\n\n\
                 This decision is final: it cannot be appealed again.\n",
                p.display_name, e.time_zone
            )
        } else {
            format!(
                "Hello {},\n\n{} has {} a decision about you under its code of conduct, in connection with {}:\n\n\
                 {summary}.\nDecided on {when} ({}).\n",
                p.display_name,
                org.name,
                if correction { "corrected" } else { "made" },
                e.name,
                e.time_zone
            )
        };
        if let (Some(token), Some(until)) = (token, d.appeal_until) {
            text.push_str(&format!(
                "\nYou may appeal in writing until {} ({}). Write your appeal here:\n{}/appeal/{token}\n\
                 or sign in and open your page: {}/me\n\
                 Your appeal will be decided by someone who took no part in this decision; that decision is final.\n",
                crate::services::cases::local_time(until, &e.time_zone),
                e.time_zone,
                self.public_url,
                self.public_url
            ));
        }
        text.push_str("\n--\nHaven\n");
        if let Some(to) = p.email.clone() {
            tx.mail(Mail {
                about: Some(d.root_id),
                kind: "decision_notice",
                to,
                subject: format!("A decision about you: {}", org.name),
                text,
                html: None,
                attachments: Vec::new(),
            })
            .await?;
        }
        tx.notify_about(Some(d.root_id), d.person_id, "decision", "A decision about you", &summary, "/me#decisions")
            .await?;
        Ok(())
    }

    /// The record of a history that nothing supersedes.
    pub(crate) async fn chain_head(
        &self,
        db: &impl ConnectionTrait,
        root: Uuid,
    ) -> Result<Option<decision::Model>, AppError> {
        let chain = decision::Entity::find().filter(decision::Column::RootId.eq(root)).all(db).await?;
        let superseded: HashSet<Uuid> = chain.iter().filter_map(|d| d.supersedes_id).collect();
        Ok(chain.into_iter().find(|d| !superseded.contains(&d.id)))
    }
}

/// What the second of two corrections of one record is told.
const ALREADY_CORRECTED: &str = "This decision has already been corrected: reload to see the latest record.";

#[async_trait::async_trait]
impl DecisionsApi for Services {
    async fn record_decision(&self, actor: &Actor, id: Uuid, input: DecisionInput) -> Result<(), AppError> {
        let Caller { person: me, grants } = self.caller(actor).await?;
        let (p, c, e) = self.proposal_parts(id).await?;
        if !grants.manages(&e) {
            return Err(AppError::NotFound);
        }
        self.decidable_proposal(&grants, me, &p, &e).await?;
        let now = self.clock.now();
        let terms = Terms::parse(&input, tz_of(&e), now, false).map_err(AppError::Invalid)?;
        self.may_decide(&grants, &e, &terms)?;
        let tx = self.begin().await?;
        // Claimed inside the write by a conditional update: two deciders pressing at once
        // record one decision (on PostgreSQL the second waits for the row, then finds it
        // no longer open).
        claim_proposal(&tx, p.id, "recorded", me, now).await?;
        // The cases it rests on: the proposal's, and the further ones its proposer named.
        let proposed_text = self.open_sealed(&*tx, sealed::PROPOSAL_TERMS, p.id, &p.terms_enc).await?;
        let proposed: DecisionInput = serde_json::from_str(&proposed_text).map_err(|_| AppError::Internal)?;
        let mut cases = vec![c.id];
        let further: Vec<String> = proposed.cases.split_whitespace().map(str::to_owned).collect();
        if !further.is_empty() {
            for other in case::Entity::find().filter(case::Column::Reference.is_in(further)).all(&*tx).await? {
                cases.push(other.id);
            }
        }
        let d = self
            .insert_decision(
                &tx,
                now,
                NewDecision {
                    event: &e,
                    person: p.person_id,
                    terms: &terms,
                    decided_by: me,
                    proposal: Some(p.id),
                    cases,
                    supersedes: None,
                    appeal: None,
                },
            )
            .await?;
        // Decided, the proposal's terms are the decision's: sealed with its key, they
        // outlive the case and are erased with the decision.
        let key = tx.data_key(d.root_id).await?;
        decision_proposal::Entity::update(decision_proposal::ActiveModel {
            id: Set(p.id),
            decision_id: Set(Some(d.id)),
            terms_enc: Set(key.seal_in(sealed::PROPOSAL_TERMS, p.id, &proposed_text)),
            ..Default::default()
        })
        .exec(&*tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn correct_decision(&self, actor: &Actor, decision_id: Uuid, input: DecisionInput) -> Result<(), AppError> {
        let Caller { person: me, grants } = self.caller(actor).await?;
        let db = &self.store.db;
        let d = decision::Entity::find_by_id(decision_id).one(db).await?.ok_or(AppError::NotFound)?;
        let e = event::Entity::find_by_id(d.event_id).one(db).await?.ok_or(AppError::NotFound)?;
        if !grants.manages(&e) {
            return Err(AppError::NotFound);
        }
        let mine = self.decider(db, me).await?;
        if self.involved_in_decision(db, &mine, &d, Purpose::Decide).await?
            || !self.may_decide_about(db, &grants, &e, d.person_id).await?
        {
            return Err(AppError::NotFound);
        }
        if d.appeal_id.is_some() {
            return Err(AppError::invalid("decision", "is the final decision on an appeal and cannot be changed"));
        }
        let now = self.clock.now();
        let terms = Terms::parse(&input, tz_of(&e), now, true).map_err(AppError::Invalid)?;
        self.may_decide(&grants, &e, &terms)?;
        // Lifting or changing a ban needs the same authority as recording one.
        self.may_decide(&grants, &e, &Terms { kind: kind_of(&d), ..terms.clone() })?;
        let cases = cases_of(db, d.id).await?;
        let tx = self.begin().await?;
        let head = self.chain_head(&*tx, d.root_id).await?;
        if head.as_ref().map(|h| h.id) != Some(d.id) {
            return Err(AppError::Conflict(ALREADY_CORRECTED.to_owned()));
        }
        self.insert_decision(
            &tx,
            now,
            NewDecision {
                event: &e,
                person: d.person_id,
                terms: &terms,
                decided_by: me,
                proposal: None,
                cases,
                supersedes: Some(&d),
                appeal: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

impl super::Enforcement<'_> {
    /// Who the door refuses at `e`, why and when: expulsions from `e` and bans of its
    /// organization, from the decisions in force (optionally only for `only` people).
    pub(crate) async fn enforcement_denials(
        &self,
        db: &impl ConnectionTrait,
        e: &event::Model,
        only: Option<&[Uuid]>,
    ) -> Result<HashMap<Uuid, Vec<Denial>>, AppError> {
        let heads = self.0.decision_heads(db, e.organization_id, Some(&DOOR_KINDS)).await?;
        let heads: Vec<decision::Model> =
            heads.into_iter().filter(|d| d.kind != "expulsion" || d.event_id == e.id).collect();
        let covered = self.0.covered_people(db, &heads).await?;
        let mut out: HashMap<Uuid, Vec<Denial>> = HashMap::new();
        for d in &heads {
            let denial = if d.kind == "expulsion" {
                Denial::always(DenyReason::Expelled)
            } else {
                Denial { reason: DenyReason::Banned, from: d.starts_at, until: d.ends_at }
            };
            for p in covered.get(&d.root_id).into_iter().flatten() {
                if only.is_none_or(|o| o.contains(p)) {
                    out.entry(*p).or_default().push(denial);
                }
            }
        }
        Ok(out)
    }
    /// Writes what door devices must now hold for every badge of these people at every
    /// event of the organization (a denial, or none), as part of `tx`.
    pub(crate) async fn refresh_door(
        &self,
        tx: &crate::services::work::Work<'_>,
        organization: Uuid,
        people: &[Uuid],
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        if people.is_empty() {
            return Ok(());
        }
        let events = event::Entity::find().filter(event::Column::OrganizationId.eq(organization)).all(&**tx).await?;
        for e in events {
            let badges: Vec<(badge::Model, Option<registration::Model>)> = badge::Entity::find()
                .filter(badge::Column::EventId.eq(e.id))
                .filter(badge::Column::RevokedAt.is_null())
                .find_also_related(registration::Entity)
                .filter(registration::Column::PersonId.is_in(people.to_vec()))
                .all(&**tx)
                .await?;
            if badges.is_empty() {
                continue;
            }
            let denials = self.enforcement_denials(&**tx, &e, Some(people)).await?;
            for (b, r) in badges {
                let Some(r) = r else { continue };
                let denial = denials.get(&r.person_id).and_then(|d| Denial::pick(d, now));
                tx.door_change(e.id, b.id, denial).await?;
            }
        }
        Ok(())
    }
}
