//! The door page: scan with the camera or a handheld scanner, or check in by name; the
//! answer fills the screen. It keeps the organization's keys and the event's denied list
//! in browser storage (refreshed every minute), decides on its own when the network is
//! down, queues those scans and uploads each once when the network returns. Signing out
//! (here or on the person's page) removes the list and the queue from the browser, but
//! never a scan that still waits to be uploaded.

use super::components::{ErrorPanel, HydrationMarker};
use crate::api::{self, DoorPerson};
use crate::domain::badge::{ScanAnswer, ScanResult};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// What signing out of this browser needs from the door (`ui::account`).
#[cfg(feature = "hydrate")]
pub(crate) use client::{door_scans_waiting, sign_out_and_forget};

#[component]
pub fn DoorPage() -> impl IntoView {
    let params = use_params_map();
    let door = Resource::new(move || params.read().get("slug").unwrap_or_default(), api::door_view);
    view! {
        <Title text="Door"/>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match door.await {
                    Ok(d) => view! { <DoorScanner slug=d.event_slug name=d.event_name/> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// One answer on screen, and whether the page decided it offline.
#[derive(Clone, Debug, PartialEq)]
struct Shown {
    answer: ScanAnswer,
    offline: bool,
}

#[derive(Clone, Copy)]
struct DoorState {
    shown: RwSignal<Option<Shown>>,
    online: RwSignal<bool>,
    synced_at: RwSignal<Option<f64>>,
    queued: RwSignal<usize>,
    now: RwSignal<f64>,
    gate: RwSignal<String>,
    bench: RwSignal<Option<String>>,
    /// Why queued scans wait although the network is up, or that this device could not
    /// store something; shown until it clears.
    problem: RwSignal<Option<String>>,
}

#[component]
fn DoorScanner(slug: String, name: String) -> impl IntoView {
    let query = use_query_map();
    let state = DoorState {
        shown: RwSignal::new(None),
        online: RwSignal::new(true),
        synced_at: RwSignal::new(None),
        queued: RwSignal::new(0),
        now: RwSignal::new(0.0),
        gate: RwSignal::new("main".to_owned()),
        bench: RwSignal::new(None),
        problem: RwSignal::new(None),
    };
    let (search, set_search) = signal(String::new());
    let results = Resource::new(
        {
            let slug = slug.clone();
            move || (slug.clone(), search.get())
        },
        |(slug, q)| async move { if q.trim().len() < 2 { Ok(Vec::new()) } else { api::door_search(slug, q).await } },
    );
    #[cfg(feature = "hydrate")]
    {
        let slug = slug.clone();
        let bench = query.read_untracked().get("bench").and_then(|n| n.parse::<usize>().ok());
        let bench_token = query.read_untracked().get("token");
        Effect::new(move |_| client::start(slug.clone(), state, bench, bench_token.clone()));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = query;
    let scan_text = {
        let slug = slug.clone();
        move |text: String| {
            #[cfg(feature = "hydrate")]
            client::scan(slug.clone(), state, text);
            #[cfg(not(feature = "hydrate"))]
            let _ = (&slug, text);
        }
    };
    let on_wedge = {
        let scan_text = scan_text.clone();
        move |ev: leptos::ev::KeyboardEvent| {
            if ev.key() == "Enter" {
                ev.prevent_default();
                let value = event_target_value(&ev);
                #[cfg(feature = "hydrate")]
                {
                    use wasm_bindgen::JsCast as _;
                    if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                        input.set_value("");
                    }
                }
                if !value.trim().is_empty() {
                    scan_text(value);
                }
            }
        }
    };
    let age = move || match (state.synced_at.get(), state.now.get()) {
        (Some(at), now) if now > 0.0 => format!("list {} s old", ((now - at) / 1000.0).max(0.0).round()),
        (Some(_), _) => "list loaded".to_owned(),
        _ => "no list yet".to_owned(),
    };
    view! {
        <div class="door">
            <header class="door-bar" class:offline=move || !state.online.get()>
                <strong>{name}</strong>
                <span class="door-status" id="door-status">
                    {move || if state.online.get() { "Online" } else { "OFFLINE: checking badges on this device" }}
                    " · " <span id="list-age">{age}</span>
                    {move || (state.queued.get() > 0).then(|| view! { " · " <span id="queued">{format!("{} scan(s) to upload", state.queued.get())}</span> })}
                </span>
            </header>
            {move || state.problem.get().map(|p| view! { <p class="notice bad" id="door-problem" role="alert">{p}</p> })}
            <label for="wedge">"Scan a badge (handheld scanner, or type the code and press Enter)"</label>
            <input id="wedge" class="wedge" autofocus autocomplete="off" on:keydown=on_wedge/>
            <label for="gate">"Gate"</label>
            <input id="gate" class="gate" prop:value=move || state.gate.get() on:input=move |ev| state.gate.set(event_target_value(&ev))/>
            <div class="camera">
                <button type="button" id="camera-start" on:click={
                    let scan_text = scan_text.clone();
                    move |_| {
                        #[cfg(feature = "hydrate")]
                        client::start_camera(scan_text.clone());
                        #[cfg(not(feature = "hydrate"))]
                        let _ = &scan_text;
                    }
                }>"Scan with the camera"</button>
                <video id="camera" playsinline muted></video>
                <canvas id="camera-frame" hidden></canvas>
            </div>
            <section class="panel">
                <label for="door-search">"No badge? Find them by name"</label>
                <input id="door-search" type="search" autocomplete="off" on:input=move |ev| set_search.set(event_target_value(&ev))/>
                <Suspense fallback=|| ()>
                    {move || {
                        let scan_text = scan_text.clone();
                        Suspend::new(async move {
                            let people: Vec<DoorPerson> = results.await.unwrap_or_default();
                            view! {
                                <ul class="door-results">
                                    {people.into_iter().map(|p| {
                                        let scan_text = scan_text.clone();
                                        let text = format!("registration:{}", p.registration);
                                        view! {
                                            <li>
                                                {p.name} {p.ticket_ref.map(|t| format!(" · {t}"))}
                                                <button type="button" class="secondary-ok" on:click=move |_| scan_text(text.clone())>"Check in"</button>
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            }
                        })
                    }}
                </Suspense>
            </section>
            <p class="door-sign-out">
                <button type="button" id="door-sign-out" class="secondary" on:click={
                    let slug = slug.clone();
                    move |_| {
                        #[cfg(feature = "hydrate")]
                        client::sign_out(slug.clone(), state);
                        #[cfg(not(feature = "hydrate"))]
                        let _ = &slug;
                    }
                }>"Sign out"</button>
            </p>
            {move || state.bench.get().map(|b| view! { <output id="bench">{b}</output> })}
            {move || state.shown.get().map(|s| view! { <Answer shown=s on_close=move || state.shown.set(None)/> })}
            <HydrationMarker/>
        </div>
    }
}

#[component]
fn Answer(shown: Shown, on_close: impl Fn() + 'static) -> impl IntoView {
    let a = shown.answer;
    let (class, title) = match a.result {
        ScanResult::Admit => ("result admit", "ADMIT".to_owned()),
        ScanResult::Alert => ("result alert", "ADMIT AND ALERT".to_owned()),
        ScanResult::Deny => ("result deny", "DO NOT ADMIT".to_owned()),
    };
    let previous = a.previous_scan_at.map(|t| format!("Last let in: {} UTC", t.format("%a %H:%M:%S")));
    view! {
        <div class=class id="answer" role="alert" data-result=format!("{:?}", a.result).to_lowercase()
            data-reason=a.reason.map(|r| r.as_str()).unwrap_or("") on:click=move |_| on_close()>
            <p class="result-title">{title}</p>
            {a.name.map(|n| view! { <p class="result-name">{n}</p> })}
            {a.reason.map(|r| view! { <p class="result-reason">{r.label()}</p> })}
            {a.instruction.map(|i| view! { <p class="result-instruction">{i}</p> })}
            {previous.map(|p| view! { <p class="result-previous">{p}</p> })}
            {shown.offline.then(|| view! { <p class="result-offline">"Checked on this device (offline); it will be recorded when the network is back."</p> })}
            <p class="result-hint">"Tap to scan the next badge"</p>
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod client {
    use super::{DoorState, Shown};
    use crate::api::{self, AppError};
    use crate::domain::badge::{CompactDoorList, DoorList, DoorSyncWire, ScanAnswer, decode_keys, offline_verdict};
    use ed25519_dalek::VerifyingKey;
    use leptos::prelude::*;
    use serde::{Deserialize, Serialize};
    use std::cell::RefCell;
    use std::collections::HashMap;
    use wasm_bindgen::JsCast as _;
    use wasm_bindgen::closure::Closure;

    #[derive(Default)]
    struct Stored {
        list: DoorList,
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
            let disk =
                OnDisk { list: CompactDoorList::from(&self.list), cursor: self.cursor, synced_at: self.synced_at };
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
        static LIST: RefCell<Option<(Stored, HashMap<u32, VerifyingKey>)>> = const { RefCell::new(None) };
        /// Queued scans this device's storage refused (it is full): kept here, so they are
        /// uploaded while the page stays open.
        static UNSAVED: RefCell<Vec<Queued>> = const { RefCell::new(Vec::new()) };
        static LAST_CAMERA_READ: RefCell<(String, f64)> = const { RefCell::new((String::new(), 0.0)) };
        /// Set while signing out: nothing more is written to storage (a sync finishing
        /// meanwhile would put the list back).
        static SIGNING_OUT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
        /// The event whose queued scans `UNSAVED` holds.
        static UNSAVED_SLUG: RefCell<String> = const { RefCell::new(String::new()) };
    }

    fn storage() -> Option<web_sys::Storage> {
        web_sys::window()?.local_storage().ok()?
    }

    fn now_ms() -> f64 {
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
    /// (keys, denials, instructions) and empty queue from storage and memory, and loads the
    /// home page afresh. Scans that still wait are never removed (only a "sign out anyway"
    /// gets here with some): they stay for the next door person of their event.
    pub async fn sign_out_and_forget(everywhere: bool) -> Result<(), AppError> {
        SIGNING_OUT.with(|s| s.set(true));
        if let Err(e) = api::sign_out(everywhere.then(|| "true".to_owned())).await {
            SIGNING_OUT.with(|s| s.set(false));
            return Err(e);
        }
        LIST.with(|l| *l.borrow_mut() = None);
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

    pub fn start(slug: String, state: DoorState, bench: Option<usize>, bench_token: Option<String>) {
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
            if let (Some(n), Some(token)) = (bench, bench_token) {
                state.bench.set(Some(benchmark(n, &token)));
            }
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
                if state
                    .problem
                    .get_untracked()
                    .is_some_and(|p| p.contains(SIGNIN_AGAIN) || p.starts_with(NOT_REFRESHED))
                {
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
            let sent =
                api::door_scan(slug.to_owned(), item.token, item.scan_id, item.gate, Some(item.scanned_at)).await;
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
                Some((stored, keys)) if !keys.is_empty() => {
                    offline_verdict(&text, &stored.list, keys, chrono::Utc::now())
                }
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

    /// Times the offline decision with `n` denied badges in the list: the median of 200
    /// decisions, in milliseconds.
    fn benchmark(n: usize, token: &str) -> String {
        let perf = web_sys::window().and_then(|w| w.performance());
        LIST.with(|l| {
            let mut l = l.borrow_mut();
            let Some((stored, keys)) = l.as_mut() else { return "no list".to_owned() };
            let mut list = stored.list.clone();
            for _ in 0..n {
                list.denied.insert(
                    uuid::Uuid::new_v4(),
                    crate::domain::badge::Denial::always(crate::domain::badge::DenyReason::Revoked),
                );
            }
            // The browser's clock is coarse (0.1 ms in Chromium), so time rounds of 20
            // verdicts and take the median and the slowest round, per verdict.
            let mut per_verdict = Vec::with_capacity(21);
            let mut result = None;
            for _ in 0..21 {
                let start = perf.as_ref().map(|p| p.now()).unwrap_or_else(now_ms);
                for _ in 0..20 {
                    result = Some(offline_verdict(token, &list, keys, chrono::Utc::now()));
                }
                per_verdict.push((perf.as_ref().map(|p| p.now()).unwrap_or_else(now_ms) - start) / 20.0);
            }
            per_verdict.sort_by(|a, b| a.total_cmp(b));
            format!(
                "denied={} median_ms={:.4} max_ms={:.4} result={:?}",
                list.denied.len(),
                per_verdict[10],
                per_verdict[20],
                result.map(|r| r.result)
            )
        })
    }

    /// Opens the camera and reads QR codes from it a few times a second.
    pub fn start_camera(on_code: impl Fn(String) + Clone + 'static) {
        leptos::task::spawn_local(async move {
            let Some(window) = web_sys::window() else { return };
            let Ok(devices) = window.navigator().media_devices() else { return };
            let constraints = web_sys::MediaStreamConstraints::new();
            let video_constraints = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&video_constraints, &"facingMode".into(), &"environment".into());
            constraints.set_video(&video_constraints);
            let Ok(promise) = devices.get_user_media_with_constraints(&constraints) else { return };
            let Ok(stream) = wasm_bindgen_futures::JsFuture::from(promise).await else { return };
            let Ok(stream) = stream.dyn_into::<web_sys::MediaStream>() else { return };
            let document = window.document().expect("a document");
            let Some(video) =
                document.get_element_by_id("camera").and_then(|e| e.dyn_into::<web_sys::HtmlVideoElement>().ok())
            else {
                return;
            };
            video.set_src_object(Some(&stream));
            let _ = video.play();
            let Some(canvas) = document
                .get_element_by_id("camera-frame")
                .and_then(|e| e.dyn_into::<web_sys::HtmlCanvasElement>().ok())
            else {
                return;
            };
            let read = Closure::<dyn FnMut()>::new(move || {
                if let Some(code) = read_frame(&video, &canvas) {
                    let fresh = LAST_CAMERA_READ.with(|last| {
                        let mut last = last.borrow_mut();
                        let now = now_ms();
                        // The same code in front of the camera is one scan, not many.
                        let fresh = last.0 != code || now - last.1 > 4000.0;
                        if fresh {
                            *last = (code.clone(), now);
                        }
                        fresh
                    });
                    if fresh {
                        on_code(code);
                    }
                }
            });
            let _ = window.set_interval_with_callback_and_timeout_and_arguments_0(read.as_ref().unchecked_ref(), 200);
            read.forget();
        });
    }

    fn read_frame(video: &web_sys::HtmlVideoElement, canvas: &web_sys::HtmlCanvasElement) -> Option<String> {
        let (vw, vh) = (video.video_width(), video.video_height());
        if vw == 0 || vh == 0 {
            return None;
        }
        let scale = (640.0 / f64::from(vw)).min(1.0);
        let (w, h) = ((f64::from(vw) * scale) as u32, (f64::from(vh) * scale) as u32);
        canvas.set_width(w);
        canvas.set_height(h);
        let ctx = canvas.get_context("2d").ok()??.dyn_into::<web_sys::CanvasRenderingContext2d>().ok()?;
        ctx.draw_image_with_html_video_element_and_dw_and_dh(video, 0.0, 0.0, f64::from(w), f64::from(h)).ok()?;
        let data = ctx.get_image_data(0.0, 0.0, f64::from(w), f64::from(h)).ok()?.data();
        let (w, h) = (w as usize, h as usize);
        let luma: Vec<u8> = data
            .chunks_exact(4)
            .map(|p| ((u32::from(p[0]) * 3 + u32::from(p[1]) * 6 + u32::from(p[2])) / 10) as u8)
            .collect();
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| luma[y * w + x]);
        image.detect_grids().into_iter().find_map(|g| g.decode().ok().map(|(_, content)| content))
    }
}
