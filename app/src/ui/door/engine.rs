//! The door page's offline engine (browser only): the event's list and keys in browser
//! storage, decisions made on the device when the network is down, the queue of scans
//! waiting for upload, and signing out without losing one.

use super::{DoorState, Shown};
use crate::api::{self, AppError};
use crate::domain::badge::{CompactDoorList, DoorList, DoorSyncWire, ScanAnswer, decode_keys, offline_verdict};
use ed25519_dalek::VerifyingKey;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::JsCast as _;

#[derive(Default)]
pub(super) struct Stored {
    pub(super) list: DoorList,
    cursor: Option<i32>,
    synced_at: Option<f64>,
}

/// `Stored` as local storage holds it: the list in its compact form.
#[derive(Serialize, Deserialize)]
struct OnDisk {
    list: CompactDoorList,
    cursor: Option<i32>,
    synced_at: Option<f64>,
}

impl Stored {
    fn to_text(&self) -> Option<String> {
        let disk = OnDisk { list: CompactDoorList::from(&self.list), cursor: self.cursor, synced_at: self.synced_at };
        serde_json::to_string(&disk).ok()
    }

    /// What was stored; nothing (a full sync follows) if it is missing or damaged.
    fn from_text(text: &str) -> Option<Stored> {
        let disk: OnDisk = serde_json::from_str(text).ok()?;
        Some(Stored { list: disk.list.expand()?, cursor: disk.cursor, synced_at: disk.synced_at })
    }
}

#[derive(Clone, Serialize, Deserialize)]
struct Queued {
    token: String,
    scan_id: uuid::Uuid,
    gate: String,
    scanned_at: chrono::DateTime<chrono::Utc>,
}

thread_local! {
    /// The list and its decoded keys, kept in memory: read from storage once, not per scan.
    pub(super) static LIST: RefCell<Option<(Stored, HashMap<u32, VerifyingKey>)>> = const { RefCell::new(None) };
    /// Queued scans this device's storage refused (it is full): kept here, so they are
    /// uploaded while the page stays open.
    static UNSAVED: RefCell<Vec<Queued>> = const { RefCell::new(Vec::new()) };
    /// Set while signing out: nothing more is written to storage (a sync finishing
    /// meanwhile would put the list back).
    static SIGNING_OUT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// The event whose queued scans `UNSAVED` holds.
    static UNSAVED_SLUG: RefCell<String> = const { RefCell::new(String::new()) };
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

pub(super) fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn list_key(slug: &str) -> String {
    format!("haven.door.{slug}.list")
}

fn queue_key(slug: &str) -> String {
    format!("haven.door.{slug}.queue")
}

fn load(slug: &str) {
    let stored: Stored = storage()
        .and_then(|s| s.get_item(&list_key(slug)).ok().flatten())
        .and_then(|t| Stored::from_text(&t))
        .unwrap_or_default();
    let keys = decode_keys(&stored.list);
    LIST.with(|l| *l.borrow_mut() = Some((stored, keys)));
}

/// The scans waiting for upload: what storage holds, and what it could not take.
/// (A scan listed twice is harmless: the server records each `scan_id` once.)
fn queue(slug: &str) -> Vec<Queued> {
    let mut q: Vec<Queued> = storage()
        .and_then(|s| s.get_item(&queue_key(slug)).ok().flatten())
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    UNSAVED.with(|u| {
        for item in u.borrow().iter() {
            if !q.iter().any(|k| k.scan_id == item.scan_id) {
                q.push(item.clone());
            }
        }
    });
    q.sort_by_key(|k| k.scanned_at);
    q
}

const WAITING: &str = "wait to be uploaded";
const STORAGE_FULL: &str =
    "This device's storage is full: scans waiting for upload are kept only while this page stays open.";

/// Every door key this browser's storage holds, of any event.
fn door_keys() -> Vec<String> {
    let Some(s) = storage() else { return Vec::new() };
    (0..s.length().unwrap_or(0))
        .filter_map(|i| s.key(i).ok().flatten())
        .filter(|k| k.starts_with("haven.door.") && k != "haven.door.gate")
        .collect()
}

fn stored_queue(key: &str) -> Vec<Queued> {
    storage()
        .and_then(|s| s.get_item(key).ok().flatten())
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// How many scans on this device, of any event, wait to be uploaded.
pub fn door_scans_waiting() -> usize {
    let mut ids = std::collections::HashSet::new();
    for key in door_keys().iter().filter(|k| k.ends_with(".queue")) {
        ids.extend(stored_queue(key).into_iter().map(|q| q.scan_id));
    }
    UNSAVED.with(|u| ids.extend(u.borrow().iter().map(|q| q.scan_id)));
    ids.len()
}

/// Ends this browser's session; once the server has, removes every event's door list
/// (keys, denials, instructions), empty queue and page kept for offline reloads from the
/// browser and memory, and loads the home page afresh. Scans that still wait are never removed (only a "sign out anyway"
/// gets here with some): they stay for the next door person of their event.
pub async fn sign_out_and_forget(everywhere: bool) -> Result<(), AppError> {
    SIGNING_OUT.with(|s| s.set(true));
    if let Err(e) = api::sign_out(everywhere.then(|| "true".to_owned())).await {
        SIGNING_OUT.with(|s| s.set(false));
        return Err(e);
    }
    LIST.with(|l| *l.borrow_mut() = None);
    forget_offline_copies().await;
    if let Some(s) = storage() {
        for key in door_keys() {
            if key.ends_with(".list") || (key.ends_with(".queue") && stored_queue(&key).is_empty()) {
                let _ = s.remove_item(&key);
            }
        }
        // Scans the storage could not take before: with the list gone, it may now.
        if UNSAVED.with(|u| !u.borrow().is_empty()) {
            let slug = UNSAVED_SLUG.with(|u| u.borrow().clone());
            if let Ok(text) = serde_json::to_string(&queue(&slug)) {
                let _ = s.set_item(&queue_key(&slug), &text);
            }
        }
    }
    if let Some(window) = web_sys::window() {
        let _ = window.location().set_href("/");
    }
    Ok(())
}

/// The door page's "Sign out": uploads what waits first; while any scan still waits,
/// stays signed in, keeps everything and says so.
pub fn sign_out(slug: String, state: DoorState) {
    leptos::task::spawn_local(async move {
        refresh(&slug, state).await;
        let waiting = door_scans_waiting();
        if waiting > 0 {
            state.problem.set(Some(format!(
                "{waiting} scan(s) still {WAITING}, so you are still signed in and they stay on this device. \
                 Sign out again once they are uploaded (as soon as the server answers)."
            )));
            return;
        }
        match sign_out_and_forget(false).await {
            Ok(()) => {}
            Err(AppError::Transport(_)) => state.problem.set(Some(
                "Not signed out: the server cannot be reached. Try again when the network is back.".to_owned(),
            )),
            Err(e) => state.problem.set(Some(format!("Not signed out: {e}"))),
        }
    });
}

fn save_queue(slug: &str, q: &[Queued], state: DoorState) {
    let saved = match (storage(), serde_json::to_string(q)) {
        (Some(s), Ok(text)) => s.set_item(&queue_key(slug), &text).is_ok(),
        _ => false,
    };
    UNSAVED.with(|u| *u.borrow_mut() = if saved { Vec::new() } else { q.to_vec() });
    if !saved {
        UNSAVED_SLUG.with(|u| *u.borrow_mut() = slug.to_owned());
    }
    if !saved {
        state.problem.set(Some(STORAGE_FULL.to_owned()));
    } else if state.problem.get_untracked().as_deref() == Some(STORAGE_FULL) {
        state.problem.set(None);
    }
    state.queued.set(q.len());
}

/// Asks the browser to keep this page and its assets for a reload without network
/// (`/door-sw.js`, served by `server/src/http/assets.rs`). Browsers offer service workers
/// only on https (and on the local machine); elsewhere the page works as before, offline
/// only while it stays open.
fn keep_for_offline_reloads() {
    let Some(window) = web_sys::window() else { return };
    let navigator = window.navigator();
    if !js_sys::Reflect::has(&navigator, &"serviceWorker".into()).unwrap_or(false) {
        return;
    }
    let options = web_sys::RegistrationOptions::new();
    options.set_scope("/door/");
    let registering = navigator.service_worker().register_with_options("/door-sw.js", &options);
    leptos::task::spawn_local(async move {
        let _ = wasm_bindgen_futures::JsFuture::from(registering).await;
    });
}

/// Deletes what the door's service worker keeps (its caches are named `haven-door-…`).
async fn forget_offline_copies() {
    let Some(caches) = web_sys::window().and_then(|w| w.caches().ok()) else { return };
    let Ok(names) = wasm_bindgen_futures::JsFuture::from(caches.keys()).await else { return };
    for name in js_sys::Array::from(&names).iter().filter_map(|n| n.as_string()) {
        if name.starts_with("haven-door-") {
            let _ = wasm_bindgen_futures::JsFuture::from(caches.delete(&name)).await;
        }
    }
}

pub fn start(slug: String, state: DoorState) {
    keep_for_offline_reloads();
    if let Some(g) = storage().and_then(|s| s.get_item("haven.door.gate").ok().flatten()) {
        state.gate.set(g);
    }
    Effect::new(move |_| {
        let g = state.gate.get();
        if let Some(s) = storage() {
            let _ = s.set_item("haven.door.gate", &g);
        }
    });
    load(&slug);
    LIST.with(|l| state.synced_at.set(l.borrow().as_ref().and_then(|(s, _)| s.synced_at)));
    state.queued.set(queue(&slug).len());
    state.now.set(now_ms());
    let tick_slug = slug.clone();
    leptos::task::spawn_local(async move {
        refresh(&tick_slug, state).await;
        #[cfg(feature = "door-bench")]
        super::bench::run_if_asked(state);
    });
    // Every 5 s: the clock on screen; every minute (or every 5 s while offline): the list
    // and the queue.
    let ticks = std::cell::Cell::new(0u32);
    let _ = set_interval_with_handle(
        move || {
            ticks.set(ticks.get() + 1);
            state.now.set(now_ms());
            if !state.online.get_untracked() || ticks.get().is_multiple_of(12) || state.queued.get_untracked() > 0 {
                let slug = slug.clone();
                leptos::task::spawn_local(async move { refresh(&slug, state).await });
            }
        },
        std::time::Duration::from_secs(5),
    );
}

/// Syncs the list (incrementally) and uploads queued scans; marks the page offline if
/// the server cannot be reached.
async fn refresh(slug: &str, state: DoorState) {
    if SIGNING_OUT.with(|s| s.get()) {
        return;
    }
    let cursor = LIST.with(|l| l.borrow().as_ref().and_then(|(s, _)| s.cursor));
    let url = match cursor {
        Some(c) => format!("/api/v1/events/{slug}/door-sync?since={c}"),
        None => format!("/api/v1/events/{slug}/door-sync"),
    };
    match fetch_text(&url).await {
        Err(None) => state.online.set(false),
        // The server answers but refuses: signed out, or no longer on the door team. Decide
        // on this device (the list still holds) and keep the scans until that is fixed.
        Err(Some(status)) => {
            state.online.set(false);
            state.problem.set(Some(match status {
                401 | 403 | 404 => format!(
                    "Signed out, or no longer door staff here: sign in again to refresh the list and upload scans ({SIGNIN_AGAIN})."
                ),
                _ => format!("{NOT_REFRESHED} (status {status}); it will try again."),
            }));
        }
        Ok(_) if SIGNING_OUT.with(|s| s.get()) => {}
        Ok(text) => {
            if state.problem.get_untracked().is_some_and(|p| p.contains(SIGNIN_AGAIN) || p.starts_with(NOT_REFRESHED)) {
                state.problem.set(None);
            }
            if let Ok(sync) = serde_json::from_str::<DoorSyncWire>(&text) {
                let cursor = sync.cursor;
                LIST.with(|l| {
                    let mut l = l.borrow_mut();
                    let (stored, keys) = l.get_or_insert_with(Default::default);
                    stored.list.apply(sync);
                    stored.cursor = Some(cursor);
                    stored.synced_at = Some(now_ms());
                    *keys = decode_keys(&stored.list);
                    let kept = match (storage(), stored.to_text()) {
                        (Some(s), Some(t)) => s.set_item(&list_key(slug), &t).is_ok(),
                        _ => false,
                    };
                    if !kept {
                        state.problem.set(Some(
                            "This device could not store the door list: it works offline only while this page stays open."
                                .to_owned(),
                        ));
                    }
                    state.synced_at.set(stored.synced_at);
                });
            }
            state.online.set(true);
            upload(slug, state).await;
        }
    }
}

const SIGNIN_AGAIN: &str = "scans are kept on this device";
const NOT_REFRESHED: &str = "The server could not refresh the list";

/// The body of a GET; `Err(Some(status))` when the server refused, `Err(None)` when
/// it could not be reached.
async fn fetch_text(url: &str) -> Result<String, Option<u16>> {
    let window = web_sys::window().ok_or(None)?;
    let response = wasm_bindgen_futures::JsFuture::from(window.fetch_with_str(url)).await.map_err(|_| None)?;
    let response: web_sys::Response = response.dyn_into().map_err(|_| None)?;
    if !response.ok() {
        return Err(Some(response.status()));
    }
    let text = wasm_bindgen_futures::JsFuture::from(response.text().map_err(|_| None)?).await.map_err(|_| None)?;
    text.as_string().ok_or(None)
}

/// Sends queued offline scans, oldest first, each once (the server ignores repeats).
async fn upload(slug: &str, state: DoorState) {
    let mut q = queue(slug);
    if q.is_empty() {
        return;
    }
    while let Some(item) = q.first().cloned() {
        let sent = api::door_scan(slug.to_owned(), item.token, item.scan_id, item.gate, Some(item.scanned_at)).await;
        match sent {
            Err(AppError::Transport(_)) => {
                state.online.set(false);
                break;
            }
            // Recorded, or refused as bad input (which no retry will fix): done with it.
            Ok(_) | Err(AppError::Invalid(_)) => {
                q.remove(0);
                save_queue(slug, &q, state);
                if state.problem.get_untracked().is_some_and(|p| p.contains(WAITING)) {
                    state.problem.set(None);
                }
            }
            // Anything else (signed out, no longer on the door team, the server failing)
            // keeps every scan for the next try, and says why they wait.
            Err(e) => {
                let why = match e {
                    AppError::Unauthenticated | AppError::NotFound => {
                        "sign in again as door staff of this event to upload them".to_owned()
                    }
                    other => other.to_string(),
                };
                state.problem.set(Some(format!("{} scan(s) {WAITING}: {why}.", q.len())));
                return;
            }
        }
    }
}

pub fn scan(slug: String, state: DoorState, text: String) {
    let text = text.trim().to_owned();
    let scan_id = uuid::Uuid::new_v4();
    let gate = state.gate.get_untracked();
    leptos::task::spawn_local(async move {
        if state.online.get_untracked() {
            match api::door_scan(slug.clone(), text.clone(), scan_id, gate.clone(), None).await {
                Ok(answer) => {
                    state.shown.set(Some(Shown { answer, offline: false }));
                    return;
                }
                Err(AppError::Transport(_)) => state.online.set(false),
                Err(e) => {
                    state.shown.set(Some(Shown { answer: problem(e), offline: false }));
                    return;
                }
            }
        }
        // Offline: decide here, and remember to tell the server.
        let answer = LIST.with(|l| match l.borrow().as_ref() {
            Some((stored, keys)) if !keys.is_empty() => offline_verdict(&text, &stored.list, keys, chrono::Utc::now()),
            _ => ScanAnswer::deny(crate::domain::badge::DenyReason::Unknown),
        });
        let mut q = queue(&slug);
        q.push(Queued { token: text, scan_id, gate, scanned_at: chrono::Utc::now() });
        save_queue(&slug, &q, state);
        state.shown.set(Some(Shown { answer, offline: true }));
    });
}

fn problem(e: AppError) -> ScanAnswer {
    let mut a = ScanAnswer::deny(crate::domain::badge::DenyReason::Unknown);
    a.instruction = Some(e.to_string());
    a
}
