//! Badge images: `GET /badges/<registration>.svg` (pages, print) and `.png` (e-mail,
//! download), for the badge's holder and the event's organizers only.

use super::AppState;
use crate::services::door::{qr_png, qr_svg};
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use haven_app::api::{Actor, AppError};

pub async fn image(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(file): Path<String>,
) -> Response {
    let (registration, kind) = match file.rsplit_once('.') {
        Some((r, "svg")) => (r, "svg"),
        Some((r, "png")) => (r, "png"),
        _ => return (StatusCode::NOT_FOUND, "not found\n").into_response(),
    };
    let token = match state.services.badge_token_for(&actor, registration).await {
        Ok(t) => t,
        Err(AppError::Unauthenticated) => return (StatusCode::UNAUTHORIZED, "please sign in first\n").into_response(),
        Err(AppError::NotFound) => return (StatusCode::NOT_FOUND, "not found\n").into_response(),
        Err(_) => return (StatusCode::INTERNAL_SERVER_ERROR, "please try again\n").into_response(),
    };
    let private = (header::CACHE_CONTROL, "private, no-store");
    match kind {
        "svg" => match qr_svg(&token) {
            Ok(svg) => ([(header::CONTENT_TYPE, "image/svg+xml"), private], svg).into_response(),
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        },
        _ => match qr_png(&token, 8) {
            Ok(png) => ([(header::CONTENT_TYPE, "image/png"), private], png).into_response(),
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        },
    }
}
