//! Badges and the door: a person's badges, the door page (scans, name check-ins, search),
//! arrivals, door devices, badge replacement and sending.

use super::AppError;
use crate::domain::badge::ScanAnswer;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
#[cfg(feature = "ssr")]
use {super::Actor, super::plumbing, crate::domain::Slug, uuid::Uuid};

#[server(prefix = "/fn", endpoint = "my_badges")]
pub async fn my_badges() -> Result<Vec<MyBadge>, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.my_badges(&actor).await)
}

#[server(name = DoorViewCall, prefix = "/fn", endpoint = "door_view")]
pub async fn door_view(slug: String) -> Result<DoorView, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.door_view(&actor, &plumbing::slug(&slug)?).await)
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
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(
        backend.door_scan(&actor, &plumbing::slug(&slug)?, ScanInput { text: token, scan_id, gate, scanned_at }).await,
    )
}

#[server(prefix = "/fn", endpoint = "door_search")]
pub async fn door_search(slug: String, query: String) -> Result<Vec<DoorPerson>, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.door_search(&actor, &plumbing::slug(&slug)?, &query).await)
}

#[server(name = ArrivalsCall, prefix = "/fn", endpoint = "arrivals")]
pub async fn arrivals(slug: String) -> Result<ArrivalsView, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.arrivals(&actor, &plumbing::slug(&slug)?).await)
}

#[server(name = BadgeSheetCall, prefix = "/fn", endpoint = "badge_sheet")]
pub async fn badge_sheet(slug: String, selection: Option<String>) -> Result<BadgeSheet, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.badge_sheet(&actor, &plumbing::slug(&slug)?, &selection.unwrap_or_default()).await)
}

/// Revokes a registration's badge at once and issues a new one.
#[server(prefix = "/fn", endpoint = "replace_badge")]
pub async fn replace_badge(slug: String, registration: String) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.replace_badge(&actor, &plumbing::slug(&slug)?, plumbing::id(&actor, &registration)?).await)
}

/// E-mails every badge of the event not yet sent; returns how many.
#[server(prefix = "/fn", endpoint = "send_badges")]
pub async fn send_badges(slug: String) -> Result<u32, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.send_event_badges(&actor, &plumbing::slug(&slug)?).await)
}

#[server(name = DevicesCall, prefix = "/fn", endpoint = "devices")]
pub async fn devices(slug: String) -> Result<Vec<DeviceView>, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.device_list(&actor, &plumbing::slug(&slug)?).await)
}

/// Adds a door device; returns its token, shown this once.
#[server(prefix = "/fn", endpoint = "add_device")]
pub async fn add_device(slug: String, name: String) -> Result<String, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.add_event_device(&actor, &plumbing::slug(&slug)?, &name).await)
}

#[server(prefix = "/fn", endpoint = "revoke_device")]
pub async fn revoke_device(slug: String, device: String) -> Result<(), AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.revoke_event_device(&actor, &plumbing::slug(&slug)?, plumbing::id(&actor, &device)?).await)
}

/// Badges and the door: a person's badges, the door page, arrivals, badge sheets, devices.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait DoorApi: Send + Sync {
    async fn my_badges(&self, actor: &Actor) -> Result<Vec<MyBadge>, AppError>;

    async fn door_view(&self, actor: &Actor, slug: &Slug) -> Result<DoorView, AppError>;

    async fn door_scan(&self, actor: &Actor, slug: &Slug, input: ScanInput) -> Result<ScanAnswer, AppError>;

    async fn door_search(&self, actor: &Actor, slug: &Slug, query: &str) -> Result<Vec<DoorPerson>, AppError>;

    /// Arrivals for the event's organizers: per hour, the latest at each gate, who
    /// checked in whom by name, and scans recorded late (more than 7 days after they
    /// happened). An alert about the organizer, or of a case they are
    /// involved in, reads as an admission here, as it would at the door.
    async fn arrivals(&self, actor: &Actor, slug: &Slug) -> Result<ArrivalsView, AppError>;

    /// Badges to print: all of the event's, or those of the listed registrations.
    async fn badge_sheet(&self, actor: &Actor, slug: &Slug, selection: &str) -> Result<BadgeSheet, AppError>;

    async fn replace_badge(&self, actor: &Actor, slug: &Slug, registration: Uuid) -> Result<(), AppError>;

    async fn send_event_badges(&self, actor: &Actor, slug: &Slug) -> Result<u32, AppError>;

    async fn device_list(&self, actor: &Actor, slug: &Slug) -> Result<Vec<DeviceView>, AppError>;

    async fn add_event_device(&self, actor: &Actor, slug: &Slug, name: &str) -> Result<String, AppError>;

    async fn revoke_event_device(&self, actor: &Actor, slug: &Slug, device: Uuid) -> Result<(), AppError>;
}

/// One scan as sent: the text read from the badge (or `registration:<id>` for a name
/// check-in), the client's id for it, the gate, and when it happened (offline scans).
#[derive(Debug, Clone)]
pub struct ScanInput {
    pub text: String,
    pub scan_id: uuid::Uuid,
    pub gate: String,
    pub scanned_at: Option<chrono::DateTime<chrono::Utc>>,
}

// ----- Wire types ----------------------------------------------------------------

/// A badge of the signed-in person (its image is at `/badges/<registration>.svg`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyBadge {
    pub registration: uuid::Uuid,
    pub event_slug: String,
    pub event_name: String,
    pub name: String,
}

/// What the door page needs to start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorView {
    pub event_id: uuid::Uuid,
    pub event_slug: String,
    pub event_name: String,
}

/// A registration found by name at the door.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorPerson {
    pub registration: uuid::Uuid,
    pub name: String,
    pub ticket_ref: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourCount {
    pub hour: String,
    pub admitted: u32,
    pub denied: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateScan {
    pub at: String,
    pub result: crate::domain::badge::ScanResult,
    pub name: Option<String>,
    /// Recorded more than 7 days after it happened.
    pub late: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateView {
    pub gate: String,
    pub latest: Vec<GateScan>,
}

/// Who checks people in by name at the door (door staff or a device), and how often.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameCheckInCount {
    /// The door person's name, or the device's.
    pub by: String,
    pub device: bool,
    pub count: u32,
}

/// One check-in by name: who checked in whom, when and at which gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameCheckIn {
    pub at: String,
    pub by: String,
    pub device: bool,
    /// The person checked in (none when the registration was unknown).
    pub name: Option<String>,
    pub gate: String,
}

/// A scan recorded more than 7 days after it happened (a device offline that long): when
/// it happened, when it reached the server, where, by whom, and the answer recorded (judged
/// when it arrived).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LateScan {
    pub at: String,
    pub received: String,
    pub gate: String,
    /// The door person's name, or the device's.
    pub by: String,
    pub device: bool,
    pub result: crate::domain::badge::ScanResult,
    pub name: Option<String>,
}

/// Arrivals so far: per hour (event time), the latest scans at each gate, the check-ins
/// by name (per door person and device, and the latest ones), and scans uploaded late.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArrivalsView {
    pub event_name: String,
    pub admitted: u32,
    pub per_hour: Vec<HourCount>,
    pub gates: Vec<GateView>,
    pub by_name: Vec<NameCheckInCount>,
    pub latest_by_name: Vec<NameCheckIn>,
    /// How many scans were recorded late in all, and the latest 20 received.
    pub late_count: u32,
    pub late: Vec<LateScan>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceView {
    pub id: uuid::Uuid,
    pub name: String,
    pub added: String,
    pub revoked: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadgeSheet {
    pub event_name: String,
    pub badges: Vec<BadgeCard>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadgeCard {
    pub registration: uuid::Uuid,
    pub name: String,
    pub role: Option<String>,
}
