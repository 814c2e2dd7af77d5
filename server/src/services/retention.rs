//! Keeping less, for less long.
//!
//! - A resolved or closed case's text is kept for its organization's retention period
//!   (`organizations.retention_days`, 365 days unless changed, 30 at least), counted from
//!   when it was resolved or closed; reopened, it is kept again until it ends again.
//! - 72 hours before, its owner (or, without one, its team) is told once; a responder of
//!   its team may extend the keeping once, by up to the same period, with a reason.
//! - At the end, the daily erasure run erases its text: its data key is destroyed
//!   (`crypto::data_keys`) and the case becomes a tombstone. What the rule of involvement
//!   and decisions still need stays: reference, event, kind, dates, status, reporter, the
//!   people linked to it, who declared a conflict, the decisions resting on it and who
//!   proposed them (all ids and dates, none of them text).
//! - A decision's record is kept while it is in force and for the retention period after
//!   it ends (its end, or its being lifted), then erased the same way.
//! - A reporter may withdraw an open concern: it is erased at once, unless a decision
//!   rests on it.
//! - Every erasure is in the audit log. At the end of each run, if anything was erased
//!   since the wrapping key began sealing, every surviving data key is re-wrapped under a
//!   new wrapping key; wrapping keys replaced more than `HAVEN_OLD_WRAPPING_KEY_DAYS` ago
//!   are destroyed, after which a backup taken before an erasure cannot open what it
//!   erased.

use super::Services;
use super::audit;
use super::work::Work;
use crate::crypto::data_keys;
use crate::crypto::fields::{EncryptionSettings, read_source, replace_key_file};
use crate::db::entities::{case, data_key, decision, erasure_run, event, organization, outbox, person, precaution};
use crate::mail::templates;
use chrono::{DateTime, Duration, Utc};
use haven_app::api::AppError;
use haven_app::domain::{CaseStatus, DecisionKind};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use std::collections::HashSet;
use uuid::Uuid;

/// The shortest and longest retention an organization may set, in days.
pub const RETENTION_MIN_DAYS: i32 = 30;
pub const RETENTION_MAX_DAYS: i32 = 3650;
/// The default for new organizations.
pub const RETENTION_DEFAULT_DAYS: i32 = 365;
/// How long before erasure the owner (or the team) is told.
pub const WARN_BEFORE: Duration = Duration::hours(72);

/// What one erasure run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ErasureReport {
    pub cases: u64,
    pub decisions: u64,
    /// The new wrapping key, when the run re-wrapped, and how many values it re-sealed.
    pub rewrapped: Option<(String, u64)>,
    /// Old wrapping keys destroyed.
    pub destroyed: Vec<String>,
}

impl Services {
    /// The organization's retention period.
    pub(crate) async fn retention_of(&self, db: &impl ConnectionTrait, e: &event::Model) -> Result<Duration, DbErr> {
        let days = organization::Entity::find_by_id(e.organization_id)
            .one(db)
            .await?
            .map_or(RETENTION_DEFAULT_DAYS, |o| o.retention_days);
        Ok(Duration::days(i64::from(days.clamp(RETENTION_MIN_DAYS, RETENTION_MAX_DAYS))))
    }

    /// After a case's status changed in `tx`: resolved or closed, it is kept until its
    /// organization's period has passed; open again, it is kept as long as it is open.
    pub(crate) async fn retention_after_status(
        &self,
        tx: &Work<'_>,
        c: &case::Model,
        e: &event::Model,
        to: CaseStatus,
    ) -> Result<(), DbErr> {
        let until = if to.is_open() { None } else { Some(tx.now + self.retention_of(&**tx, e).await?) };
        case::Entity::update_many()
            .col_expr(case::Column::RetainUntil, Expr::value(until))
            .col_expr(case::Column::RetentionWarnedAt, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(case::Column::Id.eq(c.id))
            .exec(&**tx)
            .await?;
        Ok(())
    }

    /// Erases a case's text through the one audited path: its data key is destroyed, the
    /// case is marked erased (its tombstone), its plan ends (its precautions are removed),
    /// mail about it still waiting is dropped and its copies written to the mail folder
    /// are deleted. False when it was already erased.
    pub(crate) async fn erase_case(
        &self,
        tx: &Work<'_>,
        c: &case::Model,
        by: Option<Uuid>,
        why: &'static str,
    ) -> Result<bool, DbErr> {
        let done = case::Entity::update_many()
            .col_expr(case::Column::ErasedAt, Expr::value(Some(tx.now)))
            .col_expr(case::Column::RetainUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(case::Column::Id.eq(c.id))
            .filter(case::Column::ErasedAt.is_null())
            .exec(&**tx)
            .await?;
        if done.rows_affected == 0 {
            return Ok(false);
        }
        data_keys::erase(&self.keys, &**tx, c.id, tx.now).await?;
        // Its plan ends with it: escorts, alerts and door instructions stop.
        precaution::Entity::update_many()
            .col_expr(precaution::Column::RemovedAt, Expr::value(Some(tx.now)))
            .col_expr(precaution::Column::RemovedBy, Expr::value(by))
            .filter(precaution::Column::CaseId.eq(c.id))
            .filter(precaution::Column::RemovedAt.is_null())
            .exec(&**tx)
            .await?;
        self.forget_mail_about(tx, c.id).await?;
        tx.audit(vec![audit::Entry::new(by, "case.erased", "case", c.id).with("why", why)]).await?;
        tx.door_note(c.event_id).await?;
        Ok(true)
    }

    /// Erases a decision chain's text (reasons, details, proposals' terms, appeals):
    /// its data key is destroyed; the records stay, with their kinds and dates.
    pub(crate) async fn erase_decision(&self, tx: &Work<'_>, root: Uuid, why: &'static str) -> Result<bool, DbErr> {
        if !data_keys::erase(&self.keys, &**tx, root, tx.now).await? {
            return Ok(false);
        }
        self.forget_mail_about(tx, root).await?;
        tx.audit(vec![audit::Entry::new(None, "decision.erased", "decision", root).with("why", why)]).await?;
        Ok(true)
    }

    /// Mail about an erased case or decision: what still waits is dropped (it could not
    /// be opened any more), and copies written to the mail folder are deleted.
    async fn forget_mail_about(&self, tx: &Work<'_>, about: Uuid) -> Result<(), DbErr> {
        let rows = outbox::Entity::find().filter(outbox::Column::AboutId.eq(about)).all(&**tx).await?;
        outbox::Entity::update_many()
            .col_expr(outbox::Column::BodyEnc, Expr::value(String::new()))
            .col_expr(outbox::Column::HtmlEnc, Expr::value(Option::<String>::None))
            .col_expr(outbox::Column::AttachmentsEnc, Expr::value(Option::<String>::None))
            .col_expr(outbox::Column::FailedAt, Expr::value(Some(tx.now)))
            .col_expr(outbox::Column::LastError, Expr::value(Some("not sent: what it was about was erased")))
            .filter(outbox::Column::AboutId.eq(about))
            .filter(outbox::Column::SentAt.is_null())
            .filter(outbox::Column::FailedAt.is_null())
            .exec(&**tx)
            .await?;
        if self.settings.mail.smtp_url.is_none() {
            let dir = self.settings.data_dir.join("mail");
            let ids: HashSet<String> = rows.iter().map(|r| format!("-{}.eml", r.id.simple())).collect();
            if let Ok(entries) = std::fs::read_dir(&dir) {
                for entry in entries.flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if ids.iter().any(|tail| name.ends_with(tail.as_str()))
                        && let Err(e) = std::fs::remove_file(entry.path())
                    {
                        tracing::error!(error = %e, "a mail file of an erased case could not be deleted");
                    }
                }
            }
        }
        Ok(())
    }

    /// Tells the owner (or, without one, the case's team) once, 72 hours before a case's
    /// text is erased. Returns how many cases it told of.
    pub async fn warn_expiring(&self) -> Result<u64, AppError> {
        let now = self.clock.now();
        let due = case::Entity::find()
            .filter(case::Column::ErasedAt.is_null())
            .filter(case::Column::RetentionWarnedAt.is_null())
            .filter(case::Column::RetainUntil.lte(now + WARN_BEFORE))
            .all(&self.store.db)
            .await?;
        let mut told = 0;
        for c in due {
            let Some(e) = event::Entity::find_by_id(c.event_id).one(&self.store.db).await? else { continue };
            let tx = self.begin().await?;
            // Claimed in the write: two instances tell once.
            let claimed = case::Entity::update_many()
                .col_expr(case::Column::RetentionWarnedAt, Expr::value(Some(tx.now)))
                .filter(case::Column::Id.eq(c.id))
                .filter(case::Column::RetentionWarnedAt.is_null())
                .exec(&*tx)
                .await?;
            if claimed.rows_affected != 1 {
                continue;
            }
            let subject = self.cases().subject(&c).await?;
            let team = self.cases().case_team(&*tx, &e, Some((&c, &subject))).await?;
            let to: Vec<person::Model> = match c.owner_id {
                Some(owner) if team.iter().any(|p| p.id == owner) => {
                    team.into_iter().filter(|p| p.id == owner).collect()
                }
                _ => team,
            };
            let until = super::cases::local_time(c.retain_until.unwrap_or(now), &e.time_zone);
            let link = format!("{}/cases/{}", self.public_url, c.reference);
            for p in &to {
                tx.notify_about(
                    Some(c.id),
                    p.id,
                    "retention",
                    "A case is about to be erased",
                    &format!("Its text is erased after {until} ({}) unless its keeping is extended.", e.time_zone),
                    &format!("/cases/{}", c.reference),
                )
                .await?;
                if let Some(email) = &p.email {
                    tx.mail(templates::retention_warning(email, &e.name, &until, &e.time_zone, &link)).await?;
                }
            }
            tx.audit(vec![audit::Entry::new(None, "case.retention_warned", "case", c.id)]).await?;
            tx.commit().await?;
            told += 1;
        }
        Ok(told)
    }

    /// Erases what its retention has run out for: cases past their date, and decision
    /// chains that ended longer ago than their organization's period.
    async fn erase_expired(&self, report: &mut ErasureReport) -> Result<(), AppError> {
        let now = self.clock.now();
        let due = case::Entity::find()
            .filter(case::Column::ErasedAt.is_null())
            .filter(case::Column::RetainUntil.lte(now))
            .all(&self.store.db)
            .await?;
        for c in due {
            let tx = self.begin().await?;
            if self.erase_case(&tx, &c, None, "retention").await? {
                report.cases += 1;
            }
            tx.commit().await?;
        }
        let heads = self.ended_decision_heads(now).await?;
        for root in heads {
            let tx = self.begin().await?;
            if self.erase_decision(&tx, root, "retention").await? {
                report.decisions += 1;
            }
            tx.commit().await?;
        }
        Ok(())
    }

    /// Decision chains whose current record ended (its period, or its being lifted) longer
    /// ago than the organization's retention period, and whose key is not erased yet.
    async fn ended_decision_heads(&self, now: DateTime<Utc>) -> Result<Vec<Uuid>, AppError> {
        let db = &self.store.db;
        let all = decision::Entity::find().all(db).await?;
        let superseded: HashSet<Uuid> = all.iter().filter_map(|d| d.supersedes_id).collect();
        let erased: HashSet<Uuid> = data_key::Entity::find()
            .filter(data_key::Column::ErasedAt.is_not_null())
            .all(db)
            .await?
            .into_iter()
            .map(|k| k.id)
            .collect();
        let mut periods = std::collections::HashMap::new();
        let mut out = Vec::new();
        for d in all.iter().filter(|d| !superseded.contains(&d.id) && !erased.contains(&d.root_id)) {
            let kind = DecisionKind::parse("kind", &d.kind).unwrap_or(DecisionKind::Other);
            let ended = match kind {
                DecisionKind::Lifted => Some(d.decided_at),
                _ => d.ends_at,
            };
            let Some(ended) = ended else { continue };
            let period = match periods.get(&d.organization_id) {
                Some(p) => *p,
                None => {
                    let days = organization::Entity::find_by_id(d.organization_id)
                        .one(db)
                        .await?
                        .map_or(RETENTION_DEFAULT_DAYS, |o| o.retention_days);
                    let p = Duration::days(i64::from(days.clamp(RETENTION_MIN_DAYS, RETENTION_MAX_DAYS)));
                    periods.insert(d.organization_id, p);
                    p
                }
            };
            if ended + period <= now {
                out.push(d.root_id);
            }
        }
        Ok(out)
    }

    /// The day's erasure run (one instance a day claims it): erases what retention says,
    /// re-wraps every surviving data key if anything was erased since the wrapping key
    /// began sealing, and destroys wrapping keys replaced longer ago than
    /// `HAVEN_OLD_WRAPPING_KEY_DAYS`. `None` when another instance (or an earlier call)
    /// ran today's.
    pub async fn erasure_run(&self) -> Result<Option<ErasureReport>, AppError> {
        let now = self.clock.now();
        let day = now.date_naive().to_string();
        let claimed = erasure_run::Entity::insert(erasure_run::ActiveModel {
            day: Set(day.clone()),
            started_at: Set(now),
            finished_at: Set(None),
            erased: Set(0),
        })
        .on_conflict(OnConflict::column(erasure_run::Column::Day).do_nothing().to_owned())
        .exec_without_returning(&self.store.db)
        .await?;
        if claimed == 0 {
            return Ok(None);
        }
        let mut report = ErasureReport::default();
        let done = match self.erase_expired(&mut report).await {
            Ok(()) => self.rewrap(&mut report).await,
            Err(e) => Err(e),
        };
        if let Err(e) = done {
            // Unclaimed, so the next try (here or on another instance) runs it again.
            erasure_run::Entity::delete_by_id(day).exec(&self.store.db).await?;
            return Err(e);
        }
        erasure_run::Entity::update_many()
            .col_expr(erasure_run::Column::FinishedAt, Expr::value(Some(self.clock.now())))
            .col_expr(erasure_run::Column::Erased, Expr::value((report.cases + report.decisions) as i64))
            .filter(erasure_run::Column::Day.eq(day))
            .exec(&self.store.db)
            .await?;
        if report != ErasureReport::default() {
            tracing::info!(
                cases = report.cases,
                decisions = report.decisions,
                rewrapped = report.rewrapped.is_some(),
                destroyed = report.destroyed.len(),
                "erasure run"
            );
        }
        Ok(Some(report))
    }

    /// The end of an erasure run: a new wrapping key when anything was erased since the
    /// current one began sealing (every value under the wrapping key, data keys first of
    /// all, re-sealed under it), and old wrapping keys destroyed once their days are past.
    async fn rewrap(&self, report: &mut ErasureReport) -> Result<(), AppError> {
        let EncryptionSettings::File(path) = self.keys.source() else {
            // Keys given inline are the operator's to rotate (`haven keys rotate`).
            tracing::warn!(
                "keys are given inline: erased text stays readable from older backups until they are rotated"
            );
            return Ok(());
        };
        let now = self.clock.now();
        let db = &self.store.db;
        let mut ring = read_source(self.keys.source()).map_err(|e| internal("reading the key file", e))?;
        let since = ring.current_since();
        let erased_since = data_key::Entity::find()
            .filter(data_key::Column::ErasedAt.is_not_null())
            .filter(data_key::Column::ErasedAt.gte(since.unwrap_or(DateTime::<Utc>::MIN_UTC)))
            .one(db)
            .await?
            .is_some();
        if erased_since {
            // The file gains the new key before any value uses it.
            let id = ring.add_fresh_key(now);
            replace_key_file(path, &ring).map_err(|e| internal("writing the key file", e))?;
            self.keys.reload();
            let resealed = crate::crypto::rewrap::reseal_all(db, &ring).await?;
            report.rewrapped = Some((id, resealed));
        }
        let keep = Duration::days(i64::from(self.settings.old_wrapping_key_days));
        let old = ring.retired_before(now - keep);
        if !old.is_empty() {
            // Whatever an instance sealed with an old key before it saw the new one.
            crate::crypto::rewrap::reseal_all(db, &ring).await?;
            for id in old {
                if crate::crypto::rewrap::sealed_with(db, &id).await?.is_empty() && ring.remove(&id) {
                    report.destroyed.push(id);
                }
            }
            replace_key_file(path, &ring).map_err(|e| internal("writing the key file", e))?;
            self.keys.reload();
        }
        Ok(())
    }
}

fn internal(what: &str, e: String) -> AppError {
    tracing::error!(error = %e, "{what} failed");
    AppError::Internal
}

/// What a reporter is told when a decision rests on the concern they want to withdraw.
pub const DECISION_RESTS_ON_IT: &str = "a decision rests on this report, so it is kept as long as that decision \
     needs it (and for the retention period after); the safety team can tell you more";

#[async_trait::async_trait]
impl haven_app::api::RetentionApi for Services {
    async fn withdraw_case(
        &self,
        actor: &haven_app::api::Actor,
        reference: &haven_app::domain::CaseReference,
    ) -> Result<(), AppError> {
        let v = self.cases().visible_case(actor, reference).await?;
        if v.standing != super::cases::Standing::Reporter {
            return Err(AppError::NotFound);
        }
        let status = CaseStatus::parse("status", &v.case.status).map_err(|_| AppError::Internal)?;
        if v.case.erased_at.is_some() || !status.is_open() {
            return Err(AppError::invalid("case", "only an open report can be withdrawn"));
        }
        let tx = self.begin().await?;
        let rests = crate::db::entities::decision_case::Entity::find()
            .filter(crate::db::entities::decision_case::Column::CaseId.eq(v.case.id))
            .one(&*tx)
            .await?
            .is_some();
        if rests {
            return Err(AppError::invalid("case", DECISION_RESTS_ON_IT));
        }
        // Closed from the state this view was made in, then erased.
        let closed = case::Entity::update_many()
            .col_expr(case::Column::Status, Expr::value(CaseStatus::Closed.as_str()))
            .col_expr(case::Column::UpdatedAt, Expr::value(tx.now))
            .filter(case::Column::Id.eq(v.case.id))
            .filter(case::Column::Status.eq(status.as_str()))
            .exec(&*tx)
            .await?;
        if closed.rows_affected != 1 {
            return Err(AppError::Conflict("the case changed meanwhile; reload and try again".into()));
        }
        crate::db::entities::case_status_change::Entity::insert(crate::db::entities::case_status_change::ActiveModel {
            id: Set(Uuid::new_v4()),
            case_id: Set(v.case.id),
            from_status: Set(Some(status.as_str().to_owned())),
            to_status: Set(CaseStatus::Closed.as_str().to_owned()),
            actor_id: Set(Some(v.person.id)),
            at: Set(tx.now),
        })
        .exec(&*tx)
        .await?;
        // The team (not those involved, by what the case said) hears that it went; the
        // mail says nothing of it.
        let subject = self.cases().subject(&v.case).await?;
        let team = self.cases().case_team(&*tx, &v.event, Some((&v.case, &subject))).await?;
        self.erase_case(&tx, &v.case, Some(v.person.id), "withdrawn").await?;
        let link = format!("{}/cases/{}", self.public_url, v.case.reference);
        for member in team.into_iter().filter(|m| v.case.owner_id.is_none_or(|o| o == m.id)) {
            if let Some(email) = member.email {
                tx.mail(templates::team_case_activity(&email, &v.event.name, &link)).await?;
            }
        }
        tx.commit().await.map_err(AppError::from)
    }

    async fn extend_retention(
        &self,
        actor: &haven_app::api::Actor,
        reference: &haven_app::domain::CaseReference,
        days: u32,
        reason: &str,
    ) -> Result<(), AppError> {
        let v = self.cases().team_case(actor, reference).await?;
        let period = self.retention_of(&self.store.db, &v.event).await?;
        let mut errors = Vec::new();
        if days == 0 || i64::from(days) > period.num_days() {
            errors.push(haven_app::domain::DomainError::new(
                "days",
                format!("extend by 1 to {} days (the organization's period)", period.num_days()),
            ));
        }
        let reason = haven_app::domain::PlainText::parse("reason", reason, 1, 2000).map_err(|e| errors.push(e)).ok();
        let (Some(reason), true) = (reason, errors.is_empty()) else {
            return Err(AppError::Invalid(errors));
        };
        let Some(until) = v.case.retain_until.filter(|_| v.case.erased_at.is_none()) else {
            return Err(AppError::invalid("days", "an open case is kept while it is open: nothing to extend"));
        };
        let tx = self.begin().await?;
        let key = tx.data_key(v.case.id).await?;
        let extended = case::Entity::update_many()
            .col_expr(case::Column::RetainUntil, Expr::value(Some(until + Duration::days(i64::from(days)))))
            .col_expr(case::Column::RetentionExtendedAt, Expr::value(Some(tx.now)))
            .col_expr(
                case::Column::RetentionReasonEnc,
                Expr::value(Some(key.seal_in(
                    crate::crypto::sealed::CASE_RETENTION_REASON,
                    v.case.id,
                    reason.as_str(),
                ))),
            )
            // Told again before the new date.
            .col_expr(case::Column::RetentionWarnedAt, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(case::Column::Id.eq(v.case.id))
            .filter(case::Column::RetentionExtendedAt.is_null())
            .filter(case::Column::RetainUntil.eq(until))
            .exec(&*tx)
            .await?;
        if extended.rows_affected != 1 {
            return Err(AppError::invalid(
                "days",
                "its keeping was already extended once: it cannot be extended again",
            ));
        }
        tx.audit(vec![
            audit::Entry::new(Some(v.person.id), "case.retention_extended", "case", v.case.id)
                .with("days", i64::from(days)),
        ])
        .await?;
        tx.commit().await.map_err(AppError::from)
    }

    async fn set_retention(
        &self,
        actor: &haven_app::api::Actor,
        organization: &haven_app::domain::Slug,
        days: u32,
    ) -> Result<(), AppError> {
        let (person, org) = self.administered(actor, organization).await?;
        self.set_retention_days(Some(person), org.id, days).await
    }
}

impl Services {
    /// Sets how long an organization keeps resolved and closed cases' text (`by` an
    /// administrator, or the operator's command line when `None`). Cases already waiting
    /// keep their date.
    pub async fn set_retention_days(&self, by: Option<Uuid>, organization: Uuid, days: u32) -> Result<(), AppError> {
        let (min, max) = (RETENTION_MIN_DAYS as u32, RETENTION_MAX_DAYS as u32);
        if !(min..=max).contains(&days) {
            return Err(AppError::invalid("days", format!("keep case text {min} to {max} days")));
        }
        let tx = self.begin().await?;
        organization::Entity::update(organization::ActiveModel {
            id: Set(organization),
            retention_days: Set(days as i32),
            ..Default::default()
        })
        .exec(&*tx)
        .await?;
        tx.audit(vec![
            audit::Entry::new(by, "organization.retention_changed", "organization", organization)
                .with("days", i64::from(days)),
        ])
        .await?;
        tx.commit().await.map_err(AppError::from)
    }
}

/// Cases resolved or closed before retention existed get their date: the last time they
/// were resolved or closed, plus their organization's period. Run at start; a case that
/// has its date is not touched again.
pub async fn backfill(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    use crate::db::entities::case_status_change;
    let ended = [CaseStatus::Resolved.as_str(), CaseStatus::Closed.as_str()];
    let waiting = case::Entity::find()
        .filter(case::Column::Status.is_in(ended))
        .filter(case::Column::RetainUntil.is_null())
        .filter(case::Column::ErasedAt.is_null())
        .all(db)
        .await?;
    let mut dated = 0;
    for c in waiting {
        let since = case_status_change::Entity::find()
            .filter(case_status_change::Column::CaseId.eq(c.id))
            .filter(case_status_change::Column::ToStatus.is_in(ended))
            .all(db)
            .await?
            .into_iter()
            .map(|s| s.at)
            .max()
            .unwrap_or(c.updated_at);
        let Some(e) = event::Entity::find_by_id(c.event_id).one(db).await? else { continue };
        let days = organization::Entity::find_by_id(e.organization_id)
            .one(db)
            .await?
            .map_or(RETENTION_DEFAULT_DAYS, |o| o.retention_days)
            .clamp(RETENTION_MIN_DAYS, RETENTION_MAX_DAYS);
        case::Entity::update_many()
            .col_expr(case::Column::RetainUntil, Expr::value(Some(since + Duration::days(i64::from(days)))))
            .filter(case::Column::Id.eq(c.id))
            .filter(case::Column::RetainUntil.is_null())
            .exec(db)
            .await?;
        dated += 1;
    }
    Ok(dated)
}
