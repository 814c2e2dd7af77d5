//! The transparency report: for an organization and a period, counts of cases by kind and
//! outcome, the median time to acknowledge, decisions by kind, and appeals and their
//! results. No names; any count below five reads "fewer than 5", and the median is shown
//! only over five or more cases.

use crate::db::entities::{appeal, case, decision, event, organization};
use crate::services::authz::Grants;
use crate::services::{Services, internal};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use haven_app::api::{Actor, AppError, ReportSection, TransparencyReport};
use haven_app::domain::decision::public_count;
use haven_app::domain::{AppealOutcome, CaseKind, CaseStatus, DecisionKind, DomainError};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::collections::HashMap;
use uuid::Uuid;

fn day(field: &str, raw: &str, default: NaiveDate) -> Result<NaiveDate, DomainError> {
    if raw.trim().is_empty() {
        return Ok(default);
    }
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| DomainError::new(field, "must be a date like 2027-01-31"))
}

fn duration_words(d: Duration) -> String {
    let minutes = d.num_minutes().max(0);
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

impl Services {
    pub(crate) async fn transparency_report(
        &self,
        actor: &Actor,
        organization_slug: &str,
        from: &str,
        to: &str,
    ) -> Result<TransparencyReport, AppError> {
        let me = actor.person_id().ok_or(AppError::Unauthenticated)?;
        let db = &self.store.db;
        let grants = Grants::load(db, Some(me)).await.map_err(internal)?;
        let org = organization::Entity::find()
            .filter(organization::Column::Slug.eq(organization_slug.trim()))
            .one(db)
            .await
            .map_err(internal)?
            .filter(|o| grants.is_admin(o.id) || grants.manages_organization(o.id))
            .ok_or(AppError::NotFound)?;
        let today = self.clock.now().date_naive();
        let mut errors = Vec::new();
        let from = day("from", from, today - Duration::days(364)).map_err(|e| errors.push(e)).ok();
        let to = day("to", to, today).map_err(|e| errors.push(e)).ok();
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            errors.push(DomainError::new("to", "must not be before the start of the period"));
        }
        let (Some(from), Some(to), true) = (from, to, errors.is_empty()) else {
            return Err(AppError::Invalid(errors));
        };
        // Whole days in UTC, both included.
        let start: DateTime<Utc> = Utc.from_utc_datetime(&from.and_hms_opt(0, 0, 0).expect("midnight"));
        let end: DateTime<Utc> = Utc.from_utc_datetime(&to.and_hms_opt(0, 0, 0).expect("midnight")) + Duration::days(1);
        let events: Vec<Uuid> = event::Entity::find()
            .filter(event::Column::OrganizationId.eq(org.id))
            .all(db)
            .await
            .map_err(internal)?
            .into_iter()
            .map(|e| e.id)
            .collect();
        let cases = case::Entity::find()
            .filter(case::Column::EventId.is_in(events))
            .filter(case::Column::CreatedAt.gte(start))
            .filter(case::Column::CreatedAt.lt(end))
            .all(db)
            .await
            .map_err(internal)?;
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
            let total: u64 = by_kind_outcome.iter().filter(|((k, _), _)| *k == kind).map(|(_, n)| n).sum();
            case_rows.push((format!("{kind}, all"), public_count(total)));
            for outcome in ["resolved", "closed", "still open"] {
                let n = by_kind_outcome.get(&(kind, outcome)).copied().unwrap_or(0);
                case_rows.push((format!("{kind}, {outcome}"), public_count(n)));
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
        let records = decision::Entity::find()
            .filter(decision::Column::OrganizationId.eq(org.id))
            .all(db)
            .await
            .map_err(internal)?;
        let mut by_kind: HashMap<DecisionKind, u64> = HashMap::new();
        for d in records.iter().filter(|d| d.id == d.root_id && d.decided_at >= start && d.decided_at < end) {
            *by_kind.entry(DecisionKind::parse("kind", &d.kind).unwrap_or(DecisionKind::Other)).or_default() += 1;
        }
        let decision_rows = DecisionKind::ALL
            .into_iter()
            .filter(|k| *k != DecisionKind::Lifted)
            .map(|k| (k.label().to_owned(), public_count(by_kind.get(&k).copied().unwrap_or(0))))
            .collect();

        let roots: std::collections::HashSet<Uuid> = records.iter().map(|d| d.root_id).collect();
        let appeals: Vec<appeal::Model> = appeal::Entity::find()
            .filter(appeal::Column::FiledAt.gte(start))
            .filter(appeal::Column::FiledAt.lt(end))
            .all(db)
            .await
            .map_err(internal)?
            .into_iter()
            .filter(|a| roots.contains(&a.root_id))
            .collect();
        let count = |o: Option<AppealOutcome>| {
            appeals.iter().filter(|a| a.outcome.as_deref() == o.map(AppealOutcome::as_str)).count() as u64
        };
        let appeal_rows = vec![
            ("Appeals filed".to_owned(), public_count(appeals.len() as u64)),
            ("Decision upheld".to_owned(), public_count(count(Some(AppealOutcome::Upheld)))),
            ("Decision changed".to_owned(), public_count(count(Some(AppealOutcome::Modified)))),
            ("Decision lifted".to_owned(), public_count(count(Some(AppealOutcome::Lifted)))),
            ("Not yet decided".to_owned(), public_count(count(None))),
        ];
        Ok(TransparencyReport {
            organization: org.name,
            from: from.to_string(),
            to: to.to_string(),
            sections: vec![
                ReportSection { title: "Cases".into(), rows: case_rows },
                ReportSection { title: "Decisions".into(), rows: decision_rows },
                ReportSection { title: "Appeals".into(), rows: appeal_rows },
            ],
        })
    }
}
