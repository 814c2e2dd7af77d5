//! The API layer: wire types, the `#[server]` functions the pages call, and (behind `ssr`)
//! the [`Backend`] port through which every one of them reaches the services.
//!
//! Server functions stay thin: fetch the backend and the actor from the request context,
//! call one backend method, apply what it asks of the HTTP response (a cookie, a
//! redirect), and map the error to a status. They decide nothing. Each has an explicit
//! endpoint under `/fn/`, so the authorization matrix can name them.

pub mod account;
pub mod cases;
pub mod door;
pub mod enforcement;
pub mod error;
pub mod manage;
pub mod plans;
pub mod public;
pub mod retention;
pub mod security;

#[cfg(feature = "ssr")]
pub mod backend;

pub use account::*;
pub use cases::*;
pub use door::*;
pub use enforcement::*;
pub use error::AppError;
pub use manage::*;
pub use plans::*;
pub use public::*;
pub use retention::*;
pub use security::*;

#[cfg(feature = "ssr")]
pub use backend::{Actor, ActorSession, Backend, SecondFactorProof, SetCookie, SharedBackend};

/// Server-function plumbing shared by every `#[server]` function.
#[cfg(feature = "ssr")]
pub(crate) mod plumbing {
    use super::{Actor, AppError, SetCookie, SharedBackend};
    use leptos::prelude::*;

    /// A slug from the request: one that cannot be a slug names nothing.
    pub fn slug(raw: &str) -> Result<crate::domain::Slug, AppError> {
        answer(crate::domain::Slug::parse("slug", raw).map_err(|_| AppError::NotFound))
    }

    /// A case reference from the request: one that cannot be a reference names nothing.
    pub fn reference(raw: &str) -> Result<crate::domain::CaseReference, AppError> {
        answer(crate::domain::CaseReference::parse("reference", raw).map_err(|_| AppError::NotFound))
    }

    /// A case status from the request, or what is wrong with it.
    pub fn status(raw: &str) -> Result<crate::domain::CaseStatus, AppError> {
        answer(crate::domain::CaseStatus::parse("status", raw).map_err(AppError::from))
    }

    /// A record's id from the request (a decision, a proposal, a device, …) for someone
    /// signed in: who asks is checked first, and an id that cannot be one names nothing.
    pub fn id(actor: &Actor, raw: &str) -> Result<uuid::Uuid, AppError> {
        let id = uuid::Uuid::parse_str(raw.trim()).map_err(|_| AppError::NotFound);
        answer(actor.signed_in().and(id))
    }

    /// The backend and who is asking, as the HTTP layer put them in the context.
    pub fn context() -> Result<(SharedBackend, Actor), AppError> {
        let backend = use_context::<SharedBackend>().ok_or(AppError::Internal)?;
        let actor = use_context::<Actor>().unwrap_or_default();
        Ok((backend, actor))
    }

    /// Sets the response status from the error, so `NotFound` is a 404 on the wire.
    pub fn answer<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        if let Err(err) = &result
            && let Some(options) = use_context::<leptos_axum::ResponseOptions>()
            && let Ok(status) = http::StatusCode::from_u16(err.status())
        {
            options.set_status(status);
        }
        result
    }

    /// Adds a `Set-Cookie` header to the response.
    pub fn set_cookie(cookie: &SetCookie) {
        if let Some(options) = use_context::<leptos_axum::ResponseOptions>()
            && let Ok(value) = http::HeaderValue::from_str(&cookie.0)
        {
            options.append_header(http::header::SET_COOKIE, value);
        }
    }
}
