//! Concerns and cases: filing (the form page; the form itself posts to an HTTP route so
//! it works without JavaScript), the reporter's view, and the safety team's work.

use super::{AppError, CaseView, ConcernFormView, QueueView, RespondHome};
use leptos::prelude::*;

/// The concern form for an event; `draft` brings back what was typed when a submission
/// was refused.
#[server(prefix = "/fn", endpoint = "concern_form")]
pub async fn concern_form(slug: String, draft: Option<String>) -> Result<ConcernFormView, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.concern_form(&actor, slug, draft).await)
}

/// One case, as the caller may see it (its reporter, or the safety team).
#[server(name = CaseCall, prefix = "/fn", endpoint = "case")]
pub async fn case(reference: String) -> Result<CaseView, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.case(&actor, reference).await)
}

/// A message on a case, from its reporter or from the team.
#[server(prefix = "/fn", endpoint = "send_message")]
pub async fn send_message(reference: String, body: String) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.send_message(&actor, reference, body).await)
}

#[server(name = RespondHomeCall, prefix = "/fn", endpoint = "respond_home")]
pub async fn respond_home() -> Result<RespondHome, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.respond_home(&actor).await)
}

/// An event's cases the caller may see, optionally only those whose reference, named
/// person or owner contains `query`.
#[server(prefix = "/fn", endpoint = "case_queue")]
pub async fn case_queue(slug: String, query: Option<String>) -> Result<QueueView, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.case_queue(&actor, slug, query).await)
}

#[server(prefix = "/fn", endpoint = "change_status")]
pub async fn change_status(reference: String, status: String) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.change_status(&actor, reference, status).await)
}

/// Makes someone on the team the case's owner (the caller, when `person` is empty).
#[server(prefix = "/fn", endpoint = "assign_owner")]
pub async fn assign_owner(reference: String, person: Option<String>) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.assign_owner(&actor, reference, person.unwrap_or_default()).await)
}

#[server(prefix = "/fn", endpoint = "add_note")]
pub async fn add_note(reference: String, body: String) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.add_note(&actor, reference, body).await)
}

#[server(prefix = "/fn", endpoint = "add_witness")]
pub async fn add_witness(
    reference: String,
    name: String,
    contact: Option<String>,
    statement: Option<String>,
) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(
        backend.add_witness(&actor, reference, name, contact.unwrap_or_default(), statement.unwrap_or_default()).await,
    )
}

/// Confirms that a registered person is the one the case names.
#[server(prefix = "/fn", endpoint = "confirm_match")]
pub async fn confirm_match(reference: String, person: String) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.confirm_match(&actor, reference, person).await)
}

/// The caller steps away from a case; afterwards it no longer exists for them.
#[server(prefix = "/fn", endpoint = "declare_conflict")]
pub async fn declare_conflict(reference: String) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.declare_conflict(&actor, reference).await)?;
    leptos_axum::redirect("/respond");
    Ok(())
}

/// Links the case to an earlier one (retaliation against its reporter or a witness, or
/// false information in it).
#[server(prefix = "/fn", endpoint = "relate_case")]
pub async fn relate_case(reference: String, earlier: String, relation: String) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.relate_case(&actor, reference, earlier, relation).await)
}
