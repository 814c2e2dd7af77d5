//! The HTTP edge: axum routes for pages (Leptos SSR), server functions, health and
//! metrics, and the middleware every response passes (request ids, metrics, logs,
//! security headers).

mod api;
pub mod assets;
mod auth;
mod badges;
mod cases;
pub mod error;
mod exports;
mod health;
mod live;
pub mod middleware;
mod pages;

use crate::config::Settings;
use crate::services::Services;
use crate::telemetry::Metrics;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef, Request, State};
use axum::routing::{any, get, post};
use haven_app::api::SharedBackend;
use leptos::config::LeptosOptions;
use leptos_axum::{LeptosRoutes, file_and_error_handler_with_context, generate_route_list};
use std::sync::Arc;
use tower_http::limit::RequestBodyLimitLayer;

/// Larger bodies are refused before anything reads them (a 50,000-row CSV is ~4 MB).
const MAX_BODY_BYTES: usize = 25 * 1024 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub services: Arc<Services>,
    /// The same services, as the port the Leptos server functions call.
    pub backend: SharedBackend,
    pub leptos: LeptosOptions,
    pub metrics: Arc<Metrics>,
    pub settings: Arc<Settings>,
    /// The built site's asset names (`pkg/hash.txt`).
    pub assets: Arc<assets::Assets>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

/// The app's pages, listed once per process. Listing them runs the app with a
/// process-wide switch set (leptos_server's `SuppressResourceLoad`) that parks for good
/// every resource first polled meanwhile, by any server in the process: listing again for
/// a second server (a test, a second instance) could hang a page another one is rendering.
fn page_routes() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(haven_app::App)).clone()
}

/// The whole application as one axum router.
pub fn router(state: AppState) -> Router {
    let routes = page_routes();
    let context = pages::request_context(&state);
    let options = state.leptos.clone();
    let not_found = file_and_error_handler_with_context::<AppState, _>(context.clone(), haven_app::shell);
    let metrics_not_found = not_found.clone();

    let static_files = Router::new()
        .fallback_service(assets::service(&state.settings.site_root))
        .layer(axum::middleware::from_fn_with_state(state.assets.clone(), assets::cache_control));

    // Uploads read their bodies themselves, each file against its own limit (axum's
    // default of 2 MB would refuse the promised 10 MB): they are left out of the general
    // body limit below.
    let uploads = Router::new()
        .route("/events/{slug}/concern", post(cases::file_concern))
        .route("/cases/{reference}/attachments", post(cases::add_attachment))
        .layer(DefaultBodyLimit::max(cases::UPLOAD_BODY_MAX));

    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route(
            "/metrics",
            get(move |State(state): State<AppState>, req: Request| async move {
                if health::metrics_allowed(&state.settings, req.headers()) {
                    health::metrics(&state)
                } else {
                    // Exactly what an address that does not exist answers.
                    metrics_not_found(req.uri().clone(), State(state), req).await
                }
            }),
        )
        .route("/auth/oidc/{provider}/start", get(auth::oidc_start))
        .route("/auth/oidc/{provider}/callback", get(auth::oidc_callback))
        .route("/cases/{reference}/attachments/{id}", get(cases::attachment))
        .route("/api/openapi.json", get(api::openapi))
        .route("/api/v1/scans", post(api::scan))
        .route("/api/v1/events/{slug}/door-sync", get(api::door_sync))
        .route("/calendar/{token}", get(live::calendar))
        .route("/badges/{file}", get(badges::image))
        .route("/manage/events/{slug}/expulsions.csv", get(exports::expulsions))
        .route("/me/data.json", get(exports::my_data))
        .route("/live/notifications", get(live::notifications))
        .route("/door-sw.js", get(assets::door_worker))
        .route("/fn/{*name}", any(pages::server_fn))
        .leptos_routes_with_context(&state, routes, context.clone(), move || haven_app::shell(options.clone()))
        .nest_service("/pkg", static_files)
        .fallback(not_found)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .merge(uploads)
        .layer(axum::middleware::from_fn(pages::bad_arguments_are_400))
        .layer(axum::middleware::from_fn_with_state(state.assets.clone(), assets::plain_pages))
        .layer(axum::middleware::from_fn_with_state(state.services.clone(), middleware::resolve_actor))
        .layer(axum::middleware::from_fn_with_state(state.services.clone(), middleware::csrf))
        .layer(axum::middleware::from_fn_with_state(state.services.clone(), middleware::security_headers))
        .layer(axum::middleware::from_fn_with_state(state.metrics.clone(), middleware::observe))
        .with_state(state)
}

/// What `HAVEN_METRICS_ADDR` serves: `/metrics` and nothing else.
pub fn metrics_router(state: AppState) -> Router {
    Router::new().route("/metrics", get(health::metrics_on_their_own_address)).with_state(state)
}
