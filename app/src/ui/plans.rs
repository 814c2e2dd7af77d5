//! The safety plan on a case page (team and reporter), escorts' assignments, and the
//! live notification bell.

use super::components::{FieldError, FormStatus, HydrationMarker, Loaded};
use crate::api::{
    self, AcknowledgeAssignment, AddArrangement, AddArrivalAlert, AddDoorInstruction, AddEscort, NotificationView,
    PlanAnswer, PlanResponseView, PlanView, RemovePrecaution, RenewCalendarFeed, RespondToPlan, RevokeCalendarFeed,
};
use crate::domain::PrecautionKind;
use leptos::prelude::*;
use leptos_meta::Title;

fn kind_label(k: PrecautionKind) -> &'static str {
    match k {
        PrecautionKind::Escort => "Escort",
        PrecautionKind::ArrivalAlert => "Arrival alert",
        PrecautionKind::DoorInstruction => "Door instruction",
        PrecautionKind::Arrangement => "Arrangement",
    }
}

#[component]
fn Response(response: Option<PlanResponseView>) -> impl IntoView {
    response.map(|r| {
        let (class, text) = match r.answer {
            PlanAnswer::Accepted => ("notice ok", "The reporter accepted the plan"),
            PlanAnswer::ChangesRequested => ("notice bad", "The reporter asked for changes"),
        };
        view! {
            <div class=class role="status">
                <p>{text} " · " {r.at}</p>
                {r.comment.map(|c| view! { <p class="body">{c}</p> })}
            </div>
        }
    })
}

/// The plan section of the team's case page.
#[component]
pub fn TeamPlan(reference: String, plan: PlanView, on_change: Callback<()>) -> impl IntoView {
    let escort = ServerAction::<AddEscort>::new();
    let alert = ServerAction::<AddArrivalAlert>::new();
    let door = ServerAction::<AddDoorInstruction>::new();
    let arrangement = ServerAction::<AddArrangement>::new();
    let remove = ServerAction::<RemovePrecaution>::new();
    Effect::new(move |_| {
        let n = escort.version().get()
            + alert.version().get()
            + door.version().get()
            + arrangement.version().get()
            + remove.version().get();
        if n > 0 {
            on_change.run(());
        }
    });
    let escort_result = Signal::derive(move || escort.value().get());
    let alert_result = Signal::derive(move || alert.value().get());
    let door_result = Signal::derive(move || door.value().get());
    let arrangement_result = Signal::derive(move || arrangement.value().get());
    let (r1, r2, r3, r4) = (reference.clone(), reference.clone(), reference.clone(), reference.clone());
    let escort_fields: &'static [&'static str] = &[
        "escorts",
        "window 1 start",
        "window 1 end",
        "window 1",
        "window 2 start",
        "window 2 end",
        "window 2",
        "window 3 start",
        "window 3 end",
        "window 3",
        "meeting_point",
        "contact",
        "notes",
    ];
    view! {
        <section class="panel plan" id="plan">
            <h2>"Safety plan"</h2>
            <Response response=plan.response.clone()/>
            {if plan.precautions.is_empty() {
                view! { <p class="muted">"No precautions yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="precautions">
                        {plan.precautions.into_iter().map(|p| {
                            let reference = reference.clone();
                            view! {
                                <li class="precaution">
                                    <p><strong>{kind_label(p.kind)}</strong> " · added " {p.created}</p>
                                    {(!p.windows.is_empty()).then(|| view! { <p>"When: " {p.windows.join("; ")}</p> })}
                                    {(!p.escorts.is_empty()).then(|| view! {
                                        <p>"Escorts: " {p.escorts.iter().map(|e| format!("{} ({})", e.name, if e.acknowledged { "acknowledged" } else { "not yet acknowledged" })).collect::<Vec<_>>().join(", ")}</p>
                                    })}
                                    {(!p.meeting_point.is_empty()).then(|| view! { <p>"Meet at: " {p.meeting_point.clone()}</p> })}
                                    {(!p.contact.is_empty()).then(|| view! { <p>"Reach them: " {p.contact.clone()}</p> })}
                                    {(!p.recipients.is_empty()).then(|| view! { <p>"Tell: " {p.recipients.join(", ")}</p> })}
                                    {(!p.text.is_empty()).then(|| view! { <p class="body">{p.text.clone()}</p> })}
                                    <ActionForm action=remove>
                                        <input type="hidden" name="reference" value=reference/>
                                        <input type="hidden" name="precaution" value=p.id.to_string()/>
                                        <button type="submit" class="secondary">"Remove"</button>
                                    </ActionForm>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <details>
                <summary>"Add an escort"</summary>
                <ActionForm action=escort>
                    <input type="hidden" name="reference" value=r1/>
                    <fieldset>
                        <legend>"Escorts"</legend>
                        {plan.escorts.iter().enumerate().map(|(i, p)| view! {
                            <label class="inline"><input type="checkbox" name=format!("input[escorts][{i}]") value=p.id.to_string()/> " " {p.name.clone()}</label>
                        }).collect_view()}
                        {plan.escorts.is_empty().then(|| view! { <p class="muted">"This event has no escort staff yet."</p> })}
                        <FieldError result=escort_result field="escorts"/>
                    </fieldset>
                    {(1..=3).map(|n| view! {
                        <fieldset>
                            <legend>{format!("Time window {n} (event time)")}</legend>
                            <label for=format!("start-{n}")>"From"</label>
                            <input id=format!("start-{n}") type="datetime-local" name=format!("input[start_{n}]")/>
                            <label for=format!("end-{n}")>"To"</label>
                            <input id=format!("end-{n}") type="datetime-local" name=format!("input[end_{n}]")/>
                        </fieldset>
                    }).collect_view()}
                    <label for="meeting-point">"Meeting point"</label>
                    <input id="meeting-point" name="input[meeting_point]" maxlength="300"/>
                    <FieldError result=escort_result field="meeting_point"/>
                    <label for="escort-contact">"How to reach the person escorted"</label>
                    <input id="escort-contact" name="input[contact]" maxlength="300"/>
                    <label for="escort-notes">"Notes for the escort (route, what to watch for; never why)"</label>
                    <textarea id="escort-notes" name="input[notes]" maxlength="2000" rows="2"></textarea>
                    <button type="submit">"Add escort"</button>
                </ActionForm>
                <FormStatus result=escort_result success="Escort added; the escorts were told." fields=escort_fields/>
            </details>
            <details>
                <summary>"Add an arrival alert"</summary>
                <ActionForm action=alert>
                    <input type="hidden" name="reference" value=r2/>
                    <fieldset>
                        <legend>"Tell these staff at once when the person's badge is scanned"</legend>
                        {plan.staff.iter().enumerate().map(|(i, p)| view! {
                            <label class="inline"><input type="checkbox" name=format!("recipients[{i}]") value=p.id.to_string()/> " " {p.name.clone()}</label>
                        }).collect_view()}
                        <FieldError result=alert_result field="recipients"/>
                    </fieldset>
                    <label for="alert-instruction">"What they should do"</label>
                    <input id="alert-instruction" name="instruction" maxlength="300"/>
                    <button type="submit">"Add arrival alert"</button>
                </ActionForm>
                <FormStatus result=alert_result success="Arrival alert added." fields=&["recipients", "instruction"]/>
            </details>
            <details>
                <summary>"Add a door instruction"</summary>
                <ActionForm action=door>
                    <input type="hidden" name="reference" value=r3/>
                    <label for="door-instruction">"What door staff see (never why)"</label>
                    <input id="door-instruction" name="instruction" maxlength="200" placeholder="Admit, and call the safety lead"/>
                    <FieldError result=door_result field="instruction"/>
                    <button type="submit">"Add door instruction"</button>
                </ActionForm>
                <FormStatus result=door_result success="Door instruction added." fields=&["instruction"]/>
            </details>
            <details>
                <summary>"Add an arrangement agreed with the reporter"</summary>
                <ActionForm action=arrangement>
                    <input type="hidden" name="reference" value=r4/>
                    <label for="arrangement-text">"In words the reporter will read"</label>
                    <textarea id="arrangement-text" name="text" maxlength="2000" rows="2"></textarea>
                    <FieldError result=arrangement_result field="text"/>
                    <button type="submit">"Add arrangement"</button>
                </ActionForm>
                <FormStatus result=arrangement_result success="Arrangement added; the reporter was told." fields=&["text"]/>
            </details>
        </section>
    }
}

/// The plan as the reporter sees it, with their answer.
#[component]
pub fn ReporterPlan(
    reference: String,
    arrangements: Vec<String>,
    response: Option<PlanResponseView>,
    on_change: Callback<()>,
) -> impl IntoView {
    let respond = ServerAction::<RespondToPlan>::new();
    Effect::new(move |_| {
        if respond.version().get() > 0 {
            on_change.run(());
        }
    });
    let result = Signal::derive(move || respond.value().get());
    let (r1, r2) = (reference.clone(), reference);
    (!arrangements.is_empty()).then(|| view! {
        <section class="panel plan">
            <h2>"What we arranged for you"</h2>
            <ul class="arrangements">{arrangements.into_iter().map(|a| view! { <li>{a}</li> }).collect_view()}</ul>
            {response.map(|r| view! {
                <p class="muted">{match r.answer { PlanAnswer::Accepted => "You accepted this", PlanAnswer::ChangesRequested => "You asked for changes" }} " · " {r.at}</p>
            })}
            <ActionForm action=respond>
                <input type="hidden" name="reference" value=r1/>
                <input type="hidden" name="answer" value="accepted"/>
                <button type="submit">"This works for me"</button>
            </ActionForm>
            <ActionForm action=respond>
                <input type="hidden" name="reference" value=r2/>
                <input type="hidden" name="answer" value="changes_requested"/>
                <label for="plan-comment">"Or tell us what should change"</label>
                <textarea id="plan-comment" name="comment" maxlength="2000" rows="2"></textarea>
                <FieldError result field="comment"/>
                <button type="submit" class="secondary-ok">"Ask for changes"</button>
            </ActionForm>
            <FormStatus result success="Thank you; the team has your answer." fields=&["comment"]/>
        </section>
    })
}

#[component]
pub fn EscortPage() -> impl IntoView {
    let ack = ServerAction::<AcknowledgeAssignment>::new();
    let renew = ServerAction::<RenewCalendarFeed>::new();
    let revoke = ServerAction::<RevokeCalendarFeed>::new();
    let mine = Resource::new(move || (ack.version().get(), revoke.version().get()), |_| api::my_assignments());
    let feed_url = move || renew.value().get().and_then(|r| r.ok());
    view! {
        <Title text="My assignments"/>
        <h1>"My escort assignments"</h1>
        <Loaded resource=mine let:m>
            {if m.assignments.is_empty() {
                view! { <p>"No assignments."</p> }.into_any()
            } else {
                view! {
                    <ul class="assignments">
                        {m.assignments.into_iter().map(|a| view! {
                            <li class="card assignment">
                                <h3>"Escort " {a.person.clone()}</h3>
                                <p class="muted">{a.event_name.clone()}</p>
                                <p><strong>"When: "</strong>{a.windows.join("; ")}</p>
                                <p><strong>"Meet at: "</strong>{a.meeting_point.clone()}</p>
                                {(!a.contact.is_empty()).then(|| view! { <p><strong>"Reach them: "</strong>{a.contact.clone()}</p> })}
                                {(!a.notes.is_empty()).then(|| view! { <p><strong>"Notes: "</strong>{a.notes.clone()}</p> })}
                                {if a.acknowledged {
                                    view! { <p class="notice ok">"Acknowledged"</p> }.into_any()
                                } else {
                                    view! {
                                        <ActionForm action=ack>
                                            <input type="hidden" name="assignment" value=a.id.to_string()/>
                                            <button type="submit">"Acknowledge"</button>
                                        </ActionForm>
                                    }.into_any()
                                }}
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <section class="panel">
                <h2>"In your calendar"</h2>
                <p>"A private address your calendar app can subscribe to. Anyone with it sees your assignments, so keep it to yourself; make a new one if it leaks."</p>
                <ActionForm action=renew>
                    <button type="submit">{if m.has_feed { "Make a new address (the old one stops working)" } else { "Make my calendar address" }}</button>
                </ActionForm>
                {move || feed_url().map(|u| view! { <p class="notice ok"><code class="feed-url">{u}</code></p> })}
                {m.has_feed.then(|| view! {
                    <ActionForm action=revoke>
                        <button type="submit" class="secondary">"Stop my calendar address"</button>
                    </ActionForm>
                })}
            </section>
            <HydrationMarker/>
        </Loaded>
    }
}

/// Listens for notifications while the page is open and shows the newest at the top of
/// every page; a count links to the full list.
#[component]
pub fn NotificationBell() -> impl IntoView {
    // Notifications that arrived while this page is open (the browser fills it).
    let live = RwSignal::new(Vec::<NotificationView>::new());
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use wasm_bindgen::JsCast as _;
        use wasm_bindgen::closure::Closure;
        let Ok(source) = web_sys::EventSource::new("/live/notifications") else { return };
        let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            if let Some(text) = e.data().as_string()
                && let Ok(n) = serde_json::from_str::<NotificationView>(&text)
            {
                live.update(|l| l.insert(0, n));
            }
        });
        let _ = source.add_event_listener_with_callback("notification", on_message.as_ref().unchecked_ref());
        on_message.forget();
        std::mem::forget(source);
    });
    let (dismissed, set_dismissed) = signal(0usize);
    view! {
        <a href="/notifications" class="bell">
            "Alerts"
            {move || {
                let n = live.get().len();
                (n > 0).then(|| view! { " " <span class="badge bad live-count">{n}</span> })
            }}
        </a>
        {move || {
            let items = live.get();
            (items.len() > dismissed.get()).then(|| {
                let n = items[0].clone();
                view! {
                    <div class="toast" role="alert">
                        <strong>{n.title}</strong> " " {n.body} " " <a href=n.link>"Open"</a>
                        <button type="button" class="secondary-ok" on:click=move |_| set_dismissed.set(live.get_untracked().len())>
                            "Dismiss"
                        </button>
                    </div>
                }
            })
        }}
    }
}

#[component]
pub fn NotificationsPage() -> impl IntoView {
    let list = Resource::new(|| (), |_| api::notifications());
    let read = ServerAction::<api::MarkNotificationsRead>::new();
    view! {
        <Title text="Notifications"/>
        <h1>"Notifications"</h1>
        <Loaded resource=list let:items>
            <ul class="notifications">
                {items.into_iter().map(|n| view! {
                    <li class:unread=!n.read><a href=n.link>{n.title}</a> " · " {n.body} " · " <span class="muted">{n.at}</span></li>
                }).collect_view()}
            </ul>
            <ActionForm action=read><button type="submit" class="secondary-ok">"Mark all as read"</button></ActionForm>
            <HydrationMarker/>
        </Loaded>
    }
}
