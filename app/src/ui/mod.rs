//! Pages and components. Rendered on the server, hydrated in the browser. Pages ask the
//! server functions in [`crate::api`] for data and never decide who may see what.

mod components;
mod pages;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{Route, Router, Routes},
    path,
};

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
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="haven-css" href="/pkg/haven.css"/>
        <Title formatter=|page: String| if page.is_empty() { "Haven".to_owned() } else { format!("{page} · Haven") }/>
        <Router>
            <header class="site-header">
                <a class="brand" href="/">"Haven"</a>
            </header>
            <main class="page">
                <Routes fallback=pages::NotFound>
                    <Route path=path!("/") view=pages::HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/events/:slug") view=pages::EventPage ssr=SsrMode::Async/>
                </Routes>
            </main>
            <footer class="site-footer">
                <p>"Reports are handled promptly and in strict confidence."</p>
            </footer>
        </Router>
    }
}
