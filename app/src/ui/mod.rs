//! Pages and components. Rendered on the server, hydrated in the browser. Pages ask the
//! server functions in [`crate::api`] for data and never decide who may see what.

mod account;
mod badges;
mod cases;
mod components;
mod decisions;
mod door;
mod manage;
mod pages;
mod plans;
mod security;

use crate::api;
use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::{
    Lazy, SsrMode,
    components::{A, Route, Router, Routes},
    hooks::use_location,
    path,
};

/// Pages only staff open, each loaded in the browser only where it is used: their code
/// is split out of the wasm every page loads (`cargo leptos build --split`), so what a
/// registrant's phone downloads stays small. Each becomes a route type for `Lazy`.
macro_rules! lazy_pages {
    ($($route:ident => $page:path),* $(,)?) => {
        $(
            struct $route;

            #[leptos_router::lazy_route]
            impl leptos_router::LazyRoute for $route {
                fn data() -> Self {
                    $route
                }

                fn view(_this: Self) -> AnyView {
                    $page().into_any()
                }
            }
        )*
    };
}

lazy_pages! {
    RespondHome => cases::RespondHomePage,
    Queue => cases::QueuePage,
    Escort => plans::EscortPage,
    ManageHome => manage::ManageHomePage,
    EventSettings => manage::EventSettingsPage,
    Registrations => manage::RegistrationsPage,
    Staff => manage::StaffPage,
    BadgeSheet => badges::BadgeSheetPage,
    Devices => badges::DevicesPage,
    Arrivals => badges::ArrivalsPage,
    Outcomes => decisions::OutcomesPage,
    Decide => decisions::DecidePage,
    Report => decisions::ReportPage,
    Flags => decisions::FlagsPage,
    Door => door::DoorPage,
    Notifications => plans::NotificationsPage,
    Invitation => account::InvitationPage,
    SecondFactor => security::SecondFactorPage,
}

/// The HTML document around the app (server only renders it).
///
/// Pages render in `SsrMode::Async`: the whole page is ready before the first byte is
/// sent, so a page can answer 404 for something it may not show, and pages work
/// without JavaScript.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                // Both follow the built site's hashed names (`pkg/hash.txt`).
                <HashedStylesheet options=options.clone() id="haven-css"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Loads the code of any split-out view the server-rendered page shows, so hydration
/// finds it at once: a view still loading when hydration reaches it would be drawn a
/// second time beside the server's copy. Lazy routes are waited for by the router;
/// views split inside a page are marked `data-split` and listed here.
#[cfg(feature = "hydrate")]
pub async fn before_hydrating() {
    let shows = |name: &str| document().query_selector(&format!("[data-split={name}]")).ok().flatten().is_some();
    if shows("team-case") {
        cases::__preload_team_case().await;
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let a = SsrMode::Async;
    view! {
        <Title formatter=|page: String| if page.is_empty() { "Haven".to_owned() } else { format!("{page} · Haven") }/>
        <Router>
            <Header/>
            <main class="page">
                <Routes fallback=pages::NotFound>
                    <Route path=path!("/") view=pages::HomePage ssr=a.clone()/>
                    <Route path=path!("/events/:slug") view=pages::EventPage ssr=a.clone()/>
                    <Route path=path!("/signin") view=account::SigninPage ssr=a.clone()/>
                    <Route path=path!("/auth/link/:token") view=account::LinkPage ssr=a.clone()/>
                    <Route path=path!("/signin/second-factor") view={Lazy::<SecondFactor>::new()} ssr=a.clone()/>
                    <Route path=path!("/me") view=account::MyPage ssr=a.clone()/>
                    <Route path=path!("/me/addresses/:token") view=account::ConfirmAddressPage ssr=a.clone()/>
                    <Route path=path!("/invitations/:token") view={Lazy::<Invitation>::new()} ssr=a.clone()/>
                    <Route path=path!("/events/:slug/concern") view=cases::ConcernPage ssr=a.clone()/>
                    <Route path=path!("/cases/:reference") view=cases::CasePage ssr=a.clone()/>
                    <Route path=path!("/respond") view={Lazy::<RespondHome>::new()} ssr=a.clone()/>
                    <Route path=path!("/respond/:slug") view={Lazy::<Queue>::new()} ssr=a.clone()/>
                    <Route path=path!("/escort") view={Lazy::<Escort>::new()} ssr=a.clone()/>
                    <Route path=path!("/notifications") view={Lazy::<Notifications>::new()} ssr=a.clone()/>
                    <Route path=path!("/manage") view={Lazy::<ManageHome>::new()} ssr=a.clone()/>
                    <Route path=path!("/manage/events/:slug") view={Lazy::<EventSettings>::new()} ssr=a.clone()/>
                    <Route path=path!("/manage/events/:slug/registrations") view={Lazy::<Registrations>::new()} ssr=a.clone()/>
                    <Route path=path!("/manage/events/:slug/staff") view={Lazy::<Staff>::new()} ssr=a.clone()/>
                    <Route path=path!("/manage/events/:slug/badges") view={Lazy::<BadgeSheet>::new()} ssr=a.clone()/>
                    <Route path=path!("/manage/events/:slug/devices") view={Lazy::<Devices>::new()} ssr=a.clone()/>
                    <Route path=path!("/manage/events/:slug/arrivals") view={Lazy::<Arrivals>::new()} ssr=a.clone()/>
                    <Route path=path!("/manage/events/:slug/outcomes") view={Lazy::<Outcomes>::new()} ssr=a.clone()/>
                    <Route path=path!("/manage/decisions") view={Lazy::<Decide>::new()} ssr=a.clone()/>
                    <Route path=path!("/manage/organizations/:org/report") view={Lazy::<Report>::new()} ssr=a.clone()/>
                    <Route path=path!("/appeal/:token") view=decisions::AppealLinkPage ssr=a.clone()/>
                    <Route path=path!("/ban-evasion") view={Lazy::<Flags>::new()} ssr=a.clone()/>
                    <Route path=path!("/door/:slug") view={Lazy::<Door>::new()} ssr=a/>
                </Routes>
            </main>
            <footer class="site-footer">
                <p>"Reports are handled promptly and in strict confidence."</p>
            </footer>
        </Router>
    }
}

/// The site header: who is signed in and where they can go.
#[component]
fn Header() -> impl IntoView {
    let location = use_location();
    let info = Resource::new(move || location.pathname.get(), |_| api::session_info());
    view! {
        <header class="site-header">
            <a class="brand" href="/">"Haven"</a>
            <nav aria-label="Account">
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match info.await {
                            Ok(i) if i.signed_in => view! {
                                {i.staff.then(|| view! { <plans::NotificationBell/> })}
                                {i.escorts.then(|| view! { <A href="/escort">"My assignments"</A> })}
                                {i.responds.then(|| view! { <A href="/respond">"Safety team"</A> })}
                                {i.manages.then(|| view! { <A href="/manage">"Manage"</A> })}
                                {i.second_factor_needed.then(|| view! {
                                    <a href="/signin/second-factor" class="needs-second-factor">"Confirm sign-in"</a>
                                })}
                                <A href="/me">{i.name.unwrap_or_else(|| "My page".to_owned())}</A>
                            }.into_any(),
                            _ => view! { <A href="/signin">"Sign in"</A> }.into_any(),
                        }
                    })}
                </Suspense>
            </nav>
        </header>
    }
}
