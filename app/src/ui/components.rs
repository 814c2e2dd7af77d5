//! Small components shared by pages.

use crate::api::AppError;
use leptos::prelude::*;
use std::sync::Arc;

/// A page's data once loaded: "Loading…" until the resource resolves, then the children
/// with the value, or the error panel (a 404 reads as "Not found" whether the thing is
/// missing or not the caller's to see).
///
/// `quiet` is for a section that appears only when there is something to show: nothing
/// while loading and nothing on an error. `signed_out` is what a signed-out visitor sees
/// instead of the "Please sign in" panel. `refreshing` keeps the last value on screen
/// while the next one loads (a page that reloads its data every few seconds).
#[component]
pub fn Loaded<T, V, F>(
    resource: Resource<Result<T, AppError>>,
    children: F,
    #[prop(optional)] quiet: bool,
    #[prop(optional, into)] signed_out: Option<ViewFn>,
    #[prop(optional)] refreshing: bool,
) -> impl IntoView
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    V: IntoView + 'static,
    F: Fn(T) -> V + Send + Sync + 'static,
{
    let children = Arc::new(children);
    let fallback = move || (!quiet).then(|| view! { <p class="loading">"Loading…"</p> });
    let body = move || {
        let children = children.clone();
        let signed_out = signed_out.clone();
        Suspend::new(async move {
            match (resource.await, signed_out) {
                (Ok(value), _) => children(value).into_any(),
                (Err(AppError::Unauthenticated), Some(signed_out)) => signed_out.run(),
                (Err(_), _) if quiet => ().into_any(),
                (Err(error), _) => view! { <ErrorPanel error/> }.into_any(),
            }
        })
    };
    if refreshing {
        view! { <Transition fallback>{body}</Transition> }.into_any()
    } else {
        view! { <Suspense fallback>{body}</Suspense> }.into_any()
    }
}

/// How an error reads on a page: what happened and what the person can do.
#[component]
pub fn ErrorPanel(error: AppError) -> impl IntoView {
    let (title, body) = match &error {
        AppError::NotFound => ("Not found".to_owned(), "There is nothing here, or it is not yours to see.".to_owned()),
        AppError::Unauthenticated => ("Please sign in".to_owned(), "This page is for signed-in people.".to_owned()),
        other => ("Something is not right".to_owned(), other.to_string()),
    };
    let signin = matches!(error, AppError::Unauthenticated);
    view! {
        <section class="panel error" role="alert">
            <h1>{title}</h1>
            <p>{body}</p>
            {signin.then(|| view! { <p><a href="/signin">"Sign in"</a></p> })}
        </section>
    }
}

/// The outcome of a form's last submission: errors not tied to one field, or a note of
/// success.
#[component]
pub fn FormStatus(
    result: Signal<Option<Result<(), AppError>>>,
    #[prop(into)] success: String,
    /// Fields shown next to their inputs (their errors are not repeated here).
    #[prop(optional)]
    fields: &'static [&'static str],
) -> impl IntoView {
    move || match result.get() {
        Some(Ok(())) if !success.is_empty() => {
            view! { <p class="notice ok" role="status">{success.clone()}</p> }.into_any()
        }
        Some(Err(AppError::Invalid(errors))) => {
            let rest: Vec<String> =
                errors.iter().filter(|e| !fields.contains(&e.field.as_str())).map(ToString::to_string).collect();
            view! {
                <div class="notice bad" role="alert">
                    <p>"Please check the form."</p>
                    {(!rest.is_empty()).then(|| view! {
                        <ul>{rest.into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}</ul>
                    })}
                </div>
            }
            .into_any()
        }
        Some(Err(e)) => view! { <p class="notice bad" role="alert">{e.to_string()}</p> }.into_any(),
        _ => ().into_any(),
    }
}

/// The message for one field from the last submission, shown under its input.
#[component]
pub fn FieldError(result: Signal<Option<Result<(), AppError>>>, field: &'static str) -> impl IntoView {
    move || {
        result.get().and_then(|r| r.err()).and_then(|e| e.field_message(field)).map(|m| {
            view! { <p class="field-error" id=format!("{field}-error")>{m}</p> }
        })
    }
}

/// Marks the document as hydrated once this component runs in the browser, so browser
/// tests (and people debugging) can tell a live page from server HTML. Place it last in a
/// page's resolved content.
#[component]
pub fn HydrationMarker() -> impl IntoView {
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });
}
