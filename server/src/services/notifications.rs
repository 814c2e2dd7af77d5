//! In-app notifications: written in the transaction that causes them, announced to the
//! person's live stream after the commit, listed and marked read.

use crate::crypto::data_keys::{KeyError, open_any};
use crate::crypto::sealed;
use crate::db::entities::notification;
use crate::services::Services;
use chrono::{DateTime, Utc};
use haven_app::api::NotificationsApi;
use haven_app::api::*;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

/// Notifications about the person themselves; every other kind is written to them as
/// staff.
const PERSONAL: &[&str] = &["decision"];

/// What a notification shows once the case or decision it was about is erased.
const ERASED_TITLE: &str = "Erased";
const ERASED_BODY: &str = "What this said was erased with the case or decision it was about.";

/// Whose notifications a session reads, and whether only the personal ones: staff
/// notifications wait while the session's staff roles wait for a second factor.
#[derive(Debug, Clone, Copy)]
pub struct Reader {
    pub person: Uuid,
    pub personal_only: bool,
}

impl Services {
    /// The reader a signed-in session is.
    pub async fn notification_reader(&self, actor: &Actor) -> Result<Reader, AppError> {
        let session = actor.signed_in_session()?;
        let grants = crate::services::authz::Grants::of_session(&self.store.db, session).await?;
        Ok(Reader { person: session.person_id, personal_only: !grants.held_back.is_empty() })
    }

    pub async fn notifications_since(
        &self,
        reader: Reader,
        after: Option<DateTime<Utc>>,
    ) -> Result<Vec<NotificationView>, AppError> {
        let mut q = notification::Entity::find().filter(notification::Column::PersonId.eq(reader.person));
        if reader.personal_only {
            q = q.filter(notification::Column::Kind.is_in(PERSONAL.iter().copied()));
        }
        if let Some(after) = after {
            q = q.filter(notification::Column::CreatedAt.gt(after));
        }
        let rows = sea_orm::QuerySelect::limit(q.order_by_desc(notification::Column::CreatedAt), 50)
            .all(&self.store.db)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for n in rows {
            let db = &self.store.db;
            let opened = async |column, sealed: &str| match open_any(&self.keys, db, column, n.id, sealed).await {
                Ok(text) => Ok(Some(text)),
                Err(KeyError::Erased | KeyError::Missing) => Ok(None),
                Err(e) => Err(AppError::from(e)),
            };
            let title = opened(sealed::NOTIFICATION_TITLE, &n.title_enc).await?;
            let body = opened(sealed::NOTIFICATION_BODY, &n.body_enc).await?;
            let (title, body) = match (title, body) {
                (Some(title), Some(body)) => (title, body),
                // What it was about was erased, and with it what this said.
                _ => (ERASED_TITLE.to_owned(), ERASED_BODY.to_owned()),
            };
            out.push(NotificationView {
                id: n.id,
                title,
                body,
                kind: n.kind,
                link: n.link,
                at: n.created_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                read: n.read_at.is_some(),
            });
        }
        Ok(out)
    }
}

#[async_trait::async_trait]
impl NotificationsApi for Services {
    async fn notifications(&self, actor: &Actor) -> Result<Vec<NotificationView>, AppError> {
        let reader = self.notification_reader(actor).await?;
        self.notifications_since(reader, None).await
    }

    async fn mark_notifications_read(&self, actor: &Actor) -> Result<(), AppError> {
        let reader = self.notification_reader(actor).await?;
        let tx = self.begin().await?;
        let mut update = notification::Entity::update_many()
            .col_expr(notification::Column::ReadAt, sea_orm::sea_query::Expr::value(self.clock.now()))
            .filter(notification::Column::PersonId.eq(reader.person))
            .filter(notification::Column::ReadAt.is_null());
        if reader.personal_only {
            update = update.filter(notification::Column::Kind.is_in(PERSONAL.iter().copied()));
        }
        update.exec(&*tx).await?;
        tx.commit().await.map_err(AppError::from)
    }
}
