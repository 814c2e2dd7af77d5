//! Badges and the door: a person's badges, the door page (scans, name check-ins, search),
//! arrivals, door devices, badge replacement and sending.

use super::{AppError, ArrivalsView, BadgeSheet, DeviceView, DoorPerson, DoorView, MyBadge};
use crate::domain::badge::ScanAnswer;
use leptos::prelude::*;

#[server(prefix = "/fn", endpoint = "my_badges")]
pub async fn my_badges() -> Result<Vec<MyBadge>, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.my_badges(&actor).await)
}

#[server(name = DoorViewCall, prefix = "/fn", endpoint = "door_view")]
pub async fn door_view(slug: String) -> Result<DoorView, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.door_view(&actor, slug).await)
}

/// A scan from the door page: the text read (or `registration:<id>` for a check-in by
/// name), the page's id for the scan, the gate, and when (for scans made offline).
#[server(prefix = "/fn", endpoint = "door_scan")]
pub async fn door_scan(
    slug: String,
    token: String,
    scan_id: uuid::Uuid,
    gate: String,
    scanned_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<ScanAnswer, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.door_scan(&actor, slug, token, scan_id, gate, scanned_at).await)
}

#[server(prefix = "/fn", endpoint = "door_search")]
pub async fn door_search(slug: String, query: String) -> Result<Vec<DoorPerson>, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.door_search(&actor, slug, query).await)
}

#[server(name = ArrivalsCall, prefix = "/fn", endpoint = "arrivals")]
pub async fn arrivals(slug: String) -> Result<ArrivalsView, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.arrivals(&actor, slug).await)
}

#[server(name = BadgeSheetCall, prefix = "/fn", endpoint = "badge_sheet")]
pub async fn badge_sheet(slug: String, selection: Option<String>) -> Result<BadgeSheet, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.badge_sheet(&actor, slug, selection.unwrap_or_default()).await)
}

/// Revokes a registration's badge at once and issues a new one.
#[server(prefix = "/fn", endpoint = "replace_badge")]
pub async fn replace_badge(slug: String, registration: String) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.replace_badge(&actor, slug, registration).await)
}

/// E-mails every badge of the event not yet sent; returns how many.
#[server(prefix = "/fn", endpoint = "send_badges")]
pub async fn send_badges(slug: String) -> Result<u32, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.send_badges(&actor, slug).await)
}

#[server(name = DevicesCall, prefix = "/fn", endpoint = "devices")]
pub async fn devices(slug: String) -> Result<Vec<DeviceView>, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.devices(&actor, slug).await)
}

/// Adds a door device; returns its token, shown this once.
#[server(prefix = "/fn", endpoint = "add_device")]
pub async fn add_device(slug: String, name: String) -> Result<String, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.add_device(&actor, slug, name).await)
}

#[server(prefix = "/fn", endpoint = "revoke_device")]
pub async fn revoke_device(slug: String, device: String) -> Result<(), AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.revoke_device(&actor, slug, device).await)
}
