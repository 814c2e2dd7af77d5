//! Background work of a server instance: turning sign-in requests into links, reminding
//! the safety team of reports past their acknowledgement deadline, mailing the audit
//! chain's head to the operators once a day, the day's erasure run and the hourly
//! warnings before it (`services::retention`), and forgetting what is no longer needed
//! ([`prune`]: every table whose rows expire).

use crate::db::entities::{
    email_confirmation, invitation, login_link, oidc_flow, rate_limit_hit, session, signin_request,
};
use crate::services::Services;
use chrono::Duration as Span;
use sea_orm::{ColumnTrait, Condition, DbErr, EntityTrait, QueryFilter};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Deletes what has expired, table by table, and says how many rows each lost:
/// - `rate_limit_hits` older than a day (the longest window);
/// - `signin_requests` older than a link's life (the dispatcher deletes the rest once
///   handled, so no typed address stays);
/// - `login_links` used or expired;
/// - `email_confirmations` used or expired (they hold the address being confirmed);
/// - `oidc_flows` expired (a used one is deleted at once);
/// - `sessions` ended: expired, signed out, or idle past the idle limit;
/// - `invitations` expired without being accepted (they hold the invited address);
/// - `concern_drafts` expired (sealed text of a refused form), and their data keys.
pub async fn prune(services: &Services) -> Result<Vec<(&'static str, u64)>, DbErr> {
    let now = services.clock.now();
    let idle = Span::from_std(services.settings.session_idle).unwrap_or(Span::hours(8));
    let tx = services.store.write().await?;
    let db = &*tx;
    let mut pruned = Vec::new();
    let hits = rate_limit_hit::Entity::delete_many().filter(rate_limit_hit::Column::At.lt(now - Span::days(1)));
    pruned.push(("rate_limit_hits", hits.exec(db).await?.rows_affected));
    let requests = signin_request::Entity::delete_many()
        .filter(signin_request::Column::CreatedAt.lt(now - crate::services::auth::LINK_LIFETIME));
    pruned.push(("signin_requests", requests.exec(db).await?.rows_affected));
    let links = login_link::Entity::delete_many().filter(
        Condition::any().add(login_link::Column::UsedAt.is_not_null()).add(login_link::Column::ExpiresAt.lte(now)),
    );
    pruned.push(("login_links", links.exec(db).await?.rows_affected));
    let confirmations = email_confirmation::Entity::delete_many().filter(
        Condition::any()
            .add(email_confirmation::Column::UsedAt.is_not_null())
            .add(email_confirmation::Column::ExpiresAt.lte(now)),
    );
    pruned.push(("email_confirmations", confirmations.exec(db).await?.rows_affected));
    let flows = oidc_flow::Entity::delete_many().filter(oidc_flow::Column::ExpiresAt.lte(now));
    pruned.push(("oidc_flows", flows.exec(db).await?.rows_affected));
    let sessions = session::Entity::delete_many().filter(
        Condition::any()
            .add(session::Column::ExpiresAt.lte(now))
            .add(session::Column::RevokedAt.is_not_null())
            .add(session::Column::LastSeenAt.lte(now - idle)),
    );
    pruned.push(("sessions", sessions.exec(db).await?.rows_affected));
    let invitations = invitation::Entity::delete_many()
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::ExpiresAt.lte(now));
    pruned.push(("invitations", invitations.exec(db).await?.rows_affected));
    pruned.push(("concern_drafts", crate::services::cases::forget_drafts(&services.keys, db, now).await?));
    tx.commit().await?;
    Ok(pruned)
}

pub fn spawn(services: Arc<Services>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut last_prune: Option<Instant> = None;
        // The day (UTC) whose audit checkpoint this instance saw claimed, by it or another.
        let mut checkpoint_day = None;
        // The day whose erasure run this instance saw claimed, and when it last failed.
        let mut erasure_day = None;
        let mut erasure_failed: Option<Instant> = None;
        loop {
            if let Err(e) = services.dispatch_signin_requests().await {
                tracing::error!(error = %e, "sign-in dispatcher failed a round");
            }
            if let Err(e) = services.remind_overdue().await {
                tracing::error!(error = %e, "acknowledgement reminders failed a round");
            }
            if let Err(e) = services.escalate_unacknowledged().await {
                tracing::error!(error = %e, "escort escalations failed a round");
            }
            let today = services.clock.now().date_naive();
            if services.settings.audit_checkpoint_to.is_some() && checkpoint_day != Some(today) {
                match services.mail_audit_checkpoint(today).await {
                    Ok(_) => checkpoint_day = Some(today),
                    Err(e) => tracing::error!(error = %e, "mailing the audit checkpoint failed"),
                }
            }
            if erasure_day != Some(today) && erasure_failed.is_none_or(|t| t.elapsed() > Duration::from_secs(600)) {
                match services.erasure_run().await {
                    Ok(_) => erasure_day = Some(today),
                    Err(e) => {
                        erasure_failed = Some(Instant::now());
                        tracing::error!(error = %e, "the erasure run failed; trying again in 10 minutes");
                    }
                }
            }
            if last_prune.is_none_or(|t| t.elapsed() > Duration::from_secs(3600)) {
                last_prune = Some(Instant::now());
                if let Err(e) = services.warn_expiring().await {
                    tracing::error!(error = %e, "retention warnings failed");
                }
                let pruned = prune(&services).await;
                if let Err(e) = pruned {
                    tracing::error!(error = %e, "pruning failed");
                }
            }
            let _ = tokio::time::timeout(Duration::from_secs(1), services.signin_wake.notified()).await;
        }
    })
}

/// Sends the arrival alerts the door queues, one at a time, off the scans' path. Alerts
/// queued before a crash are not sent after it: an alert only matters while the person is
/// arriving, and the scan itself is recorded.
pub fn arrival_alerts(services: Arc<Services>) -> tokio::task::JoinHandle<()> {
    let queue = services.door.take_arrival_queue();
    tokio::spawn(async move {
        let Some(mut queue) = queue else { return };
        while let Some(alert) = queue.recv().await {
            if let Err(e) = services.arrival(&alert.event, alert.person, &alert.gate).await {
                tracing::error!(error = %e, "arrival alert failed");
            }
        }
    })
}
