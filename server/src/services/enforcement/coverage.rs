//! People a confirmed ban-evasion flag brings under a decision ("covered"): they are told
//! in writing like the person decided about, may appeal being covered for 30 days from
//! that notice, and an uninvolved decider upholds the coverage or lifts it (the decision
//! then no longer applies to them; it stands for everyone else). That decision is final.

use super::{names_of, tz_of};
use crate::crypto::sealed;
use crate::crypto::{hash_token, random_token};
use crate::db::entities::{coverage_appeal, decision, decision_subject, event, organization, person};
use crate::mail::Mail;
use crate::services::authz::Grants;
use crate::services::involvement::{Involvement, Purpose};
use crate::services::{Services, audit};
use chrono::{DateTime, Utc};
use haven_app::api::{AppError, AppealToDecide, AppealView};
use haven_app::domain::decision::appeal_deadline;
use haven_app::domain::{AppealOutcome, PlainText};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

/// What a coverage appeal's outcome says to the person and to staff.
fn outcome_label(outcome: &str) -> &'static str {
    match outcome {
        "lifted" => "Lifted: the decision no longer applies to you",
        _ => "The decision stands for you",
    }
}

impl Services {
    /// Brings `person` under the decision history `head` belongs to, as part of `tx`, and
    /// tells them in writing with a link to appeal.
    pub(crate) async fn cover(
        &self,
        tx: &crate::services::work::Work<'_>,
        now: DateTime<Utc>,
        head: &decision::Model,
        person_id: Uuid,
        flag: Uuid,
        added_by: Uuid,
    ) -> Result<(), AppError> {
        let e = event::Entity::find_by_id(head.event_id).one(&**tx).await?.ok_or(AppError::Internal)?;
        let token = random_token();
        let until = appeal_deadline(now, tz_of(&e));
        decision_subject::Entity::insert(decision_subject::ActiveModel {
            id: Set(Uuid::new_v4()),
            decision_id: Set(head.id),
            person_id: Set(person_id),
            flag_id: Set(Some(flag)),
            added_by: Set(added_by),
            added_at: Set(now),
            appeal_until: Set(Some(until)),
            appeal_token_hash: Set(Some(hash_token(&token))),
            removed_at: Set(None),
        })
        .exec(&**tx)
        .await?;
        let p = person::Entity::find_by_id(person_id).one(&**tx).await?.ok_or(AppError::Internal)?;
        let org = organization::Entity::find_by_id(e.organization_id).one(&**tx).await?.ok_or(AppError::Internal)?;
        let summary = self.decision_summary(head, &e).await;
        let text = format!(
            "Hello {},\n\n{} has applied a decision under its code of conduct to your registration, because \
             it found that the registration is very likely of the person the decision concerns:\n\n\
             {summary}.\nApplied on {} ({}).\n\n\
             If that is wrong, or you contest it, you may appeal in writing until {} ({}). Write your appeal here:\n\
             {}/appeal/{token}\nor sign in and open your page: {}/me\n\
             Your appeal will be decided by someone who took no part in this; that decision is final.\n\n--\nHaven\n",
            p.display_name,
            org.name,
            crate::services::cases::local_time(now, &e.time_zone),
            e.time_zone,
            crate::services::cases::local_time(until, &e.time_zone),
            e.time_zone,
            self.public_url,
            self.public_url,
        );
        if let Some(to) = p.email.clone() {
            let mail = Mail {
                about: None,
                kind: "coverage_notice",
                to,
                subject: format!("A decision applied to you: {}", org.name),
                text,
                html: None,
                attachments: Vec::new(),
            };
            tx.mail(mail).await?;
        }
        tx.notify(person_id, "decision", "A decision applied to you", &summary, "/me#decisions").await?;
        // Now covered, they are involved in every case the decision rests on.
        let records: Vec<Uuid> = decision::Entity::find()
            .filter(decision::Column::RootId.eq(head.root_id))
            .all(&**tx)
            .await?
            .into_iter()
            .map(|d| d.id)
            .collect();
        for c in crate::db::entities::decision_case::Entity::find()
            .filter(crate::db::entities::decision_case::Column::DecisionId.is_in(records))
            .all(&**tx)
            .await?
        {
            self.plans().end_involved_duties(tx, c.case_id, now).await?;
        }
        Ok(())
    }

    /// The coverage of `person` by the history `root`, if any (lifted ones included).
    pub(crate) async fn coverage_of(
        &self,
        db: &impl ConnectionTrait,
        root: Uuid,
        person_id: Uuid,
    ) -> Result<Option<decision_subject::Model>, AppError> {
        let chain: Vec<Uuid> = decision::Entity::find()
            .filter(decision::Column::RootId.eq(root))
            .all(db)
            .await?
            .into_iter()
            .map(|d| d.id)
            .collect();
        decision_subject::Entity::find()
            .filter(decision_subject::Column::DecisionId.is_in(chain))
            .filter(decision_subject::Column::PersonId.eq(person_id))
            .order_by_desc(decision_subject::Column::AddedAt)
            .one(db)
            .await
            .map_err(AppError::from)
    }

    pub(crate) async fn coverage_by_token(&self, token: &str) -> Result<decision_subject::Model, AppError> {
        let hash = Self::appeal_token_hash(token).ok_or(AppError::NotFound)?;
        decision_subject::Entity::find()
            .filter(decision_subject::Column::AppealTokenHash.eq(hash))
            .one(&self.store.db)
            .await?
            .ok_or(AppError::NotFound)
    }

    pub(crate) async fn coverage_appeal_of(
        &self,
        db: &impl ConnectionTrait,
        s: &decision_subject::Model,
    ) -> Result<Option<coverage_appeal::Model>, AppError> {
        coverage_appeal::Entity::find()
            .filter(coverage_appeal::Column::SubjectId.eq(s.id))
            .one(db)
            .await
            .map_err(AppError::from)
    }

    pub(crate) async fn coverage_appeal_view(&self, a: &coverage_appeal::Model, e: &event::Model) -> AppealView {
        AppealView {
            id: a.id,
            filed: crate::services::cases::local_time(a.filed_at, &e.time_zone),
            text: self
                .open_sealed(&self.store.db, sealed::COVERAGE_APPEAL_TEXT, a.id, &a.text_enc)
                .await
                .unwrap_or_default(),
            outcome: a.outcome.as_deref().map(|o| {
                format!(
                    "{} ({})",
                    outcome_label(o),
                    a.decided_at.map(|t| crate::services::cases::local_time(t, &e.time_zone)).unwrap_or_default()
                )
            }),
        }
    }

    /// Files the one appeal a covered person has, within their deadline.
    pub(crate) async fn file_coverage_appeal(
        &self,
        s: &decision_subject::Model,
        text: &str,
        via: &str,
    ) -> Result<(), AppError> {
        let text = PlainText::parse("text", text, 1, 10_000).map_err(AppError::from)?;
        let now = self.clock.now();
        if s.removed_at.is_some() {
            return Err(AppError::invalid("decision", "no longer applies to you: there is nothing to appeal"));
        }
        let Some(until) = s.appeal_until else {
            return Err(AppError::invalid("decision", "cannot be appealed"));
        };
        if now > until {
            let head = decision::Entity::find_by_id(s.decision_id).one(&self.store.db).await?;
            let e = match head {
                Some(d) => event::Entity::find_by_id(d.event_id).one(&self.store.db).await?,
                None => None,
            }
            .ok_or(AppError::Internal)?;
            return Err(super::appeals::appeal_closed(until, &e));
        }
        let tx = self.begin().await?;
        if self.coverage_appeal_of(&*tx, s).await?.is_some() {
            return Err(AppError::invalid("decision", "has already been appealed: an appeal can be made once"));
        }
        let id = Uuid::new_v4();
        // Sealed with the decision's key: erasing the decision erases the appeal too.
        let decision = decision::Entity::find_by_id(s.decision_id).one(&*tx).await?.ok_or(AppError::Internal)?;
        let key = tx.data_key(decision.root_id).await?;
        coverage_appeal::Entity::insert(coverage_appeal::ActiveModel {
            id: Set(id),
            subject_id: Set(s.id),
            person_id: Set(s.person_id),
            text_enc: Set(key.seal_in(sealed::COVERAGE_APPEAL_TEXT, id, text.as_str())),
            filed_at: Set(now),
            via: Set(via.to_owned()),
            outcome: Set(None),
            reasons_enc: Set(None),
            decided_by: Set(None),
            decided_at: Set(None),
        })
        .exec(&*tx)
        .await
        .map_err(super::appeals::once_only)?;
        tx.audit(vec![
            audit::Entry::new(Some(s.person_id), "appeal.filed", "decision", s.decision_id)
                .with("coverage_appeal", id.to_string()),
        ])
        .await?;
        tx.commit().await.map_err(AppError::from)
    }

    /// Coverage appeals waiting at the caller's events, for the deciders' page.
    pub(crate) async fn coverage_appeals_to_decide(
        &self,
        db: &impl ConnectionTrait,
        grants: &Grants,
        who: &Involvement,
        events: &std::collections::HashMap<Uuid, &event::Model>,
    ) -> Result<Vec<AppealToDecide>, AppError> {
        let waiting = coverage_appeal::Entity::find()
            .filter(coverage_appeal::Column::Outcome.is_null())
            .order_by_asc(coverage_appeal::Column::FiledAt)
            .all(db)
            .await?;
        let mut out = Vec::new();
        for a in waiting {
            let Some(s) = decision_subject::Entity::find_by_id(a.subject_id).one(db).await? else {
                continue;
            };
            let Some((head, e)) = self.coverage_parts(db, &s, events).await? else { continue };
            if self.involved_in_decision(db, who, &head, Purpose::See).await? {
                continue;
            }
            let not_you = self.why_not_coverage_reviewer(db, grants, who, &s, &head, e).await?;
            let names = names_of(db, &[s.person_id]).await?;
            out.push(AppealToDecide {
                appeal: self.coverage_appeal_view(&a, e).await,
                decision: self.decision_view(db, &head, e, false, false).await?,
                not_you,
                time_zone: e.time_zone.clone(),
                covered: Some(names.get(&s.person_id).cloned().unwrap_or_default()),
            });
        }
        Ok(out)
    }

    async fn coverage_parts<'e>(
        &self,
        db: &impl ConnectionTrait,
        s: &decision_subject::Model,
        events: &std::collections::HashMap<Uuid, &'e event::Model>,
    ) -> Result<Option<(decision::Model, &'e event::Model)>, AppError> {
        let Some(d) = decision::Entity::find_by_id(s.decision_id).one(db).await? else {
            return Ok(None);
        };
        let Some(head) = self.chain_head(db, d.root_id).await? else { return Ok(None) };
        Ok(events.get(&head.event_id).map(|e| (head, *e)))
    }

    /// Whoever took part in the decision, and whoever confirmed the match, may not decide.
    async fn why_not_coverage_reviewer(
        &self,
        db: &impl ConnectionTrait,
        grants: &Grants,
        who: &Involvement,
        s: &decision_subject::Model,
        head: &decision::Model,
        e: &event::Model,
    ) -> Result<Option<String>, AppError> {
        if s.added_by == who.person {
            return Ok(Some(
                "You confirmed that this registration is covered: someone who did not must decide this appeal.".into(),
            ));
        }
        self.why_not_reviewer(db, grants, who, head, e).await
    }

    /// Decides a coverage appeal: uphold (it stays, finally) or lift (the decision no
    /// longer applies to them, at the door at once).
    pub(crate) async fn decide_coverage_appeal(
        &self,
        who: &Involvement,
        grants: &Grants,
        a: coverage_appeal::Model,
        outcome: &str,
        reasons: &str,
    ) -> Result<(), AppError> {
        let db = &self.store.db;
        let s = decision_subject::Entity::find_by_id(a.subject_id).one(db).await?;
        let s = s.ok_or(AppError::NotFound)?;
        let d = decision::Entity::find_by_id(s.decision_id).one(db).await?.ok_or(AppError::NotFound)?;
        let head = self.chain_head(db, d.root_id).await?.ok_or(AppError::NotFound)?;
        let e = event::Entity::find_by_id(head.event_id).one(db).await?.ok_or(AppError::NotFound)?;
        if !grants.manages(&e) || self.involved_in_decision(db, who, &head, Purpose::See).await? {
            return Err(AppError::NotFound);
        }
        let me = who.person;
        if a.outcome.is_some() {
            return Err(AppError::invalid("appeal", "was already decided, and that decision is final"));
        }
        if let Some(why) = self.why_not_coverage_reviewer(db, grants, who, &s, &head, &e).await? {
            return Err(AppError::invalid("appeal", why));
        }
        let outcome = match AppealOutcome::parse("outcome", outcome).map_err(AppError::from)? {
            AppealOutcome::Modified => {
                return Err(AppError::invalid(
                    "outcome",
                    "an appeal against being covered by a decision is upheld or lifted, not modified",
                ));
            }
            o => o,
        };
        let reasons = PlainText::parse("reasons", reasons, 1, 5000).map_err(AppError::from)?;
        let tx = self.begin().await?;
        let now = tx.now;
        let fresh = coverage_appeal::Entity::find_by_id(a.id).one(&*tx).await?;
        if fresh.is_none_or(|f| f.outcome.is_some()) {
            return Err(AppError::invalid("appeal", "was already decided, and that decision is final"));
        }
        coverage_appeal::Entity::update(coverage_appeal::ActiveModel {
            id: Set(a.id),
            outcome: Set(Some(outcome.as_str().into())),
            reasons_enc: Set(Some(tx.data_key(head.root_id).await?.seal_in(
                sealed::COVERAGE_APPEAL_REASONS,
                a.id,
                reasons.as_str(),
            ))),
            decided_by: Set(Some(me)),
            decided_at: Set(Some(now)),
            ..Default::default()
        })
        .exec(&*tx)
        .await?;
        if outcome == AppealOutcome::Lifted {
            decision_subject::Entity::update(decision_subject::ActiveModel {
                id: Set(s.id),
                removed_at: Set(Some(now)),
                ..Default::default()
            })
            .exec(&*tx)
            .await?;
            self.enforcement().refresh_door(&tx, head.organization_id, &[s.person_id], now).await?;
        }
        tx.audit(vec![
            audit::Entry::new(Some(me), "appeal.decided", "decision", head.id)
                .with("coverage_appeal", a.id.to_string())
                .with("outcome", outcome.as_str()),
        ])
        .await?;
        let p = person::Entity::find_by_id(s.person_id).one(&*tx).await?;
        if let Some(p) = p {
            let label = outcome_label(outcome.as_str());
            if let Some(to) = p.email.clone() {
                let text = format!(
                    "Hello {},\n\nyour appeal has been decided by someone who took no part in the decision.\n\n\
                     {label}: {}.\n\nThis decision is final: it cannot be appealed again.\n\n--\nHaven\n",
                    p.display_name,
                    self.decision_summary(&head, &e).await,
                );
                let mail = Mail {
                    about: None,
                    kind: "coverage_outcome",
                    to,
                    subject: "Your appeal has been decided".into(),
                    text,
                    html: None,
                    attachments: Vec::new(),
                };
                tx.mail(mail).await?;
            }
            tx.notify(p.id, "decision", "Your appeal has been decided", label, "/me#decisions").await?;
        }
        tx.door_changed();
        tx.commit().await?;
        Ok(())
    }
}
