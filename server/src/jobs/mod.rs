//! Background work of a server instance: turning sign-in requests into links, reminding
//! the safety team of reports past their acknowledgement deadline, mailing the audit
//! chain's head to the operators once a day, and forgetting what is no longer needed (old
//! rate-limit attempts).

use crate::services::{Services, ratelimit};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub fn spawn(services: Arc<Services>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut last_prune: Option<Instant> = None;
        // The day (UTC) whose audit checkpoint this instance saw claimed, by it or another.
        let mut checkpoint_day = None;
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
            if last_prune.is_none_or(|t| t.elapsed() > Duration::from_secs(3600)) {
                last_prune = Some(Instant::now());
                let pruned = async {
                    let tx = services.store.write().await?;
                    let n = ratelimit::prune(&tx, services.clock.now()).await?;
                    tx.commit().await?;
                    Ok::<_, sea_orm::DbErr>(n)
                }
                .await;
                if let Err(e) = pruned {
                    tracing::error!(error = %e, "pruning failed");
                }
            }
            let _ = tokio::time::timeout(Duration::from_secs(1), services.signin_wake.notified()).await;
        }
    })
}
