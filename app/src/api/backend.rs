//! The port between the server functions and the services (server only).
//!
//! Every question the UI can ask is a method here, and `haven-server`'s services are its
//! one implementation, so every request passes the one place that decides who may do what.

use super::{AppError, EventView, HomeView};
use std::sync::Arc;
use uuid::Uuid;

/// Who is asking. Resolved from the session by the HTTP layer, checked by the services.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Actor {
    #[default]
    Anonymous,
    Person {
        person_id: Uuid,
        session_id: Uuid,
    },
}

#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    async fn home(&self, actor: &Actor) -> Result<HomeView, AppError>;
    async fn event(&self, actor: &Actor, slug: String) -> Result<EventView, AppError>;
}

pub type SharedBackend = Arc<dyn Backend>;
