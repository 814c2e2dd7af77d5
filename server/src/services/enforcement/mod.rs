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
mod outcomes;
mod proposals;
mod record;
mod report;
mod views;

pub use evasion::{BannedIndex, EvasionCandidate};

use super::Services;
use crate::crypto::sealed;
use crate::db::entities::{decision, decision_case, decision_proposal, decision_subject, event, person};
use chrono::{DateTime, Utc};
use haven_app::api::AppError;
use haven_app::domain::decision::{Details, period_text};
use haven_app::domain::{DecisionKind, EventTimeZone, Terms};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Kinds that keep someone out.
pub(super) const DOOR_KINDS: [&str; 3] = ["temporary_ban", "permanent_ban", "expulsion"];

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

pub(super) fn tz_of(e: &event::Model) -> EventTimeZone {
    EventTimeZone::parse("tz", &e.time_zone).unwrap_or_else(|_| EventTimeZone::parse("tz", "UTC").expect("UTC"))
}

pub(super) fn kind_of(d: &decision::Model) -> DecisionKind {
    DecisionKind::parse("kind", &d.kind).unwrap_or(DecisionKind::Other)
}

/// The cases a decision record rests on.
pub(super) async fn cases_of(db: &impl ConnectionTrait, decision: Uuid) -> Result<Vec<Uuid>, AppError> {
    Ok(decision_case::Entity::find()
        .select_only()
        .column(decision_case::Column::CaseId)
        .filter(decision_case::Column::DecisionId.eq(decision))
        .into_tuple()
        .all(db)
        .await?)
}

impl Services {
    /// The decision's terms in words: kind, and period, role or measure.
    pub(crate) async fn decision_summary(&self, d: &decision::Model, e: &event::Model) -> String {
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
                if let Some(m) = self.decision_details(d).await.measure {
                    out.push_str(&format!(": {m}"));
                }
            }
            _ => {}
        }
        out
    }

    /// The summary as staff read it: with whom the authorities' report went to, when, and
    /// their reference (the person's notice says only that a report was made).
    pub(crate) async fn staff_summary(&self, d: &decision::Model, e: &event::Model) -> String {
        let mut out = self.decision_summary(d, e).await;
        if kind_of(d) == DecisionKind::AuthorityReport
            && let Some(a) = self.decision_details(d).await.authority
        {
            out.push_str(&format!(": {} told on {}", a.who, super::cases::local_time(a.at, &e.time_zone)));
            if let Some(r) = a.reference {
                out.push_str(&format!(", their reference {r}"));
            }
        }
        out
    }

    /// What a decision records besides its kind and period (a measure, the authorities
    /// told); nothing once the decision is erased.
    pub(crate) async fn decision_details(&self, d: &decision::Model) -> Details {
        let Some(sealed) = &d.details_enc else { return Details::default() };
        let Ok(key) = self.data_key(&self.store.db, d.root_id).await else { return Details::default() };
        key.open_in(sealed::DECISION_DETAILS, d.id, sealed)
            .ok()
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
            .await?
            .into_iter()
            .flatten()
            .collect();
        let mut find = decision::Entity::find().filter(decision::Column::OrganizationId.eq(organization));
        if let Some(kinds) = kinds {
            find = find.filter(decision::Column::Kind.is_in(kinds.iter().copied()));
        }
        Ok(find.all(db).await?.into_iter().filter(|d| !superseded.contains(&d.id)).collect())
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
            .await?;
        let root_of: HashMap<Uuid, Uuid> = chain.into_iter().collect();
        for chunk in root_of.keys().copied().collect::<Vec<_>>().chunks(500) {
            for s in decision_subject::Entity::find()
                .filter(decision_subject::Column::DecisionId.is_in(chunk.to_vec()))
                .filter(decision_subject::Column::RemovedAt.is_null())
                .all(db)
                .await?
            {
                if let Some(root) = root_of.get(&s.decision_id) {
                    out.entry(*root).or_default().push(s.person_id);
                }
            }
        }
        Ok(out)
    }

    // ---- The team of a case ----

    // ---- Deciders ----

    // ---- Organizers: outcomes ----
}

/// Moves an open proposal to `status` as part of `tx`, or says it was already decided:
/// the update itself checks it is still open, so of two deciders at once only one wins.
pub(super) async fn claim_proposal(
    tx: &crate::services::work::Work<'_>,
    id: Uuid,
    status: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let claimed = decision_proposal::Entity::update_many()
        .col_expr(decision_proposal::Column::Status, Expr::value(status))
        .col_expr(decision_proposal::Column::ResolvedBy, Expr::value(by))
        .col_expr(decision_proposal::Column::ResolvedAt, Expr::value(now))
        .filter(decision_proposal::Column::Id.eq(id))
        .filter(decision_proposal::Column::Status.eq("open"))
        .exec(&**tx)
        .await?
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
        .await?
        .into_iter()
        .map(|p| (p.id, p.display_name))
        .collect())
}

/// Decisions as the other areas (the door above all) reach them:
/// `services.enforcement()`.
pub struct Enforcement<'s>(&'s Services);

impl Services {
    pub fn enforcement(&self) -> Enforcement<'_> {
        Enforcement(self)
    }
}
