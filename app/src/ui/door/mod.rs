//! The door page: scan with the camera or a handheld scanner, or check in by name; the
//! answer fills the screen. It keeps the organization's keys and the event's denied list
//! in browser storage (refreshed every minute), decides on its own when the network is
//! down, queues those scans and uploads each once when the network returns. A service
//! worker keeps the page itself, so it also opens after a reload without network. Signing out
//! (here or on the person's page) removes the list and the queue from the browser, but
//! never a scan that still waits to be uploaded.

use super::components::{HydrationMarker, Loaded};
use crate::api::{self, DoorPerson};
use crate::domain::badge::{ScanAnswer, ScanResult};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// What signing out of this browser needs from the door (`ui::account`).
#[cfg(feature = "hydrate")]
pub(crate) use engine::{door_scans_waiting, sign_out_and_forget};

#[cfg(all(feature = "hydrate", feature = "door-bench"))]
mod bench;
#[cfg(feature = "hydrate")]
mod camera;
#[cfg(feature = "hydrate")]
mod engine;

#[component]
pub fn DoorPage() -> impl IntoView {
    let params = use_params_map();
    let door = Resource::new(move || params.read().get("slug").unwrap_or_default(), api::door_view);
    view! {
        <Title text="Door"/>
        <Loaded resource=door let:d>
            <DoorScanner slug=d.event_slug name=d.event_name/>
        </Loaded>
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
        Effect::new(move |_| engine::start(slug.clone(), state));
    }
    let scan_text = {
        let slug = slug.clone();
        move |text: String| {
            #[cfg(feature = "hydrate")]
            engine::scan(slug.clone(), state, text);
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
                        camera::start_camera(scan_text.clone());
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
                <Loaded resource=results quiet=true let:people>
                    <ul class="door-results">
                        {people.into_iter().map(|p: DoorPerson| {
                            let scan_text = scan_text.clone();
                            let text = crate::domain::badge::ScanSubject::check_in_text(p.registration);
                            view! {
                                <li>
                                    {p.name} {p.ticket_ref.map(|t| format!(" · {t}"))}
                                    <button type="button" class="secondary-ok" on:click=move |_| scan_text(text.clone())>"Check in"</button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </Loaded>
            </section>
            <p class="door-sign-out">
                <button type="button" id="door-sign-out" class="secondary" on:click={
                    let slug = slug.clone();
                    move |_| {
                        #[cfg(feature = "hydrate")]
                        engine::sign_out(slug.clone(), state);
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
