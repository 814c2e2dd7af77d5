//! Badge signing keys, one or more per organization. The private half is sealed with the
//! field-encryption keys and opened only in this process's memory; the public half is
//! what door devices sync. Old keys keep verifying until retired.

use crate::db::entities::{badge_key, event};
use crate::services::{Services, audit};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{SigningKey, VerifyingKey};
use haven_app::api::AppError;
use rand::RngCore as _;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;
use uuid::Uuid;

/// Notes a door change at every event of the organization, so every running instance (a
/// server beside the operator's `haven keys` too) forgets the keys it holds and reloads.
async fn keys_changed(tx: &crate::services::work::Work<'_>, organization: Uuid) -> Result<(), AppError> {
    for e in event::Entity::find().filter(event::Column::OrganizationId.eq(organization)).all(&**tx).await? {
        tx.door_note(e.id).await?;
    }
    Ok(())
}

/// A key the server can verify with (and, when current, sign with).
#[derive(Clone)]
pub struct KnownKey {
    pub id: u32,
    pub organization: Uuid,
    pub verifying: VerifyingKey,
    pub retired: bool,
}

#[derive(Default)]
pub struct KeyCache {
    verifying: HashMap<u32, KnownKey>,
    signing: HashMap<Uuid, (u32, SigningKey)>,
}

impl Services {
    /// Makes a new signing key for the organization; it signs every badge issued from now.
    pub async fn generate_badge_key(&self, organization: Uuid) -> Result<u32, AppError> {
        let mut secret = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let signing = SigningKey::from_bytes(&secret);
        let id = loop {
            let candidate = rand::rngs::OsRng.next_u32() & 0x7fff_ffff;
            if candidate != 0
                && badge_key::Entity::find_by_id(i64::from(candidate)).one(&self.store.db).await?.is_none()
            {
                break candidate;
            }
        };
        let tx = self.begin().await?;
        let now = tx.now;
        badge_key::Entity::insert(badge_key::ActiveModel {
            id: Set(i64::from(id)),
            organization_id: Set(organization),
            public_key: Set(URL_SAFE_NO_PAD.encode(signing.verifying_key().to_bytes())),
            private_enc: Set(self.keys.seal_bytes_in(
                crate::crypto::sealed::BADGE_KEY_PRIVATE,
                id,
                &signing.to_bytes(),
            )),
            created_at: Set(now),
            retired_at: Set(None),
        })
        .exec(&*tx)
        .await?;
        tx.audit(vec![audit::Entry::new(None, "badge_key.generated", "organization", organization).with("key", id)])
            .await?;
        keys_changed(&tx, organization).await?;
        tx.door_changed();
        tx.commit().await?;
        self.forget_keys();
        Ok(id)
    }

    /// Stops a key from verifying (badges it signed answer `invalid` until replaced).
    pub async fn retire_badge_key(&self, organization: Uuid, id: u32) -> Result<(), AppError> {
        let tx = self.begin().await?;
        let now = tx.now;
        let k = badge_key::Entity::find_by_id(i64::from(id))
            .filter(badge_key::Column::OrganizationId.eq(organization))
            .one(&*tx)
            .await?
            .ok_or(AppError::NotFound)?;
        badge_key::Entity::update(badge_key::ActiveModel {
            id: Set(k.id),
            retired_at: Set(Some(now)),
            ..Default::default()
        })
        .exec(&*tx)
        .await?;
        tx.audit(vec![audit::Entry::new(None, "badge_key.retired", "organization", organization).with("key", id)])
            .await?;
        keys_changed(&tx, organization).await?;
        tx.door_changed();
        tx.commit().await?;
        self.forget_keys();
        Ok(())
    }

    fn forget_keys(&self) {
        *self.door.keys.write().expect("key cache") = KeyCache::default();
    }

    /// The key with this id, if the server knows it.
    pub async fn verifying_key(&self, id: u32) -> Result<Option<KnownKey>, AppError> {
        if let Some(k) = self.door.keys.read().expect("key cache").verifying.get(&id) {
            return Ok(Some(k.clone()));
        }
        let Some(row) = badge_key::Entity::find_by_id(i64::from(id)).one(&self.store.db).await? else {
            return Ok(None);
        };
        let known = known(&row)?;
        self.door.keys.write().expect("key cache").verifying.insert(id, known.clone());
        Ok(Some(known))
    }

    /// The organization's public keys still in use (for door devices).
    pub async fn public_keys(&self, organization: Uuid) -> Result<HashMap<u32, String>, AppError> {
        Ok(badge_key::Entity::find()
            .filter(badge_key::Column::OrganizationId.eq(organization))
            .filter(badge_key::Column::RetiredAt.is_null())
            .all(&self.store.db)
            .await?
            .into_iter()
            .map(|k| (k.id as u32, k.public_key))
            .collect())
    }

    /// The organization's current signing key, made on first need.
    pub async fn signing_key(&self, organization: Uuid) -> Result<(u32, SigningKey), AppError> {
        if let Some(k) = self.door.keys.read().expect("key cache").signing.get(&organization) {
            return Ok(k.clone());
        }
        let newest = badge_key::Entity::find()
            .filter(badge_key::Column::OrganizationId.eq(organization))
            .filter(badge_key::Column::RetiredAt.is_null())
            .order_by_desc(badge_key::Column::CreatedAt)
            .one(&self.store.db)
            .await?;
        let row = match newest {
            Some(row) => row,
            None => {
                let id = self.generate_badge_key(organization).await?;
                badge_key::Entity::find_by_id(i64::from(id)).one(&self.store.db).await?.ok_or(AppError::Internal)?
            }
        };
        let secret = self.keys.open_bytes_in(crate::crypto::sealed::BADGE_KEY_PRIVATE, row.id, &row.private_enc)?;
        let secret: [u8; 32] = secret.try_into().map_err(|_| AppError::Internal)?;
        let key = (row.id as u32, SigningKey::from_bytes(&secret));
        self.door.keys.write().expect("key cache").signing.insert(organization, key.clone());
        Ok(key)
    }
}

fn known(row: &badge_key::Model) -> Result<KnownKey, AppError> {
    let bytes: [u8; 32] = URL_SAFE_NO_PAD
        .decode(&row.public_key)
        .map_err(|_| AppError::Internal)?
        .try_into()
        .map_err(|_| AppError::Internal)?;
    Ok(KnownKey {
        id: row.id as u32,
        organization: row.organization_id,
        verifying: VerifyingKey::from_bytes(&bytes).map_err(|_| AppError::Internal)?,
        retired: row.retired_at.is_some(),
    })
}
