//! Files for other systems: `GET /manage/events/<slug>/expulsions.csv`, the registrations
//! whose refund an expulsion forfeited, for the ticketing side (organizers only).

use super::AppState;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use haven_app::api::{Actor, AppError};

pub async fn expulsions(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(slug): Path<String>,
) -> Response {
    match state.services.expulsions_csv(&actor, &slug).await {
        Ok(csv) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"expulsions.csv\""),
                (header::CACHE_CONTROL, "private, no-store"),
            ],
            csv,
        )
            .into_response(),
        Err(AppError::Unauthenticated) => (StatusCode::UNAUTHORIZED, "please sign in first\n").into_response(),
        Err(AppError::NotFound) => (StatusCode::NOT_FOUND, "not found\n").into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "please try again\n").into_response(),
    }
}
