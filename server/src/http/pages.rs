//! Leptos on axum: the context every page render and server function receives.

use super::AppState;
use super::middleware::CspNonce;
use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use haven_app::api::{Actor, AppError};
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

/// Server functions whose names are unknown (known ones are routed by leptos_axum).
pub async fn server_fn(axum::extract::State(state): axum::extract::State<AppState>, req: Request<Body>) -> Response {
    leptos_axum::handle_server_fns_with_context(request_context(&state), req).await.into_response()
}

/// Arguments that do not decode (a missing field, text where a number belongs) fail inside
/// the server-function machinery, which answers 500; that is the caller's mistake, so it
/// becomes a 400 with the same JSON error. Real failures (`Internal`) stay 500.
pub async fn bad_arguments_are_400(req: Request<Body>, next: axum::middleware::Next) -> Response {
    let res = next.run(req).await;
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR || !res.headers().contains_key("serverfnerror") {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024).await.unwrap_or_default();
    if let Ok(AppError::Transport(_)) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = StatusCode::BAD_REQUEST;
    }
    Response::from_parts(parts, Body::from(bytes))
}
