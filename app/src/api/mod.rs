//! The API layer: wire types, the `#[server]` functions the pages call, and (behind `ssr`)
//! the [`Backend`] port through which every one of them reaches the services.
//!
//! Server functions here stay thin: fetch the backend and the actor from the request
//! context, call one backend method, map the error to a status. They decide nothing.

pub mod error;
pub mod types;

#[cfg(feature = "ssr")]
pub mod backend;

pub use error::AppError;
pub use types::*;

#[cfg(feature = "ssr")]
pub use backend::{Actor, Backend, SharedBackend};

use leptos::prelude::*;

/// Server-function plumbing shared by every `#[server]` function.
#[cfg(feature = "ssr")]
pub(crate) mod plumbing {
    use super::{Actor, AppError, SharedBackend};
    use leptos::prelude::*;

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
}

/// The public face of Haven: the events a visitor may see.
#[server(prefix = "/fn", endpoint = "home")]
pub async fn home() -> Result<HomeView, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.home(&actor).await)
}

/// One event's public page.
#[server(prefix = "/fn", endpoint = "event")]
pub async fn event(slug: String) -> Result<EventView, AppError> {
    let (backend, actor) = plumbing::context()?;
    plumbing::answer(backend.event(&actor, slug).await)
}
