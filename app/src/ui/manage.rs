//! Organizer pages: events, registrations, staff.

use super::components::{ErrorPanel, FieldError, FormStatus, HydrationMarker, Loaded};
use crate::api::{
    self, AddRegistration, AppError, CreateEvent, EventSettings, ImportRegistrations, InviteStaff, ReplaceBadge,
    RevokeRole, UpdateEvent,
};
use crate::domain::Role;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_params_map, use_query_map};

fn slug_param() -> impl Fn() -> String + Clone + Send + Sync + 'static {
    let params = use_params_map();
    move || params.read().get("slug").unwrap_or_default()
}

/// Links between an event's management pages.
#[component]
fn EventTabs(slug: String) -> impl IntoView {
    view! {
        <nav class="tabs" aria-label="Event">
            <a href=format!("/manage/events/{slug}")>"Settings"</a>
            <a href=format!("/manage/events/{slug}/registrations")>"Registrations"</a>
            <a href=format!("/manage/events/{slug}/staff")>"Staff"</a>
            <a href=format!("/manage/events/{slug}/badges")>"Badges"</a>
            <a href=format!("/manage/events/{slug}/devices")>"Door devices"</a>
            <a href=format!("/manage/events/{slug}/arrivals")>"Arrivals"</a>
            <a href=format!("/manage/events/{slug}/outcomes")>"Outcomes"</a>
            <a href=format!("/door/{slug}")>"Door page"</a>
            <a href=format!("/events/{slug}")>"Public page"</a>
        </nav>
    }
}

/// The event form's fields, named for the `input` argument of the server functions.
#[component]
fn EventFields(result: Signal<Option<Result<(), AppError>>>, settings: Option<EventSettings>) -> impl IntoView {
    let s = settings.unwrap_or(EventSettings {
        organization: String::new(),
        slug: String::new(),
        name: String::new(),
        venue: String::new(),
        time_zone: "Europe/Berlin".to_owned(),
        starts_at: String::new(),
        ends_at: String::new(),
        ack_hours: 24,
    });
    view! {
        <label for="ev-name">"Name"</label>
        <input id="ev-name" name="input[name]" required maxlength="200" value=s.name/>
        <FieldError result field="name"/>
        <label for="ev-slug">"Address (slug)"</label>
        <input id="ev-slug" name="input[slug]" required maxlength="64" pattern="[a-z0-9]+(-[a-z0-9]+)*" value=s.slug/>
        <FieldError result field="slug"/>
        <label for="ev-venue">"Venue"</label>
        <input id="ev-venue" name="input[venue]" required maxlength="200" value=s.venue/>
        <FieldError result field="venue"/>
        <label for="ev-tz">"Time zone"</label>
        <input id="ev-tz" name="input[time_zone]" required placeholder="Europe/Berlin" value=s.time_zone/>
        <FieldError result field="time_zone"/>
        <label for="ev-start">"Starts (local time)"</label>
        <input id="ev-start" type="datetime-local" name="input[starts_at]" required value=s.starts_at/>
        <FieldError result field="starts_at"/>
        <label for="ev-end">"Ends (local time)"</label>
        <input id="ev-end" type="datetime-local" name="input[ends_at]" required value=s.ends_at/>
        <FieldError result field="ends_at"/>
        <label for="ev-ack">"Acknowledge reports within (hours)"</label>
        <input id="ev-ack" type="number" min="1" max="168" name="input[ack_hours]" value=s.ack_hours.to_string()/>
        <FieldError result field="ack_hours"/>
    }
}

const EVENT_FIELDS: &[&str] = &["name", "slug", "venue", "time_zone", "starts_at", "ends_at", "ack_hours"];

#[component]
pub fn ManageHomePage() -> impl IntoView {
    let home = Resource::new(|| (), |_| api::manage_home());
    let create = ServerAction::<CreateEvent>::new();
    let result = Signal::derive(move || create.value().get());
    view! {
        <Title text="Manage"/>
        <h1>"Manage"</h1>
        <Loaded resource=home let:h>
            <p><a href="/manage/decisions">"Decisions and appeals"</a>
                {h.organizations.iter().map(|o| view! {
                    " · " <a href=format!("/manage/organizations/{}/report", o.slug)>{format!("Transparency report of {}", o.name)}</a>
                }).collect_view()}</p>
            <section class="panel">
                <h2>"Events"</h2>
                {if h.events.is_empty() {
                    view! { <p>"No events to manage yet."</p> }.into_any()
                } else {
                    view! {
                        <table class="table">
                            <thead><tr><th>"Event"</th><th>"When"</th><th>"Registrations"</th></tr></thead>
                            <tbody>
                                {h.events.into_iter().map(|e| view! {
                                    <tr>
                                        <td><a href=format!("/manage/events/{}", e.slug)>{e.name}</a>
                                            <br/><span class="muted">{e.organization}</span></td>
                                        <td>{e.when}</td>
                                        <td>{e.registrations}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }}
            </section>
            {h.organizations.iter().filter_map(|o| Some((o.slug.clone(), o.name.clone(), o.security?))).map(|(slug, name, s)| view! {
                <OrganizationSecurityForm slug name security=s/>
            }).collect_view()}
            {h.organizations.iter().filter_map(|o| Some((o.slug.clone(), o.name.clone(), o.retention_days?))).map(|(slug, name, days)| view! {
                <RetentionForm slug name days/>
            }).collect_view()}
            {(!h.organizations.is_empty()).then(|| view! {
                <section class="panel">
                    <h2>"New event"</h2>
                    <ActionForm action=create>
                        <label for="ev-org">"Organization"</label>
                        <select id="ev-org" name="organization">
                            {h.organizations.into_iter().map(|o| view! {
                                <option value=o.slug>{o.name}</option>
                            }).collect_view()}
                        </select>
                        <EventFields result settings=None/>
                        <button type="submit">"Create event"</button>
                    </ActionForm>
                    <FormStatus result success="Event created." fields=EVENT_FIELDS/>
                </section>
            })}
            <HydrationMarker/>
        </Loaded>
    }
}

/// An administrator's choice of what the organization asks of its staff's sign-in.
#[component]
fn OrganizationSecurityForm(slug: String, name: String, security: crate::api::OrganizationSecurity) -> impl IntoView {
    let set = ServerAction::<crate::api::SetOrganizationSecurity>::new();
    let result = Signal::derive(move || set.value().get());
    view! {
        <section class="panel organization-security">
            <h2>{format!("Sign-in security of {name}")}</h2>
            <ActionForm action=set>
                <input type="hidden" name="organization" value=slug/>
                <label class="inline">
                    <input type="checkbox" name="required" value="true" checked=security.second_factor_required/>
                    " Responders, organizers and administrators confirm sign-in with a second factor"
                </label>
                <label class="inline">
                    <input type="checkbox" name="accept_provider_mfa" value="true" checked=security.accept_provider_mfa/>
                    " A sign-in provider's own multi-factor check counts as one"
                </label>
                <button type="submit">"Save"</button>
            </ActionForm>
            <FormStatus result success="Saved."/>
        </section>
    }
}

/// An administrator's choice of how long resolved and closed cases' text is kept.
#[component]
fn RetentionForm(slug: String, name: String, days: u32) -> impl IntoView {
    let set = ServerAction::<crate::api::SetRetention>::new();
    let result = Signal::derive(move || set.value().get());
    let id = format!("retention-{slug}");
    view! {
        <section class="panel organization-retention">
            <h2>{format!("Keeping case text at {name}")}</h2>
            <ActionForm action=set>
                <input type="hidden" name="organization" value=slug/>
                <label for=id.clone()>"Days a resolved or closed case's text is kept before it is erased (30 to 3650)"</label>
                <input id=id name="days" type="number" min="30" max="3650" required value=days.to_string()/>
                <FieldError result field="days"/>
                <button type="submit">"Save"</button>
            </ActionForm>
            <FormStatus result success="Saved." fields=&["days"]/>
        </section>
    }
}

#[component]
pub fn EventSettingsPage() -> impl IntoView {
    let slug = slug_param();
    let settings = Resource::new(slug.clone(), api::event_settings);
    let update = ServerAction::<UpdateEvent>::new();
    let result = Signal::derive(move || update.value().get());
    view! {
        <Loaded resource=settings let:s>
            {
                let slug = slug();
                view! {
                    <Title text=format!("{} · settings", s.name)/>
                    <p class="muted">{s.organization.clone()}</p>
                    <h1>{s.name.clone()}</h1>
                    <EventTabs slug=slug.clone()/>
                    <section class="panel">
                        <h2>"Settings"</h2>
                        <ActionForm action=update>
                            <input type="hidden" name="slug" value=slug.clone()/>
                            <EventFields result settings=Some(s)/>
                            <button type="submit">"Save"</button>
                        </ActionForm>
                        <FormStatus result success="Saved." fields=EVENT_FIELDS/>
                    </section>
                    <HydrationMarker/>
                }.into_any()
            }
        </Loaded>
    }
}

#[component]
pub fn RegistrationsPage() -> impl IntoView {
    let slug = slug_param();
    let query = use_query_map();
    let add = ServerAction::<AddRegistration>::new();
    let import = ServerAction::<ImportRegistrations>::new();
    let replace = ServerAction::<ReplaceBadge>::new();
    let page = Resource::new(
        {
            let slug = slug.clone();
            move || {
                let q = query.read();
                (
                    slug(),
                    q.get("q").unwrap_or_default(),
                    q.get("page").and_then(|p| p.parse::<u32>().ok()).unwrap_or(1),
                    add.version().get() + import.version().get(),
                )
            }
        },
        |(slug, q, page, _)| api::registrations(slug, Some(q), Some(page)),
    );
    let add_result = Signal::derive(move || add.value().get());
    let import_result = Signal::derive(move || import.value().get().map(|r| r.map(|_| ())));
    let import_summary = move || {
        import.value().get().and_then(|r| r.ok()).map(|r| {
            view! {
                <p class="notice ok" role="status">
                    {format!("Imported {} registration(s); {} were already registered.", r.created, r.unchanged)}
                </p>
            }
        })
    };
    let (csv, set_csv) = signal(String::new());
    view! {
        <Loaded resource=page let:p>
            {
                let slug = slug();
                {
                    let base = format!("/manage/events/{slug}/registrations");
                    let (slug_add, slug_import) = (slug.clone(), slug.clone());
                    let q = p.query.clone();
                    let link = {
                        let base = base.clone();
                        move |n: u32| format!("{base}?q={}&page={n}", query_value(&q))
                    };
                    view! {
                        <Title text=format!("{} · registrations", p.event_name)/>
                        <h1>{p.event_name.clone()}</h1>
                        <EventTabs slug=slug.clone()/>
                        <section class="panel">
                            <h2>"Registrations (" {p.total} ")"</h2>
                            <Form method="GET" action=base.clone()>
                                <label for="q">"Search by name, e-mail or ticket"</label>
                                <input id="q" type="search" name="q" value=p.query.clone() maxlength="100"/>
                                <button type="submit">"Search"</button>
                            </Form>
                            // The checkboxes belong to the print form (by its id) so that each row
                            // can also hold its own replace-badge form.
                            <form id="print-form" method="GET" action=format!("/manage/events/{slug}/badges")></form>
                            <table class="table registrations">
                                <thead><tr><th>"Print"</th><th>"Name"</th><th>"E-mail"</th><th>"Ticket"</th><th>"Role"</th><th>"Badge"</th></tr></thead>
                                <tbody>
                                    {p.rows.into_iter().map(|r| {
                                        let label = format!("Select {} for printing", r.name);
                                        let slug = slug.clone();
                                        view! {
                                            <tr>
                                                <td><input type="checkbox" form="print-form" name="selection" value=r.id.to_string() aria-label=label/></td>
                                                <td>{r.name}</td>
                                                <td>{r.email}</td>
                                                <td>{r.ticket_ref.unwrap_or_default()}</td>
                                                <td>{r.role.unwrap_or_default()}</td>
                                                <td>
                                                    <ActionForm action=replace>
                                                        <input type="hidden" name="slug" value=slug/>
                                                        <input type="hidden" name="registration" value=r.id.to_string()/>
                                                        <button type="submit" class="secondary">"Replace"</button>
                                                    </ActionForm>
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <button type="submit" form="print-form">"Print badges of the selected (all if none)"</button>
                            {move || replace.value().get().map(|r| match r {
                                Ok(()) => view! { <p class="notice ok" role="status">"Badge replaced: the old one no longer opens the door."</p> }.into_any(),
                                Err(error) => view! { <ErrorPanel error/> }.into_any(),
                            })}
                            <nav class="pager" aria-label="Pages">
                                {(p.page > 1).then(|| view! { <a rel="prev" href=link(p.page - 1)>"Previous"</a> })}
                                <span>"Page " {p.page} " of " {p.pages}</span>
                                {(p.page < p.pages).then(|| view! { <a rel="next" href=link(p.page + 1)>"Next"</a> })}
                            </nav>
                        </section>
                        <section class="panel">
                            <h2>"Add a registration"</h2>
                            <ActionForm action=add>
                                <input type="hidden" name="slug" value=slug_add/>
                                <label for="r-name">"Name"</label>
                                <input id="r-name" name="name" required maxlength="200"/>
                                <FieldError result=add_result field="name"/>
                                <label for="r-email">"E-mail"</label>
                                <input id="r-email" name="email" type="email" required maxlength="254"/>
                                <FieldError result=add_result field="email"/>
                                <label for="r-ticket">"Ticket reference (optional)"</label>
                                <input id="r-ticket" name="ticket_ref" maxlength="100"/>
                                <FieldError result=add_result field="ticket_ref"/>
                                <label for="r-role">"Attendee role, e.g. speaker (optional)"</label>
                                <input id="r-role" name="role" maxlength="50"/>
                                <FieldError result=add_result field="role"/>
                                <button type="submit">"Add"</button>
                            </ActionForm>
                            <FormStatus result=add_result success="Added." fields=&["name", "email", "ticket_ref", "role"]/>
                        </section>
                        <section class="panel">
                            <h2>"Import from CSV"</h2>
                            <p class="muted">
                                "A header row naming " <code>"name"</code> " and " <code>"email"</code>
                                " (optionally " <code>"ticket_ref"</code> " and " <code>"role"</code>
                                "). Every row is checked first: either all are imported, or every bad row is "
                                "listed and nothing changes. Importing the same file again changes nothing."
                            </p>
                            <ActionForm action=import>
                                <input type="hidden" name="slug" value=slug_import/>
                                <label for="csv-file">"Choose a file"</label>
                                <input id="csv-file" type="file" accept=".csv,text/csv" on:change=move |ev| read_file_into(ev, set_csv)/>
                                <label for="csv">"…or paste the CSV"</label>
                                <textarea id="csv" name="csv" rows="6" prop:value=move || csv.get()
                                    on:input=move |ev| set_csv.set(event_target_value(&ev))></textarea>
                                <button type="submit">"Import"</button>
                            </ActionForm>
                            {import_summary}
                            <FormStatus result=import_result success=""/>
                        </section>
                        <HydrationMarker/>
                    }.into_any()
                }
            }
        </Loaded>
    }
}

/// Reads the chosen file's text into the CSV box (in the browser; without JavaScript the
/// box is filled by pasting).
#[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
fn read_file_into(ev: leptos::ev::Event, set_csv: WriteSignal<String>) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast as _;
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else {
            return;
        };
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        leptos::task::spawn_local(async move {
            if let Ok(text) = wasm_bindgen_futures::JsFuture::from(file.text()).await
                && let Some(text) = text.as_string()
            {
                set_csv.set(text);
            }
        });
    }
}

#[component]
pub fn StaffPage() -> impl IntoView {
    let slug = slug_param();
    let invite = ServerAction::<InviteStaff>::new();
    let revoke = ServerAction::<RevokeRole>::new();
    let reset = ServerAction::<crate::api::ResetSecondFactor>::new();
    let staff = Resource::new(
        {
            let slug = slug.clone();
            move || (slug(), invite.version().get() + revoke.version().get() + reset.version().get())
        },
        |(slug, _)| api::staff(slug),
    );
    let invite_result = Signal::derive(move || invite.value().get());
    let revoke_result = Signal::derive(move || revoke.value().get());
    let reset_result = Signal::derive(move || reset.value().get());
    view! {
        <Loaded resource=staff let:s>
            {
                let slug = slug();
                view! {
                    <Title text=format!("{} · staff", s.event_name)/>
                    <h1>{s.event_name.clone()}</h1>
                    <EventTabs slug=slug.clone()/>
                    <section class="panel">
                        <h2>"Staff"</h2>
                        <table class="table staff">
                            <thead><tr><th>"Name"</th><th>"Role"</th><th>"For"</th><th></th></tr></thead>
                            <tbody>
                                {s.members.into_iter().map(|m| {
                                    let slug = slug.clone();
                                    view! {
                                        <tr>
                                            <td>{m.name}<br/><span class="muted">{m.email.unwrap_or_default()}</span></td>
                                            <td>{m.role.label()}</td>
                                            <td>{match m.scope { crate::domain::RoleScope::Event => "this event", crate::domain::RoleScope::Organization => "the organization" }}</td>
                                            <td>
                                                <ActionForm action=revoke>
                                                    <input type="hidden" name="slug" value=slug/>
                                                    <input type="hidden" name="role_id" value=m.role_id.to_string()/>
                                                    <button type="submit" class="secondary">"Remove"</button>
                                                </ActionForm>
                                                // Administrators see who has a second factor, and can remove one.
                                                {m.second_factor.map(|on| if on {
                                                    view! {
                                                        <ActionForm action=reset>
                                                            <input type="hidden" name="role_id" value=m.role_id.to_string()/>
                                                            <button type="submit" class="secondary">"Reset second factor"</button>
                                                        </ActionForm>
                                                    }.into_any()
                                                } else {
                                                    view! { <span class="muted">"No second factor"</span> }.into_any()
                                                })}
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        <FormStatus result=revoke_result success="Removed."/>
                        <FormStatus result=reset_result success="Second factor removed; they were told by mail."/>
                    </section>
                    <section class="panel">
                        <h2>"Invite by e-mail"</h2>
                        <ActionForm action=invite>
                            <input type="hidden" name="slug" value=slug.clone()/>
                            <label for="i-email">"E-mail"</label>
                            <input id="i-email" name="email" type="email" required maxlength="254"/>
                            <FieldError result=invite_result field="email"/>
                            <label for="i-role">"Role"</label>
                            <select id="i-role" name="role">
                                {Role::ALL.into_iter()
                                    .filter(|r| s.can_invite_organization || !r.granted_by_admins_only())
                                    .map(|r| view! { <option value=r.as_str()>{r.label()}</option> })
                                    .collect_view()}
                            </select>
                            <FieldError result=invite_result field="role"/>
                            {(!s.can_invite_organization).then(|| view! {
                                <p class="muted">"The safety team is invited by an administrator of the organization."</p>
                            })}
                            {s.can_invite_organization.then(|| view! {
                                <label for="i-scope">"For"</label>
                                <select id="i-scope" name="scope">
                                    <option value="event">"This event"</option>
                                    <option value="organization">"Every event of the organization"</option>
                                </select>
                                <FieldError result=invite_result field="scope"/>
                            })}
                            <button type="submit">"Send invitation"</button>
                        </ActionForm>
                        <FormStatus result=invite_result success="Invitation sent." fields=&["email", "role", "scope"]/>
                        {(!s.invitations.is_empty()).then(|| view! {
                            <h3>"Waiting for an answer"</h3>
                            <ul class="invitations">
                                {s.invitations.into_iter().map(|i| view! {
                                    <li>{i.email} " · " {i.role.label()} " · until " {i.expires}</li>
                                }).collect_view()}
                            </ul>
                        })}
                    </section>
                    <HydrationMarker/>
                }.into_any()
            }
        </Loaded>
    }
}

/// `text` as one query-string value: every byte but the unreserved ones percent-encoded.
fn query_value(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_search_survives_the_paging_link_whatever_it_holds() {
        assert_eq!(super::query_value("Ada L"), "Ada%20L");
        assert_eq!(super::query_value("a&page=9#x+y%"), "a%26page%3D9%23x%2By%25");
        assert_eq!(super::query_value("Zoë"), "Zo%C3%AB");
    }
}
