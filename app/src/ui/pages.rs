//! The pages of the public site.

use super::components::{ErrorPanel, HydrationMarker, Loaded};
use crate::api::{self, EventSummary};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn HomePage() -> impl IntoView {
    let home = Resource::new(|| (), |_| api::home());
    view! {
        <Title text=""/>
        <section class="hero">
            <h1>"Safer events, kept in confidence"</h1>
            <p>
                "Haven helps organizers keep their code of conduct: tell the safety team about "
                "a worry before the event, get precautions arranged, and know the door will "
                "stop anyone who has been expelled."
            </p>
        </section>
        <Loaded resource=home let:home>
            {if home.events.is_empty() {
                view! { <p>"No upcoming events yet."</p> }.into_any()
            } else {
                view! {
                    <HydrationMarker/>
                    <h2>"Upcoming events"</h2>
                    <ul class="event-list">
                        {home.events.into_iter().map(|e| view! { <li><EventCard event=e/></li> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </Loaded>
    }
}

#[component]
fn EventCard(event: EventSummary) -> impl IntoView {
    let href = format!("/events/{}", event.slug);
    view! {
        <article class="card">
            <h3><a href=href>{event.name}</a></h3>
            <p class="muted">{event.organization}</p>
            <p>{event.when}" · "{event.venue}</p>
        </article>
    }
}

#[component]
pub fn EventPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let event = Resource::new(slug, api::event);
    view! {
        <Loaded resource=event let:view>
            {
                let ack_hours = view.ack_hours;
                view! {
                    <Title text=view.event.name.clone()/>
                    <section class="event">
                        <p class="muted">{view.event.organization}</p>
                        <h1>{view.event.name}</h1>
                        <p class="when">{view.event.when}</p>
                        <p class="venue">{view.event.venue}</p>
                        <p class="muted">"Times are in " {view.time_zone} "."</p>
                    </section>
                    <SafetyTeamInfo ack_hours/>
                    <section class="panel">
                        <h2>"Worried about someone?"</h2>
                        <p>"If someone who may attend worries you, or something happened, tell the safety team."</p>
                        <a class="button" href=format!("/events/{}/concern", view.event.slug)>"Tell the safety team"</a>
                    </section>
                    <HydrationMarker/>
                }
                .into_any()
            }
        </Loaded>
    }
}

/// A disclosure that opens in the browser once the page is hydrated.
#[component]
fn SafetyTeamInfo(ack_hours: u32) -> impl IntoView {
    let (open, set_open) = signal(false);
    view! {
        <section class="panel">
            <button
                class="disclosure"
                aria-expanded=move || open.get().to_string()
                aria-controls="safety-team-info"
                on:click=move |_| set_open.update(|o| *o = !*o)
            >
                "How to reach the safety team"
            </button>
            <Show when=move || open.get()>
                <div id="safety-team-info" class="disclosure-body">
                    <p>
                        "The safety team reads every report and acknowledges it within "
                        {ack_hours} " hours. Reports are kept in strict confidence: the person "
                        "you tell us about never learns of it from Haven."
                    </p>
                    <p>"Worried about someone who may attend? Sign in and file a concern before the event."</p>
                </div>
            </Show>
        </section>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
            options.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <Title text="Not found"/>
        <ErrorPanel error=api::AppError::NotFound/>
    }
}
