//! Enforcement decisions and their effects.
//!
//! Decisions are append-only: a correction or an appeal's outcome is a new record that
//! supersedes the one before (`supersedes_id`); records of one history share a `root_id`.
//! The record nothing supersedes (the head) is what holds. Its effects are applied in the
//! transaction that records it:
//! - bans deny the person's badges at every event of the organization during their period,
//!   expulsions at their event (door changes are written for every affected badge, so
//!   offline doors learn at their next sync; online doors at once);
//! - an expulsion marks the registration's refund as forfeited (cleared if lifted);
//! - a removal from a role revokes the matching staff roles;
//! - the person is told in writing (e-mail through the outbox, and on their page), with
//!   how to appeal — never who reported, never a case.
//!
//! Who may do what: the team of a case (responders not recused) proposes; deciders
//! (organizers of the event or organization, administrators) record; bans and removals
//! from organization-wide roles need organization-wide authority. Organizers see outcomes
//! but not case narratives.

mod appeals;
mod coverage;
mod evasion;
mod report;

pub use evasion::{BannedIndex, EvasionCandidate};

use super::authz::Grants;
use super::door::record_door_change;
use super::involvement::{Involvement, Purpose};
use super::{Services, audit, internal};
use crate::crypto::{hash_token, random_token};
use crate::db::WriteTx;
use crate::db::entities::{
    appeal, badge, case, case_person, decision, decision_case, decision_proposal, decision_subject, event,
    organization, person, registration, staff_role,
};
use crate::mail::Mail;
use chrono::{DateTime, Utc};
use haven_app::api::{
    Actor, AppError, AppealView, CaseDecisions, DecideHome, DecisionView, OutcomeRow, OutcomesView, PersonRef,
    ProposalView,
};
use haven_app::domain::badge::{Denial, DenyReason};
use haven_app::domain::decision::{Details, appeal_deadline, period_text};
use haven_app::domain::{DecisionInput, DecisionKind, EventTimeZone, RoleScope, Terms};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Kinds that keep someone out.
const DOOR_KINDS: [&str; 3] = ["temporary_ban", "permanent_ban", "expulsion"];

/// What a new decision record is, besides its terms.
pub(crate) struct NewDecision<'a> {
    pub event: &'a event::Model,
    pub person: Uuid,
    pub terms: &'a Terms,
    pub decided_by: Uuid,
    pub proposal: Option<Uuid>,
    pub cases: Vec<Uuid>,
    pub supersedes: Option<&'a decision::Model>,
    /// Set when the record decides this appeal (then it is final).
    pub appeal: Option<Uuid>,
}

fn tz_of(e: &event::Model) -> EventTimeZone {
    EventTimeZone::parse("tz", &e.time_zone).unwrap_or_else(|_| EventTimeZone::parse("tz", "UTC").expect("UTC"))
}

fn kind_of(d: &decision::Model) -> DecisionKind {
    DecisionKind::parse("kind", &d.kind).unwrap_or(DecisionKind::Other)
}

pub(crate) fn parse_id(raw: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(raw.trim()).map_err(|_| AppError::NotFound)
}

impl Services {
    /// The decision's terms in words: kind, and period, role or measure.
    pub(crate) fn decision_summary(&self, d: &decision::Model, e: &event::Model) -> String {
        let kind = kind_of(d);
        let mut out = kind.label().to_owned();
        if let Some(p) = period_text(kind, d.starts_at, d.ends_at, tz_of(e)) {
            out.push_str(", ");
            out.push_str(&p);
        }
        match kind {
            DecisionKind::Expulsion => out.push_str(&format!(" ({})", e.name)),
            DecisionKind::RoleRemoval => {
                let scope = if d.role_event_id.is_some() { e.name.as_str() } else { "the whole organization" };
                out.push_str(&format!(": {} at {scope}", d.role.as_deref().unwrap_or("?")));
            }
            DecisionKind::Other => {
                if let Some(m) = self.decision_details(d).measure {
                    out.push_str(&format!(": {m}"));
                }
            }
            _ => {}
        }
        out
    }

    /// The summary as staff read it: with whom the authorities' report went to, when, and
    /// their reference (the person's notice says only that a report was made).
    pub(crate) fn staff_summary(&self, d: &decision::Model, e: &event::Model) -> String {
        let mut out = self.decision_summary(d, e);
        if kind_of(d) == DecisionKind::AuthorityReport
            && let Some(a) = self.decision_details(d).authority
        {
            out.push_str(&format!(": {} told on {}", a.who, super::cases::local_time(a.at, &e.time_zone)));
            if let Some(r) = a.reference {
                out.push_str(&format!(", their reference {r}"));
            }
        }
        out
    }

    fn decision_details(&self, d: &decision::Model) -> Details {
        d.details_enc
            .as_ref()
            .and_then(|s| self.open("decisions", "details_enc", d.id, s).ok())
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default()
    }

    /// The decisions of an organization nothing supersedes.
    pub(crate) async fn decision_heads(
        &self,
        db: &impl ConnectionTrait,
        organization: Uuid,
        kinds: Option<&[&str]>,
    ) -> Result<Vec<decision::Model>, AppError> {
        let superseded: HashSet<Uuid> = decision::Entity::find()
            .select_only()
            .column(decision::Column::SupersedesId)
            .filter(decision::Column::OrganizationId.eq(organization))
            .filter(decision::Column::SupersedesId.is_not_null())
            .into_tuple::<Option<Uuid>>()
            .all(db)
            .await
            .map_err(internal)?
            .into_iter()
            .flatten()
            .collect();
        let mut find = decision::Entity::find().filter(decision::Column::OrganizationId.eq(organization));
        if let Some(kinds) = kinds {
            find = find.filter(decision::Column::Kind.is_in(kinds.iter().copied()));
        }
        Ok(find.all(db).await.map_err(internal)?.into_iter().filter(|d| !superseded.contains(&d.id)).collect())
    }

    /// Everyone a decision history covers: its person, and people added by confirmed
    /// ban-evasion flags. By root id.
    pub(crate) async fn covered_people(
        &self,
        db: &impl ConnectionTrait,
        heads: &[decision::Model],
    ) -> Result<HashMap<Uuid, Vec<Uuid>>, AppError> {
        let roots: Vec<Uuid> = heads.iter().map(|d| d.root_id).collect();
        let mut out: HashMap<Uuid, Vec<Uuid>> = heads.iter().map(|d| (d.root_id, vec![d.person_id])).collect();
        if roots.is_empty() {
            return Ok(out);
        }
        let chain: Vec<(Uuid, Uuid)> = decision::Entity::find()
            .select_only()
            .column(decision::Column::Id)
            .column(decision::Column::RootId)
            .filter(decision::Column::RootId.is_in(roots))
            .into_tuple()
            .all(db)
            .await
            .map_err(internal)?;
        let root_of: HashMap<Uuid, Uuid> = chain.into_iter().collect();
        for chunk in root_of.keys().copied().collect::<Vec<_>>().chunks(500) {
            for s in decision_subject::Entity::find()
                .filter(decision_subject::Column::DecisionId.is_in(chunk.to_vec()))
                .filter(decision_subject::Column::RemovedAt.is_null())
                .all(db)
                .await
                .map_err(internal)?
            {
                if let Some(root) = root_of.get(&s.decision_id) {
                    out.entry(*root).or_default().push(s.person_id);
                }
            }
        }
        Ok(out)
    }

    /// Who the door refuses at `e`, why and when: expulsions from `e` and bans of its
    /// organization, from the decisions in force (optionally only for `only` people).
    pub(crate) async fn enforcement_denials(
        &self,
        db: &impl ConnectionTrait,
        e: &event::Model,
        only: Option<&[Uuid]>,
    ) -> Result<HashMap<Uuid, Vec<Denial>>, AppError> {
        let heads = self.decision_heads(db, e.organization_id, Some(&DOOR_KINDS)).await?;
        let heads: Vec<decision::Model> =
            heads.into_iter().filter(|d| d.kind != "expulsion" || d.event_id == e.id).collect();
        let covered = self.covered_people(db, &heads).await?;
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
        tx: &WriteTx,
        organization: Uuid,
        people: &[Uuid],
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        if people.is_empty() {
            return Ok(());
        }
        let events = event::Entity::find()
            .filter(event::Column::OrganizationId.eq(organization))
            .all(&**tx)
            .await
            .map_err(internal)?;
        for e in events {
            let badges: Vec<(badge::Model, Option<registration::Model>)> = badge::Entity::find()
                .filter(badge::Column::EventId.eq(e.id))
                .filter(badge::Column::RevokedAt.is_null())
                .find_also_related(registration::Entity)
                .filter(registration::Column::PersonId.is_in(people.to_vec()))
                .all(&**tx)
                .await
                .map_err(internal)?;
            if badges.is_empty() {
                continue;
            }
            let denials = self.enforcement_denials(&**tx, &e, Some(people)).await?;
            for (b, r) in badges {
                let Some(r) = r else { continue };
                let denial = denials.get(&r.person_id).and_then(|d| Denial::pick(d, now));
                record_door_change(tx, e.id, b.id, denial, now).await?;
            }
        }
        Ok(())
    }

    /// Records a decision and applies its effects, as part of `tx`. Returns the record and
    /// the appeal link's token (when it may be appealed).
    pub(crate) async fn insert_decision(
        &self,
        tx: &WriteTx,
        now: DateTime<Utc>,
        new: NewDecision<'_>,
    ) -> Result<decision::Model, AppError> {
        let e = new.event;
        let id = Uuid::new_v4();
        let kind = new.terms.kind;
        // One appeal per decision, corrections included: a correction of a decision that
        // was already appealed offers no second one.
        let appealed = match new.supersedes {
            Some(p) => appeal::Entity::find()
                .filter(appeal::Column::RootId.eq(p.root_id))
                .one(&**tx)
                .await
                .map_err(internal)?
                .is_some(),
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
        let details = &new.terms.details;
        let details_enc = (details.authority.is_some() || details.measure.is_some())
            .then(|| self.seal("decisions", "details_enc", id, &serde_json::to_string(details).unwrap_or_default()));
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
            reasons_enc: self.seal("decisions", "reasons_enc", id, &new.terms.reasons),
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
            .map_err(|e| super::conflict_or_internal(e, ALREADY_CORRECTED))?;
        for case_id in &new.cases {
            decision_case::Entity::insert(decision_case::ActiveModel {
                id: Set(Uuid::new_v4()),
                decision_id: Set(id),
                case_id: Set(*case_id),
            })
            .exec(&**tx)
            .await
            .map_err(internal)?;
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
        audit::append(tx, now, vec![entry]).await.map_err(internal)?;
        self.apply_effects(tx, now, &model, new.supersedes).await?;
        self.send_notice(tx, now, &model, e, token.as_deref(), new.supersedes.is_some()).await?;
        Ok(model)
    }

    /// Refund, roles and door for a new record.
    async fn apply_effects(
        &self,
        tx: &WriteTx,
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
                .await
                .map_err(internal)?;
        } else if let Some(p) = previous.filter(|p| p.kind == "expulsion") {
            registration::Entity::update_many()
                .col_expr(registration::Column::RefundForfeitedAt, Expr::value(Option::<DateTime<Utc>>::None))
                .col_expr(registration::Column::ForfeitedBy, Expr::value(Option::<Uuid>::None))
                .filter(registration::Column::ForfeitedBy.eq(p.id))
                .exec(&**tx)
                .await
                .map_err(internal)?;
        }
        if d.kind == "expulsion" {
            registration::Entity::update_many()
                .col_expr(registration::Column::RefundForfeitedAt, Expr::value(Some(now)))
                .col_expr(registration::Column::ForfeitedBy, Expr::value(Some(d.id)))
                .filter(registration::Column::EventId.eq(d.event_id))
                .filter(registration::Column::PersonId.is_in(people.clone()))
                .filter(registration::Column::RefundForfeitedAt.is_null())
                .exec(&**tx)
                .await
                .map_err(internal)?;
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
                .await
                .map_err(internal)?;
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
                .await
                .map_err(internal)?;
                audit::append(
                    tx,
                    now,
                    vec![
                        audit::Entry::new(Some(d.decided_by), "role.revoked", "staff_role", r.id)
                            .with("decision", d.id.to_string()),
                    ],
                )
                .await
                .map_err(internal)?;
            }
            self.end_orphaned_assignments(tx, d.person_id, now).await?;
        }
        let touches_door =
            DOOR_KINDS.contains(&d.kind.as_str()) || previous.is_some_and(|p| DOOR_KINDS.contains(&p.kind.as_str()));
        if touches_door {
            self.refresh_door(tx, d.organization_id, &people, now).await?;
        }
        Ok(())
    }

    /// Tells the person in writing: e-mail through the outbox, and a notification on
    /// their page. What was decided, its period, and how to appeal; nothing about reports.
    async fn send_notice(
        &self,
        tx: &WriteTx,
        now: DateTime<Utc>,
        d: &decision::Model,
        e: &event::Model,
        token: Option<&str>,
        correction: bool,
    ) -> Result<(), AppError> {
        let p =
            person::Entity::find_by_id(d.person_id).one(&**tx).await.map_err(internal)?.ok_or(AppError::Internal)?;
        let org = organization::Entity::find_by_id(e.organization_id)
            .one(&**tx)
            .await
            .map_err(internal)?
            .ok_or(AppError::Internal)?;
        let summary = self.decision_summary(d, e);
        let when = super::cases::local_time(now, &e.time_zone);
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
                super::cases::local_time(until, &e.time_zone),
                e.time_zone,
                self.public_url,
                self.public_url
            ));
        }
        text.push_str("\n--\nHaven\n");
        if let Some(to) = p.email.clone() {
            self.enqueue(
                tx,
                now,
                Mail {
                    kind: "decision_notice",
                    to,
                    subject: format!("A decision about you: {}", org.name),
                    text,
                    html: None,
                    attachments: Vec::new(),
                },
            )
            .await
            .map_err(internal)?;
        }
        self.notify(tx, d.person_id, "decision", "A decision about you", &summary, "/me#decisions").await?;
        Ok(())
    }

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
            let ids: Vec<Uuid> = decision_case::Entity::find()
                .filter(decision_case::Column::DecisionId.eq(d.id))
                .all(db)
                .await
                .map_err(internal)?
                .into_iter()
                .map(|c| c.case_id)
                .collect();
            case::Entity::find()
                .filter(case::Column::Id.is_in(ids))
                .all(db)
                .await
                .map_err(internal)?
                .into_iter()
                .map(|c| c.reference)
                .collect()
        } else {
            Vec::new()
        };
        let appeal = appeal::Entity::find()
            .filter(appeal::Column::RootId.eq(d.root_id))
            .one(db)
            .await
            .map_err(internal)?
            .map(|a| self.appeal_view(&a, e));
        Ok(DecisionView {
            id: d.id,
            person: names.get(&d.person_id).cloned().unwrap_or_default(),
            event_name: e.name.clone(),
            kind: kind_of(d),
            summary: self.staff_summary(d, e),
            decided_by: names.get(&d.decided_by).cloned().unwrap_or_default(),
            decided: super::cases::local_time(d.decided_at, &e.time_zone),
            reasons: self.open("decisions", "reasons_enc", d.id, &d.reasons_enc)?,
            cases,
            superseded,
            from_appeal: d.appeal_id.is_some(),
            appeal,
        })
    }

    pub(crate) fn appeal_view(&self, a: &appeal::Model, e: &event::Model) -> AppealView {
        AppealView {
            id: a.id,
            filed: super::cases::local_time(a.filed_at, &e.time_zone),
            text: self.open("appeals", "text_enc", a.id, &a.text_enc).unwrap_or_default(),
            outcome: a.outcome.as_deref().and_then(|o| haven_app::domain::AppealOutcome::parse("o", o).ok()).map(|o| {
                format!(
                    "{} ({})",
                    o.label(),
                    a.decided_at.map(|t| super::cases::local_time(t, &e.time_zone)).unwrap_or_default()
                )
            }),
        }
    }

    fn proposal_view(
        &self,
        p: &decision_proposal::Model,
        c: &case::Model,
        e: &event::Model,
        names: &HashMap<Uuid, String>,
    ) -> Result<ProposalView, AppError> {
        let input: DecisionInput =
            serde_json::from_str(&self.open("decision_proposals", "terms_enc", p.id, &p.terms_enc)?)
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
            proposed: super::cases::local_time(p.proposed_at, &e.time_zone),
            input,
            status: p.status.clone(),
            time_zone: e.time_zone.clone(),
            no_decider: false,
        })
    }

    // ---- The team of a case ----

    pub(crate) async fn case_decisions(&self, actor: &Actor, reference: &str) -> Result<CaseDecisions, AppError> {
        let v = self.team_case(actor, reference).await?;
        let db = &self.store.db;
        let linked = case_person::Entity::find()
            .filter(case_person::Column::CaseId.eq(v.case.id))
            .all(db)
            .await
            .map_err(internal)?;
        let people = person::Entity::find()
            .filter(person::Column::Id.is_in(linked.iter().map(|l| l.person_id).collect::<Vec<_>>()))
            .all(db)
            .await
            .map_err(internal)?
            .into_iter()
            .map(|p| PersonRef { id: p.id, name: p.display_name, email: p.email })
            .collect();
        let proposals = decision_proposal::Entity::find()
            .filter(decision_proposal::Column::CaseId.eq(v.case.id))
            .order_by_desc(decision_proposal::Column::ProposedAt)
            .all(db)
            .await
            .map_err(internal)?;
        let mut ids: Vec<Uuid> = proposals.iter().flat_map(|p| [p.person_id, p.proposed_by]).collect();
        ids.dedup();
        let names = names_of(db, &ids).await?;
        let mut views = Vec::new();
        for p in &proposals {
            let mut view = self.proposal_view(p, &v.case, &v.event, &names)?;
            if p.status == "open" {
                view.no_decider = !self.has_uninvolved_decider(db, p, &view.input, &v.event).await?;
            }
            views.push(view);
        }
        let proposals = views;
        let decision_ids: Vec<Uuid> = decision_case::Entity::find()
            .filter(decision_case::Column::CaseId.eq(v.case.id))
            .all(db)
            .await
            .map_err(internal)?
            .into_iter()
            .map(|d| d.decision_id)
            .collect();
        let records = decision::Entity::find()
            .filter(decision::Column::Id.is_in(decision_ids))
            .order_by_desc(decision::Column::DecidedAt)
            .all(db)
            .await
            .map_err(internal)?;
        let superseded: HashSet<Uuid> = records.iter().filter_map(|d| d.supersedes_id).collect();
        let mut decisions = Vec::new();
        for d in &records {
            decisions.push(self.decision_view(db, d, &v.event, superseded.contains(&d.id), true).await?);
        }
        Ok(CaseDecisions { people, proposals, decisions, time_zone: v.event.time_zone.clone() })
    }

    pub(crate) async fn propose_decision(
        &self,
        actor: &Actor,
        reference: &str,
        input: DecisionInput,
    ) -> Result<(), AppError> {
        let v = self.team_case(actor, reference).await?;
        let now = self.clock.now();
        let person = Uuid::parse_str(input.person.trim())
            .map_err(|_| AppError::invalid("person", "choose a person linked to this case"))?;
        let linked = case_person::Entity::find()
            .filter(case_person::Column::CaseId.eq(v.case.id))
            .filter(case_person::Column::PersonId.eq(person))
            .one(&self.store.db)
            .await
            .map_err(internal)?;
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
            let other = self.team_case(actor, r.as_str()).await.map_err(|_| not_this())?;
            let names = case_person::Entity::find()
                .filter(case_person::Column::CaseId.eq(other.case.id))
                .filter(case_person::Column::PersonId.eq(person))
                .one(&self.store.db)
                .await
                .map_err(internal)?
                .is_some();
            if other.event.organization_id != v.event.organization_id || !names {
                return Err(not_this());
            }
            further.push(r.as_str().to_owned());
        }
        let input = DecisionInput { cases: further.join(" "), ..input };
        let id = Uuid::new_v4();
        let tx = self.store.write().await.map_err(internal)?;
        // A double click, or two responders at once, makes one proposal, not two.
        let waiting = decision_proposal::Entity::find()
            .filter(decision_proposal::Column::CaseId.eq(v.case.id))
            .filter(decision_proposal::Column::PersonId.eq(person))
            .filter(decision_proposal::Column::Kind.eq(terms.kind.as_str()))
            .filter(decision_proposal::Column::Status.eq("open"))
            .one(&*tx)
            .await
            .map_err(internal)?;
        if waiting.is_some() {
            return Err(AppError::invalid("kind", "a proposal of this kind about this person is already waiting"));
        }
        decision_proposal::Entity::insert(decision_proposal::ActiveModel {
            id: Set(id),
            case_id: Set(v.case.id),
            person_id: Set(person),
            kind: Set(terms.kind.as_str().to_owned()),
            terms_enc: Set(self.seal(
                "decision_proposals",
                "terms_enc",
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
        .await
        .map_err(internal)?;
        audit::append(
            &tx,
            now,
            vec![
                audit::Entry::new(Some(v.person.id), "decision.proposed", "case", v.case.id)
                    .with("proposal", id.to_string()),
            ],
        )
        .await
        .map_err(internal)?;
        tx.commit().await.map_err(internal)
    }

    // ---- Deciders ----

    /// The events the caller decides for (organizer of the event or organization, admin).
    async fn decided_events(&self, grants: &Grants) -> Result<Vec<event::Model>, AppError> {
        let orgs: Vec<Uuid> = grants.0.iter().map(|g| g.organization_id).collect();
        Ok(event::Entity::find()
            .filter(event::Column::OrganizationId.is_in(orgs))
            .all(&self.store.db)
            .await
            .map_err(internal)?
            .into_iter()
            .filter(|e| grants.manages(e))
            .collect())
    }

    pub(crate) async fn decide_home(&self, actor: &Actor) -> Result<DecideHome, AppError> {
        let me = actor.person_id().ok_or(AppError::Unauthenticated)?;
        let db = &self.store.db;
        let grants = Grants::load(db, Some(me)).await.map_err(internal)?;
        let events = self.decided_events(&grants).await?;
        if events.is_empty() {
            return Err(AppError::NotFound);
        }
        let mine = self.decider(db, me).await?;
        let by_id: HashMap<Uuid, &event::Model> = events.iter().map(|e| (e.id, e)).collect();
        let cases = case::Entity::find()
            .filter(case::Column::EventId.is_in(by_id.keys().copied().collect::<Vec<_>>()))
            .all(db)
            .await
            .map_err(internal)?;
        let case_by_id: HashMap<Uuid, &case::Model> = cases.iter().map(|c| (c.id, c)).collect();
        let open = decision_proposal::Entity::find()
            .filter(decision_proposal::Column::CaseId.is_in(case_by_id.keys().copied().collect::<Vec<_>>()))
            .filter(decision_proposal::Column::Status.eq("open"))
            .order_by_asc(decision_proposal::Column::ProposedAt)
            .all(db)
            .await
            .map_err(internal)?;
        let ids: Vec<Uuid> = open.iter().flat_map(|p| [p.person_id, p.proposed_by]).collect();
        let names = names_of(db, &ids).await?;
        let mut proposals = Vec::new();
        for p in &open {
            let c = case_by_id[&p.case_id];
            let e = by_id[&c.event_id];
            let view = self.proposal_view(p, c, e, &names)?;
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
            .await
            .map_err(internal)?;
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
            .await
            .map_err(internal)?;
        let mut appeals = Vec::new();
        for a in waiting {
            let Some(head) = self.chain_head(db, a.root_id).await? else { continue };
            let Some(e) = by_id.get(&head.event_id) else { continue };
            if self.involved_in_decision(db, &mine, &head, Purpose::See).await? {
                continue;
            }
            let not_you = self.why_not_reviewer(db, &grants, &mine, &head, e).await?;
            appeals.push(haven_app::api::AppealToDecide {
                appeal: self.appeal_view(&a, e),
                decision: self.decision_view(db, &head, e, false, false).await?,
                not_you,
                time_zone: e.time_zone.clone(),
                covered: None,
            });
        }
        appeals.extend(self.coverage_appeals_to_decide(db, &grants, &mine, &by_id).await?);
        Ok(DecideHome { proposals, appeals, recent })
    }

    /// The record of a history that nothing supersedes.
    pub(crate) async fn chain_head(
        &self,
        db: &impl ConnectionTrait,
        root: Uuid,
    ) -> Result<Option<decision::Model>, AppError> {
        let chain =
            decision::Entity::find().filter(decision::Column::RootId.eq(root)).all(db).await.map_err(internal)?;
        let superseded: HashSet<Uuid> = chain.iter().filter_map(|d| d.supersedes_id).collect();
        Ok(chain.into_iter().find(|d| !superseded.contains(&d.id)))
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
        Ok(!Grants::load(db, Some(subject)).await.map_err(internal)?.is_admin(e.organization_id))
    }

    /// Whether a decider with these grants and this involvement may decide proposal `p`:
    /// they manage its event, are not involved in it, and (for an administrator as its
    /// subject) are an administrator.
    async fn may_decide_proposal(
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
    async fn decidable_proposal(
        &self,
        grants: &Grants,
        me: Uuid,
        p: &decision_proposal::Model,
        e: &event::Model,
    ) -> Result<(), AppError> {
        let db = &self.store.db;
        let mine = self.decider(db, me).await?;
        let input: DecisionInput =
            serde_json::from_str(&self.open("decision_proposals", "terms_enc", p.id, &p.terms_enc)?)
                .map_err(|_| AppError::Internal)?;
        if !self.may_decide_proposal(db, grants, &mine, p, &input, e).await? {
            return Err(AppError::NotFound);
        }
        Ok(())
    }

    /// Whether anyone (an organizer of the event or organization, an administrator) may
    /// decide this proposal: someone uninvolved, with the authority its kind needs.
    async fn has_uninvolved_decider(
        &self,
        db: &impl ConnectionTrait,
        p: &decision_proposal::Model,
        input: &DecisionInput,
        e: &event::Model,
    ) -> Result<bool, AppError> {
        let kind = DecisionKind::parse("kind", &p.kind).unwrap_or(DecisionKind::Other);
        let scope = if input.role_scope.trim() == "organization" { RoleScope::Organization } else { RoleScope::Event };
        for candidate in
            self.event_staff(db, e, &[haven_app::domain::Role::Organizer, haven_app::domain::Role::Admin]).await?
        {
            let grants = Grants::load(db, Some(candidate.id)).await.map_err(internal)?;
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
    fn may_decide(&self, grants: &Grants, e: &event::Model, terms: &Terms) -> Result<(), AppError> {
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

    pub(crate) async fn record_decision(
        &self,
        actor: &Actor,
        proposal: &str,
        input: DecisionInput,
    ) -> Result<(), AppError> {
        let me = actor.person_id().ok_or(AppError::Unauthenticated)?;
        let grants = Grants::load(&self.store.db, Some(me)).await.map_err(internal)?;
        let id = parse_id(proposal)?;
        let (p, c, e) = self.proposal_parts(id).await?;
        if !grants.manages(&e) {
            return Err(AppError::NotFound);
        }
        self.decidable_proposal(&grants, me, &p, &e).await?;
        let now = self.clock.now();
        let terms = Terms::parse(&input, tz_of(&e), now, false).map_err(AppError::Invalid)?;
        self.may_decide(&grants, &e, &terms)?;
        let tx = self.store.write().await.map_err(internal)?;
        // Claimed inside the write by a conditional update: two deciders pressing at once
        // record one decision (on PostgreSQL the second waits for the row, then finds it
        // no longer open).
        claim_proposal(&tx, p.id, "recorded", me, now).await?;
        // The cases it rests on: the proposal's, and the further ones its proposer named.
        let proposed: DecisionInput =
            serde_json::from_str(&self.open("decision_proposals", "terms_enc", p.id, &p.terms_enc)?)
                .map_err(|_| AppError::Internal)?;
        let mut cases = vec![c.id];
        let further: Vec<String> = proposed.cases.split_whitespace().map(str::to_owned).collect();
        if !further.is_empty() {
            for other in
                case::Entity::find().filter(case::Column::Reference.is_in(further)).all(&*tx).await.map_err(internal)?
            {
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
        decision_proposal::Entity::update(decision_proposal::ActiveModel {
            id: Set(p.id),
            decision_id: Set(Some(d.id)),
            ..Default::default()
        })
        .exec(&*tx)
        .await
        .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        self.after_decision();
        Ok(())
    }

    /// Wakes the door and the mail after a committed decision.
    pub(crate) fn after_decision(&self) {
        self.door_changed();
        self.mail_wake.notify_one();
    }

    async fn proposal_parts(
        &self,
        id: Uuid,
    ) -> Result<(decision_proposal::Model, case::Model, event::Model), AppError> {
        let db = &self.store.db;
        let p = decision_proposal::Entity::find_by_id(id).one(db).await.map_err(internal)?.ok_or(AppError::NotFound)?;
        let c = case::Entity::find_by_id(p.case_id).one(db).await.map_err(internal)?.ok_or(AppError::NotFound)?;
        let e = event::Entity::find_by_id(c.event_id).one(db).await.map_err(internal)?.ok_or(AppError::NotFound)?;
        Ok((p, c, e))
    }

    pub(crate) async fn decline_proposal(&self, actor: &Actor, proposal: &str) -> Result<(), AppError> {
        let me = actor.person_id().ok_or(AppError::Unauthenticated)?;
        let grants = Grants::load(&self.store.db, Some(me)).await.map_err(internal)?;
        let (p, c, e) = self.proposal_parts(parse_id(proposal)?).await?;
        if !grants.manages(&e) {
            return Err(AppError::NotFound);
        }
        self.decidable_proposal(&grants, me, &p, &e).await?;
        let now = self.clock.now();
        let tx = self.store.write().await.map_err(internal)?;
        claim_proposal(&tx, p.id, "declined", me, now).await?;
        audit::append(
            &tx,
            now,
            vec![audit::Entry::new(Some(me), "decision.declined", "case", c.id).with("proposal", p.id.to_string())],
        )
        .await
        .map_err(internal)?;
        tx.commit().await.map_err(internal)
    }

    pub(crate) async fn correct_decision(
        &self,
        actor: &Actor,
        decision_id: &str,
        input: DecisionInput,
    ) -> Result<(), AppError> {
        let me = actor.person_id().ok_or(AppError::Unauthenticated)?;
        let db = &self.store.db;
        let grants = Grants::load(db, Some(me)).await.map_err(internal)?;
        let d = decision::Entity::find_by_id(parse_id(decision_id)?)
            .one(db)
            .await
            .map_err(internal)?
            .ok_or(AppError::NotFound)?;
        let e = event::Entity::find_by_id(d.event_id).one(db).await.map_err(internal)?.ok_or(AppError::NotFound)?;
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
        let cases: Vec<Uuid> = decision_case::Entity::find()
            .filter(decision_case::Column::DecisionId.eq(d.id))
            .all(db)
            .await
            .map_err(internal)?
            .into_iter()
            .map(|c| c.case_id)
            .collect();
        let tx = self.store.write().await.map_err(internal)?;
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
        tx.commit().await.map_err(internal)?;
        self.after_decision();
        Ok(())
    }

    // ---- Organizers: outcomes ----

    pub(crate) async fn event_outcomes(&self, actor: &Actor, slug: &str) -> Result<OutcomesView, AppError> {
        let (e, _) = self.managed_event(actor, slug).await?;
        let db = &self.store.db;
        let now = self.clock.now();
        let heads = self.decision_heads(db, e.organization_id, Some(&DOOR_KINDS)).await?;
        let heads: Vec<decision::Model> = heads
            .into_iter()
            .filter(|d| d.kind != "expulsion" || d.event_id == e.id)
            .filter(|d| d.ends_at.is_none_or(|end| end > now))
            .collect();
        let covered = self.covered_people(db, &heads).await?;
        let mut rows = Vec::new();
        for d in &heads {
            let people = covered.get(&d.root_id).cloned().unwrap_or_default();
            let found =
                person::Entity::find().filter(person::Column::Id.is_in(people)).all(db).await.map_err(internal)?;
            let measure = match d.kind.as_str() {
                "expulsion" => "Expelled from this event (no refund)".to_owned(),
                "permanent_ban" => match d.starts_at {
                    Some(s) if s > now => {
                        format!("Banned permanently from {}", super::cases::local_time(s, &e.time_zone))
                    }
                    _ => "Banned permanently".to_owned(),
                },
                _ => format!(
                    "Banned {}until {}",
                    d.starts_at
                        .filter(|s| *s > now)
                        .map(|s| format!("from {} ", super::cases::local_time(s, &e.time_zone)))
                        .unwrap_or_default(),
                    d.ends_at.map(|t| super::cases::local_time(t, &e.time_zone)).unwrap_or_default()
                ),
            };
            for p in found {
                rows.push(OutcomeRow {
                    name: p.display_name,
                    email: p.email,
                    measure: measure.clone(),
                    since: super::cases::local_time(d.decided_at, &e.time_zone),
                });
            }
        }
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(OutcomesView { event_name: e.name, rows })
    }

    /// For the ticketing side: every registration of the event whose refund an expulsion
    /// forfeited (registration, ticket reference, decision date, refund).
    pub async fn expulsions_csv(&self, actor: &Actor, slug: &str) -> Result<String, AppError> {
        let (e, _) = self.managed_event(actor, slug).await?;
        let rows = registration::Entity::find()
            .filter(registration::Column::EventId.eq(e.id))
            .filter(registration::Column::RefundForfeitedAt.is_not_null())
            .order_by_asc(registration::Column::RefundForfeitedAt)
            .all(&self.store.db)
            .await
            .map_err(internal)?;
        let mut out = csv::Writer::from_writer(Vec::new());
        let _ = out.write_record(["registration", "ticket_ref", "decision_date", "refund"]);
        let tz = tz_of(&e).tz();
        for r in rows {
            let date = r.refund_forfeited_at.map(|t| t.with_timezone(&tz).format("%Y-%m-%d").to_string());
            let _ = out.write_record([
                r.id.to_string(),
                r.ticket_ref.unwrap_or_default(),
                date.unwrap_or_default(),
                "none".to_owned(),
            ]);
        }
        String::from_utf8(out.into_inner().map_err(|_| AppError::Internal)?).map_err(|_| AppError::Internal)
    }
}

/// Moves an open proposal to `status` as part of `tx`, or says it was already decided:
/// the update itself checks it is still open, so of two deciders at once only one wins.
async fn claim_proposal(tx: &WriteTx, id: Uuid, status: &str, by: Uuid, now: DateTime<Utc>) -> Result<(), AppError> {
    let claimed = decision_proposal::Entity::update_many()
        .col_expr(decision_proposal::Column::Status, Expr::value(status))
        .col_expr(decision_proposal::Column::ResolvedBy, Expr::value(by))
        .col_expr(decision_proposal::Column::ResolvedAt, Expr::value(now))
        .filter(decision_proposal::Column::Id.eq(id))
        .filter(decision_proposal::Column::Status.eq("open"))
        .exec(&**tx)
        .await
        .map_err(internal)?
        .rows_affected;
    if claimed != 1 {
        return Err(AppError::invalid("proposal", "was already decided or declined"));
    }
    Ok(())
}

/// Display names by person id.
pub(crate) async fn names_of(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<HashMap<Uuid, String>, AppError> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    Ok(person::Entity::find()
        .filter(person::Column::Id.is_in(ids))
        .all(db)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|p| (p.id, p.display_name))
        .collect())
}

/// What the second of two corrections of one record is told.
const ALREADY_CORRECTED: &str = "This decision has already been corrected: reload to see the latest record.";
