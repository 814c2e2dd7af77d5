//! Small components shared by pages.

use crate::api::AppError;
use leptos::prelude::*;

/// How an error reads on a page: what happened and what the person can do.
#[component]
pub fn ErrorPanel(error: AppError) -> impl IntoView {
    let (title, body) = match &error {
        AppError::NotFound => (
            "Not found".to_owned(),
            "There is nothing here, or it is not yours to see.".to_owned(),
        ),
        AppError::Unauthenticated => ("Please sign in".to_owned(), error.to_string()),
        other => ("Something is not right".to_owned(), other.to_string()),
    };
    view! {
        <section class="panel error" role="alert">
            <h1>{title}</h1>
            <p>{body}</p>
        </section>
    }
}

/// Marks the document as hydrated once this component runs in the browser, so browser
/// tests (and people debugging) can tell a live page from server HTML. Place it last in a
/// page's resolved content.
#[component]
pub fn HydrationMarker() -> impl IntoView {
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(root) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });
}
