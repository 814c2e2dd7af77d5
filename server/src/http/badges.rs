//! Badge images: `GET /badges/<registration>.svg` (pages, print) and `.png` (e-mail,
//! download), for the badge's holder and the event's organizers only.

use super::AppState;
use super::error::{Format, answer};
use crate::services::door::{qr_png, qr_svg};
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use haven_app::api::{Actor, AppError};

pub async fn image(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let format = Format::asked(&headers, Format::Text);
    let (registration, kind) = match file.rsplit_once('.') {
        Some((r, "svg")) => (r, "svg"),
        Some((r, "png")) => (r, "png"),
        _ => return answer(&AppError::NotFound, format),
    };
    let token = match state.services.badge_token_for(&actor, registration).await {
        Ok(t) => t,
        Err(e) => return answer(&e, format),
    };
    let private = (header::CACHE_CONTROL, "private, no-store");
    match kind {
        "svg" => match qr_svg(&token) {
            Ok(svg) => ([(header::CONTENT_TYPE, "image/svg+xml"), private], svg).into_response(),
            Err(_) => answer(&AppError::Internal, format),
        },
        _ => match qr_png(&token, 8) {
            Ok(png) => ([(header::CONTENT_TYPE, "image/png"), private], png).into_response(),
            Err(_) => answer(&AppError::Internal, format),
        },
    }
}
