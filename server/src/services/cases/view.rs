//! Reading a case: the reporter's view, the team's view, and the narrative access log.

use super::{Services, Standing, Visible, local_time};
use crate::crypto::sealed;
use crate::db::entities::{
    case, case_attachment, case_message, case_note, case_person, case_read, case_status_change, case_witness, event,
    person, registration, staff_role,
};
use crate::services::audit;
use haven_app::api::CaseViewApi;
use haven_app::api::*;
use haven_app::domain::CaseReference;
use haven_app::domain::matching::{Candidate, match_person};
use haven_app::domain::{
    CaseKind, CaseStatus, ContactChannel, PersonDescription, Relation, Role, SafetyWishes, Witnesses,
};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;
use uuid::Uuid;

fn status(s: &str) -> CaseStatus {
    CaseStatus::parse("status", s).unwrap_or(CaseStatus::New)
}

fn kind(s: &str) -> CaseKind {
    CaseKind::parse("kind", s).unwrap_or(CaseKind::Concern)
}

impl Services {
    /// Records that someone read a case's narrative (or opened an attachment), in the
    /// access log and the audit chain.
    pub(crate) async fn log_read(&self, case_id: Uuid, reader: Uuid, what: &str) -> Result<(), AppError> {
        let now = self.clock.now();
        let id = Uuid::new_v4();
        let tx = self.begin().await?;
        case_read::Entity::insert(case_read::ActiveModel {
            id: Set(id),
            case_id: Set(case_id),
            reader_id: Set(reader),
            what: Set(what.to_owned()),
            at: Set(now),
        })
        .exec(&*tx)
        .await?;
        tx.audit(vec![audit::Entry::new(Some(reader), "case.read", "case", case_id).with("what", what)]).await?;
        tx.commit().await.map_err(AppError::from)
    }

    async fn names(&self, ids: impl IntoIterator<Item = Uuid>) -> Result<HashMap<Uuid, person::Model>, AppError> {
        let ids: Vec<Uuid> = ids.into_iter().collect();
        Ok(person::Entity::find()
            .filter(person::Column::Id.is_in(ids))
            .all(&self.store.db)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect())
    }

    /// Team members who read the case (never the reporter themselves).
    async fn reads(&self, c: &case::Model, tz: &str) -> Result<Vec<ReadView>, AppError> {
        let reads = case_read::Entity::find()
            .filter(case_read::Column::CaseId.eq(c.id))
            .filter(case_read::Column::ReaderId.ne(c.reporter_id))
            .order_by_asc(case_read::Column::At)
            .all(&self.store.db)
            .await?;
        let names = self.names(reads.iter().map(|r| r.reader_id)).await?;
        Ok(reads
            .into_iter()
            .map(|r| ReadView {
                name: names.get(&r.reader_id).map(|p| p.display_name.clone()).unwrap_or_default(),
                at: local_time(r.at, tz),
                what: r.what,
            })
            .collect())
    }

    /// The case's messages; for the team, `hide_reporter` names the reporter by their code
    /// name (a shielded reporter whom the reader does not know).
    async fn messages(
        &self,
        c: &case::Model,
        tz: &str,
        for_team: bool,
        hide_reporter: Option<&str>,
    ) -> Result<Vec<MessageView>, AppError> {
        let rows = case_message::Entity::find()
            .filter(case_message::Column::CaseId.eq(c.id))
            .order_by_asc(case_message::Column::CreatedAt)
            .all(&self.store.db)
            .await?;
        let names = self.names(rows.iter().map(|m| m.author_id)).await?;
        let key = self.data_key(&self.store.db, c.id).await?;
        rows.into_iter()
            .map(|m| {
                let author = match (for_team, m.from_team) {
                    (true, false) if hide_reporter.is_some() && m.author_id == c.reporter_id => {
                        hide_reporter.unwrap_or_default().to_owned()
                    }
                    (true, _) => names.get(&m.author_id).map(|p| p.display_name.clone()).unwrap_or_default(),
                    (false, true) => "Safety team".to_owned(),
                    (false, false) => "You".to_owned(),
                };
                Ok(MessageView {
                    from_team: m.from_team,
                    author,
                    body: key.open_in(sealed::MESSAGE_BODY, m.id, &m.body_enc)?,
                    at: local_time(m.created_at, tz),
                })
            })
            .collect()
    }

    async fn reporter_view(&self, v: &Visible) -> Result<ReporterCaseView, AppError> {
        let (c, tz) = (&v.case, v.event.time_zone.as_str());
        let key = self.data_key(&self.store.db, c.id).await?;
        let arrangements = self.plans().reporter_plan(c, tz).await?;
        let wishes: SafetyWishes = serde_json::from_str(&key.open_in(sealed::CASE_WISHES, c.id, &c.wishes_enc)?)
            .map_err(|_| AppError::Internal)?;
        let (contact_channel, _): (ContactChannel, Option<String>) =
            serde_json::from_str(&key.open_in(sealed::CASE_CONTACT, c.id, &c.contact_enc)?)
                .map_err(|_| AppError::Internal)?;
        Ok(ReporterCaseView {
            reference: c.reference.clone(),
            event_name: v.event.name.clone(),
            kind: kind(&c.kind),
            status: status(&c.status),
            filed: local_time(c.created_at, tz),
            person: self.cases().subject(c).await?,
            narrative: key.open_in(sealed::CASE_NARRATIVE, c.id, &c.narrative_enc)?,
            wishes,
            contact_channel,
            arrangements: arrangements.0,
            plan_response: arrangements.1,
            messages: self.messages(c, tz, false, None).await?,
            readers: self.reads(c, tz).await?,
            may_withdraw: CaseStatus::parse("status", &c.status).is_ok_and(CaseStatus::is_open),
            shielded: c.reporter_shielded,
            reveals: self.cases().reveals(c, tz).await?,
            kept_until: c.retain_until.map(|t| local_time(t, tz)),
        })
    }

    async fn team_view(&self, v: &Visible) -> Result<TeamCaseView, AppError> {
        let (c, e, tz) = (&v.case, &v.event, v.event.time_zone.as_str());
        let db = &self.store.db;
        let key = self.data_key(db, c.id).await?;
        let subject = self.cases().subject(c).await?;
        let wishes: SafetyWishes = serde_json::from_str(&key.open_in(sealed::CASE_WISHES, c.id, &c.wishes_enc)?)
            .map_err(|_| AppError::Internal)?;
        let (contact_channel, contact_detail): (ContactChannel, Option<String>) =
            serde_json::from_str(&key.open_in(sealed::CASE_CONTACT, c.id, &c.contact_enc)?)
                .map_err(|_| AppError::Internal)?;
        let history_rows = case_status_change::Entity::find()
            .filter(case_status_change::Column::CaseId.eq(c.id))
            .order_by_asc(case_status_change::Column::At)
            .all(db)
            .await?;
        let notes = case_note::Entity::find()
            .filter(case_note::Column::CaseId.eq(c.id))
            .order_by_asc(case_note::Column::CreatedAt)
            .all(db)
            .await?;
        let witnesses = case_witness::Entity::find()
            .filter(case_witness::Column::CaseId.eq(c.id))
            .order_by_asc(case_witness::Column::CreatedAt)
            .all(db)
            .await?;
        let attachments = case_attachment::Entity::find()
            .filter(case_attachment::Column::CaseId.eq(c.id))
            .order_by_asc(case_attachment::Column::CreatedAt)
            .all(db)
            .await?;
        let linked_rows = case_person::Entity::find()
            .filter(case_person::Column::CaseId.eq(c.id))
            .filter(case_person::Column::Role.eq("named"))
            .all(db)
            .await?;
        let mut ids: Vec<Uuid> = vec![c.reporter_id];
        ids.extend(c.owner_id);
        ids.extend(history_rows.iter().filter_map(|h| h.actor_id));
        ids.extend(notes.iter().map(|n| n.author_id));
        ids.extend(witnesses.iter().map(|w| w.added_by));
        ids.extend(linked_rows.iter().map(|l| l.person_id));
        let names = self.names(ids).await?;
        let person_ref = |id: &Uuid| {
            names.get(id).map(|p| PersonRef { id: p.id, name: p.display_name.clone(), email: p.email.clone() })
        };
        let name_of = |id: &Uuid| names.get(id).map(|p| p.display_name.clone()).unwrap_or_default();
        let team = self.cases().case_team(db, e, Some((c, &subject))).await?;
        // A shielded reporter is a code name to whoever does not know them.
        let knows = self.cases().knows_reporter(db, c, v.person.id).await?;
        let hidden = (!knows).then(|| self.cases().code_of(c));
        let current = status(&c.status);
        let now = self.clock.now();
        let linked_ids: Vec<Uuid> = linked_rows.iter().map(|l| l.person_id).collect();
        Ok(TeamCaseView {
            reference: c.reference.clone(),
            event_slug: e.slug.clone(),
            event_name: e.name.clone(),
            kind: kind(&c.kind),
            status: current,
            next_statuses: CaseStatus::ALL.into_iter().filter(|s| current.can_become(*s)).collect(),
            filed: local_time(c.created_at, tz),
            acknowledge_by: local_time(c.ack_due_at, tz),
            overdue: c.acknowledged_at.is_none() && c.ack_due_at < now,
            owner: c.owner_id.as_ref().and_then(person_ref),
            responders: team
                .iter()
                .map(|p| PersonRef { id: p.id, name: p.display_name.clone(), email: p.email.clone() })
                .collect(),
            reporter: match &hidden {
                None => person_ref(&c.reporter_id).ok_or(AppError::Internal)?,
                Some(code) => PersonRef { id: Uuid::nil(), name: code.clone(), email: None },
            },
            contact_channel,
            contact_detail: if hidden.is_some() { None } else { contact_detail },
            narrative: key.open_in(sealed::CASE_NARRATIVE, c.id, &c.narrative_enc)?,
            person: subject.clone(),
            wishes,
            witnesses: match c.witnesses.as_str() {
                "yes" => Witnesses::Yes,
                "no" => Witnesses::No,
                _ => Witnesses::Unsure,
            },
            witness_details: c
                .witness_details_enc
                .as_ref()
                .map(|w| key.open_in(sealed::CASE_WITNESS_DETAILS, c.id, w))
                .transpose()?,
            history: history_rows
                .iter()
                .map(|h| StatusChangeView {
                    from: h.from_status.as_deref().map(status),
                    to: status(&h.to_status),
                    by: match (h.actor_id, &hidden) {
                        (Some(id), Some(code)) if id == c.reporter_id => code.clone(),
                        (Some(id), _) => name_of(&id),
                        (None, _) => "Haven".into(),
                    },
                    at: local_time(h.at, tz),
                })
                .collect(),
            notes: notes
                .iter()
                .map(|n| {
                    Ok(NoteView {
                        author: name_of(&n.author_id),
                        body: key.open_in(sealed::NOTE_BODY, n.id, &n.body_enc)?,
                        at: local_time(n.created_at, tz),
                    })
                })
                .collect::<Result<_, AppError>>()?,
            messages: self.messages(c, tz, true, hidden.as_deref()).await?,
            witness_entries: witnesses
                .iter()
                .map(|w| {
                    let (name, contact, statement): (String, String, String) =
                        serde_json::from_str(&key.open_in(sealed::WITNESS_DETAILS, w.id, &w.details_enc)?)
                            .map_err(|_| AppError::Internal)?;
                    Ok(WitnessView {
                        name,
                        contact,
                        statement,
                        added_by: name_of(&w.added_by),
                        at: local_time(w.created_at, tz),
                    })
                })
                .collect::<Result<_, AppError>>()?,
            attachments: attachments
                .iter()
                .map(|a| {
                    Ok(AttachmentView {
                        id: a.id,
                        name: key.open_in(sealed::ATTACHMENT_NAME, a.id, &a.name_enc)?,
                        content_type: a.content_type.clone(),
                        size: a.size_bytes.max(0) as u64,
                        kind: a.kind.clone(),
                        at: local_time(a.created_at, tz),
                    })
                })
                .collect::<Result<_, AppError>>()?,
            linked: linked_ids.iter().filter_map(person_ref).collect(),
            candidates: self.candidates(e, &subject, &linked_ids).await?,
            same_person: self.same_person_cases(v, &subject, &linked_ids).await?,
            related: self.related_cases(v).await?,
            reads: self.reads(c, tz).await?,
            plan: self.plans().plan_view(c, e).await?,
            shield: c.reporter_shielded.then(|| ShieldView { code: self.cases().code_of(c), known: knows }),
            retention: match c.retain_until {
                Some(until) => Some(RetentionView {
                    until: local_time(until, tz),
                    extended: c.retention_extended_at.is_some(),
                    max_days: self.retention_of(db, e).await?.num_days().max(0) as u32,
                }),
                None => None,
            },
        })
    }

    /// What is left of an erased case: for its team, with the decisions resting on it.
    async fn erased_view(&self, v: &Visible) -> Result<ErasedCaseView, AppError> {
        let (c, e) = (&v.case, &v.event);
        let mut decisions = Vec::new();
        if v.standing == Standing::Team {
            let db = &self.store.db;
            let roots: Vec<Uuid> = crate::db::entities::decision_case::Entity::find()
                .filter(crate::db::entities::decision_case::Column::CaseId.eq(c.id))
                .all(db)
                .await?
                .into_iter()
                .map(|d| d.decision_id)
                .collect();
            for d in crate::db::entities::decision::Entity::find()
                .filter(crate::db::entities::decision::Column::Id.is_in(roots))
                .all(db)
                .await?
            {
                if let Some(head) = self.chain_head(db, d.root_id).await? {
                    decisions.push(self.staff_summary(&head, e).await);
                }
            }
            decisions.sort();
            decisions.dedup();
        }
        Ok(ErasedCaseView {
            reference: c.reference.clone(),
            event_name: e.name.clone(),
            kind: kind(&c.kind),
            status: status(&c.status),
            filed: local_time(c.created_at, &e.time_zone),
            erased: c.erased_at.map(|t| local_time(t, &e.time_zone)).unwrap_or_default(),
            decisions,
        })
    }

    /// Registrations of the organization's events that plausibly are the person named.
    pub(crate) async fn candidates(
        &self,
        e: &event::Model,
        subject: &PersonDescription,
        exclude: &[Uuid],
    ) -> Result<Vec<CandidateView>, AppError> {
        let db = &self.store.db;
        let events = event::Entity::find().filter(event::Column::OrganizationId.eq(e.organization_id)).all(db).await?;
        let event_names: HashMap<Uuid, String> = events.iter().map(|e| (e.id, e.name.clone())).collect();
        let rows = registration::Entity::find()
            .filter(registration::Column::EventId.is_in(events.iter().map(|e| e.id).collect::<Vec<_>>()))
            .find_also_related(person::Entity)
            .all(db)
            .await?;
        // The organization's staff too: a case may be about an escort or a volunteer who
        // holds no ticket.
        let roles = staff_role::Entity::find()
            .filter(staff_role::Column::OrganizationId.eq(e.organization_id))
            .filter(staff_role::Column::RevokedAt.is_null())
            .all(db)
            .await?;
        let staff: HashMap<Uuid, person::Model> = person::Entity::find()
            .filter(person::Column::Id.is_in(roles.iter().map(|r| r.person_id).collect::<Vec<_>>()))
            .all(db)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let places = rows
            .into_iter()
            .filter_map(|(r, p)| Some((p?, event_names.get(&r.event_id).cloned().unwrap_or_default())))
            .chain(roles.iter().filter_map(|r| {
                let p = staff.get(&r.person_id)?.clone();
                let scope = r.event_id.and_then(|id| event_names.get(&id).cloned());
                let role = Role::parse("role", &r.role).map(|x| x.label()).unwrap_or("staff");
                Some((p, scope.map_or(format!("{role} (whole organization)"), |s| format!("{role} at {s}"))))
            }));
        let mut found: Vec<CandidateView> = Vec::new();
        for (p, event_name) in places {
            if exclude.contains(&p.id) {
                continue;
            }
            let reasons = match_person(subject, Candidate { name: &p.display_name, email: p.email.as_deref() });
            if reasons.is_empty() {
                continue;
            }
            match found.iter_mut().find(|c| c.person_id == p.id) {
                Some(c) => c.events.push(event_name),
                None => found.push(CandidateView {
                    person_id: p.id,
                    name: p.display_name.clone(),
                    email: p.email.clone(),
                    events: vec![event_name],
                    reasons: reasons.iter().map(|r| r.explain()).collect(),
                }),
            }
        }
        found.sort_by(|a, b| b.reasons.len().cmp(&a.reasons.len()).then(a.name.cmp(&b.name)));
        Ok(found)
    }

    /// Other cases of the organization the caller may see that name the same person.
    async fn same_person_cases(
        &self,
        v: &Visible,
        subject: &PersonDescription,
        linked: &[Uuid],
    ) -> Result<Vec<RelatedCaseView>, AppError> {
        let mut out = Vec::new();
        for (other, other_subject) in self.visible_team_cases(&v.person, &v.grants, v.event.organization_id).await? {
            if other.id == v.case.id {
                continue;
            }
            if same_person(subject, &other_subject) || self.shares_linked_person(other.id, linked).await? {
                out.push(RelatedCaseView {
                    reference: other.reference.clone(),
                    status: status(&other.status),
                    relation: "names the same person".into(),
                });
            }
        }
        Ok(out)
    }

    async fn shares_linked_person(&self, case_id: Uuid, linked: &[Uuid]) -> Result<bool, AppError> {
        if linked.is_empty() {
            return Ok(false);
        }
        Ok(case_person::Entity::find()
            .filter(case_person::Column::CaseId.eq(case_id))
            .filter(case_person::Column::PersonId.is_in(linked.to_vec()))
            .one(&self.store.db)
            .await?
            .is_some())
    }

    /// Cases this one points to as retaliation or false information, and cases pointing
    /// here — only those the caller may see.
    async fn related_cases(&self, v: &Visible) -> Result<Vec<RelatedCaseView>, AppError> {
        let mut out = Vec::new();
        let visible = self.visible_team_cases(&v.person, &v.grants, v.event.organization_id).await?;
        for (other, _) in &visible {
            if Some(other.id) == v.case.related_case_id
                && let Some(rel) = v.case.relation.as_deref().and_then(|r| Relation::parse("r", r).ok())
            {
                out.push(RelatedCaseView {
                    reference: other.reference.clone(),
                    status: status(&other.status),
                    relation: format!("this case is {} {}", rel.label(), other.reference),
                });
            }
            if other.related_case_id == Some(v.case.id)
                && let Some(rel) = other.relation.as_deref().and_then(|r| Relation::parse("r", r).ok())
            {
                out.push(RelatedCaseView {
                    reference: other.reference.clone(),
                    status: status(&other.status),
                    relation: format!("{} is {} this case", other.reference, rel.label()),
                });
            }
        }
        Ok(out)
    }

    /// Every case of an organization this responder may see, with its subject.
    pub(crate) async fn visible_team_cases(
        &self,
        me: &person::Model,
        grants: &crate::services::authz::Grants,
        organization: Uuid,
    ) -> Result<Vec<(case::Model, PersonDescription)>, AppError> {
        let db = &self.store.db;
        let events: Vec<event::Model> = event::Entity::find()
            .filter(event::Column::OrganizationId.eq(organization))
            .all(db)
            .await?
            .into_iter()
            .filter(|e| grants.responds_for(e))
            .collect();
        let cases = case::Entity::find()
            .filter(case::Column::EventId.is_in(events.iter().map(|e| e.id).collect::<Vec<_>>()))
            .order_by_asc(case::Column::CreatedAt)
            .all(db)
            .await?;
        let involvement = self.involvement(db, me).await?;
        let mut out = Vec::new();
        for c in cases {
            let subject = self.cases().subject(&c).await?;
            if !involvement.in_case(&c, &subject) {
                out.push((c, subject));
            }
        }
        Ok(out)
    }
}

/// Two descriptions of what is plausibly one person: the same mailbox, or the same name.
pub fn same_person(a: &PersonDescription, b: &PersonDescription) -> bool {
    let as_candidate = |d: &PersonDescription| -> Option<(String, Option<String>)> {
        Some((d.name.clone().unwrap_or_default(), d.email.clone())).filter(|(n, e)| !n.is_empty() || e.is_some())
    };
    let Some((name, email)) = as_candidate(b) else {
        return false;
    };
    match_person(a, Candidate { name: &name, email: email.as_deref() }).iter().any(|r| r.is_strong())
}

#[async_trait::async_trait]
impl CaseViewApi for Services {
    async fn case_view(&self, actor: &Actor, reference: &CaseReference) -> Result<CaseView, AppError> {
        let v = self.cases().visible_case(actor, reference).await?;
        if v.case.erased_at.is_some() {
            return Ok(CaseView::Erased(Box::new(self.erased_view(&v).await?)));
        }
        self.log_read(v.case.id, v.person.id, "narrative").await?;
        match v.standing {
            Standing::Reporter => Ok(CaseView::Reporter(Box::new(self.reporter_view(&v).await?))),
            Standing::Team => Ok(CaseView::Team(Box::new(self.team_view(&v).await?))),
        }
    }
}

impl super::Cases<'_> {
    /// The reporter's own cases, newest first.
    pub(crate) async fn my_cases(&self, person: Uuid) -> Result<Vec<CaseSummary>, AppError> {
        let rows = case::Entity::find()
            .filter(case::Column::ReporterId.eq(person))
            .order_by_desc(case::Column::CreatedAt)
            .find_also_related(event::Entity)
            .all(&self.0.store.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(c, e)| {
                let e = e?;
                Some(CaseSummary {
                    reference: c.reference,
                    event_name: e.name,
                    kind: kind(&c.kind),
                    status: status(&c.status),
                    filed: local_time(c.created_at, &e.time_zone),
                })
            })
            .collect())
    }
}
