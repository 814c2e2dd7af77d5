//! Use cases. The ONLY place that decides who may do what: every server function and REST
//! route reaches the data through here, with the [`Actor`] the HTTP layer resolved.
//!
//! The rule for hidden things: a service loads the caller's grants before it looks for the
//! object, and answers `NotFound` both when the object is missing and when the caller may
//! not see it, so the two cannot be told apart by answer or by work done.

pub mod account;
pub mod audit;
pub mod auth;
pub mod authz;
pub mod cases;
pub mod door;
pub mod enforcement;
pub mod events;
pub mod involvement;
pub mod manage;
pub mod notifications;
pub mod oidc;
pub mod plans;
pub mod ratelimit;
pub mod registrations;
pub mod retention;
pub mod return_to;
pub mod second_factor;
pub mod staff;
pub mod work;

use crate::clock::SharedClock;
use crate::config::Settings;
use crate::db::Store;
use haven_app::api::*;
use sea_orm::DbErr;
use std::sync::Arc;
use tokio::sync::Notify;

/// Shared state of the use cases.
pub struct Services {
    pub store: Store,
    pub clock: SharedClock,
    pub settings: Arc<Settings>,
    /// The resolved public URL (links in e-mail, OIDC redirects).
    pub public_url: String,
    pub oidc: oidc::Providers,
    /// Wakes the outbox worker after a commit that queued mail.
    pub mail_wake: Arc<Notify>,
    /// Told of changes other instances made (PostgreSQL `LISTEN`); `signals.mail` is
    /// `mail_wake`.
    pub signals: Arc<crate::db::signals::Listeners>,
    /// Wakes the sign-in dispatcher after a sign-in request.
    pub signin_wake: Arc<Notify>,
    /// Key for turning client addresses into opaque rate-limit keys.
    client_key_secret: String,
    /// Field encryption for case text.
    pub keys: Arc<crate::crypto::fields::KeyStore>,
    /// Announces the person a new in-app notification is for (live streams listen).
    pub live: tokio::sync::broadcast::Sender<uuid::Uuid>,
    /// The door's runtime parts (cache, keys, scan writer, signature checker).
    pub door: Arc<door::DoorRuntime>,
}

impl Services {
    pub fn new(
        store: Store,
        clock: SharedClock,
        settings: Arc<Settings>,
        public_url: String,
        client_key_secret: String,
        keys: Arc<crate::crypto::fields::KeyStore>,
    ) -> Arc<Self> {
        let mail_wake: Arc<Notify> = Arc::default();
        let signals = Arc::new(crate::db::signals::Listeners { mail: mail_wake.clone(), ..Default::default() });
        Arc::new(Self {
            keys,
            live: tokio::sync::broadcast::channel(1024).0,
            door: door::DoorRuntime::start(store.clone()),
            oidc: oidc::Providers::new(settings.oidc.clone()),
            store,
            clock,
            settings,
            public_url,
            mail_wake,
            signals,
            signin_wake: Arc::default(),
            client_key_secret,
        })
    }

    /// An opaque key for a client address: the same address gives the same key, and the
    /// key does not give the address back.
    pub fn client_key(&self, ip: std::net::IpAddr) -> String {
        use hmac::Mac as _;
        let mut mac =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(self.client_key_secret.as_bytes()).expect("any key length");
        mac.update(ip.to_string().as_bytes());
        crate::crypto::hex(&mac.finalize().into_bytes()[..16])
    }

    /// The data key of a case (its id), a decision chain (its root's id) or a draft
    /// (`crypto::data_keys`); erased or missing, the thing is not found.
    pub(crate) async fn data_key(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        id: uuid::Uuid,
    ) -> Result<crate::crypto::data_keys::DataKey, crate::crypto::data_keys::KeyError> {
        crate::crypto::data_keys::load(&self.keys, db, id).await
    }

    /// Opens a sealed value with the key it names (a data key, or the wrapping key).
    pub(crate) async fn open_sealed(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        column: crate::crypto::sealed::Column,
        row: impl std::fmt::Display,
        sealed: &str,
    ) -> Result<String, AppError> {
        Ok(crate::crypto::data_keys::open_any(&self.keys, db, column, row, sealed).await?)
    }
}

/// Like `AppError::from(err)` (services use `?`), but a write the database refused because
/// another one got there first (a unique or foreign key constraint) is told with `message`,
/// what this person should know, rather than the general "changed meanwhile".
pub(crate) fn conflict_or_internal(err: DbErr, message: &str) -> AppError {
    match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_) | sea_orm::SqlErr::ForeignKeyConstraintViolation(_)) => {
            AppError::Conflict(message.to_owned())
        }
        _ => AppError::from(err),
    }
}

/// The services answer every area's port.
impl Backend for Services {}
