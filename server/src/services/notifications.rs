//! In-app notifications: written in the transaction that causes them, announced to the
//! person's live stream after the commit, listed and marked read.

use crate::db::WriteTx;
use crate::db::entities::notification;
use crate::services::cases::place;
use crate::services::{Services, internal};
use chrono::{DateTime, Utc};
use haven_app::api::NotificationsApi;
use haven_app::api::*;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

impl Services {
    /// Adds an in-app notification for a person (sealed) and wakes their live streams.
    pub(crate) async fn notify(
        &self,
        tx: &WriteTx,
        person: Uuid,
        kind: &str,
        title: &str,
        body: &str,
        link: &str,
    ) -> Result<(), AppError> {
        let id = Uuid::new_v4();
        notification::Entity::insert(notification::ActiveModel {
            id: Set(id),
            person_id: Set(person),
            kind: Set(kind.to_owned()),
            title_enc: Set(self.keys.seal_str(&place("notifications", "title_enc", id), title)),
            body_enc: Set(self.keys.seal_str(&place("notifications", "body_enc", id), body)),
            link: Set(link.to_owned()),
            created_at: Set(self.clock.now()),
            read_at: Set(None),
        })
        .exec(&**tx)
        .await
        .map_err(internal)?;
        let _ = self.live.send(person);
        Ok(())
    }

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
            .await
            .map_err(internal)?;
        rows.into_iter()
            .map(|n| {
                Ok(NotificationView {
                    id: n.id,
                    title: self.open("notifications", "title_enc", n.id, &n.title_enc)?,
                    body: self.open("notifications", "body_enc", n.id, &n.body_enc)?,
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
        let me = actor.person_id().ok_or(AppError::Unauthenticated)?;
        self.notifications_since(me, None).await
    }

    async fn mark_notifications_read(&self, actor: &Actor) -> Result<(), AppError> {
        let me = actor.person_id().ok_or(AppError::Unauthenticated)?;
        let tx = self.store.write().await.map_err(internal)?;
        notification::Entity::update_many()
            .col_expr(notification::Column::ReadAt, sea_orm::sea_query::Expr::value(self.clock.now()))
            .filter(notification::Column::PersonId.eq(me))
            .filter(notification::Column::ReadAt.is_null())
            .exec(&*tx)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)
    }
}
