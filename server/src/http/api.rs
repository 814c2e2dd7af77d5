//! The REST API for door devices, described by an OpenAPI document generated from these
//! very handlers and types (`GET /api/openapi.json`), so the two cannot drift apart.

use super::AppState;
use super::error::{Format, answer};
use crate::services::door::{DeviceAuth, ScanInput, ScanSource, SyncCaller};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use haven_app::api::{Actor, AppError};
use haven_app::domain::badge::{DenyReason, ScanAnswer, ScanResult};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

/// A scan as a door device sends it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    /// The text read from the badge's QR code (`HVN1.`…), or `registration:<id>` to check
    /// a registration in by name (its live badge is judged, as if scanned). Anything else
    /// is answered `deny` (`invalid`; `unknown` for a check-in of no registration here).
    pub token: String,
    /// An id the device makes for this scan; sending it again (the same device, the same
    /// badge) records nothing new and returns the first answer. An id already used by
    /// another device or for another badge is answered `deny` (`invalid`) and not recorded.
    pub scan_id: Uuid,
    /// Where the scan happened, e.g. `North gate`. Control characters are dropped and it is
    /// cut to 50 characters; absent, empty or blank means `main`. A scan is never refused
    /// for its gate.
    #[serde(default)]
    pub gate: Option<String>,
    /// When the scan happened (RFC 3339), for scans uploaded after the network was down;
    /// it is recorded as given, at most 5 minutes ahead of the server's clock. The answer is
    /// decided by what holds when the server receives the scan (a ban that began since
    /// applies). A scan more than 7 days old is still recorded, and marked late for the
    /// organizers.
    #[serde(default)]
    pub scanned_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiResult {
    Admit,
    Alert,
    Deny,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiReason {
    Expelled,
    Banned,
    Revoked,
    Invalid,
    WrongEvent,
    Unknown,
}

/// The answer to a scan: what the door does and the least it needs to act. Never why.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScanResponse {
    pub result: ApiResult,
    /// Why not, for `deny`; otherwise null.
    pub reason: Option<ApiReason>,
    /// The holder's display name, when the badge is genuine.
    pub name: Option<String>,
    /// What door staff should do (for `alert`).
    pub instruction: Option<String>,
    /// When this badge was last let in, if ever.
    pub previous_scan_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyEntry {
    pub id: u32,
    /// The Ed25519 public key, 32 bytes, base64url without padding.
    pub public_key: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeniedEntry {
    pub badge: Uuid,
    /// Why it is denied; null when an earlier denial was lifted (incremental syncs).
    pub reason: Option<ApiReason>,
    /// From when the denial holds (null: already).
    pub from: Option<DateTime<Utc>>,
    /// Until when (null: with no end).
    pub until: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InstructionEntry {
    pub badge: Uuid,
    pub instruction: String,
}

/// What a door device keeps to decide on its own when the network is down.
#[derive(Debug, Serialize, ToSchema)]
pub struct DoorSyncResponse {
    pub event: Uuid,
    /// Send this back as `since` for the changes after it.
    pub cursor: i32,
    /// Whether `denied` is the whole list (replace yours) or only changes (apply them).
    pub full: bool,
    pub keys: Vec<KeyEntry>,
    pub denied: Vec<DeniedEntry>,
    /// Door instructions by badge (always the whole list).
    pub instructions: Vec<InstructionEntry>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SyncQuery {
    /// The `cursor` of the last sync; absent for everything (so is a negative one, or one
    /// larger than the current cursor).
    pub since: Option<i32>,
}

/// Every error: a code and, for `invalid`, which fields and what to fix.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiError {
    pub error: String,
    pub detail: Option<serde_json::Value>,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Haven door API", version = "1", description = "Badge scanning for door devices."),
    paths(scan, door_sync),
    components(schemas(
        ScanRequest,
        ScanResponse,
        ApiResult,
        ApiReason,
        DoorSyncResponse,
        KeyEntry,
        DeniedEntry,
        InstructionEntry,
        ApiError
    )),
    modifiers(&Security)
)]
pub struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "device_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A door device's token (haven device add)."))
                    .build(),
            ),
        );
    }
}

pub async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], ApiDoc::openapi().to_pretty_json().unwrap_or_default())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

async fn device(state: &AppState, headers: &HeaderMap) -> Result<DeviceAuth, AppError> {
    let token = bearer(headers).ok_or(AppError::Unauthenticated)?;
    state.services.device_for(token).await?.ok_or(AppError::Unauthenticated)
}

pub fn to_api(answer: &ScanAnswer) -> ScanResponse {
    ScanResponse {
        result: match answer.result {
            ScanResult::Admit => ApiResult::Admit,
            ScanResult::Alert => ApiResult::Alert,
            ScanResult::Deny => ApiResult::Deny,
        },
        reason: answer.reason.map(reason),
        name: answer.name.clone(),
        instruction: answer.instruction.clone(),
        previous_scan_at: answer.previous_scan_at,
    }
}

fn reason(r: DenyReason) -> ApiReason {
    match r {
        DenyReason::Expelled => ApiReason::Expelled,
        DenyReason::Banned => ApiReason::Banned,
        DenyReason::Revoked => ApiReason::Revoked,
        DenyReason::Invalid => ApiReason::Invalid,
        DenyReason::WrongEvent => ApiReason::WrongEvent,
        DenyReason::Unknown => ApiReason::Unknown,
    }
}

/// Records a scan and answers it.
#[utoipa::path(
    post,
    path = "/api/v1/scans",
    request_body = ScanRequest,
    responses(
        (status = 200, description = "The answer, decided by what holds when the server receives the scan (also for forged or unknown badges: `deny`)", body = ScanResponse),
        (status = 401, description = "No live device token", body = ApiError),
        (status = 422, description = "The body is not a scan (`invalid`, field `body`, or `scanned_at` in the future)", body = ApiError),
    ),
    security(("device_token" = []))
)]
pub async fn scan(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let auth = match device(&state, &headers).await {
        Ok(a) => a,
        Err(e) => return answer(&e, Format::Json),
    };
    // Axum reads at most 2 MiB of a body; a scan is a small JSON object.
    let Ok(body) = body else {
        return answer(
            &AppError::invalid("body", "could not be read: a scan is a small JSON object (at most 2 MiB)"),
            Format::Json,
        );
    };
    let request: ScanRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            let message = e.to_string();
            let message = message.split(" at line").next().unwrap_or(&message).to_owned();
            return answer(&AppError::invalid("body", message), Format::Json);
        }
    };
    let input = ScanInput {
        text: request.token,
        scan_id: request.scan_id,
        gate: request.gate.unwrap_or_default(),
        scanned_at: request.scanned_at,
    };
    match state.services.scan(ScanSource::Device { device: auth.device, event: auth.event }, input).await {
        Ok(answer) => axum::Json(to_api(&answer)).into_response(),
        Err(e) => answer(&e, Format::Json),
    }
}

/// Everything a door device needs to decide offline, or what changed since `since`.
#[utoipa::path(
    get,
    path = "/api/v1/events/{slug}/door-sync",
    params(("slug" = String, Path, description = "The event"), ("since" = Option<i32>, Query, description = "The cursor of the last sync (absent: everything). A cursor this server did not give (negative, or past its newest change) is answered with everything (`full: true`). Anything but one 32-bit integer is answered 422.")),
    responses(
        (status = 200, body = DoorSyncResponse),
        (status = 401, description = "No live device token or session", body = ApiError),
        (status = 404, description = "No such event for this device", body = ApiError),
        (status = 422, description = "`since` is not a cursor (`invalid`, field `since`)", body = ApiError),
    ),
    security(("device_token" = []))
)]
pub async fn door_sync(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    headers: HeaderMap,
    slug: Result<Path<String>, axum::extract::rejection::PathRejection>,
    query: Result<Query<SyncQuery>, QueryRejection>,
) -> Response {
    // A `since` that is no cursor (not a 32-bit integer, or given twice) is named, as JSON;
    // it says nothing about the event, so it is answered whoever asks.
    let Ok(Query(q)) = query else {
        return answer(
            &AppError::invalid(
                "since",
                "must be the cursor of an earlier sync, once: one whole number from -2147483648 to 2147483647 (leave it out for everything)",
            ),
            Format::Json,
        );
    };
    // A slug that is not even text (percent-encoded bytes that are not UTF-8) names no event.
    let slug = slug.ok().and_then(|Path(s)| haven_app::domain::Slug::parse("slug", &s).ok());
    let caller = match bearer(&headers) {
        Some(token) => SyncCaller::Device(token),
        None => SyncCaller::Staff(&actor),
    };
    let result = state.services.door_sync_for(caller, slug.as_ref(), q.since).await;
    match result {
        Ok(sync) => axum::Json(DoorSyncResponse {
            event: sync.event,
            cursor: sync.cursor,
            full: sync.full,
            keys: sync.keys.into_iter().map(|(id, public_key)| KeyEntry { id, public_key }).collect(),
            denied: sync
                .denied
                .into_iter()
                .map(|(badge, d)| DeniedEntry {
                    badge,
                    reason: d.map(|d| reason(d.reason)),
                    from: d.and_then(|d| d.from),
                    until: d.and_then(|d| d.until),
                })
                .collect(),
            instructions: sync
                .instructions
                .into_iter()
                .map(|(badge, instruction)| InstructionEntry { badge, instruction })
                .collect(),
        })
        .into_response(),
        Err(e) => answer(&e, Format::Json),
    }
}
