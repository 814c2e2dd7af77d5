//! The transparency report: for an organization and an ended calendar quarter, counts of
//! cases by kind and outcome, the median time to acknowledge, decisions by kind, and appeals
//! and their results. No names; small counts are hidden as `domain::report` says (below
//! five, and whatever would reveal one), and the median is shown only over five or more
//! acknowledged cases.

use crate::db::entities::{appeal, case, decision, event, organization};
use crate::services::Services;
use crate::services::authz::Caller;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use haven_app::api::ReportApi;
use haven_app::api::{Actor, AppError, ReportSection, TransparencyReport};
use haven_app::domain::report::{Quarter, group, single};
use haven_app::domain::{AppealOutcome, CaseKind, CaseStatus, DecisionKind, DomainError};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::collections::HashMap;
use uuid::Uuid;

fn duration_words(d: Duration) -> String {
    let minutes = d.num_minutes().max(0);
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

impl Services {}

#[async_trait::async_trait]
impl ReportApi for Services {
    async fn transparency_report(
        &self,
        actor: &Actor,
        organization_slug: &str,
        quarter: &str,
    ) -> Result<TransparencyReport, AppError> {
        let Caller { grants, .. } = self.caller(actor).await?;
        let db = &self.store.db;
        let org = organization::Entity::find()
            .filter(organization::Column::Slug.eq(organization_slug.trim()))
            .one(db)
            .await?
            .filter(|o| grants.is_admin(o.id) || grants.manages_organization(o.id))
            .ok_or(AppError::NotFound)?;
        // Only quarters that have ended: a report of the running quarter would change from
        // day to day, and two of them subtracted would reveal what each hides.
        let latest = Quarter::of(self.clock.now().date_naive()).previous();
        let quarter = if quarter.trim().is_empty() { latest } else { Quarter::parse("quarter", quarter)? };
        if quarter > latest {
            return Err(AppError::Invalid(vec![DomainError::new(
                "quarter",
                format!("only a quarter that has ended can be reported (the latest is {latest})"),
            )]));
        }
        let first = Quarter::of(org.created_at.date_naive());
        let mut quarters = Vec::new();
        let mut q = latest;
        while q >= first.min(latest) && quarters.len() < 40 {
            quarters.push(q.to_string());
            q = q.previous();
        }
        let midnight =
            |d: NaiveDate| -> DateTime<Utc> { Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight")) };
        let (start, end) = (midnight(quarter.first_day()), midnight(quarter.end()));
        let events: Vec<Uuid> = event::Entity::find()
            .filter(event::Column::OrganizationId.eq(org.id))
            .all(db)
            .await?
            .into_iter()
            .map(|e| e.id)
            .collect();
        let cases = case::Entity::find()
            .filter(case::Column::EventId.is_in(events))
            .filter(case::Column::CreatedAt.gte(start))
            .filter(case::Column::CreatedAt.lt(end))
            .all(db)
            .await?;
        let mut by_kind_outcome: HashMap<(&str, &str), u64> = HashMap::new();
        let mut ack_times: Vec<Duration> = Vec::new();
        for c in &cases {
            let kind = match CaseKind::parse("kind", &c.kind) {
                Ok(CaseKind::Incident) => "Incident reports",
                _ => "Pre-event concerns",
            };
            let outcome = match CaseStatus::parse("status", &c.status) {
                Ok(CaseStatus::Resolved) => "resolved",
                Ok(CaseStatus::Closed) => "closed",
                _ => "still open",
            };
            *by_kind_outcome.entry((kind, outcome)).or_default() += 1;
            if let Some(a) = c.acknowledged_at {
                ack_times.push(a - c.created_at);
            }
        }
        let mut case_rows = Vec::new();
        for kind in ["Pre-event concerns", "Incident reports"] {
            const OUTCOMES: [&str; 3] = ["resolved", "closed", "still open"];
            let parts: Vec<u64> =
                OUTCOMES.iter().map(|o| by_kind_outcome.get(&(kind, *o)).copied().unwrap_or(0)).collect();
            let (total, parts) = group(parts.iter().sum(), &parts);
            case_rows.push((format!("{kind}, all"), total.text()));
            for (outcome, shown) in OUTCOMES.iter().zip(parts) {
                case_rows.push((format!("{kind}, {outcome}"), shown.text()));
            }
        }
        ack_times.sort();
        let median = if ack_times.len() >= 5 {
            duration_words(ack_times[ack_times.len() / 2])
        } else {
            "not shown (fewer than 5 cases acknowledged)".to_owned()
        };
        case_rows.push(("Median time to acknowledge".to_owned(), median));

        // Decisions: each history once, by its first record's kind and date.
        let records = decision::Entity::find().filter(decision::Column::OrganizationId.eq(org.id)).all(db).await?;
        let mut by_kind: HashMap<DecisionKind, u64> = HashMap::new();
        for d in records.iter().filter(|d| d.id == d.root_id && d.decided_at >= start && d.decided_at < end) {
            *by_kind.entry(DecisionKind::parse("kind", &d.kind).unwrap_or(DecisionKind::Other)).or_default() += 1;
        }
        let decision_rows = DecisionKind::ALL
            .into_iter()
            .filter(|k| *k != DecisionKind::Lifted)
            .map(|k| (k.label().to_owned(), single(by_kind.get(&k).copied().unwrap_or(0)).text()))
            .collect();

        let roots: std::collections::HashSet<Uuid> = records.iter().map(|d| d.root_id).collect();
        let appeals: Vec<appeal::Model> = appeal::Entity::find()
            .filter(appeal::Column::FiledAt.gte(start))
            .filter(appeal::Column::FiledAt.lt(end))
            .all(db)
            .await?
            .into_iter()
            .filter(|a| roots.contains(&a.root_id))
            .collect();
        let count = |o: Option<AppealOutcome>| {
            appeals.iter().filter(|a| a.outcome.as_deref() == o.map(AppealOutcome::as_str)).count() as u64
        };
        let outcomes = [
            ("Decision upheld", Some(AppealOutcome::Upheld)),
            ("Decision changed", Some(AppealOutcome::Modified)),
            ("Decision lifted", Some(AppealOutcome::Lifted)),
            ("Not yet decided", None),
        ];
        let parts: Vec<u64> = outcomes.iter().map(|(_, o)| count(*o)).collect();
        let (filed, parts) = group(appeals.len() as u64, &parts);
        let mut appeal_rows = vec![("Appeals filed".to_owned(), filed.text())];
        appeal_rows.extend(outcomes.iter().zip(parts).map(|((label, _), shown)| ((*label).to_owned(), shown.text())));
        Ok(TransparencyReport {
            organization: org.name,
            quarter: quarter.to_string(),
            from: quarter.first_day().to_string(),
            to: quarter.last_day().to_string(),
            quarters,
            sections: vec![
                ReportSection { title: "Cases".into(), rows: case_rows },
                ReportSection { title: "Decisions".into(), rows: decision_rows },
                ReportSection { title: "Appeals".into(), rows: appeal_rows },
            ],
        })
    }
}
