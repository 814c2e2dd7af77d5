//! Enforcement and appeals: proposals on a case, decisions, outcomes for organizers, the
//! person's own decisions and appeals (signed in or by the link in the notice), ban-evasion
//! flags, and the transparency report.

use super::AppError;
use super::PersonRef;
use crate::domain::DecisionInput;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
#[cfg(feature = "ssr")]
use {
    super::Actor,
    super::plumbing,
    crate::domain::{CaseReference, Slug},
    uuid::Uuid,
};

#[server(name = CaseDecisionsCall, prefix = "/fn", endpoint = "case_decisions")]
pub async fn case_decisions(reference: String) -> Result<CaseDecisions, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.case_decisions(&actor, &plumbing::reference(&reference)?).await)
}

/// A responder proposes a decision about a person linked to the case.
#[server(prefix = "/fn", endpoint = "propose_decision")]
pub async fn propose_decision(reference: String, input: DecisionInput) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.propose_decision(&actor, &plumbing::reference(&reference)?, input).await)
}

#[server(name = DecideHomeCall, prefix = "/fn", endpoint = "decide_home")]
pub async fn decide_home() -> Result<DecideHome, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.decide_home(&actor).await)
}

/// A decider records a decision on a proposal (terms as proposed or changed).
#[server(prefix = "/fn", endpoint = "record_decision")]
pub async fn record_decision(proposal: String, input: DecisionInput) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.record_decision(&actor, plumbing::id(&actor, &proposal)?, input).await)
}

#[server(prefix = "/fn", endpoint = "decline_proposal")]
pub async fn decline_proposal(proposal: String) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.decline_proposal(&actor, plumbing::id(&actor, &proposal)?).await)
}

/// A decider corrects a decision: a new record that supersedes it.
#[server(prefix = "/fn", endpoint = "correct_decision")]
pub async fn correct_decision(decision: String, input: DecisionInput) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.correct_decision(&actor, plumbing::id(&actor, &decision)?, input).await)
}

#[server(prefix = "/fn", endpoint = "event_outcomes")]
pub async fn event_outcomes(slug: String) -> Result<OutcomesView, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.event_outcomes(&actor, &plumbing::slug(&slug)?).await)
}

#[server(prefix = "/fn", endpoint = "my_decisions")]
pub async fn my_decisions() -> Result<Vec<MyDecision>, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.my_decisions(&actor).await)
}

/// The person decided about appeals in writing, signed in.
#[server(prefix = "/fn", endpoint = "appeal_decision")]
pub async fn appeal_decision(decision: String, text: String) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.appeal_decision(&actor, plumbing::id(&actor, &decision)?, &text).await)
}

#[server(prefix = "/fn", endpoint = "appeal_link")]
pub async fn appeal_link(token: String) -> Result<AppealLinkView, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.appeal_link(&actor, &token).await)
}

/// The person decided about appeals through the link in their notice.
#[server(prefix = "/fn", endpoint = "appeal_by_link")]
pub async fn appeal_by_link(token: String, text: String) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.appeal_by_link(&actor, &token, &text).await)
}

/// A decider who took no part decides an appeal: `outcome` is uphold, modify or lift;
/// `input` holds the new terms for modify, and the reasons in every case.
#[server(prefix = "/fn", endpoint = "decide_appeal")]
pub async fn decide_appeal(appeal: String, outcome: String, input: DecisionInput) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.decide_appeal(&actor, plumbing::id(&actor, &appeal)?, &outcome, input).await)
}

#[server(prefix = "/fn", endpoint = "evasion_flags")]
pub async fn evasion_flags() -> Result<Vec<EvasionFlagView>, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.evasion_flags(&actor).await)
}

/// `action` is confirm (the ban then covers the registration's person) or dismiss
/// (remembered: the pair is not flagged again).
#[server(prefix = "/fn", endpoint = "resolve_flag")]
pub async fn resolve_flag(flag: String, action: String) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.resolve_flag(&actor, plumbing::id(&actor, &flag)?, &action).await)
}

/// Counts for an organization over an ended calendar quarter (`2027-Q2`; none: the last
/// one that ended).
#[server(name = TransparencyReportCall, prefix = "/fn", endpoint = "transparency_report")]
pub async fn transparency_report(
    organization: String,
    quarter: Option<String>,
) -> Result<TransparencyReport, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.transparency_report(&actor, &organization, &quarter.unwrap_or_default()).await)
}

/// Proposing a decision on a case, and declining a proposal.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait ProposalsApi: Send + Sync {
    async fn propose_decision(
        &self,
        actor: &Actor,
        reference: &CaseReference,
        input: DecisionInput,
    ) -> Result<(), AppError>;

    async fn decline_proposal(&self, actor: &Actor, proposal: Uuid) -> Result<(), AppError>;
}

/// Recording a proposed decision, and correcting a recorded one.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait DecisionsApi: Send + Sync {
    async fn record_decision(&self, actor: &Actor, proposal: Uuid, input: DecisionInput) -> Result<(), AppError>;

    async fn correct_decision(&self, actor: &Actor, decision_id: Uuid, input: DecisionInput) -> Result<(), AppError>;
}

/// What the team and deciders see of decisions.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait DecisionViewsApi: Send + Sync {
    async fn case_decisions(&self, actor: &Actor, reference: &CaseReference) -> Result<CaseDecisions, AppError>;

    async fn decide_home(&self, actor: &Actor) -> Result<DecideHome, AppError>;
}

/// An event's outcomes, for its organizers.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait OutcomesApi: Send + Sync {
    async fn event_outcomes(&self, actor: &Actor, slug: &Slug) -> Result<OutcomesView, AppError>;
}

/// A person's decisions and their appeals.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait AppealsApi: Send + Sync {
    /// The decisions about the caller (as the person decided about, or covered by one),
    /// newest first. Nothing about who reported or which case.
    async fn my_decisions(&self, actor: &Actor) -> Result<Vec<MyDecision>, AppError>;

    async fn appeal_decision(&self, actor: &Actor, decision_id: Uuid, text: &str) -> Result<(), AppError>;

    async fn appeal_link(&self, actor: &Actor, token: &str) -> Result<AppealLinkView, AppError>;

    async fn appeal_by_link(&self, actor: &Actor, token: &str, text: &str) -> Result<(), AppError>;

    async fn decide_appeal(
        &self,
        actor: &Actor,
        appeal_id: Uuid,
        outcome: &str,
        input: DecisionInput,
    ) -> Result<(), AppError>;
}

/// Possible ban evasion flagged at import.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait EvasionApi: Send + Sync {
    /// Open flags at events where the caller is a responder.
    async fn evasion_flags(&self, actor: &Actor) -> Result<Vec<EvasionFlagView>, AppError>;

    async fn resolve_flag(&self, actor: &Actor, flag: Uuid, action: &str) -> Result<(), AppError>;
}

/// The quarterly transparency report.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait ReportApi: Send + Sync {
    async fn transparency_report(
        &self,
        actor: &Actor,
        organization_slug: &str,
        quarter: &str,
    ) -> Result<TransparencyReport, AppError>;
}

// ----- Wire types ----------------------------------------------------------------

/// A decision as staff see it (the team of its case, and deciders).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionView {
    pub id: uuid::Uuid,
    pub person: String,
    pub event_name: String,
    pub kind: crate::domain::DecisionKind,
    /// "Temporary ban", with the period or role and so on, in words.
    pub summary: String,
    pub decided_by: String,
    pub decided: String,
    pub reasons: String,
    /// The cases it rests on (references; only for those who may see them).
    pub cases: Vec<String>,
    /// Replaced by a correction or an appeal's outcome.
    pub superseded: bool,
    /// Made by deciding an appeal: final.
    pub from_appeal: bool,
    pub appeal: Option<AppealView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppealView {
    pub id: uuid::Uuid,
    pub filed: String,
    pub text: String,
    /// "The decision stands" and so on; `None` while open.
    pub outcome: Option<String>,
}

/// A responder's proposal, waiting for a decider (or already settled).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalView {
    pub id: uuid::Uuid,
    pub case: String,
    pub event_name: String,
    pub person: String,
    pub person_id: uuid::Uuid,
    pub summary: String,
    pub proposed_by: String,
    pub proposed: String,
    /// The proposal's form, to start the decider's form from.
    pub input: crate::domain::DecisionInput,
    /// `open`, `recorded` or `declined`.
    pub status: String,
    /// The event's time zone (the form's times are in it).
    pub time_zone: String,
    /// Open, and nobody uninvolved may decide it (everyone who could is a party to it):
    /// the team is told an administrator must be added.
    pub no_decider: bool,
}

/// The decisions panel of a case, for its team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseDecisions {
    /// Whom a decision may be about: the people linked to the case.
    pub people: Vec<PersonRef>,
    pub proposals: Vec<ProposalView>,
    pub decisions: Vec<DecisionView>,
    pub time_zone: String,
}

/// What waits for a decider: proposals, appeals, and recent decisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecideHome {
    pub proposals: Vec<ProposalView>,
    pub appeals: Vec<AppealToDecide>,
    pub recent: Vec<DecisionView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppealToDecide {
    pub appeal: AppealView,
    pub decision: DecisionView,
    /// Why this decider may not decide it (they took part), if so.
    pub not_you: Option<String>,
    pub time_zone: String,
    /// Set when the appeal is by someone a confirmed ban-evasion flag brought under the
    /// decision (their name): it asks to lift that coverage, not the decision itself.
    pub covered: Option<String>,
}

/// A decision as the person it is about sees it: never who reported, never a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyDecision {
    pub id: uuid::Uuid,
    pub organization: String,
    pub event_name: String,
    pub summary: String,
    pub decided: String,
    /// Until when an appeal is accepted, in words; `None` when it cannot be appealed.
    pub appeal_until: Option<String>,
    pub can_appeal: bool,
    pub appeal: Option<AppealView>,
    /// The outcome of an appeal: no further appeal.
    pub is_final: bool,
    pub superseded: bool,
}

/// Who is expelled from an event or banned by its organization, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomesView {
    pub event_name: String,
    pub rows: Vec<OutcomeRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeRow {
    pub name: String,
    pub email: Option<String>,
    pub measure: String,
    pub since: String,
}

/// A registration that may be a banned person under another name or address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvasionFlagView {
    pub id: uuid::Uuid,
    pub event_name: String,
    pub registrant: PersonRef,
    pub banned: PersonRef,
    pub ban: String,
    pub why: Vec<String>,
    pub flagged: String,
}

/// The organization's transparency report for a period: counts only, small ones hidden.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransparencyReport {
    pub organization: String,
    /// The calendar quarter reported on (`2027-Q2`), its first and last day.
    pub quarter: String,
    pub from: String,
    pub to: String,
    /// The quarters that may be chosen: those that have ended, newest first.
    pub quarters: Vec<String>,
    pub sections: Vec<ReportSection>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSection {
    pub title: String,
    pub rows: Vec<(String, String)>,
}

/// An appeal page reached by the link in a notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppealLinkView {
    pub decision: MyDecision,
}
