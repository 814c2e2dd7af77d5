//! Data sent over the wire between the server and the pages.

use serde::{Deserialize, Serialize};

/// An event as listed publicly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSummary {
    pub slug: String,
    pub name: String,
    pub organization: String,
    /// Start and end in the event's own time zone, already formatted for people.
    pub when: String,
    pub venue: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeView {
    pub events: Vec<EventSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventView {
    pub event: EventSummary,
    pub time_zone: String,
    /// Hours within which the safety team acknowledges a report.
    pub ack_hours: u32,
}

/// What every page's header needs to know about the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SessionInfo {
    pub signed_in: bool,
    pub name: Option<String>,
    /// Holds an organizer or admin role somewhere (shows the "Manage" link).
    pub manages: bool,
}

/// A configured OpenID Connect provider, as shown on the sign-in page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderLink {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigninOptions {
    pub providers: Vec<ProviderLink>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyRegistration {
    pub event_slug: String,
    pub event_name: String,
    pub when: String,
    pub ticket_ref: Option<String>,
    pub role: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyRole {
    pub role: crate::domain::Role,
    /// The event's or the organization's name.
    pub scope: String,
    pub event_slug: Option<String>,
}

/// The signed-in person's own page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyPage {
    pub name: String,
    pub email: Option<String>,
    pub registrations: Vec<MyRegistration>,
    pub roles: Vec<MyRole>,
}

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
    /// The caller may grant organization-wide roles (admins only).
    pub can_invite_organization: bool,
}

/// What an invitation link offers, shown to whoever holds the link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationView {
    pub role: crate::domain::Role,
    pub scope: String,
    pub organization: String,
    pub email: String,
}
