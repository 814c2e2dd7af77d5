//! Use cases. The ONLY place that decides who may do what: every server function and REST
//! route reaches the data through here, with the [`Actor`] the HTTP layer resolved.

mod events;

use crate::clock::SharedClock;
use haven_app::api::{Actor, AppError, Backend, EventView, HomeView};
use sea_orm::{DatabaseConnection, DbErr};
use std::sync::Arc;

/// Shared state of the use cases.
#[derive(Clone)]
pub struct Services {
    pub db: DatabaseConnection,
    pub clock: SharedClock,
}

impl Services {
    pub fn new(db: DatabaseConnection, clock: SharedClock) -> Arc<Self> {
        Arc::new(Self { db, clock })
    }
}

/// A failure below the services becomes an opaque `Internal`; its cause is logged here,
/// once, without any personal data (database errors carry statements, not values).
pub(crate) fn internal(err: DbErr) -> AppError {
    tracing::error!(error = %err, "database error");
    AppError::Internal
}

#[async_trait::async_trait]
impl Backend for Services {
    async fn home(&self, actor: &Actor) -> Result<HomeView, AppError> {
        events::home(self, actor).await
    }

    async fn event(&self, actor: &Actor, slug: String) -> Result<EventView, AppError> {
        events::event(self, actor, slug).await
    }
}
