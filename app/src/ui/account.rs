//! Signing in, the person's own page, staff invitations.

use super::components::{FieldError, FormStatus, HydrationMarker, Loaded};
use crate::api::{
    self, AcceptInvitation, AddEmail, ConfirmEmail, RedeemSigninLink, RemoveEmail, RequestSigninLink, SignOut,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn SigninPage() -> impl IntoView {
    let query = use_query_map();
    let options = Resource::new(|| (), |_| api::signin_options());
    let request = ServerAction::<RequestSigninLink>::new();
    let result = Signal::derive(move || request.value().get());
    let sent = move || query.read().get("sent").is_some() || matches!(request.value().get(), Some(Ok(())));
    let return_to = move || query.read().get("return_to").unwrap_or_else(|| "/me".to_owned());
    let problem = move || {
        query.read().get("error").map(|code| match code.as_str() {
            "expired" => "That sign-in attempt expired or was already used. Please start again.",
            "provider" => "The sign-in provider did not complete the sign-in. Please try again.",
            "unknown_provider" => "That sign-in provider is not configured here.",
            _ => "Signing in did not work. Please try again.",
        })
    };
    view! {
        <Title text="Sign in"/>
        <h1>"Sign in"</h1>
        {move || problem().map(|p| view! { <p class="notice bad" role="alert">{p}</p> })}
        <Loaded resource=options quiet=true let:o>
            {(!o.without_second_factor.is_empty()).then(|| view! {
                <p class="notice" id="without-second-factor">
                    {format!(
                        "Staff of {} sign in without a second factor. Where an organization requires one, its responders, organizers and administrators confirm each sign-in with an authenticator app.",
                        o.without_second_factor.join(", "),
                    )}
                </p>
            })}
            {(!o.providers.is_empty()).then(|| view! {
                <section class="panel">
                    <h2>"With your account"</h2>
                    <ul class="providers">
                        {o.providers.into_iter().map(|p| {
                            let href = format!("/auth/oidc/{}/start?return_to={}", p.id, urlencode(&return_to()));
                            view! { <li><a class="button" rel="external" href=href>"Sign in with " {p.name}</a></li> }
                        }).collect_view()}
                    </ul>
                </section>
            })}
        </Loaded>
        <section class="panel">
            <h2>"With a link by e-mail"</h2>
            <Show
                when=sent
                fallback=move || view! {
                    <ActionForm action=request>
                        <label for="email">"Your e-mail address"</label>
                        <input id="email" type="email" name="email" required autocomplete="email" maxlength="254"/>
                        <FieldError result field="email"/>
                        <button type="submit">"Send me a sign-in link"</button>
                    </ActionForm>
                    <FormStatus result success="" fields=&["email"]/>
                }
            >
                <p class="notice ok" role="status">
                    "If that address is registered with Haven, a sign-in link is on its way. "
                    "It works once, for 15 minutes."
                </p>
            </Show>
        </section>
        <HydrationMarker/>
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The page a sign-in link opens: one button, so a mail scanner following the link
/// does not use it up.
#[component]
pub fn LinkPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let redeem = ServerAction::<RedeemSigninLink>::new();
    let result = Signal::derive(move || redeem.value().get());
    view! {
        <Title text="Sign in"/>
        <h1>"Sign in to Haven"</h1>
        <ActionForm action=redeem>
            <input type="hidden" name="token" value=token/>
            <button type="submit">"Sign in"</button>
        </ActionForm>
        <FormStatus result success="Signed in."/>
        <HydrationMarker/>
    }
}

/// The page a link confirming a further address opens: one button, as for sign-in links.
#[component]
pub fn ConfirmAddressPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let confirm = ServerAction::<ConfirmEmail>::new();
    let result = Signal::derive(move || confirm.value().get().map(|r| r.map(|_| ())));
    let confirmed = move || confirm.value().get().and_then(|r| r.ok());
    view! {
        <Title text="Confirm your address"/>
        <h1>"Confirm your address"</h1>
        <Show
            when=move || confirmed().is_some()
            fallback=move || view! {
                <p>"Confirm that you want to sign in to Haven with this address too."</p>
                <ActionForm action=confirm>
                    <input type="hidden" name="token" value=token/>
                    <button type="submit">"Confirm"</button>
                </ActionForm>
            }
        >
            <p class="notice ok" role="status">
                {move || confirmed().unwrap_or_default()} " now signs you in to Haven. "
                <a href="/me">"Go to my page"</a>
            </p>
        </Show>
        <FormStatus result success=""/>
        <HydrationMarker/>
    }
}

/// The addresses a person signs in with: the main one, further ones, and adding one.
#[component]
fn MyAddresses(main: Option<String>, further: Vec<String>) -> impl IntoView {
    let add = ServerAction::<AddEmail>::new();
    let remove = ServerAction::<RemoveEmail>::new();
    let added = Signal::derive(move || add.value().get());
    let removed = Signal::derive(move || remove.value().get());
    view! {
        <section class="panel">
            <h2>"Sign-in addresses"</h2>
            <ul class="addresses">
                {main.map(|m| view! { <li>{m} " " <span class="muted">"(main)"</span></li> })}
                {further.into_iter().map(|a| view! {
                    <li>{a.clone()}
                        <ActionForm action=remove>
                            <input type="hidden" name="email" value=a/>
                            <button type="submit" class="link">"Remove"</button>
                        </ActionForm>
                    </li>
                }).collect_view()}
            </ul>
            <FormStatus result=removed success="Removed. Reload to see the list."/>
            <ActionForm action=add>
                <label for="new-email">"Also sign in with"</label>
                <input id="new-email" type="email" name="email" required autocomplete="email" maxlength="254"/>
                <FieldError result=added field="email"/>
                <button type="submit">"Send a confirmation link"</button>
            </ActionForm>
            <FormStatus
                result=added
                success="A link to confirm it is on its way to that address. It works once, for an hour."
                fields=&["email"]
            />
        </section>
    }
}

#[component]
pub fn MyPage() -> impl IntoView {
    let page = Resource::new(|| (), |_| api::my_page());
    // Door scans this browser still has to upload (`ui::door`): signing out keeps them and
    // says so; otherwise it removes the door's data from the browser.
    let door_waiting = RwSignal::new(0usize);
    let asked_to_sign_out = RwSignal::new(false);
    let everywhere = RwSignal::new(false);
    let sign_out_problem = RwSignal::new(None::<String>);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| door_waiting.set(super::door::door_scans_waiting()));
    let sign_out_url = <SignOut as leptos::server_fn::ServerFn>::url();
    let sign_out = move |anyway: bool| {
        #[cfg(feature = "hydrate")]
        {
            let waiting = super::door::door_scans_waiting();
            door_waiting.set(waiting);
            if waiting > 0 && !anyway {
                asked_to_sign_out.set(true);
                return;
            }
            leptos::task::spawn_local(async move {
                if let Err(e) = super::door::sign_out_and_forget(everywhere.get_untracked()).await {
                    sign_out_problem.set(Some(format!("Not signed out: {e}")));
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (anyway, asked_to_sign_out, sign_out_problem);
    };
    view! {
        <Title text="My page"/>
        <Loaded resource=page let:me>
            <h1>{me.name}</h1>
            {me.email.clone().map(|e| view! { <p class="muted">{e}</p> })}
            <super::badges::MyBadges/>
            <super::decisions::MyDecisions/>
            <section class="panel">
                <h2>"My registrations"</h2>
                {if me.registrations.is_empty() {
                    view! { <p>"You are not registered for any event."</p> }.into_any()
                } else {
                    view! {
                        <ul class="registrations">
                            {me.registrations.into_iter().map(|r| view! {
                                <li>
                                    <a href=format!("/events/{}", r.event_slug)>{r.event_name}</a>
                                    " · " {r.when}
                                    {r.ticket_ref.map(|t| view! { " · ticket " {t} })}
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </section>
            {(!me.cases.is_empty()).then(|| view! {
                <section class="panel">
                    <h2>"My reports"</h2>
                    <ul class="cases">
                        {me.cases.into_iter().map(|c| view! {
                            <li><a href=format!("/cases/{}", c.reference)>{c.reference.clone()}</a>
                                " · " {c.event_name} " · " {c.status.label()} " · " {c.filed}</li>
                        }).collect_view()}
                    </ul>
                </section>
            })}
            {(!me.roles.is_empty()).then(|| view! {
                <section class="panel">
                    <h2>"My staff roles"</h2>
                    <ul class="roles">
                        {me.roles.into_iter().map(|r| {
                            let door = (r.role == crate::domain::Role::Door).then(|| r.event_slug.clone()).flatten();
                            view! {
                                <li>{r.role.label()} " · " {r.scope}
                                    {door.map(|s| view! { " · " <a href=format!("/door/{s}")>"Open the door page"</a> })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                    <p id="second-factor"><a href="/signin/second-factor">"Second factor (authenticator app)"</a></p>
                </section>
            })}
            <MyAddresses main=me.email further=me.addresses/>
            <section class="panel" id="my-data">
                <h2>"My data"</h2>
                <p>"Everything Haven holds about you as yourself (your account, registrations, badges, roles, decisions about you and your appeals, the reports you filed with their messages), as a JSON file."</p>
                <p><a href="/me/data.json" download="my-haven-data.json" rel="external">"Download my data"</a></p>
            </section>
            <section class="panel" id="sign-out">
                <h2>"Sign out"</h2>
                // A plain form (it works without JavaScript); with it, the door's
                // data is dealt with first.
                <form method="post" action=sign_out_url on:submit=move |ev| {
                    ev.prevent_default();
                    sign_out(false);
                }>
                    <label class="inline">
                        <input type="checkbox" name="everywhere" value="true"
                            on:change=move |ev| everywhere.set(event_target_checked(&ev))/>
                        " Sign out on every device"
                    </label>
                    <button type="submit">"Sign out"</button>
                </form>
                {move || (door_waiting.get() > 0).then(|| view! {
                    <p class="notice bad" id="door-scans-waiting" role="alert">
                        {format!(
                            "{} door scan(s) on this device still wait to be uploaded. Open the door page (under My staff roles) while online to upload them, then sign out.",
                            door_waiting.get(),
                        )}
                        {move || asked_to_sign_out.get().then_some(
                            " You are still signed in. If you sign out anyway, the scans stay on this device (the door list does not) until door staff of the event open the door page here.",
                        )}
                    </p>
                })}
                {move || (asked_to_sign_out.get() && door_waiting.get() > 0).then(|| view! {
                    <button type="button" id="sign-out-anyway" class="secondary" on:click=move |_| sign_out(true)>
                        "Sign out anyway"
                    </button>
                })}
                {move || sign_out_problem.get().map(|p| view! { <p class="notice bad" role="alert">{p}</p> })}
            </section>
            <HydrationMarker/>
        </Loaded>
    }
}

#[component]
pub fn InvitationPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let invitation = Resource::new(token, api::invitation);
    let accept = ServerAction::<AcceptInvitation>::new();
    let result = Signal::derive(move || accept.value().get());
    view! {
        <Title text="Invitation"/>
        <Loaded resource=invitation let:inv>
            <h1>"You are invited"</h1>
            <p>
                {inv.organization} " invites " <strong>{inv.email}</strong> " to help at "
                <strong>{inv.scope}</strong> " as " <strong>{inv.role.label()}</strong> "."
            </p>
            <ActionForm action=accept>
                <input type="hidden" name="token" value=token/>
                <button type="submit">"Accept"</button>
            </ActionForm>
            <FormStatus result success="Accepted."/>
            <HydrationMarker/>
        </Loaded>
    }
}
