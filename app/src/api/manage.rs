//! What organizers and admins do: events, registrations, staff.

use super::{AppError, EventSettings, ImportReport, ManageHome, RegistrationPage, StaffView};
use leptos::prelude::*;

/// The fields of the event form, as typed. A missing field reads as empty (and is then
/// reported by the checks, or takes its default).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, Default)]
#[serde(default)]
pub struct EventInput {
    pub name: String,
    pub slug: String,
    pub venue: String,
    pub time_zone: String,
    pub starts_at: String,
    pub ends_at: String,
    pub ack_hours: String,
}

/// The events the caller manages and where they may create more.
#[server(name = ManageHomeCall, prefix = "/fn", endpoint = "manage_home")]
pub async fn manage_home() -> Result<ManageHome, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.manage_home(&actor).await)
}

#[server(prefix = "/fn", endpoint = "create_event")]
pub async fn create_event(organization: String, input: EventInput) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    let slug = super::plumbing::answer(backend.create_event(&actor, organization, input).await)?;
    leptos_axum::redirect(&format!("/manage/events/{slug}"));
    Ok(())
}

#[server(name = EventSettingsCall, prefix = "/fn", endpoint = "event_settings")]
pub async fn event_settings(slug: String) -> Result<EventSettings, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.event_settings(&actor, slug).await)
}

#[server(prefix = "/fn", endpoint = "update_event")]
pub async fn update_event(slug: String, input: EventInput) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    let new_slug = super::plumbing::answer(backend.update_event(&actor, slug, input).await)?;
    leptos_axum::redirect(&format!("/manage/events/{new_slug}"));
    Ok(())
}

/// One page of an event's registrations, optionally filtered by name or e-mail.
#[server(prefix = "/fn", endpoint = "registrations")]
pub async fn registrations(
    slug: String,
    query: Option<String>,
    page: Option<u32>,
) -> Result<RegistrationPage, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.registrations(&actor, slug, query.unwrap_or_default(), page.unwrap_or(1)).await)
}

#[server(prefix = "/fn", endpoint = "add_registration")]
pub async fn add_registration(
    slug: String,
    name: String,
    email: String,
    ticket_ref: Option<String>,
    role: Option<String>,
) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(
        backend
            .add_registration(&actor, slug, name, email, ticket_ref.unwrap_or_default(), role.unwrap_or_default())
            .await,
    )
}

/// Imports registrations from CSV text (`name,email[,ticket_ref][,role]` with a header).
#[server(prefix = "/fn", endpoint = "import_registrations")]
pub async fn import_registrations(slug: String, csv: String) -> Result<ImportReport, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.import_registrations(&actor, slug, csv).await)
}

#[server(prefix = "/fn", endpoint = "staff")]
pub async fn staff(slug: String) -> Result<StaffView, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.staff(&actor, slug).await)
}

/// Invites someone by e-mail to a staff role for this event (or, for admins, the whole
/// organization). Only administrators invite to the safety team. The invitation link is
/// single-use and only its addressee may accept it.
#[server(prefix = "/fn", endpoint = "invite_staff")]
pub async fn invite_staff(slug: String, email: String, role: String, scope: Option<String>) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.invite_staff(&actor, slug, email, role, scope.unwrap_or_default()).await)
}

#[server(prefix = "/fn", endpoint = "revoke_role")]
pub async fn revoke_role(slug: String, role_id: String) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.revoke_role(&actor, slug, role_id).await)
}
