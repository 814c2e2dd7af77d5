//! Escorts' assignments: what an escort sees, acknowledging, ending those that no
//! longer hold, and escalating those not acknowledged in time.

use super::window_text;
use crate::db::entities::{case, escort_assignment, escort_window, event, ics_feed, person, precaution};
use crate::mail::templates;
use crate::services::{Services, audit};
use chrono::{DateTime, Duration, Utc};
use haven_app::api::EscortsApi;
use haven_app::api::*;
use sea_orm::{ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

impl Services {
    /// Tells the case's owner (or its team) of assignments not acknowledged in time: a set
    /// time after they were made (`HAVEN_ESCORT_ACK_MINUTES`, two hours by default), or a
    /// set time before they start (`HAVEN_ESCORT_ACK_BEFORE_START_MINUTES`, half an hour),
    /// whichever is first.
    pub async fn escalate_unacknowledged(&self) -> Result<usize, DbErr> {
        let now = self.clock.now();
        let within = Duration::from_std(self.settings.escort_ack_within).unwrap_or(Duration::hours(2));
        let before_start = Duration::from_std(self.settings.escort_ack_before_start).unwrap_or(Duration::minutes(30));
        let waiting = escort_assignment::Entity::find()
            .filter(escort_assignment::Column::AcknowledgedAt.is_null())
            .filter(escort_assignment::Column::EscalatedAt.is_null())
            .filter(escort_assignment::Column::RemovedAt.is_null())
            .all(&self.store.db)
            .await?;
        let mut escalated = 0;
        for a in waiting {
            let windows = escort_window::Entity::find()
                .filter(escort_window::Column::PrecautionId.eq(a.precaution_id))
                .order_by_asc(escort_window::Column::StartsAt)
                .all(&self.store.db)
                .await?;
            let mut due = a.created_at + within;
            if let Some(first) = windows.first() {
                due = due.min(first.starts_at - before_start);
            }
            if now < due {
                continue;
            }
            let Some(p) = precaution::Entity::find_by_id(a.precaution_id).one(&self.store.db).await? else { continue };
            let Some(c) = case::Entity::find_by_id(p.case_id).one(&self.store.db).await? else { continue };
            let Some(e) = event::Entity::find_by_id(c.event_id).one(&self.store.db).await? else { continue };
            let tx = self.begin().await?;
            let claimed = escort_assignment::Entity::update_many()
                .col_expr(escort_assignment::Column::EscalatedAt, sea_orm::sea_query::Expr::value(now))
                .filter(escort_assignment::Column::Id.eq(a.id))
                .filter(escort_assignment::Column::EscalatedAt.is_null())
                .exec(&*tx)
                .await?
                .rows_affected
                == 1;
            if claimed && p.removed_at.is_none() {
                let subject = self.cases().subject(&c).await.map_err(|_| DbErr::Custom("subject".into()))?;
                let team = self
                    .cases()
                    .case_team(&*tx, &e, Some((&c, &subject)))
                    .await
                    .map_err(|_| DbErr::Custom("team".into()))?;
                let link = format!("{}/cases/{}", self.public_url, c.reference);
                for member in team.into_iter().filter(|m| c.owner_id.is_none_or(|o| o == m.id)) {
                    if let Some(email) = &member.email {
                        tx.mail(templates::team_escort_unacknowledged(email, &e.name, &link)).await?;
                    }
                    tx.notify(
                        member.id,
                        "escort_unacknowledged",
                        "An escort assignment is not acknowledged",
                        &e.name,
                        &format!("/cases/{}", c.reference),
                    )
                    .await
                    .map_err(|_| DbErr::Custom("notify".into()))?;
                }
                escalated += 1;
            }
            tx.commit().await?;
        }
        Ok(escalated)
    }
}

#[async_trait::async_trait]
impl EscortsApi for Services {
    async fn my_assignments(&self, actor: &Actor) -> Result<MyAssignments, AppError> {
        let me = actor.signed_in()?;
        let db = &self.store.db;
        let mine = escort_assignment::Entity::find()
            .filter(escort_assignment::Column::EscortId.eq(me))
            .filter(escort_assignment::Column::RemovedAt.is_null())
            .all(db)
            .await?;
        let mut out = Vec::new();
        for a in mine {
            let Some(p) = precaution::Entity::find_by_id(a.precaution_id).one(db).await? else {
                continue;
            };
            if p.removed_at.is_some() {
                continue;
            }
            let Some(c) = case::Entity::find_by_id(p.case_id).one(db).await?.filter(|c| c.erased_at.is_none()) else {
                continue;
            };
            let Some(e) = event::Entity::find_by_id(c.event_id).one(db).await? else { continue };
            let reporter = person::Entity::find_by_id(c.reporter_id).one(db).await?;
            let details = self.details(&p).await?.escort.unwrap_or_default();
            let windows = self.windows_of(&[p.id]).await?;
            out.push((
                windows.first().map(|w| w.starts_at),
                AssignmentView {
                    id: a.id,
                    event_name: e.name.clone(),
                    person: reporter.map(|r| self.cases().reporter_as_staff_see_it(&c, &r)).unwrap_or_default(),
                    windows: windows.iter().map(|w| window_text(w, &e.time_zone)).collect(),
                    meeting_point: details.meeting_point,
                    contact: details.contact,
                    notes: details.notes,
                    acknowledged: a.acknowledged_at.is_some(),
                },
            ));
        }
        out.sort_by_key(|(start, _)| *start);
        let has_feed = ics_feed::Entity::find()
            .filter(ics_feed::Column::PersonId.eq(me))
            .filter(ics_feed::Column::RevokedAt.is_null())
            .one(db)
            .await?
            .is_some();
        Ok(MyAssignments { assignments: out.into_iter().map(|(_, a)| a).collect(), has_feed })
    }

    async fn acknowledge_assignment(&self, actor: &Actor, id: Uuid) -> Result<(), AppError> {
        let me = actor.signed_in()?;
        let tx = self.begin().await?;
        let now = tx.now;
        let a = escort_assignment::Entity::find_by_id(id)
            .filter(escort_assignment::Column::EscortId.eq(me))
            .filter(escort_assignment::Column::RemovedAt.is_null())
            .one(&*tx)
            .await?
            .ok_or(AppError::NotFound)?;
        if a.acknowledged_at.is_none() {
            escort_assignment::Entity::update(escort_assignment::ActiveModel {
                id: Set(a.id),
                acknowledged_at: Set(Some(now)),
                ..Default::default()
            })
            .exec(&*tx)
            .await?;
            tx.audit(vec![audit::Entry::new(Some(me), "plan.assignment_acknowledged", "escort_assignment", a.id)])
                .await?;
        }
        tx.commit().await.map_err(AppError::from)
    }
}

impl super::Plans<'_> {
    /// After `person` lost a role: ends their escort assignments at events where they are no
    /// longer an escort (so they stop seeing whom they were to escort, and how to reach
    /// them), and tells each case's owner (or its team) to plan another escort.
    pub(crate) async fn end_orphaned_assignments(
        &self,
        tx: &crate::services::work::Work<'_>,
        person: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let grants = crate::services::authz::Grants::load(&**tx, Some(person)).await?;
        let live = escort_assignment::Entity::find()
            .filter(escort_assignment::Column::EscortId.eq(person))
            .filter(escort_assignment::Column::RemovedAt.is_null())
            .all(&**tx)
            .await?;
        for a in live {
            let Some(p) = precaution::Entity::find_by_id(a.precaution_id).one(&**tx).await? else {
                continue;
            };
            let Some(c) = case::Entity::find_by_id(p.case_id).one(&**tx).await? else { continue };
            let Some(e) = event::Entity::find_by_id(c.event_id).one(&**tx).await? else { continue };
            if grants.escorts_at(&e) {
                continue;
            }
            escort_assignment::Entity::update(escort_assignment::ActiveModel {
                id: Set(a.id),
                removed_at: Set(Some(now)),
                ..Default::default()
            })
            .exec(&**tx)
            .await?;
            tx.audit(vec![audit::Entry::new(None, "plan.assignment_ended", "escort_assignment", a.id)]).await?;
            if p.removed_at.is_some() {
                continue;
            }
            let subject = self.0.cases().subject(&c).await?;
            let team = self.0.cases().case_team(&**tx, &e, Some((&c, &subject))).await?;
            let link = format!("{}/cases/{}", self.0.public_url, c.reference);
            for member in team.into_iter().filter(|m| c.owner_id.is_none_or(|o| o == m.id)) {
                if let Some(email) = &member.email {
                    tx.mail(templates::team_escort_gone(email, &e.name, &link)).await?;
                }
                tx.notify(
                    member.id,
                    "escort_gone",
                    "An escort assignment has no escort any more",
                    &e.name,
                    &format!("/cases/{}", c.reference),
                )
                .await?;
            }
        }
        Ok(())
    }
}
