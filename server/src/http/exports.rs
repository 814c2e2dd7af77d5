//! Files to download: `GET /manage/events/<slug>/expulsions.csv`, the registrations whose
//! refund an expulsion forfeited, for the ticketing side (organizers only), and
//! `GET /me/data.json`, what Haven holds about the signed-in person as themselves.

use super::AppState;
use super::error::{Format, answer};
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use haven_app::api::Actor;

pub async fn expulsions(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Response {
    let format = Format::asked(&headers, Format::Text);
    if let Err(e) = actor.signed_in() {
        return answer(&e, format);
    }
    let Ok(slug) = haven_app::domain::Slug::parse("slug", &slug) else {
        return answer(&haven_app::api::AppError::NotFound, format);
    };
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
        Err(e) => answer(&e, format),
    }
}

pub async fn my_data(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    headers: HeaderMap,
) -> Response {
    use haven_app::api::AccountApi;
    let format = Format::asked(&headers, Format::Text);
    match state.services.my_data(&actor).await {
        Ok(data) => (
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"my-haven-data.json\""),
                (header::CACHE_CONTROL, "private, no-store"),
            ],
            serde_json::to_string_pretty(&data).unwrap_or_default(),
        )
            .into_response(),
        Err(e) => answer(&e, format),
    }
}
