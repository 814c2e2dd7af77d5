//! Leptos on axum: the context every page render and server function receives.

use super::AppState;
use super::middleware::CspNonce;
use axum::body::Body;
use axum::extract::Request;
use axum::response::IntoResponse;
use haven_app::api::Actor;
use leptos::prelude::*;

/// Provides the backend, the actor and the CSP nonce to Leptos. Called inside the render
/// (or server-function) owner, after leptos_axum has provided the request parts.
pub fn request_context(state: &AppState) -> impl Fn() + Clone + Send + Sync + use<> {
    let backend = state.backend.clone();
    move || {
        provide_context(backend.clone());
        if let Some(parts) = use_context::<http::request::Parts>() {
            if let Some(actor) = parts.extensions.get::<Actor>() {
                provide_context(actor.clone());
            }
            if let Some(CspNonce(nonce)) = parts.extensions.get::<CspNonce>() {
                provide_context(leptos::nonce::Nonce::from_value(nonce.clone()));
            }
        }
    }
}

/// Every `#[server]` function, mounted under `/fn/`.
pub async fn server_fn(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request<Body>,
) -> impl IntoResponse {
    leptos_axum::handle_server_fns_with_context(request_context(&state), req).await
}
