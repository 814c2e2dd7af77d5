//! What organizers and admins do: events, registrations, staff.

use super::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
#[cfg(feature = "ssr")]
use {
    super::Actor,
    super::plumbing,
    crate::domain::{Invitee, Slug},
    uuid::Uuid,
};

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
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.manage_home(&actor).await)
}

#[server(prefix = "/fn", endpoint = "create_event")]
pub async fn create_event(organization: String, input: EventInput) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    let slug = plumbing::answer(backend.create_event(&actor, &plumbing::slug(&organization)?, &input).await)?;
    leptos_axum::redirect(&format!("/manage/events/{slug}"));
    Ok(())
}

#[server(name = EventSettingsCall, prefix = "/fn", endpoint = "event_settings")]
pub async fn event_settings(slug: String) -> Result<EventSettings, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.event_settings(&actor, &plumbing::slug(&slug)?).await)
}

#[server(prefix = "/fn", endpoint = "update_event")]
pub async fn update_event(slug: String, input: EventInput) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    let new_slug = plumbing::answer(backend.update_event(&actor, &plumbing::slug(&slug)?, &input).await)?;
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
    let (backend, actor) = plumbing::context()?;
    let (slug, query) = (plumbing::slug(&slug)?, query.unwrap_or_default());
    plumbing::answer(backend.registrations(&actor, &slug, &query, page.unwrap_or(1)).await)
}

#[server(prefix = "/fn", endpoint = "add_registration")]
pub async fn add_registration(
    slug: String,
    name: String,
    email: String,
    ticket_ref: Option<String>,
    role: Option<String>,
) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    let slug = plumbing::slug(&slug)?;
    let (ticket_ref, role) = (ticket_ref.unwrap_or_default(), role.unwrap_or_default());
    plumbing::answer(backend.add_registration(&actor, &slug, [&name, &email, &ticket_ref, &role]).await)
}

/// Imports registrations from CSV text (`name,email[,ticket_ref][,role]` with a header).
#[server(prefix = "/fn", endpoint = "import_registrations")]
pub async fn import_registrations(slug: String, csv: String) -> Result<ImportReport, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.import_registrations(&actor, &plumbing::slug(&slug)?, &csv).await)
}

#[server(prefix = "/fn", endpoint = "staff")]
pub async fn staff(slug: String) -> Result<StaffView, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.staff(&actor, &plumbing::slug(&slug)?).await)
}

/// Invites someone by e-mail to a staff role for this event (or, for admins, the whole
/// organization). Only administrators invite to the safety team. The invitation link is
/// single-use and only its addressee may accept it.
#[server(prefix = "/fn", endpoint = "invite_staff")]
pub async fn invite_staff(slug: String, email: String, role: String, scope: Option<String>) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    let slug = plumbing::slug(&slug)?;
    let invitee = crate::domain::Invitee::parse(&email, &role, &scope.unwrap_or_default()).map_err(AppError::Invalid);
    plumbing::answer(backend.invite_staff(&actor, &slug, &plumbing::answer(invitee)?).await)
}

#[server(prefix = "/fn", endpoint = "revoke_role")]
pub async fn revoke_role(slug: String, role_id: String) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.revoke_role(&actor, &plumbing::slug(&slug)?, plumbing::id(&actor, &role_id)?).await)
}

/// Organizers and administrators: their organizations and events.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait ManageApi: Send + Sync {
    async fn manage_home(&self, actor: &Actor) -> Result<ManageHome, AppError>;

    async fn create_event(&self, actor: &Actor, org_slug: &Slug, input: &EventInput) -> Result<String, AppError>;

    async fn event_settings(&self, actor: &Actor, slug: &Slug) -> Result<EventSettings, AppError>;

    async fn update_event(&self, actor: &Actor, slug: &Slug, input: &EventInput) -> Result<String, AppError>;
}

/// An event's registrations: listed, added one by one, imported from CSV.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait RegistrationsApi: Send + Sync {
    async fn registrations(
        &self,
        actor: &Actor,
        slug: &Slug,
        query: &str,
        page: u32,
    ) -> Result<RegistrationPage, AppError>;

    async fn add_registration(&self, actor: &Actor, slug: &Slug, fields: [&str; 4]) -> Result<(), AppError>;

    async fn import_registrations(&self, actor: &Actor, slug: &Slug, csv: &str) -> Result<ImportReport, AppError>;
}

/// An event's staff: who holds which role, invitations, revocation.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait StaffApi: Send + Sync {
    async fn staff(&self, actor: &Actor, slug: &Slug) -> Result<StaffView, AppError>;

    async fn invite_staff(&self, actor: &Actor, slug: &Slug, invitee: &Invitee) -> Result<(), AppError>;

    async fn revoke_role(&self, actor: &Actor, slug: &Slug, role_id: Uuid) -> Result<(), AppError>;
}

// ----- Wire types ----------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedEvent {
    pub slug: String,
    pub name: String,
    pub organization: String,
    pub when: String,
    pub registrations: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedOrganization {
    pub slug: String,
    pub name: String,
    /// What it asks of its staff's sign-in; shown to its administrators only.
    pub security: Option<super::OrganizationSecurity>,
    /// Days a resolved or closed case's text is kept; shown to its administrators only.
    pub retention_days: Option<u32>,
}

/// The organizer's start page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManageHome {
    pub events: Vec<ManagedEvent>,
    /// Organizations where the caller may create events.
    pub organizations: Vec<ManagedOrganization>,
}

/// An event's settings, with times as wall-clock inputs in the event's zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSettings {
    pub organization: String,
    pub slug: String,
    pub name: String,
    pub venue: String,
    pub time_zone: String,
    pub starts_at: String,
    pub ends_at: String,
    pub ack_hours: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationRow {
    pub id: uuid::Uuid,
    pub name: String,
    pub email: String,
    pub ticket_ref: Option<String>,
    pub role: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationPage {
    pub event_name: String,
    pub query: String,
    pub page: u32,
    pub pages: u32,
    pub total: u64,
    pub rows: Vec<RegistrationRow>,
}

/// What an import did. An import that finds a bad row changes nothing and answers
/// `AppError::Invalid` listing every bad row by line number instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ImportReport {
    pub created: u32,
    pub unchanged: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMember {
    pub role_id: uuid::Uuid,
    pub name: String,
    pub email: Option<String>,
    pub role: crate::domain::Role,
    pub scope: crate::domain::RoleScope,
    /// Whether they have a second factor in force; shown to administrators only.
    pub second_factor: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingInvitation {
    pub email: String,
    pub role: crate::domain::Role,
    pub scope: crate::domain::RoleScope,
    pub expires: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffView {
    pub event_name: String,
    pub members: Vec<StaffMember>,
    pub invitations: Vec<PendingInvitation>,
    /// The caller is an administrator of the organization: they may grant organization-wide
    /// roles and the roles only administrators grant (`Role::granted_by_admins_only`).
    pub can_invite_organization: bool,
}
