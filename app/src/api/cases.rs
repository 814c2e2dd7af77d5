//! Concerns and cases: filing (the form page; the form itself posts to an HTTP route so
//! it works without JavaScript), the reporter's view, and the safety team's work.

use super::AppError;
use super::{PlanResponseView, PlanView};
use crate::domain::{CaseKind, CaseStatus, ContactChannel, DomainError, PersonDescription, SafetyWishes, Witnesses};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
#[cfg(feature = "ssr")]
use {
    super::Actor,
    super::plumbing,
    crate::domain::{CaseReference, Slug},
    uuid::Uuid,
};

/// The concern form for an event; `draft` brings back what was typed when a submission
/// was refused.
#[server(prefix = "/fn", endpoint = "concern_form")]
pub async fn concern_form(slug: String, draft: Option<String>) -> Result<ConcernFormView, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.concern_form(&actor, &plumbing::slug(&slug)?, draft.and_then(|d| d.parse().ok())).await)
}

/// One case, as the caller may see it (its reporter, or the safety team).
#[server(name = CaseCall, prefix = "/fn", endpoint = "case")]
pub async fn case(reference: String) -> Result<CaseView, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.case_view(&actor, &plumbing::reference(&reference)?).await)
}

/// A message on a case, from its reporter or from the team.
#[server(prefix = "/fn", endpoint = "send_message")]
pub async fn send_message(reference: String, body: String) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.send_message(&actor, &plumbing::reference(&reference)?, &body).await)
}

#[server(name = RespondHomeCall, prefix = "/fn", endpoint = "respond_home")]
pub async fn respond_home() -> Result<RespondHome, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.respond_home(&actor).await)
}

/// An event's cases the caller may see, optionally only those whose reference, named
/// person or owner contains `query`.
#[server(prefix = "/fn", endpoint = "case_queue")]
pub async fn case_queue(slug: String, query: Option<String>) -> Result<QueueView, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.case_queue(&actor, &plumbing::slug(&slug)?, query.as_deref().unwrap_or_default()).await)
}

#[server(prefix = "/fn", endpoint = "change_status")]
pub async fn change_status(reference: String, status: String) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.change_status(&actor, &plumbing::reference(&reference)?, plumbing::status(&status)?).await)
}

/// Makes someone on the team the case's owner (the caller, when `person` is empty).
#[server(prefix = "/fn", endpoint = "assign_owner")]
pub async fn assign_owner(reference: String, person: Option<String>) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.assign_owner(&actor, &plumbing::reference(&reference)?, &person.unwrap_or_default()).await)
}

#[server(prefix = "/fn", endpoint = "add_note")]
pub async fn add_note(reference: String, body: String) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.add_note(&actor, &plumbing::reference(&reference)?, &body).await)
}

#[server(prefix = "/fn", endpoint = "add_witness")]
pub async fn add_witness(
    reference: String,
    name: String,
    contact: Option<String>,
    statement: Option<String>,
) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    let reference = plumbing::reference(&reference)?;
    let (contact, statement) = (contact.unwrap_or_default(), statement.unwrap_or_default());
    plumbing::answer(backend.add_witness(&actor, &reference, [&name, &contact, &statement]).await)
}

/// Confirms that a registered person is the one the case names.
#[server(prefix = "/fn", endpoint = "confirm_match")]
pub async fn confirm_match(reference: String, person: String) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.confirm_match(&actor, &plumbing::reference(&reference)?, &person).await)
}

/// The caller steps away from a case; afterwards it no longer exists for them.
#[server(prefix = "/fn", endpoint = "declare_conflict")]
pub async fn declare_conflict(reference: String) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.declare_conflict(&actor, &plumbing::reference(&reference)?).await)?;
    leptos_axum::redirect("/respond");
    Ok(())
}

/// Links the case to an earlier one (retaliation against its reporter or a witness, or
/// false information in it).
#[server(prefix = "/fn", endpoint = "relate_case")]
pub async fn relate_case(reference: String, earlier: String, relation: String) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.relate_case(&actor, &plumbing::reference(&reference)?, &earlier, &relation).await)
}

/// A responder of the case's team asks to know who reported a shielded case, saying why;
/// the reporter sees who asked, when and why.
#[server(prefix = "/fn", endpoint = "reveal_reporter")]
pub async fn reveal_reporter(reference: String, reason: String) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.reveal_reporter(&actor, &plumbing::reference(&reference)?, &reason).await)
}

/// Filing a concern: the form page (the form posts to an HTTP route).
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait FilingApi: Send + Sync {
    async fn concern_form(&self, actor: &Actor, slug: &Slug, draft: Option<Uuid>) -> Result<ConcernFormView, AppError>;
}

/// One case, as its reporter or its team may see it.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait CaseViewApi: Send + Sync {
    async fn case_view(&self, actor: &Actor, reference: &CaseReference) -> Result<CaseView, AppError>;
}

/// The safety team's queues.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait QueueApi: Send + Sync {
    async fn respond_home(&self, actor: &Actor) -> Result<RespondHome, AppError>;

    /// The queue: only cases the caller may see (recusal included), searched after
    /// opening, since what a case says about its person is sealed.
    async fn case_queue(&self, actor: &Actor, slug: &Slug, query: &str) -> Result<QueueView, AppError>;
}

/// Work on a case: messages, status, owner, notes, witnesses, matches, conflicts, related cases.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait CasesApi: Send + Sync {
    async fn send_message(&self, actor: &Actor, reference: &CaseReference, body: &str) -> Result<(), AppError>;

    async fn change_status(&self, actor: &Actor, reference: &CaseReference, to: CaseStatus) -> Result<(), AppError>;

    async fn assign_owner(&self, actor: &Actor, reference: &CaseReference, person: &str) -> Result<(), AppError>;

    async fn add_note(&self, actor: &Actor, reference: &CaseReference, body: &str) -> Result<(), AppError>;

    async fn add_witness(&self, actor: &Actor, reference: &CaseReference, fields: [&str; 3]) -> Result<(), AppError>;

    async fn confirm_match(&self, actor: &Actor, reference: &CaseReference, person_id: &str) -> Result<(), AppError>;

    async fn declare_conflict(&self, actor: &Actor, reference: &CaseReference) -> Result<(), AppError>;

    async fn relate_case(
        &self,
        actor: &Actor,
        reference: &CaseReference,
        earlier: &str,
        relation: &str,
    ) -> Result<(), AppError>;

    async fn reveal_reporter(&self, actor: &Actor, reference: &CaseReference, reason: &str) -> Result<(), AppError>;
}

// ----- Wire types ----------------------------------------------------------------

/// The concern form for an event, with what was typed last time and what to fix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConcernFormView {
    pub event_slug: String,
    pub event_name: String,
    /// The caller may file here (registered for the event, or staff of it).
    pub may_file: bool,
    pub form: crate::domain::ConcernForm,
    pub errors: Vec<DomainError>,
    /// A photo chosen last time that was not kept (and why).
    pub photo_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseSummary {
    pub reference: String,
    pub event_name: String,
    pub kind: CaseKind,
    pub status: CaseStatus,
    pub filed: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    pub from_team: bool,
    /// Who wrote it: a name for the team's view; "Safety team" or "You" for the reporter.
    pub author: String,
    pub body: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadView {
    pub name: String,
    pub at: String,
    pub what: String,
}

/// A case as its reporter sees it: no internal notes, no team-only facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReporterCaseView {
    pub reference: String,
    pub event_name: String,
    pub kind: CaseKind,
    pub status: CaseStatus,
    pub filed: String,
    pub person: PersonDescription,
    pub narrative: String,
    pub wishes: SafetyWishes,
    pub contact_channel: ContactChannel,
    /// What the team agreed with the reporter (from the safety plan).
    pub arrangements: Vec<String>,
    /// The reporter's latest answer to the plan.
    pub plan_response: Option<PlanResponseView>,
    pub messages: Vec<MessageView>,
    /// Who on the team has read the case, and when.
    pub readers: Vec<ReadView>,
    /// While it is open, the reporter may withdraw it (its text is then erased).
    pub may_withdraw: bool,
    /// Resolved or closed: until when its text is kept (in the event's time zone).
    pub kept_until: Option<String>,
    /// The reporter asked that only the case's owner know who they are.
    pub shielded: bool,
    /// Who came to know who they are, when and why.
    pub reveals: Vec<RevealView>,
}

/// Someone on the team who came to know who reported a shielded case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevealView {
    pub by: String,
    pub at: String,
    pub reason: String,
}

/// A shielded reporter, as a responder of the team sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShieldView {
    /// The code name others see (e.g. "Reporter K7").
    pub code: String,
    /// The caller knows who it is (the owner, or they asked).
    pub known: bool,
}

/// What is left of a case once its text was erased: no text, only what decisions and
/// the rule of involvement still need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasedCaseView {
    pub reference: String,
    pub event_name: String,
    pub kind: CaseKind,
    pub status: CaseStatus,
    pub filed: String,
    pub erased: String,
    /// For the team: the decisions resting on it (their summaries).
    pub decisions: Vec<String>,
}

/// How long a case's text is kept, as its team sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionView {
    /// Until when (in the event's time zone).
    pub until: String,
    /// The keeping was already extended (it can be, once).
    pub extended: bool,
    /// The most days an extension may add: the organization's period.
    pub max_days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRef {
    pub id: uuid::Uuid,
    pub name: String,
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChangeView {
    pub from: Option<CaseStatus>,
    pub to: CaseStatus,
    pub by: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteView {
    pub author: String,
    pub body: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WitnessView {
    pub name: String,
    pub contact: String,
    pub statement: String,
    pub added_by: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentView {
    pub id: uuid::Uuid,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    pub kind: String,
    pub at: String,
}

/// A registration that may belong to the person the case names, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidateView {
    pub person_id: uuid::Uuid,
    pub name: String,
    pub email: Option<String>,
    pub events: Vec<String>,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelatedCaseView {
    pub reference: String,
    pub status: CaseStatus,
    /// How it relates, in words.
    pub relation: String,
}

/// A case as the safety team sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamCaseView {
    pub reference: String,
    pub event_slug: String,
    pub event_name: String,
    pub kind: CaseKind,
    pub status: CaseStatus,
    pub next_statuses: Vec<CaseStatus>,
    pub filed: String,
    pub acknowledge_by: String,
    pub overdue: bool,
    pub owner: Option<PersonRef>,
    pub responders: Vec<PersonRef>,
    pub reporter: PersonRef,
    pub contact_channel: ContactChannel,
    pub contact_detail: Option<String>,
    pub person: PersonDescription,
    pub narrative: String,
    pub wishes: SafetyWishes,
    pub witnesses: Witnesses,
    pub witness_details: Option<String>,
    pub history: Vec<StatusChangeView>,
    pub notes: Vec<NoteView>,
    pub messages: Vec<MessageView>,
    pub witness_entries: Vec<WitnessView>,
    pub attachments: Vec<AttachmentView>,
    /// People confirmed as the one the case names.
    pub linked: Vec<PersonRef>,
    /// Registrations that may be that person (not yet confirmed).
    pub candidates: Vec<CandidateView>,
    /// Other cases (visible to the caller) naming the same person.
    pub same_person: Vec<RelatedCaseView>,
    /// Cases this one is related to, and cases related to this one.
    pub related: Vec<RelatedCaseView>,
    pub reads: Vec<ReadView>,
    pub plan: PlanView,
    /// Resolved or closed: how long its text is kept.
    pub retention: Option<RetentionView>,
    /// Set when the reporter is shielded.
    pub shield: Option<ShieldView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "view", rename_all = "snake_case")]
pub enum CaseView {
    Reporter(Box<ReporterCaseView>),
    Team(Box<TeamCaseView>),
    Erased(Box<ErasedCaseView>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueRow {
    pub reference: String,
    pub kind: CaseKind,
    pub status: CaseStatus,
    pub person: String,
    pub filed: String,
    pub acknowledge_by: String,
    pub overdue: bool,
    pub owner: Option<String>,
    /// Set when the case is linked to another as retaliation or false information.
    pub flag: Option<String>,
    /// How many other visible cases name the same person.
    pub same_person: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueView {
    pub event_slug: String,
    pub event_name: String,
    /// What the rows were filtered by (empty: every case).
    pub query: String,
    pub rows: Vec<QueueRow>,
}

/// Events where the caller is on the safety team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RespondHome {
    pub events: Vec<RespondEvent>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RespondEvent {
    pub slug: String,
    pub name: String,
    pub open_cases: u32,
    pub overdue: u32,
}
