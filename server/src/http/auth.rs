//! OpenID Connect sign-in routes: `/auth/oidc/{provider}/start` sends the browser to the
//! provider; `/auth/oidc/{provider}/callback` comes back with a code. Failures return to
//! the sign-in page with a short reason code, never details.

use super::AppState;
use super::middleware::cookie;
use crate::services::oidc::FLOW_COOKIE;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use haven_app::api::{Actor, AppError, SetCookie};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct StartQuery {
    return_to: Option<String>,
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

fn see_other(location: &str, cookies: &[SetCookie]) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(&c.0) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

fn back_to_signin(err: &AppError) -> Response {
    let reason = match err {
        AppError::NotFound => "unknown_provider",
        AppError::Invalid(_) => "expired",
        AppError::Conflict(_) => "provider",
        _ => "failed",
    };
    see_other(&format!("/signin?error={reason}"), &[])
}

pub async fn oidc_start(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    Query(q): Query<StartQuery>,
) -> Response {
    match state.services.oidc_start(&provider, q.return_to.as_deref()).await {
        Ok((url, flow_cookie)) => see_other(&url, &[flow_cookie]),
        Err(e) => back_to_signin(&e),
    }
}

pub async fn oidc_callback(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(provider): Path<String>,
    Query(q): Query<CallbackQuery>,
    headers: HeaderMap,
) -> Response {
    if q.error.is_some() {
        return see_other("/signin?error=provider", &[]);
    }
    let (Some(code), Some(flow_state)) = (q.code, q.state) else {
        return see_other("/signin?error=expired", &[]);
    };
    let from_cookie = cookie(&headers, FLOW_COOKIE);
    match state.services.oidc_finish(&actor, &provider, &code, &flow_state, from_cookie).await {
        Ok((session, clear_flow, return_to)) => see_other(&return_to, &[session, clear_flow]),
        Err(e) => back_to_signin(&e),
    }
}
