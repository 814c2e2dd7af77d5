//! Enforcement and appeals: proposals on a case, decisions, outcomes for organizers, the
//! person's own decisions and appeals (signed in or by the link in the notice), ban-evasion
//! flags, and the transparency report.

use super::{
    AppError, AppealLinkView, CaseDecisions, DecideHome, EvasionFlagView, MyDecision, OutcomesView, TransparencyReport,
};
use crate::domain::DecisionInput;
use leptos::prelude::*;

#[server(name = CaseDecisionsCall, prefix = "/fn", endpoint = "case_decisions")]
pub async fn case_decisions(reference: String) -> Result<CaseDecisions, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.case_decisions(&actor, reference).await)
}

/// A responder proposes a decision about a person linked to the case.
#[server(prefix = "/fn", endpoint = "propose_decision")]
pub async fn propose_decision(reference: String, input: DecisionInput) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.propose_decision(&actor, reference, input).await)
}

#[server(name = DecideHomeCall, prefix = "/fn", endpoint = "decide_home")]
pub async fn decide_home() -> Result<DecideHome, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.decide_home(&actor).await)
}

/// A decider records a decision on a proposal (terms as proposed or changed).
#[server(prefix = "/fn", endpoint = "record_decision")]
pub async fn record_decision(proposal: String, input: DecisionInput) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.record_decision(&actor, proposal, input).await)
}

#[server(prefix = "/fn", endpoint = "decline_proposal")]
pub async fn decline_proposal(proposal: String) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.decline_proposal(&actor, proposal).await)
}

/// A decider corrects a decision: a new record that supersedes it.
#[server(prefix = "/fn", endpoint = "correct_decision")]
pub async fn correct_decision(decision: String, input: DecisionInput) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.correct_decision(&actor, decision, input).await)
}

#[server(prefix = "/fn", endpoint = "event_outcomes")]
pub async fn event_outcomes(slug: String) -> Result<OutcomesView, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.event_outcomes(&actor, slug).await)
}

#[server(prefix = "/fn", endpoint = "my_decisions")]
pub async fn my_decisions() -> Result<Vec<MyDecision>, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.my_decisions(&actor).await)
}

/// The person decided about appeals in writing, signed in.
#[server(prefix = "/fn", endpoint = "appeal_decision")]
pub async fn appeal_decision(decision: String, text: String) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.appeal_decision(&actor, decision, text).await)
}

#[server(prefix = "/fn", endpoint = "appeal_link")]
pub async fn appeal_link(token: String) -> Result<AppealLinkView, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.appeal_link(&actor, token).await)
}

/// The person decided about appeals through the link in their notice.
#[server(prefix = "/fn", endpoint = "appeal_by_link")]
pub async fn appeal_by_link(token: String, text: String) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.appeal_by_link(&actor, token, text).await)
}

/// A decider who took no part decides an appeal: `outcome` is uphold, modify or lift;
/// `input` holds the new terms for modify, and the reasons in every case.
#[server(prefix = "/fn", endpoint = "decide_appeal")]
pub async fn decide_appeal(appeal: String, outcome: String, input: DecisionInput) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.decide_appeal(&actor, appeal, outcome, input).await)
}

#[server(prefix = "/fn", endpoint = "evasion_flags")]
pub async fn evasion_flags() -> Result<Vec<EvasionFlagView>, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.evasion_flags(&actor).await)
}

/// `action` is confirm (the ban then covers the registration's person) or dismiss
/// (remembered: the pair is not flagged again).
#[server(prefix = "/fn", endpoint = "resolve_flag")]
pub async fn resolve_flag(flag: String, action: String) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.resolve_flag(&actor, flag, action).await)
}

/// Counts for an organization over an ended calendar quarter (`2027-Q2`; none: the last
/// one that ended).
#[server(name = TransparencyReportCall, prefix = "/fn", endpoint = "transparency_report")]
pub async fn transparency_report(
    organization: String,
    quarter: Option<String>,
) -> Result<TransparencyReport, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.transparency_report(&actor, organization, quarter.unwrap_or_default()).await)
}
