//! Badges on pages: a person's own, the organizer's print sheet, door devices, arrivals.

use super::components::{ErrorPanel, FieldError, FormStatus, HydrationMarker, Loaded};
use crate::api::{self, AddDevice, RevokeDevice, SendBadges};
use crate::domain::badge::ScanResult;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// The signed-in person's badges, to show at the door.
#[component]
pub fn MyBadges() -> impl IntoView {
    let badges = Resource::new(|| (), |_| api::my_badges());
    view! {
        <Loaded resource=badges quiet=true let:list>
            {(!list.is_empty()).then(|| view! {
                <section class="panel">
                    <h2>"My badges"</h2>
                    <div class="my-badges">
                        {list.into_iter().map(|b| view! {
                            <figure class="my-badge">
                                <img src=format!("/badges/{}.svg", b.registration) alt=format!("Badge for {}", b.event_name) width="240" height="240"/>
                                <figcaption>{b.event_name} " · " {b.name}
                                    <br/><a rel="external" href=format!("/badges/{}.png", b.registration) download="badge.png">"Download"</a></figcaption>
                            </figure>
                        }).collect_view()}
                    </div>
                </section>
            })}
        </Loaded>
    }
}

/// Badges laid out for printing: six to a page (A4 or Letter), name and role under each.
#[component]
pub fn BadgeSheetPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let sheet = Resource::new(
        move || {
            // One `selection` per ticked row (from the registrations page), or a comma-separated list.
            let picked = query.read().get_all("selection").map(|all| all.join(","));
            (params.read().get("slug").unwrap_or_default(), picked)
        },
        |(slug, selection)| api::badge_sheet(slug, selection),
    );
    let send = ServerAction::<SendBadges>::new();
    view! {
        <Title text="Badges"/>
        <Loaded resource=sheet let:s>
            <div class="no-print">
                <h1>{s.event_name.clone()} " · badges"</h1>
                <p>{format!("{} badge(s). Print with your browser (6 to a page, A4 or Letter).", s.badges.len())}</p>
                <ActionForm action=send>
                    <input type="hidden" name="slug" value=params.read_untracked().get("slug").unwrap_or_default()/>
                    <button type="submit" class="secondary-ok">"E-mail every badge not yet sent"</button>
                </ActionForm>
                {move || send.value().get().map(|r| match r {
                    Ok(n) => view! { <p class="notice ok" role="status">{format!("{n} badge(s) queued for e-mail.")}</p> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                })}
            </div>
            <div class="badge-sheet">
                {s.badges.into_iter().map(|b| view! {
                    <div class="print-badge">
                        <p class="print-event">{s.event_name.clone()}</p>
                        <img src=format!("/badges/{}.svg", b.registration) alt="" width="200" height="200"/>
                        <p class="print-name">{b.name}</p>
                        {b.role.map(|r| view! { <p class="print-role">{r}</p> })}
                    </div>
                }).collect_view()}
            </div>
            <HydrationMarker/>
        </Loaded>
    }
}

#[component]
pub fn DevicesPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let add = ServerAction::<AddDevice>::new();
    let revoke = ServerAction::<RevokeDevice>::new();
    let list = Resource::new(move || (slug(), add.version().get() + revoke.version().get()), |(s, _)| api::devices(s));
    let add_result = Signal::derive(move || add.value().get().map(|r| r.map(|_| ())));
    let token = move || add.value().get().and_then(|r| r.ok());
    view! {
        <Title text="Door devices"/>
        <h1>"Door devices"</h1>
        <p>"A device with a token can scan badges of this event through the door API (and nothing else)."</p>
        <Loaded resource=list let:devices>
            // The form (which names the event) appears only to someone allowed to see its devices.
            <ActionForm action=add>
                <input type="hidden" name="slug" value=slug/>
                <label for="device-name">"Name"</label>
                <input id="device-name" name="name" required maxlength="100" placeholder="North gate scanner 1"/>
                <FieldError result=add_result field="name"/>
                <button type="submit">"Add device"</button>
            </ActionForm>
            {move || token().map(|t| view! {
                <div class="notice ok" role="status">
                    <p>"The device's token (shown only now; put it in the device's settings):"</p>
                    <p><code class="device-token">{t}</code></p>
                </div>
            })}
            <FormStatus result=add_result success="" fields=&["name"]/>
            <ul class="devices">
                {devices.into_iter().map(|d| view! {
                    <li>{d.name} " · added " {d.added}
                        {if d.revoked {
                            view! { " · " <span class="badge">"revoked"</span> }.into_any()
                        } else {
                            view! {
                                <ActionForm action=revoke>
                                    <input type="hidden" name="slug" value=slug/>
                                    <input type="hidden" name="device" value=d.id.to_string()/>
                                    <button type="submit" class="secondary">"Revoke"</button>
                                </ActionForm>
                            }.into_any()
                        }}
                    </li>
                }).collect_view()}
            </ul>
            <HydrationMarker/>
        </Loaded>
    }
}

/// Arrivals per hour, the latest scans at each gate, check-ins by name and scans uploaded
/// late, refreshed every five seconds.
#[component]
pub fn ArrivalsPage() -> impl IntoView {
    let params = use_params_map();
    let tick = RwSignal::new(0u32);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let _ = set_interval_with_handle(move || tick.update(|t| *t += 1), std::time::Duration::from_secs(5));
    });
    let view =
        Resource::new(move || (params.read().get("slug").unwrap_or_default(), tick.get()), |(s, _)| api::arrivals(s));
    view! {
        <Title text="Arrivals"/>
        <Loaded resource=view refreshing=true let:a>
            {
                let max = a.per_hour.iter().map(|h| h.admitted + h.denied).max().unwrap_or(1).max(1);
                view! {
                    <h1>{a.event_name} " · arrivals"</h1>
                    <p class="big-number"><span id="admitted">{a.admitted}</span> " let in so far"</p>
                    <section class="panel">
                        <h2>"Per hour"</h2>
                        <ul class="hours">
                            {a.per_hour.into_iter().map(|h| {
                                let width = 100 * (h.admitted + h.denied) / max;
                                view! {
                                    <li>
                                        <span class="hour">{h.hour}</span>
                                        <meter min="0" max="100" value=width.to_string()></meter>
                                        <span>{format!("{} in, {} refused", h.admitted, h.denied)}</span>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </section>
                    <section class="panel">
                        <h2>"Latest at each gate"</h2>
                        {a.gates.into_iter().map(|g| view! {
                            <h3>{g.gate}</h3>
                            <ul class="gate-scans">
                                {g.latest.into_iter().map(|s| view! {
                                    <li class=match s.result { ScanResult::Deny => "deny", ScanResult::Alert => "alert", ScanResult::Admit => "admit" }>
                                        {s.at} " · " {format!("{:?}", s.result).to_lowercase()} " · " {s.name.unwrap_or_default()}
                                        {s.late.then_some(" · uploaded late")}
                                    </li>
                                }).collect_view()}
                            </ul>
                        }).collect_view()}
                    </section>
                    <section class="panel" id="by-name">
                        <h2>"Checked in by name"</h2>
                        {if a.by_name.is_empty() {
                            view! { <p>"Nobody has been checked in by name."</p> }.into_any()
                        } else {
                            view! {
                                <ul class="by-name-counts">
                                    {a.by_name.into_iter().map(|c| view! {
                                        <li>
                                            {c.by} {if c.device { " (device)" } else { "" }} " · "
                                            {c.count} {if c.count == 1 { " check-in" } else { " check-ins" }}
                                        </li>
                                    }).collect_view()}
                                </ul>
                                <h3>"Latest"</h3>
                                <ul class="by-name-latest">
                                    {a.latest_by_name.into_iter().map(|c| view! {
                                        <li>
                                            {c.at} " · " {c.gate} " · " {c.by}
                                            {if c.device { " (device)" } else { "" }} " checked in "
                                            {c.name.unwrap_or_else(|| "an unknown registration".to_owned())}
                                        </li>
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                    </section>
                    {(a.late_count > 0).then(|| view! {
                        <section class="panel" id="late-scans">
                            <h2>"Uploaded late"</h2>
                            <p>{format!(
                                "{} scan(s) reached the server more than 7 days after they happened (a door device offline that long). Each was judged when it arrived.",
                                a.late_count,
                            )}</p>
                            <ul class="late-scans">
                                {a.late.into_iter().map(|s| view! {
                                    <li class=match s.result { ScanResult::Deny => "deny", ScanResult::Alert => "alert", ScanResult::Admit => "admit" }>
                                        {s.at} " · " {s.gate} " · " {s.by} {if s.device { " (device)" } else { "" }} " · "
                                        {format!("{:?}", s.result).to_lowercase()} " · " {s.name.unwrap_or_default()}
                                        " · received " {s.received}
                                    </li>
                                }).collect_view()}
                            </ul>
                        </section>
                    })}
                    <HydrationMarker/>
                }.into_any()
            }
        </Loaded>
    }
}
