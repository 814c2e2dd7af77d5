//! Door devices: scanners with their own token, bound to one event and to scanning.
//! The token is shown once when the device is added and stored only as a hash.

use crate::crypto::{hash_token, random_token};
use crate::db::entities::{door_device, event};
use crate::services::{Services, audit};
use haven_app::api::AppError;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

/// A device that presented a live token.
#[derive(Debug, Clone, Copy)]
pub struct DeviceAuth {
    pub device: Uuid,
    pub event: Uuid,
}

/// Device tokens carry a prefix so a leaked one is recognizable.
const PREFIX: &str = "hvd_";

impl Services {
    /// Adds a device for an event; returns its token (shown once).
    pub async fn add_device(
        &self,
        actor: Option<Uuid>,
        e: &event::Model,
        name: &str,
    ) -> Result<(Uuid, String), AppError> {
        let name = haven_app::domain::PlainText::parse("name", name, 1, 100)?;
        let token = format!("{PREFIX}{}", random_token());
        let id = Uuid::new_v4();
        let tx = self.begin().await?;
        let now = tx.now;
        door_device::Entity::insert(door_device::ActiveModel {
            id: Set(id),
            event_id: Set(e.id),
            name: Set(name.into_string()),
            token_hash: Set(hash_token(&token)),
            created_at: Set(now),
            revoked_at: Set(None),
        })
        .exec(&*tx)
        .await?;
        tx.audit(vec![audit::Entry::new(actor, "device.added", "door_device", id).with("event", e.id.to_string())])
            .await?;
        tx.commit().await?;
        Ok((id, token))
    }

    pub async fn revoke_device(&self, actor: Option<Uuid>, e: &event::Model, device: Uuid) -> Result<(), AppError> {
        let tx = self.begin().await?;
        let now = tx.now;
        let d = door_device::Entity::find_by_id(device)
            .filter(door_device::Column::EventId.eq(e.id))
            .filter(door_device::Column::RevokedAt.is_null())
            .one(&*tx)
            .await?
            .ok_or(AppError::NotFound)?;
        door_device::Entity::update(door_device::ActiveModel {
            id: Set(d.id),
            revoked_at: Set(Some(now)),
            ..Default::default()
        })
        .exec(&*tx)
        .await?;
        tx.audit(vec![audit::Entry::new(actor, "device.revoked", "door_device", d.id)]).await?;
        tx.door_note(e.id).await?;
        tx.door_changed();
        tx.commit().await?;
        Ok(())
    }

    pub async fn devices(&self, e: &event::Model) -> Result<Vec<door_device::Model>, AppError> {
        door_device::Entity::find()
            .filter(door_device::Column::EventId.eq(e.id))
            .order_by_asc(door_device::Column::CreatedAt)
            .all(&self.store.db)
            .await
            .map_err(AppError::from)
    }

    /// The device a bearer token belongs to, if it is live.
    pub async fn device_for(&self, token: &str) -> Result<Option<DeviceAuth>, AppError> {
        if !token.starts_with(PREFIX) || token.len() > 100 {
            return Ok(None);
        }
        let hash = hash_token(token);
        if let Some(auth) = self.door.cache.devices.read().expect("device cache").get(&hash) {
            return Ok(Some(*auth));
        }
        let generation = self.door.cache.generation();
        let found = door_device::Entity::find()
            .filter(door_device::Column::TokenHash.eq(hash.as_str()))
            .filter(door_device::Column::RevokedAt.is_null())
            .one(&self.store.db)
            .await?
            .map(|d| DeviceAuth { device: d.id, event: d.event_id });
        if let Some(auth) = found {
            let mut devices = self.door.cache.devices.write().expect("device cache");
            if self.door.cache.generation() == generation {
                devices.insert(hash, auth);
            }
        }
        Ok(found)
    }
}
