//! Middleware every request passes.

use crate::telemetry::Metrics;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use haven_app::api::Actor;
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

/// The per-response nonce that lets Leptos' inline hydration script run under the CSP.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Gives every request a fresh id (a client's own id is replaced: it could carry
/// anything), logs one line when it is answered, and counts it by route pattern.
pub async fn observe(
    State(metrics): State<Arc<Metrics>>,
    mut req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let id = uuid::Uuid::new_v4().simple().to_string();
    let id_header = HeaderValue::from_str(&id).expect("hex is a valid header value");
    req.headers_mut()
        .insert(X_REQUEST_ID.clone(), id_header.clone());
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let span = tracing::info_span!("request", request_id = %id, method = %method, route = %route);
    let mut res = next.run(req).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = res.status().as_u16();
    metrics.record(&method, &route, status, elapsed);
    span.in_scope(|| {
        let latency_ms = elapsed.as_secs_f64() * 1000.0;
        if status >= 500 {
            tracing::error!(status, latency_ms, "request failed");
        } else {
            tracing::info!(status, latency_ms, "request answered");
        }
    });
    res.headers_mut().insert(X_REQUEST_ID.clone(), id_header);
    res
}

/// Content Security Policy and the other protective headers, on every response.
///
/// Scripts: only our own files, the one inline hydration script carrying this response's
/// nonce, and WebAssembly compilation (`'wasm-unsafe-eval'`, which permits compiling wasm
/// and nothing else). No `'unsafe-eval'`, no `'unsafe-inline'`.
pub async fn security_headers(mut req: Request, next: Next) -> Response {
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    req.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut res = next.run(req).await;
    let csp = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; \
         connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    );
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_str(&csp).expect("ascii policy"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Same-origin requests keep their referrer (no-JS forms return to the page they came
    // from); nothing leaves for other sites, so case URLs never leak.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(self), microphone=(), geolocation=(), payment=()"),
    );
    h.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    res
}

/// Resolves who is asking. Until sign-in exists everyone is anonymous.
pub async fn resolve_actor(mut req: Request, next: Next) -> Response {
    req.extensions_mut().insert(Actor::Anonymous);
    next.run(req).await
}
