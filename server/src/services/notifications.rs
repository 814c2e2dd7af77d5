//! In-app notifications: written in the transaction that causes them, announced to the
//! person's live stream after the commit, listed and marked read.

use crate::crypto::sealed;
use crate::db::entities::notification;
use crate::services::Services;
use chrono::{DateTime, Utc};
use haven_app::api::NotificationsApi;
use haven_app::api::*;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

impl Services {
    pub async fn notifications_since(
        &self,
        me: Uuid,
        after: Option<DateTime<Utc>>,
    ) -> Result<Vec<NotificationView>, AppError> {
        let mut q = notification::Entity::find().filter(notification::Column::PersonId.eq(me));
        if let Some(after) = after {
            q = q.filter(notification::Column::CreatedAt.gt(after));
        }
        let rows = sea_orm::QuerySelect::limit(q.order_by_desc(notification::Column::CreatedAt), 50)
            .all(&self.store.db)
            .await?;
        rows.into_iter()
            .map(|n| {
                Ok(NotificationView {
                    id: n.id,
                    title: self.keys.open_in(sealed::NOTIFICATION_TITLE, n.id, &n.title_enc)?,
                    body: self.keys.open_in(sealed::NOTIFICATION_BODY, n.id, &n.body_enc)?,
                    kind: n.kind,
                    link: n.link,
                    at: n.created_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                    read: n.read_at.is_some(),
                })
            })
            .collect()
    }
}

#[async_trait::async_trait]
impl NotificationsApi for Services {
    async fn notifications(&self, actor: &Actor) -> Result<Vec<NotificationView>, AppError> {
        let me = actor.signed_in()?;
        self.notifications_since(me, None).await
    }

    async fn mark_notifications_read(&self, actor: &Actor) -> Result<(), AppError> {
        let me = actor.signed_in()?;
        let tx = self.begin().await?;
        notification::Entity::update_many()
            .col_expr(notification::Column::ReadAt, sea_orm::sea_query::Expr::value(self.clock.now()))
            .filter(notification::Column::PersonId.eq(me))
            .filter(notification::Column::ReadAt.is_null())
            .exec(&*tx)
            .await?;
        tx.commit().await.map_err(AppError::from)
    }
}
