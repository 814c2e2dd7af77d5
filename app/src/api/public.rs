//! What anyone may see: the event list and event pages.

use super::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
#[cfg(feature = "ssr")]
use {super::Actor, super::plumbing, crate::domain::Slug};

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
    plumbing::answer(backend.event(&actor, &plumbing::slug(&slug)?).await)
}

/// What anyone may see.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait PublicApi: Send + Sync {
    /// Events that have not ended, soonest first.
    async fn home(&self, actor: &Actor) -> Result<HomeView, AppError>;

    /// One event's public page; a malformed slug is answered like an unknown one.
    async fn event(&self, actor: &Actor, slug: &Slug) -> Result<EventView, AppError>;
}

// ----- Wire types ----------------------------------------------------------------

/// An event as listed publicly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSummary {
    pub slug: String,
    pub name: String,
    pub organization: String,
    /// Start and end in the event's own time zone, already formatted for people.
    pub when: String,
    pub venue: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeView {
    pub events: Vec<EventSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventView {
    pub event: EventSummary,
    pub time_zone: String,
    /// Hours within which the safety team acknowledges a report.
    pub ack_hours: u32,
}
