//! What anyone may see: the event list and event pages.

use super::{AppError, EventView, HomeView};
use leptos::prelude::*;

/// The public face of Haven: the events a visitor may see.
#[server(prefix = "/fn", endpoint = "home")]
pub async fn home() -> Result<HomeView, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.home(&actor).await)
}

/// One event's public page.
#[server(prefix = "/fn", endpoint = "event")]
pub async fn event(slug: String) -> Result<EventView, AppError> {
    let (backend, actor) = super::plumbing::context()?;
    super::plumbing::answer(backend.event(&actor, slug).await)
}
